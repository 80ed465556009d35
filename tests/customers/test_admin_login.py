"""The admin login is throttled like every other password check: superusers may also run the 1C
exchange, so forty guesses must not be followed by a way in."""

from __future__ import annotations

import pytest
from django.test import Client

from customers.login_throttle import LOGIN_THROTTLED
from customers.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_superuser(email="admin@example.com", password=PASSWORD)


def log_in(client: Client, password: str, username: str = "admin@example.com", **meta: str):
    return client.post(LOGIN, {"username": username, "password": password}, **meta)


def test_after_five_wrong_passwords_the_right_one_is_refused_too(admin_user: User) -> None:
    client = Client()
    for _ in range(5):
        assert log_in(client, "wrong").status_code == 200  # the form again, with an error

    response = log_in(client, PASSWORD)

    assert response.status_code == 200
    assert LOGIN_THROTTLED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_forty_guesses_then_the_right_password_still_do_not_get_in(admin_user: User) -> None:
    client = Client()
    for _ in range(40):
        log_in(client, "wrong", HTTP_X_FORWARDED_FOR="192.0.2.1")

    response = log_in(client, PASSWORD)

    assert LOGIN_THROTTLED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_from_another_address_gets_in(admin_user: User) -> None:
    for _ in range(10):
        log_in(Client(), "wrong", REMOTE_ADDR="203.0.113.9")

    client = Client()
    response = log_in(client, PASSWORD, REMOTE_ADDR="198.51.100.1")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def test_a_few_mistakes_then_the_right_password_get_in(admin_user: User) -> None:
    client = Client()
    for _ in range(4):
        log_in(client, "wrong")

    assert log_in(client, PASSWORD).status_code == 302
