"""The checkauth throttle under parallel logins, on PostgreSQL with real concurrent connections:
the counter is taken atomically before a password is checked, so parallel guesses cannot all slip
through the check together, while parallel right passwords wait for each other instead of being
refused."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from customers import login_throttle
from customers.models import LoginThrottle, User
from exchange.models import ExchangeRequestLog
from exchange.protocol import AUTH_FAILED, AUTH_THROTTLED
from tests.exchange.conftest import PASSWORD, basic, make_exchange_user
from tests.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TRIES = 40
LIMIT = 5  # EXCHANGE_AUTH_MAX_FAILURES' default


@pytest.fixture
def exchange_user(db: None) -> User:
    require_postgres()
    return make_exchange_user()


def parallel_checkauth(passwords: list[str], addr: str) -> list[str]:
    """One checkauth per password, all started at once; the answers in the order of ``passwords``."""
    barrier = threading.Barrier(len(passwords))
    answers: dict[int, str] = {}
    lock = threading.Lock()

    def one_try(number: int, password: str) -> None:
        try:
            barrier.wait(timeout=30)
            response = Client().get(
                "/1c/exchange?type=catalog&mode=checkauth",
                HTTP_AUTHORIZATION=basic("1c-exchange", password),
                REMOTE_ADDR=addr,
            )
            with lock:
                answers[number] = response.content.decode()
        finally:
            connection.close()

    threads = [threading.Thread(target=one_try, args=item) for item in enumerate(passwords)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == len(passwords)
    return [answers[number] for number in range(len(passwords))]


def counters() -> list[tuple[int, int]]:
    """(failures, attempts in flight) of the (address, login) and the address counter."""
    return sorted(LoginThrottle.objects.values_list("count", "pending"))


def test_forty_parallel_wrong_passwords_get_no_more_checks_than_the_limit(exchange_user: User) -> None:
    answers = parallel_checkauth(["wrong"] * TRIES, "10.0.0.1")

    refused = [answer for answer in answers if AUTH_FAILED in answer]
    throttled = [answer for answer in answers if AUTH_THROTTLED in answer]
    assert (len(refused), len(throttled)) == (LIMIT, TRIES - LIMIT)
    assert ExchangeRequestLog.objects.filter(auth_failed=True).count() == LIMIT
    assert counters() == [(LIMIT, 0), (LIMIT, 0)]


def test_the_real_1c_elsewhere_gets_in_while_forty_parallel_guesses_run(exchange_user: User) -> None:
    parallel_checkauth(["wrong"] * TRIES, "10.0.0.1")

    response = Client().get(
        "/1c/exchange?type=catalog&mode=checkauth",
        HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD),
        REMOTE_ADDR="10.0.0.2",
    )

    assert response.content.decode().startswith("success\n")


def test_more_parallel_right_passwords_than_the_limit_all_get_in(exchange_user: User) -> None:
    tries = 4 * LIMIT  # and exactly the address limit

    answers = parallel_checkauth([PASSWORD] * tries, "10.0.0.1")

    assert [answer.split("\n")[0] for answer in answers] == ["success"] * tries
    assert counters() == [(0, 0), (0, 0)]


def test_right_passwords_after_parallel_guesses_filled_the_failures_are_refused_at_once(
    exchange_user: User,
) -> None:
    parallel_checkauth(["wrong"] * TRIES, "10.0.0.1")
    started = time.monotonic()

    answers = parallel_checkauth([PASSWORD] * 2 * LIMIT, "10.0.0.1")

    assert all(AUTH_THROTTLED in answer for answer in answers)
    assert time.monotonic() - started < login_throttle.IN_FLIGHT_WAIT_SECONDS / 2  # not waited for
    assert ExchangeRequestLog.objects.filter(auth_failed=True).count() == LIMIT


def test_right_and_wrong_passwords_in_parallel_get_no_more_failed_checks_than_the_limit(exchange_user: User) -> None:
    answers = parallel_checkauth(["wrong", PASSWORD] * (TRIES // 2), "10.0.0.1")

    wrong, right = answers[0::2], answers[1::2]
    assert all(AUTH_FAILED in answer or AUTH_THROTTLED in answer for answer in wrong)
    assert all(answer.startswith("success\n") or AUTH_THROTTLED in answer for answer in right)
    assert ExchangeRequestLog.objects.filter(auth_failed=True).count() == LIMIT
    assert [count for count, _pending in counters()] == [LIMIT, LIMIT]
    assert [pending for _count, pending in counters()] == [0, 0]
