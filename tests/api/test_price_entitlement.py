"""Visitors see only the price they would pay: their role's price type (guests: the one mapped to
retail). A price type mapped to no role, such as 1C's purchase price, never shows anywhere."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from catalog.models import PriceType, ProductVariant
from customers.roles import CustomerRole
from orders.models import Order
from tests.api.helpers import json_of, logged_in
from tests.factories import PriceFactory, PriceTypeFactory, ProductFactory, ProductVariantFactory, UserFactory

pytestmark = pytest.mark.django_db

GUEST = {"contact_name": "Анна", "contact_email": "anna@example.com"}
PURCHASE_VALUE = "313.13"  # appears in no other price, so finding it in an answer is a leak
PURCHASE_NAME = "Закупочная"


@pytest.fixture
def price_types() -> dict[str, PriceType]:
    return {
        "purchase": PriceTypeFactory(name=PURCHASE_NAME, customer_role=None),
        "retail": PriceTypeFactory(name="Розничная", customer_role=CustomerRole.RETAIL),
        "wholesale": PriceTypeFactory(name="Оптовая", customer_role=CustomerRole.WHOLESALE_1, currency="USD"),
    }


def kettle(price_types: dict[str, PriceType], **values: str) -> ProductVariant:
    """A product "Чайник" with one variant priced ``values`` per price type (name -> value)."""
    product = ProductFactory(name="Чайник", article="CH-1")
    variant = ProductVariantFactory(product=product, default=True, stock_total=Decimal("10"))
    for name, value in values.items():
        PriceFactory(variant=variant, price_type=price_types[name], value=Decimal(value))
    return variant


def order(client: APIClient, variant: ProductVariant) -> Any:
    return client.post("/api/orders/", GUEST | {"items": [{"variant": variant.pk, "quantity": 1}]}, format="json")


def seen_prices(client: APIClient, variant: ProductVariant) -> dict[str, Any]:
    listed = json_of(client.get("/api/products/"))["results"][0]
    found = json_of(client.get("/api/products/", {"search": "чайн"}))["results"][0]
    detail = json_of(client.get(f"/api/products/{variant.product_id}/"))
    [on_page] = detail["variants"]
    return {
        "list": (listed["price"], listed["currency"]),
        "search": (found["price"], found["currency"]),
        "detail": (detail["price"], detail["currency"]),
        "variant": (on_page["price"], on_page["currency"]),
    }


def test_guest_sees_and_buys_at_the_retail_price_only(api: APIClient, price_types: dict[str, PriceType]) -> None:
    variant = kettle(price_types, purchase=PURCHASE_VALUE, retail="500", wholesale="400")

    seen = seen_prices(api, variant)
    response = order(api, variant)

    assert set(seen.values()) == {("500.00", "RUB")}
    assert response.status_code == 201, response.content
    assert json_of(response)["items"][0]["price"] == "500.00"
    assert "prices" not in json_of(api.get(f"/api/products/{variant.product_id}/"))["variants"][0]


def test_retail_customer_sees_and_buys_at_the_retail_price(api: APIClient, price_types: dict[str, PriceType]) -> None:
    variant = kettle(price_types, purchase=PURCHASE_VALUE, retail="500", wholesale="400")
    customer = logged_in(UserFactory(role=CustomerRole.RETAIL))

    seen = seen_prices(customer, variant)
    response = order(customer, variant)

    assert set(seen.values()) == {("500.00", "RUB")}
    assert json_of(response)["items"][0]["price"] == "500.00"


def test_wholesale_customer_sees_and_buys_at_the_wholesale_price(
    api: APIClient, price_types: dict[str, PriceType]
) -> None:
    variant = kettle(price_types, purchase=PURCHASE_VALUE, retail="500", wholesale="400")
    customer = logged_in(UserFactory(role=CustomerRole.WHOLESALE_1))

    seen = seen_prices(customer, variant)
    response = order(customer, variant)

    assert set(seen.values()) == {("400.00", "USD")}
    placed = json_of(response)
    assert (placed["items"][0]["price"], placed["total"], placed["currency"]) == ("400.00", "400.00", "USD")


def test_customer_of_a_tier_without_its_own_price_type_sees_the_retail_price(
    api: APIClient, price_types: dict[str, PriceType]
) -> None:
    variant = kettle(price_types, purchase=PURCHASE_VALUE, retail="500", wholesale="400")
    customer = logged_in(UserFactory(role=CustomerRole.WHOLESALE_3))

    assert set(seen_prices(customer, variant).values()) == {("500.00", "RUB")}


@pytest.mark.parametrize("role", [None, CustomerRole.RETAIL, CustomerRole.WHOLESALE_1, CustomerRole.WHOLESALE_2])
def test_unmapped_purchase_price_appears_nowhere_in_what_the_api_answers(
    price_types: dict[str, PriceType], role: CustomerRole | None
) -> None:
    variant = kettle(price_types, purchase=PURCHASE_VALUE, retail="500", wholesale="400")
    # Another product priced only in the purchase price type: it must not be priced by it either.
    only_purchase = kettle(price_types, purchase=PURCHASE_VALUE)
    client = APIClient() if role is None else logged_in(UserFactory(role=role))

    created = order(client, variant)
    number, key = json_of(created)["number"], json_of(created)["access_key"]
    answers = [
        client.get("/api/products/"),
        client.get("/api/products/", {"search": "Чайник"}),
        client.get(f"/api/products/{variant.product_id}/"),
        client.get(f"/api/products/{only_purchase.product_id}/"),
        created,
        order(client, only_purchase),
        client.get(f"/api/orders/{number}/", {"key": key}),
    ]
    if role is not None:
        answers.append(client.get("/api/orders/"))

    for response in answers:
        text = response.content.decode()
        assert response.status_code < 500
        assert PURCHASE_VALUE not in text and "313.1300" not in text, response.request["PATH_INFO"]
        assert PURCHASE_NAME not in text, response.request["PATH_INFO"]


def test_product_without_a_price_for_the_visitor_shows_none_and_cannot_be_ordered(
    api: APIClient, price_types: dict[str, PriceType]
) -> None:
    variant = kettle(price_types, purchase=PURCHASE_VALUE, wholesale="400")

    seen = seen_prices(api, variant)
    response = order(api, variant)

    assert set(seen.values()) == {(None, None)}
    assert response.status_code == 400
    assert json_of(response) == {"items": [{"variant": ["У товара нет цены для вас; его нельзя заказать."]}]}
    assert not Order.objects.exists()


def test_shop_whose_price_types_no_manager_has_mapped_shows_and_sells_at_no_price(api: APIClient) -> None:
    """1C's price types arrive unmapped; the oldest one (often the purchase price) is not guessed
    to be retail."""
    purchase = PriceTypeFactory(name=PURCHASE_NAME)
    retail_unmapped = PriceTypeFactory(name="Розничная")
    variant = kettle({"purchase": purchase, "retail": retail_unmapped}, purchase=PURCHASE_VALUE, retail="500")

    seen = seen_prices(api, variant)
    response = order(api, variant)

    assert set(seen.values()) == {(None, None)}
    assert response.status_code == 400
    assert not Order.objects.exists()
