from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from customers.models import User
from customers.services import customer_token_get


def logged_in(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {customer_token_get(customer=user)}")
    return client


def json_of(response: Any) -> Any:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()
