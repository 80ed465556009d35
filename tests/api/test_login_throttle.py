"""Password guessing over the API token login is throttled per (address, email) and per address,
in counters every process shares, whatever token or X-Forwarded-For the request carries."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from customers.login_throttle import LOGIN_THROTTLED
from customers.models import User
from tests.api.helpers import json_of, logged_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/customers/token/"


@pytest.fixture
def anna(db: None) -> User:
    return UserFactory(email="anna@example.com")


def login(client: APIClient, password: str, email: str = "anna@example.com", **meta: Any) -> Any:
    return client.post(TOKEN, {"email": email, "password": password}, format="json", **meta)


def test_five_wrong_passwords_then_even_the_right_one_waits(api: APIClient, anna: User) -> None:
    statuses = [login(api, "wrong").status_code for _ in range(5)]

    refused = login(api, PASSWORD)

    assert statuses == [400] * 5
    assert refused.status_code == 429
    assert json_of(refused)["detail"].startswith(LOGIN_THROTTLED)
    assert int(refused["Retry-After"]) > 0


def test_other_spellings_of_the_email_share_the_count(api: APIClient, anna: User) -> None:
    for email in ("ANNA@example.com", "Anna@Example.com", "anna@EXAMPLE.COM", " anna@example.com", "aNNa@example.com"):
        assert login(api, "wrong", email=email).status_code == 400

    assert login(api, PASSWORD).status_code == 429


def test_the_owner_elsewhere_is_never_locked_out(api: APIClient, anna: User) -> None:
    for _ in range(10):
        login(api, "wrong", REMOTE_ADDR="203.0.113.9")

    response = login(APIClient(), PASSWORD, REMOTE_ADDR="198.51.100.1")

    assert response.status_code == 200
    assert "token" in json_of(response)


def test_a_valid_token_in_the_header_does_not_lift_the_throttle(anna: User) -> None:
    attacker = logged_in(UserFactory(email="mallory@example.com"))

    statuses = [login(attacker, "wrong").status_code for _ in range(6)]

    assert statuses == [400] * 5 + [429]


def test_a_spoofed_forwarded_for_does_not_reset_the_count(api: APIClient, anna: User) -> None:
    statuses = [login(api, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}").status_code for number in range(6)]

    assert statuses == [400] * 5 + [429]


def test_one_address_spraying_many_emails_is_throttled(api: APIClient, anna: User) -> None:
    statuses = [login(api, "wrong", email=f"guess{number % 5}@example.com").status_code for number in range(20)]

    assert statuses == [400] * 20
    assert login(api, PASSWORD).status_code == 429


def test_sign_ups_and_logins_are_rate_limited_per_address_even_with_a_token(anna: User) -> None:
    client = logged_in(anna)
    statuses = [client.post("/api/customers/register/", {"email": "x"}, format="json").status_code for _ in range(21)]

    assert statuses[:20] == [400] * 20
    assert statuses[20] == 429
