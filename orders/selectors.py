"""Order read paths."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from customers.models import User
from orders.models import Order


def order_list_for_customer(*, customer: User) -> QuerySet[Order]:
    """The customer's own orders, newest first, with their lines."""
    return Order.objects.filter(customer=customer).prefetch_related("items", "history").order_by("-created_at", "-id")


def order_get_for_reader(*, number: str, customer: User | AnonymousUser | None, access_key: str = "") -> Order | None:
    """The order with ``number`` if this reader may see it: its logged-in owner, or anyone holding
    the order's access key (given to whoever placed it). None otherwise, so a stranger cannot tell
    a foreign order from a missing one."""
    order = Order.objects.filter(number=number).prefetch_related("items", "history").first()
    if order is None:
        return None
    if isinstance(customer, User) and customer.is_authenticated and order.customer_id == customer.pk:
        return order
    if access_key and order.access_key and secrets.compare_digest(order.access_key.encode(), access_key.encode()):
        return order
    return None
