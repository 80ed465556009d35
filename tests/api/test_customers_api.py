"""Sign-up and token login over the API."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from customers.models import User
from tests.api.helpers import json_of, logged_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGN_UP = {"email": "Anna@Example.com", "password": PASSWORD, "first_name": "Анна", "phone": "8 999 123-45-67"}


def test_sign_up_answers_with_a_token_that_opens_the_profile(api: APIClient) -> None:
    response = api.post("/api/customers/register/", SIGN_UP, format="json")

    assert response.status_code == 201
    body = json_of(response)
    assert body["customer"]["email"] == "anna@example.com"
    assert body["customer"]["phone"] == "+79991234567"
    assert body["customer"]["role"] == "retail"
    assert "password" not in body["customer"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert json_of(api.get("/api/customers/me/"))["email"] == "anna@example.com"


def test_company_signs_up_with_inn_and_kpp(api: APIClient) -> None:
    data = SIGN_UP | {
        "customer_type": "company",
        "company_name": "ООО Ромашка",
        "inn": "7707083893",
        "kpp": "773601001",
    }

    response = api.post("/api/customers/register/", data, format="json")

    assert response.status_code == 201
    assert json_of(response)["customer"]["inn"] == "7707083893"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"email": "not-an-email"}, {"email"}),
        ({"password": "123"}, {"password"}),
        ({"phone": "12"}, {"phone"}),
        ({"customer_type": "alien"}, {"customer_type"}),
        ({"customer_type": "company", "inn": "1234567890"}, {"company_name", "inn", "kpp"}),
        ({"email": None, "password": None}, {"email", "password"}),
        ({"first_name": ["list"]}, {"first_name"}),
        ({"phone": "9" * 40}, {"phone"}),
    ],
)
def test_sign_up_mistakes_are_field_errors(api: APIClient, changes: dict[str, Any], fields: set[str]) -> None:
    response = api.post("/api/customers/register/", SIGN_UP | changes, format="json")

    assert response.status_code == 400
    assert set(json_of(response)) == fields
    assert not User.objects.exists()


def test_sign_up_with_a_registered_email_is_refused(api: APIClient) -> None:
    UserFactory(email="anna@example.com")

    response = api.post("/api/customers/register/", SIGN_UP, format="json")

    assert response.status_code == 400
    assert list(json_of(response)) == ["email"]


@pytest.mark.parametrize("body", ["{not json", "[]", '"text"', "null", "123"])
def test_garbage_bodies_are_400(api: APIClient, body: str) -> None:
    for url in ("/api/customers/register/", "/api/customers/token/"):
        response = api.post(url, body, content_type="application/json")

        assert response.status_code == 400, (url, response.content)


def test_token_login_answers_with_the_token(api: APIClient) -> None:
    UserFactory(email="anna@example.com")

    response = api.post("/api/customers/token/", {"email": "ANNA@example.com", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert list(json_of(response)) == ["token"]


def test_wrong_password_is_400_without_saying_which_part_was_wrong(api: APIClient) -> None:
    UserFactory(email="anna@example.com")

    response = api.post("/api/customers/token/", {"email": "anna@example.com", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert json_of(response) == {"non_field_errors": ["Неверный email или пароль."]}


def test_profile_needs_a_token(api: APIClient) -> None:
    response = api.get("/api/customers/me/")

    assert response.status_code == 401


def test_profile_shows_the_role(api: APIClient) -> None:
    user = UserFactory(wholesale=True, company=True)

    body = json_of(logged_in(user).get("/api/customers/me/"))

    assert (body["role"], body["customer_type"], body["kpp"]) == ("wholesale_1", "company", "773601001")
