"""The checkauth throttle under parallel guessing, on PostgreSQL with real concurrent connections:
the counter is taken atomically before a password is checked, so parallel tries cannot all slip
through the check together."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from customers.models import User
from exchange.models import ExchangeRequestLog
from exchange.protocol import AUTH_FAILED, AUTH_THROTTLED
from tests.exchange.conftest import PASSWORD, basic, make_exchange_user
from tests.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TRIES = 40


@pytest.fixture
def exchange_user(db: None) -> User:
    require_postgres()
    return make_exchange_user()


def parallel_checkauth(password: str, addr: str) -> list[str]:
    barrier = threading.Barrier(TRIES)
    answers: list[str] = []
    lock = threading.Lock()

    def one_try() -> None:
        try:
            barrier.wait(timeout=30)
            response = Client().get(
                "/1c/exchange?type=catalog&mode=checkauth",
                HTTP_AUTHORIZATION=basic("1c-exchange", password),
                REMOTE_ADDR=addr,
            )
            with lock:
                answers.append(response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=one_try) for _ in range(TRIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == TRIES
    return answers


def test_forty_parallel_wrong_passwords_get_no_more_checks_than_the_limit(exchange_user: User) -> None:
    answers = parallel_checkauth("wrong", "10.0.0.1")

    refused = [answer for answer in answers if AUTH_FAILED in answer]
    throttled = [answer for answer in answers if AUTH_THROTTLED in answer]
    assert (len(refused), len(throttled)) == (5, TRIES - 5)
    assert ExchangeRequestLog.objects.filter(auth_failed=True).count() == 5


def test_the_real_1c_elsewhere_gets_in_while_forty_parallel_guesses_run(exchange_user: User) -> None:
    parallel_checkauth("wrong", "10.0.0.1")

    response = Client().get(
        "/1c/exchange?type=catalog&mode=checkauth",
        HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD),
        REMOTE_ADDR="10.0.0.2",
    )

    assert response.content.decode().startswith("success\n")
