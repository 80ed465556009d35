"""Order read paths."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from customers.models import User
from orders.models import Order, OrderItem, OrderStatus


def order_list_for_customer(*, customer: User) -> QuerySet[Order]:
    """The customer's own orders, newest first, with their lines."""
    return Order.objects.filter(customer=customer).prefetch_related("items").order_by("-created_at", "-id")


def order_get_for_reader(*, number: str, customer: User | AnonymousUser | None, access_key: str = "") -> Order | None:
    """The order with ``number`` if this reader may see it: its logged-in owner, or anyone holding
    the order's access key (given to whoever placed it). None otherwise, so a stranger cannot tell
    a foreign order from a missing one."""
    order = Order.objects.filter(number=number).prefetch_related("items").first()
    if order is None:
        return None
    if isinstance(customer, User) and customer.is_authenticated and order.customer_id == customer.pk:
        return order
    if access_key and order.access_key and secrets.compare_digest(order.access_key.encode(), access_key.encode()):
        return order
    return None


def order_items_holding_stock() -> QuerySet[OrderItem]:
    """Lines of the orders that hold stock: placed on the site and not yet handed to 1C (not
    sent, not skipped by the exporter, not cancelled).

    1C owns stock and the site never decrements it; once 1C has an order, 1C accounts for it in
    the stock it sends next, so only the orders still on their way hold their quantities here.
    What a customer can order is what catalog.selectors.variants_annotate_available subtracts
    this from, on the product page and when the order is placed alike.
    """
    return OrderItem.objects.filter(order__sent_to_1c=False, order__export_skipped=False).exclude(
        order__status=OrderStatus.CANCELLED
    )
