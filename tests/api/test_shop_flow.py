"""The acceptance walk-through: a manager adds a product in the admin, a customer signs up and
orders it through the API, a guest orders it too and reads the order back with its key."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from catalog.models import Product

pytestmark = pytest.mark.django_db


def test_product_added_in_the_admin_is_ordered_through_the_api(admin_client: Client) -> None:
    assert APIClient().get("/api/products/").json()["count"] == 0
    management = {
        f"{prefix}-{name}": value
        for prefix in ("variants", "property_values", "images")
        for name, value in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0), ("MIN_NUM_FORMS", 0), ("MAX_NUM_FORMS", 1000))
    }
    added = admin_client.post(
        "/admin/catalog/product/add/",
        {"name": "Чайник электрический", "is_active": "on", "unit_name": "шт", "unit_code": "796"}
        | {"offer_price_new": "2490", "offer_stock": "5"}
        | management,
    )
    assert added.status_code == 302
    product_id = Product.objects.get().pk

    api = APIClient()
    listed = api.get("/api/products/", {"search": "чайник"}).json()
    assert [(p["id"], p["price"], p["stock"]) for p in listed["results"]] == [(product_id, "2490.00", "5")]
    variant_id = api.get(f"/api/products/{product_id}/").json()["variants"][0]["id"]

    signed_up = api.post(
        "/api/customers/register/",
        {
            "email": "anna@example.com",
            "password": "Secret-pass-2024",
            "first_name": "Анна",
            "phone": "+7 999 123-45-67",
        },
        format="json",
    )
    assert signed_up.status_code == 201
    token = api.post(
        "/api/customers/token/", {"email": "anna@example.com", "password": "Secret-pass-2024"}, format="json"
    ).json()["token"]
    assert token == signed_up.json()["token"]

    customer = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    placed = customer.post(
        "/api/orders/",
        {"items": [{"variant": variant_id, "quantity": 2}], "delivery_address": "Москва, ул. Тверская, 1"},
        format="json",
    )
    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert (order["total"], order["contact_email"], order["contact_phone"]) == (
        "4980.00",
        "anna@example.com",
        "+79991234567",
    )
    assert customer.get(f"/api/orders/{order['number']}/").json()["total"] == "4980.00"

    guest = APIClient()
    too_many = guest.post(
        "/api/orders/",
        {"items": [{"product": product_id, "quantity": 4}], "contact_name": "Борис", "contact_phone": "89990000000"},
        format="json",
    )
    # Two of the five are claimed by Anna's order, which 1C has not collected yet.
    assert too_many.status_code == 400
    assert too_many.json() == {"items": [{"quantity": ["Недостаточно на складе: доступно 3."]}]}

    placed = guest.post(
        "/api/orders/",
        {"items": [{"product": product_id, "quantity": 3}], "contact_name": "Борис", "contact_phone": "89990000000"},
        format="json",
    )
    assert placed.status_code == 201
    number, key = placed.json()["number"], placed.json()["access_key"]
    assert guest.get(f"/api/orders/{number}/", {"key": key}).json()["contact_phone"] == "+79990000000"
    assert guest.get(f"/api/orders/{number}/").status_code == 404
