"""Login throttles hold across processes: two separate gunicorn servers (one worker each) on the
same database and shared cache count one limit, and a spoofed X-Forwarded-For resets nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from django.conf import global_settings

from customers.models import User
from tests.e2e.servers import free_port, running
from tests.exchange.conftest import PASSWORD
from tests.services import process_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    urls = []
    with ExitStack() as stack:
        for number in range(2):
            port = free_port()
            argv = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
            urls.append(
                stack.enter_context(running(argv, env=process_env(), port=port, log=tmp_path / f"web{number}.log"))
            )
        yield urls[0], urls[1]


@pytest.fixture
def anna(db: None, settings) -> User:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # what the servers verify with
    return User.objects.create_user(email="anna@example.com", password=PASSWORD)


def token_login(base_url: str, password: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/api/customers/token/",
        json={"email": "anna@example.com", "password": password},
        headers=headers,
        timeout=30,
    )


def test_wrong_passwords_spread_over_two_processes_count_as_one_limit(two_servers: tuple[str, str], anna: User) -> None:
    first, second = two_servers
    statuses = [token_login((first, second)[number % 2], "wrong").status_code for number in range(5)]

    throttled = [token_login(url, PASSWORD, **{"X-Forwarded-For": "192.0.2.77"}) for url in (first, second)]

    assert statuses == [400] * 5
    assert [response.status_code for response in throttled] == [429, 429]


def test_the_sign_up_rate_limit_is_one_limit_for_both_processes(two_servers: tuple[str, str], db: None) -> None:
    first, second = two_servers
    statuses = [
        httpx.post(f"{(first, second)[number % 2]}/api/customers/register/", json={}, timeout=30).status_code
        for number in range(21)
    ]

    assert statuses == [400] * 20 + [429]
