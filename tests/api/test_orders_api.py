"""Placing and reading orders over the API: the server prices, totals and checks stock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from catalog.models import ProductVariant
from customers.roles import CustomerRole
from orders.models import Order
from tests.api.helpers import json_of, logged_in
from tests.factories import PriceTypeFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

GUEST = {"contact_name": "Анна", "contact_email": "anna@example.com"}


def sellable(price: str = "100", stock: str = "10", **kwargs: Any) -> ProductVariant:
    product = ProductFactory(sellable__price=Decimal(price), sellable__stock=Decimal(stock), **kwargs)
    return product.variants.get()


def post(client: APIClient, body: Any) -> Any:
    return client.post("/api/orders/", body, format="json")


def test_guest_places_an_order_priced_and_totalled_by_the_server(api: APIClient) -> None:
    kettle, cheese = sellable("1499.90", name="Чайник"), sellable("50.005", name="Сыр", unit_code="166", unit_name="кг")
    body = GUEST | {
        "items": [
            {"variant": kettle.pk, "quantity": 2, "price": "0.01"},
            {"variant": cheese.pk, "quantity": "1.5"},
        ],
        "total": "1.00",
        "comment": "Позвонить заранее",
    }

    response = post(api, body)

    assert response.status_code == 201, response.content
    order = json_of(response)
    assert order["status"] == "new"
    assert order["number"] == Order.objects.get().number
    assert (order["items_total"], order["total"], order["currency"]) == ("3074.81", "3074.81", "RUB")
    assert [(i["name"], i["price"], i["quantity"], i["total"]) for i in order["items"]] == [
        ("Чайник", "1499.90", "2", "2999.80"),
        ("Сыр", "50.005", "1.5", "75.01"),
    ]
    assert len(order["access_key"]) >= 32
    assert order["comment"] == "Позвонить заранее"


def test_guest_orders_a_product_without_characteristics_by_product_id(api: APIClient) -> None:
    variant = sellable()

    response = post(api, GUEST | {"items": [{"product": variant.product_id, "quantity": 1}]})

    assert response.status_code == 201
    assert json_of(response)["items"][0]["variant"] == variant.pk


def test_customer_order_uses_their_price_type_and_profile(api: APIClient) -> None:
    PriceTypeFactory(retail=True)
    wholesale = PriceTypeFactory(customer_role=CustomerRole.WHOLESALE_1)
    variant = sellable("100")
    variant.prices.filter(price_type=wholesale).update(value=Decimal("75"))
    customer = UserFactory(wholesale=True, email="opt@example.com")

    response = post(logged_in(customer), {"items": [{"variant": variant.pk, "quantity": 2}]})

    assert response.status_code == 201, response.content
    body = json_of(response)
    assert (body["total"], body["contact_email"], body["contact_name"]) == ("150.00", "opt@example.com", "Иван Петров")
    assert Order.objects.get().customer == customer


def test_owner_reads_the_order_by_token_and_a_guest_by_key_others_get_404(api: APIClient) -> None:
    variant = sellable()
    owner = UserFactory()
    mine = json_of(post(logged_in(owner), {"items": [{"variant": variant.pk, "quantity": 1}]}))
    guests = json_of(post(api, GUEST | {"items": [{"variant": variant.pk, "quantity": 1}]}))
    stranger = logged_in(UserFactory())

    assert logged_in(owner).get(f"/api/orders/{mine['number']}/").status_code == 200
    read = api.get(f"/api/orders/{guests['number']}/", {"key": guests["access_key"]})
    assert read.status_code == 200
    assert "access_key" not in json_of(read)
    assert json_of(read)["total"] == guests["total"]
    assert api.get(f"/api/orders/{guests['number']}/").status_code == 404
    assert api.get(f"/api/orders/{guests['number']}/", {"key": "wrong"}).status_code == 404
    assert api.get(f"/api/orders/{guests['number']}/", {"key": "ключ"}).status_code == 404
    assert stranger.get(f"/api/orders/{mine['number']}/").status_code == 404
    assert api.get("/api/orders/nope/").status_code == 404


def test_customer_lists_only_their_own_orders(api: APIClient) -> None:
    variant = sellable()
    owner = logged_in(UserFactory())
    post(owner, {"items": [{"variant": variant.pk, "quantity": 1}]})
    post(api, GUEST | {"items": [{"variant": variant.pk, "quantity": 1}]})

    listing = json_of(owner.get("/api/orders/"))

    assert listing["count"] == 1
    assert api.get("/api/orders/").status_code == 401


def test_too_little_stock_is_a_field_error_on_that_line(api: APIClient) -> None:
    plenty, scarce = sellable(), sellable(stock="1")

    response = post(
        api, GUEST | {"items": [{"variant": plenty.pk, "quantity": 1}, {"variant": scarce.pk, "quantity": 2}]}
    )

    assert response.status_code == 400
    assert json_of(response) == {"items": [{}, {"quantity": ["Недостаточно на складе: доступно 1."]}]}
    assert not Order.objects.exists()


def test_variant_without_a_price_for_the_customer_is_a_field_error(api: APIClient) -> None:
    PriceTypeFactory(retail=True)
    variant = ProductFactory().variants.create(is_default=True, stock_total=5)

    response = post(api, GUEST | {"items": [{"variant": variant.pk, "quantity": 1}]})

    assert response.status_code == 400
    assert list(json_of(response)["items"][0]) == ["variant"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": []}, "items"),
        ({"items": "{drop}"}, "items"),
        ({"items": None}, "items"),
        ({"items": "abc"}, "items"),
        ({"items": [1, 2]}, "items"),
        ({"items": {"variant": 1}}, "items"),
        ({"items": [{"quantity": 1}]}, "items"),
        ({"items": [{"variant": "{v}", "product": "{p}", "quantity": 1}]}, "items"),
        ({"items": [{"variant": "abc", "quantity": 1}]}, "items"),
        ({"items": [{"variant": 10**30, "quantity": 1}]}, "items"),
        ({"items": [{"variant": -5, "quantity": 1}]}, "items"),
        ({"items": [{"variant": 999999, "quantity": 1}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": 0}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": -1}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": "1.0001"}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": "1e400"}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": 1e300}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": "NaN"}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": "Infinity"}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": "много"}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": True}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": [1]}]}, "items"),
        ({"items": [{"variant": "{v}", "quantity": 1}] * 501}, "items"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"contact_phone": "12"}, "contact_phone"),
        ({"contact_phone": 12}, "contact_phone"),
        ({"contact_name": "x" * 300}, "contact_name"),
        ({"contact_name": {"first": "Анна"}}, "contact_name"),
        ({"comment": "x" * 5000}, "comment"),
        ({"contact_name": "", "contact_email": ""}, "contact_name"),
    ],
)
def test_bad_orders_are_400_with_the_field_named(api: APIClient, body: dict[str, Any], field: str) -> None:
    variant = sellable(stock="1000")
    valid = GUEST | {"items": [{"variant": variant.pk, "quantity": 1}]}

    def fill(value: Any) -> Any:
        if value == "{v}":
            return variant.pk
        if value == "{p}":
            return variant.product_id
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        return value

    response = post(api, {key: value for key, value in (valid | fill(body)).items() if value != "{drop}"})

    assert response.status_code == 400, response.content
    assert field in json_of(response)
    assert not Order.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[]", '"text"', "null", "1", '{"items": [{"variant": 1,}]}', "\udcff"])
def test_garbage_bodies_are_400(api: APIClient, body: str) -> None:
    response = api.post("/api/orders/", body.encode("utf-8", "surrogatepass"), content_type="application/json")

    assert response.status_code == 400


def test_form_encoded_body_is_understood_or_refused_cleanly(api: APIClient) -> None:
    response = api.post("/api/orders/", {"contact_name": "Анна", "items": "x"})

    assert response.status_code == 400
