"""Whatever a client sends, the API answers with a 4xx and field errors, never a 500."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.api.helpers import json_of
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


# Through Django's test client, so the whole middleware stack sees these requests as a server
# would; it raises what the stack does not turn into an answer, so a 500 would show as an error.
ENDPOINTS = ["/api/orders/", "/api/customers/register/", "/api/customers/token/"]


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        '{"items": ' + "[" * 100_000,
        '{"items": [' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "]}",
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["open-lists", "in-a-field", "closed-objects", "closed-lists"],
)
def test_deeply_nested_json_is_a_400_parse_error(shop: None, url: str, body: str) -> None:
    response = Client().post(url, body, content_type="application/json")

    assert response.status_code == 400
    assert set(json_of(response)) == {"detail"}


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"comment": "' + "x" * 3_000_000 + '"}'),
        ("application/x-www-form-urlencoded", "comment=" + "x" * 3_000_000),
    ],
    ids=["json", "form"],
)
def test_body_over_the_limit_is_413_with_the_api_error_shape(
    shop: None, url: str, content_type: str, body: str
) -> None:
    response = Client().post(url, body, content_type=content_type)

    assert response.status_code == 413
    assert json_of(response) == {"detail": "Тело запроса больше допустимого (2621440 байт)."}


def test_big_body_of_a_type_the_api_does_not_read_is_415(shop: None) -> None:
    response = Client().post("/api/orders/", "x" * 3_000_000, content_type="text/plain")

    assert response.status_code == 415
    assert set(json_of(response)) == {"detail"}


def test_multipart_field_over_the_limit_is_413(shop: None) -> None:
    response = Client().post("/api/orders/", {"contact_name": "x" * 3_000_000})

    assert response.status_code == 413
    assert set(json_of(response)) == {"detail"}


def test_body_limit_follows_the_setting(shop: None, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"contact_name": "Анна", "contact_email": "a@example.com", "comment": "x" * 1000, "items": []}

    response = Client().post("/api/orders/", body, content_type="application/json")

    assert response.status_code == 413
    assert json_of(response) == {"detail": "Тело запроса больше допустимого (1000 байт)."}


def test_too_many_form_fields_is_a_400(shop: None) -> None:
    body = "&".join(f"f{n}=1" for n in range(2000))

    response = Client().post("/api/orders/", body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert set(json_of(response)) == {"detail"}
