"""Order read paths."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from customers.models import User
from orders.models import Order, OrderItem, OrderStatus

# How long an order 1C confirmed keeps holding stock when no new stock figure for its variant has
# arrived: 1C may report the same figure again (nothing to change), and a hold must not outlive
# the exchanges that would have carried the new one (a full exchange runs every few minutes to an
# hour in practice).
STOCK_HOLD_AFTER_EXPORT = timedelta(hours=24)


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


def order_items_holding_stock(*, now: datetime | None = None) -> QuerySet[OrderItem]:
    """Lines of the orders that hold stock: what may be ordered is 1C's stock less these.

    1C owns stock and the site never decrements it. An order (not cancelled, not skipped by the
    exporter) holds its quantities until 1C has taken it (``mode=success``) *and* 1C's stock has
    been refreshed since: only a stock figure sent after 1C took the order accounts for it. A
    new figure shows as the variant's ``updated_at`` moving past ``sent_to_1c_at`` (the importer
    writes a variant only when something in it changed); without one, the hold ends
    STOCK_HOLD_AFTER_EXPORT after 1C took the order.
    """
    now = now or timezone.now()
    return (
        OrderItem.objects.filter(order__export_skipped=False)
        .exclude(order__status=OrderStatus.CANCELLED)
        .filter(
            Q(order__sent_to_1c=False)
            | Q(
                order__sent_to_1c_at__gte=F("variant__updated_at"),
                order__sent_to_1c_at__gt=now - STOCK_HOLD_AFTER_EXPORT,
            )
        )
    )
