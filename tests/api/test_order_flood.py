"""Guests cannot flood orders or hoard stock: orders placed are rate-limited per client address
and per customer on the shared cache, and what the product page shows as available is exactly
what an order may take."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from catalog.models import ProductVariant
from config.env import ImproperEnvironment
from config.ratelimit import Rate, parse_rate
from orders.models import Order
from tests.api.helpers import json_of, logged_in
from tests.factories import OrderItemFactory, ProductFactory, UserFactory
from tests.services import require_redis

pytestmark = pytest.mark.django_db

GUEST = {"contact_name": "Анна", "contact_email": "anna@example.com"}


def sellable(stock: str = "1000") -> ProductVariant:
    return ProductFactory(sellable__price=Decimal("10"), sellable__stock=Decimal(stock)).variants.get()


def order(client: APIClient, variant: ProductVariant, quantity: str = "1", **meta: str) -> Any:
    body = GUEST | {"items": [{"variant": variant.pk, "quantity": quantity}]}
    return client.post("/api/orders/", body, format="json", **meta)


@pytest.fixture
def three_per_hour(settings: Any) -> None:
    settings.SHOP_ORDER_RATE_PER_ADDRESS = Rate(count=3, seconds=3600)
    settings.SHOP_ORDER_RATE_PER_CUSTOMER = Rate(count=3, seconds=3600)


def test_one_address_places_only_so_many_orders_then_gets_429(api: APIClient, three_per_hour: None) -> None:
    variant = sellable()

    answers = [order(api, variant).status_code for _ in range(4)]
    refused = order(api, variant)

    assert answers == [201, 201, 201, 429]
    assert refused.status_code == 429
    assert set(json_of(refused)) == {"detail"}
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert Order.objects.count() == 3


def test_a_forged_forwarded_for_header_does_not_give_a_fresh_count(api: APIClient, three_per_hour: None) -> None:
    variant = sellable()

    answers = [order(api, variant, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(5)]

    assert answers == [201, 201, 201, 429, 429]


def test_behind_a_trusted_proxy_each_client_address_counts_apart(
    api: APIClient, three_per_hour: None, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = 1
    variant = sellable()

    first = [order(api, variant, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code for _ in range(4)]
    second = order(api, variant, HTTP_X_FORWARDED_FOR="203.0.113.2")

    assert first == [201, 201, 201, 429]
    assert second.status_code == 201


def test_other_addresses_are_not_affected(api: APIClient, three_per_hour: None) -> None:
    variant = sellable()
    for _ in range(3):
        order(api, variant, REMOTE_ADDR="198.51.100.7")

    assert order(api, variant, REMOTE_ADDR="198.51.100.7").status_code == 429
    assert order(api, variant, REMOTE_ADDR="198.51.100.8").status_code == 201


def test_refused_orders_do_not_use_up_the_limit(api: APIClient, three_per_hour: None) -> None:
    variant = sellable(stock="3")

    too_many = [order(api, variant, "4").status_code for _ in range(5)]
    placed = [order(api, variant).status_code for _ in range(3)]

    assert too_many == [400] * 5
    assert placed == [201] * 3


def test_a_customer_is_limited_from_any_address(three_per_hour: None) -> None:
    client = logged_in(UserFactory())
    variant = sellable()

    answers = [order(client, variant, REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(4)]

    assert answers == [201, 201, 201, 429]


def test_no_rate_means_no_limit(api: APIClient, settings: Any) -> None:
    settings.SHOP_ORDER_RATE_PER_ADDRESS = None
    variant = sellable()

    assert {order(api, variant).status_code for _ in range(40)} == {201}


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_on_a_shared_redis_cache_stop_at_the_limit(settings: Any) -> None:
    """Twenty guests at once from one address, counted on Redis as every web process would."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": require_redis(),
            # Its own keys, so no earlier run's counters count and nothing else in the database
            # (the test broker) is touched; they expire with the window.
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    settings.SHOP_ORDER_RATE_PER_ADDRESS = Rate(count=5, seconds=3600)
    variant = sellable()
    statuses: list[int] = []
    start = threading.Barrier(20)

    def guest() -> None:
        try:
            start.wait(10)
            statuses.append(order(APIClient(), variant).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guest) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(statuses) == [201] * 5 + [429] * 15
    assert Order.objects.count() == 5


def test_piece_goods_in_fractions_are_a_400_on_the_quantity(api: APIClient) -> None:
    response = order(api, sellable(), "0.001")

    assert response.status_code == 400
    assert json_of(response) == {
        "items": [{"quantity": ["Продаётся целыми единицами (шт): укажите целое количество."]}]
    }


def test_too_many_lines_are_refused_before_any_is_checked(api: APIClient, settings: Any) -> None:
    settings.SHOP_ORDER_MAX_LINES = 2
    variant = sellable()
    body = GUEST | {"items": [{"variant": variant.pk, "quantity": 1}] * 3}

    response = api.post("/api/orders/", body, format="json")

    assert response.status_code == 400
    assert list(json_of(response)) == ["items"]
    assert not Order.objects.exists()


def test_product_page_shows_what_an_order_may_take(api: APIClient) -> None:
    """Seen: "доступно 0" at checkout while the page showed 5, open guest orders holding it."""
    variant = sellable(stock="5")
    for _ in range(2):
        assert order(api, variant, "1").status_code == 201
    OrderItemFactory(variant=variant, quantity=Decimal("5"), order__sent_to_1c=True)  # in 1C: 1C counts it

    def shown() -> tuple[str, str, str]:
        listed = json_of(api.get("/api/products/"))["results"][0]["stock"]
        page = json_of(api.get(f"/api/products/{variant.product_id}/"))
        return listed, page["stock"], page["variants"][0]["stock"]

    before = shown()
    too_many = order(api, variant, "4")
    exactly = order(api, variant, "3")

    assert before == ("3", "3", "3")
    assert json_of(too_many) == {"items": [{"quantity": ["Недостаточно на складе: доступно 3."]}]}
    assert exactly.status_code == 201
    assert shown() == ("0", "0", "0")


def test_stock_already_oversold_shows_zero_not_a_negative_figure(api: APIClient) -> None:
    variant = sellable(stock="1")
    OrderItemFactory(variant=variant, quantity=Decimal("4"))

    response = order(api, variant, "1")

    assert json_of(api.get(f"/api/products/{variant.product_id}/"))["stock"] == "0"
    assert json_of(response) == {"items": [{"quantity": ["Недостаточно на складе: доступно 0."]}]}


@pytest.mark.parametrize(
    ("text", "rate"),
    [("30/hour", Rate(30, 3600)), ("5/min", Rate(5, 60)), ("1000/day", Rate(1000, 86400)), (" 2/s ", Rate(2, 1))],
)
def test_rates_are_written_as_count_per_period(text: str, rate: Rate) -> None:
    assert parse_rate(text) == rate


def test_an_empty_rate_is_no_limit() -> None:
    assert parse_rate("") is None


@pytest.mark.parametrize("text", ["30", "30/fortnight", "x/hour", "0/hour", "-1/hour", "/hour"])
def test_a_rate_that_cannot_be_read_stops_the_start(text: str) -> None:
    with pytest.raises(ImproperEnvironment, match="SHOP_ORDER_RATE_PER_ADDRESS"):
        parse_rate(text, name="SHOP_ORDER_RATE_PER_ADDRESS")
