"""Read paths of the order exchange: which orders are due, and their data as plain rows.

Rows, not model instances: a query for 10k orders builds 60k objects otherwise, most of the
exporter's time (measured with ``make bench``: instances cost ~2.5x the rows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, Max, Q, QuerySet

from orders.models import Order, OrderHistory, OrderItem

# Orders loaded per round trip. 1000 orders of 5 lines are ~1 MB of rows: big enough that the
# three queries per chunk cost little next to writing, small enough to keep memory flat.
CHUNK_SIZE = 1000

ORDER_FIELDS = (
    "pk",
    "number",
    "created_at",
    "updated_at",
    "status",
    "contact_name",
    "contact_email",
    "contact_phone",
    "delivery_address",
    "comment",
    "currency",
    "items_total",
    "delivery_total",
    "total",
    "payment_method",
    "payment_status",
    "paid_at",
    "payment_document",
    "shipment_status",
    "customer_id",
    "customer__onec_id",
    "customer__customer_type",
    "customer__company_name",
    "customer__inn",
    "customer__kpp",
    "customer__first_name",
    "customer__last_name",
    "customer__email",
    "customer__phone",
)
LINE_FIELDS = (
    "order_id",
    "onec_id",
    "variant__onec_id",
    "name",
    "article",
    "unit_code",
    "unit_name",
    "price",
    "quantity",
    "total",
)


@dataclass(frozen=True, slots=True)
class LineRow:
    onec_id: str  # as the line kept it when the order was placed
    variant_onec_id: str | None  # the variant's Ид now (1C may have sent it since)
    name: str
    article: str
    unit_code: str
    unit_name: str
    price: Decimal
    quantity: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class OrderRow:
    values: dict[str, Any]
    lines: tuple[LineRow, ...]
    status_changed_at: datetime | None

    @property
    def pk(self) -> int:
        return int(self.values["pk"])

    @property
    def updated_at(self) -> datetime:
        value: datetime = self.values["updated_at"]
        return value


def orders_due_for_export(*, resend_changed: bool) -> QuerySet[Order]:
    """Orders 1C should get with the next ``mode=query``: never confirmed by 1C and not skipped
    (guests' orders too), and — when ``resend_changed`` — orders changed on the site since the
    version 1C confirmed."""
    due = Q(sent_to_1c=False)
    if resend_changed:
        due |= Q(sent_to_1c=True, exported_version__isnull=False, updated_at__gt=F("exported_version"))
    return Order.objects.filter(due, export_skipped=False)


def order_rows(*, orders: QuerySet[Order], chunk_size: int = CHUNK_SIZE) -> Iterator[list[OrderRow]]:
    """The orders in primary-key order, a chunk at a time, each with its lines and the time of
    its last status change (from the history; its creation when the status never changed)."""
    last_pk = 0
    while True:
        chunk = list(orders.filter(pk__gt=last_pk).order_by("pk").values(*ORDER_FIELDS)[:chunk_size])
        if not chunk:
            return
        last_pk = chunk[-1]["pk"]
        ids = [row["pk"] for row in chunk]
        lines: dict[int, list[LineRow]] = defaultdict(list)
        for values in OrderItem.objects.filter(order_id__in=ids).order_by("order_id", "id").values_list(*LINE_FIELDS):
            lines[values[0]].append(LineRow(*values[1:]))
        changed = dict(
            OrderHistory.objects.filter(order_id__in=ids, field="status")
            .values("order_id")
            .annotate(last=Max("created_at"))
            .values_list("order_id", "last")
            .order_by()
        )
        yield [
            OrderRow(values=row, lines=tuple(lines.get(row["pk"], ())), status_changed_at=changed.get(row["pk"]))
            for row in chunk
        ]
