"""The race of protocol.md §3.3: customers place orders while 1C runs query/success cycles.

Every order must be handed out in exactly one confirmed query and marked sent exactly once: none
lost between a query and its success, none marked by a success whose query did not carry it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from lxml import etree
from rest_framework.test import APIClient

from customers.models import User
from exchange.sale import bookkeeping
from orders.models import Order
from tests.exchange.conftest import PASSWORD, OneC
from tests.factories import ProductFactory
from tests.services import require_postgres

pytestmark = pytest.mark.django_db(transaction=True)

PLACERS = 4
ORDERS_PER_PLACER = 15


def test_orders_placed_during_exchanges_reach_1c_exactly_once(exchange_user: User, settings, monkeypatch) -> None:
    require_postgres()
    settings.EXCHANGE_ZIP = False
    # Many orders from one test address in seconds: the flood limit is not what this proves.
    settings.SHOP_ORDER_RATE_PER_ADDRESS = None
    variants = [ProductFactory(sellable__stock=Decimal(1000)).variants.get().pk for _ in range(3)]
    marked: list[int] = []
    real_confirm = bookkeeping.orders_confirm

    def spy_confirm(**kwargs: Any) -> bookkeeping.Confirmation:
        confirmation = real_confirm(**kwargs)
        marked.extend(confirmation.marked)
        return confirmation

    monkeypatch.setattr(bookkeeping, "orders_confirm", spy_confirm)
    placed: list[str] = []
    errors: list[str] = []

    def place(worker: int) -> None:
        client = APIClient()
        try:
            for index in range(ORDERS_PER_PLACER):
                body = {
                    "contact_name": f"Покупатель {worker}-{index}",
                    "contact_email": f"buyer{worker}x{index}@example.com",
                    "items": [{"variant": variants[(worker + index) % 3], "quantity": 1}],
                }
                response = client.post("/api/orders/", body, format="json")
                if response.status_code != 201:
                    errors.append(response.content.decode())
                else:
                    placed.append(response.json()["number"])
                time.sleep(0.005)
        finally:
            connection.close()

    def exchange_cycle() -> list[str]:
        onec = OneC(Client(), username=exchange_user.email, password=PASSWORD, exchange_type="sale")
        assert onec.checkauth().lines[0] == "success"
        onec.init(version="2.10")
        response = onec.get("query")
        root = etree.fromstring(response.content.removeprefix(b"\xef\xbb\xbf"))
        numbers = [doc.findtext("{*}Номер") or "" for doc in root.iter("{*}Документ")]
        assert onec.get("success").lines[0] == "success"
        return numbers

    threads = [threading.Thread(target=place, args=(worker,)) for worker in range(PLACERS)]
    for thread in threads:
        thread.start()
    handed: list[str] = []
    cycles = 0
    while any(thread.is_alive() for thread in threads):
        handed += exchange_cycle()
        cycles += 1
    for thread in threads:
        thread.join(60)
    handed += exchange_cycle()  # the orders placed during the last cycle

    assert errors == []
    assert len(placed) == PLACERS * ORDERS_PER_PLACER
    assert cycles >= 2, "the exchange should have run while orders were being placed"
    assert Counter(handed) == Counter(placed)  # each order in exactly one document
    numbers = dict(Order.objects.values_list("pk", "number"))
    assert sorted(numbers[pk] for pk in marked) == sorted(placed)  # each marked exactly once
    assert not Order.objects.filter(sent_to_1c=False).exists()
