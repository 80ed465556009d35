"""Two customers racing for the last unit: exactly one gets it."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from orders.models import Order
from orders.services import OrderInvalid, OrderLine, order_create
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

CONTACT = {"contact_name": "Анна", "contact_email": "anna@example.com"}


def test_second_order_for_the_last_unit_waits_for_the_first_and_is_refused() -> None:
    product = ProductFactory(sellable__stock=Decimal("1"))
    lines = [OrderLine(variant_id=product.variants.get().pk, quantity=Decimal("1"))]
    first_placed, second_started = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            # The first order's transaction stays open until the second one is under way, so
            # without the lock the second would not see the first's line and would oversell.
            with transaction.atomic():
                outcome["first"] = order_create(customer=None, lines=lines, **CONTACT)
                first_placed.set()
                second_started.wait(5)
                threading.Event().wait(0.5)
        finally:
            first_placed.set()
            connection.close()

    def second() -> None:
        try:
            first_placed.wait(5)
            second_started.set()
            outcome["second"] = order_create(customer=None, lines=lines, **CONTACT)
        except OrderInvalid as exc:
            outcome["second"] = exc.errors
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert isinstance(outcome["first"], Order)
    assert outcome["second"] == {"items": [{"quantity": ["Недостаточно на складе: доступно 0."]}]}
    assert Order.objects.count() == 1
