"""Whatever a client sends, the API answers with a 4xx and field errors, never a 500."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
    | st.sampled_from(["1", "0.001", "1e9", "NaN", "-0", "9" * 40, "1.00000001", "", " ", "8 999 123-45-67", "a\x00b"])
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
)
line = st.fixed_dictionaries(
    {},
    optional={"variant": scalars, "product": scalars, "quantity": scalars, "price": scalars},
)
order_body = st.fixed_dictionaries(
    {"items": st.lists(line, max_size=4) | json_values},
    optional={
        "contact_name": scalars,
        "contact_email": scalars,
        "contact_phone": scalars,
        "comment": scalars,
        "delivery_address": scalars,
    },
)


@pytest.fixture
def shop() -> None:
    ProductFactory(sellable__price=Decimal("10"), sellable__stock=Decimal("5"))


def answered_cleanly(response: Any) -> None:
    assert response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")


@FUZZ
@given(body=order_body | json_values)
def test_order_endpoint_never_fails_on_any_json(shop: None, body: Any) -> None:
    answered_cleanly(APIClient().post("/api/orders/", body, format="json"))


@FUZZ
@given(body=st.dictionaries(st.sampled_from(["email", "password", "phone", "inn", "kpp", "customer_type"]), scalars))
def test_registration_never_fails_on_any_json(body: dict[str, Any]) -> None:
    from django.core.cache import cache

    # The rate limit would otherwise answer 429 after twenty tries (never cache.clear(): on Redis it
    # flushes the broker's db too).
    cache.delete("throttle_credentials_127.0.0.1")
    answered_cleanly(APIClient().post("/api/customers/register/", body, format="json"))


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["category", "search", "page", "page_size"]), st.text(max_size=30)))
def test_product_list_never_fails_on_any_query(params: dict[str, str]) -> None:
    response = APIClient().get("/api/products/", params)

    answered_cleanly(response)


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (
            "/api/orders/",
            {"contact_name": "a\x00b", "contact_email": "a@example.com", "items": [{"product": 1, "quantity": 1}]},
        ),
        ("/api/customers/register/", {"email": "a@example.com", "password": "pass\x00word-123", "first_name": "\x00"}),
        ("/api/customers/token/", {"email": "a@example.com", "password": "\x00"}),
    ],
)
def test_nul_characters_postgresql_cannot_store_are_refused(shop: None, url: str, body: dict[str, Any]) -> None:
    response = APIClient().post(url, body, format="json")

    assert response.status_code == 400


def test_nul_character_in_a_search_is_refused() -> None:
    assert APIClient().get("/api/products/", {"search": "a\x00"}).status_code == 400
