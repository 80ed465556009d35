"""When an order stops holding stock: once 1C took it and a stock figure arrived after that."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import ProductVariant
from orders.models import Order, OrderStatus
from orders.selectors import STOCK_HOLD_AFTER_EXPORT, order_items_holding_stock
from orders.services import OrderInvalid, OrderLine, order_create
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory

pytestmark = pytest.mark.django_db

GUEST = {"contact_name": "Анна", "contact_email": "anna@example.com"}


def one_left() -> ProductVariant:
    return ProductFactory(sellable__stock=Decimal(1)).variants.get()


def order_last_unit(variant: ProductVariant) -> Order:
    return order_create(customer=None, lines=[OrderLine(variant_id=variant.pk, quantity=Decimal(1))], **GUEST)


def mark_taken_by_1c(order: Order, *, when=None) -> None:
    Order.objects.filter(pk=order.pk).update(sent_to_1c=True, sent_to_1c_at=when or timezone.now())


def new_stock_figure(variant: ProductVariant, quantity: Decimal) -> None:
    # What the importer does: the variant row is written with the new figure, updated_at moves.
    variant.stock_total = quantity
    variant.save()


def test_an_order_on_its_way_to_1c_holds_its_stock() -> None:
    variant = one_left()
    order_last_unit(variant)

    with pytest.raises(OrderInvalid):
        order_last_unit(variant)


def test_an_order_1c_took_still_holds_until_a_stock_figure_arrives_after_that() -> None:
    variant = one_left()
    first = order_last_unit(variant)
    mark_taken_by_1c(first)

    with pytest.raises(OrderInvalid):
        order_last_unit(variant)  # 1C's figure "1" predates the order

    new_stock_figure(variant, Decimal(1))  # 1C has the order and still counts one free unit
    assert order_last_unit(variant).items.get().quantity == 1


def test_a_hold_without_a_new_stock_figure_ends_after_the_hold_window() -> None:
    variant = one_left()
    first = order_last_unit(variant)
    mark_taken_by_1c(first, when=timezone.now() - STOCK_HOLD_AFTER_EXPORT - timedelta(minutes=1))

    assert not order_items_holding_stock().filter(order=first).exists()


@pytest.mark.parametrize(
    "fields", [{"status": OrderStatus.CANCELLED}, {"export_skipped": True}], ids=["cancelled", "skipped"]
)
def test_cancelled_and_skipped_orders_hold_nothing(fields: dict[str, object]) -> None:
    item = OrderItemFactory(order=OrderFactory(**fields))

    assert not order_items_holding_stock().filter(pk=item.pk).exists()
