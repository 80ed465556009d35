"""1C's order documents (sale ``mode=file``) applied to the site's orders (protocol.md §5.7).

A document is matched to an order by Ид (the site's number, which the site wrote as Ид), then by
Номер. 1C only sends back orders it got from the site (MR, protocol.md §3.4), so an unknown order
is reported by its number and never created. What is applied, each change recorded in the
order's history with source "1С":

* 1C's own number and date (Номер1С/Дата1С, or the requisites "Номер по 1С"/"Дата по 1С");
* the status: "Статуса заказа ИД" when it is a site status (1C's module maps statuses to the ids
  ``mode=info`` lists), else "Статус заказа" through the admin's status map;
* paid (flag, date, payment number), shipped (flag, date, number, tracking id), cancelled and the
  deletion mark (both cancel the order);
* changed lines (by the variant's 1C Ид) and sums, when the document carries Товары; the delivery
  line ``ORDER_DELIVERY`` (or any service line) sets the delivery sum.

3.1 payment and shipment documents (ХозОперация «Выплата …» / «Отпуск товара», protocol.md §5.6)
refer to their order by Основание and mark it paid or shipped.

Whatever 1C changed is what 1C already knows: an order that was in step with 1C before stays in
step (its exported version moves along), so 1C's own change is not sent back to it as a site
change.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from catalog.models import ProductVariant
from commerceml.errors import CommerceMLValueError
from commerceml.records import DELIVERY_ITEM_ID, Document, DocumentItem
from commerceml.values import parse_date, parse_time
from exchange.protocol import SALE_DOCUMENT_WITHOUT_ID, SALE_LINE_VARIANT_UNKNOWN, SALE_ORDER_NOT_FOUND
from orders.models import (
    Order,
    OrderHistory,
    OrderItem,
    OrderStatus,
    OrderStatusMapping,
    PaymentStatus,
    ShipmentStatus,
)
from orders.services import OrderChange, order_changes_record

logger = logging.getLogger(__name__)

ORDER_OPERATIONS = frozenset({"заказ товара", ""})
PAYMENT_OPERATIONS = frozenset(
    {"выплата безналичных денег", "выплата наличных денег", "эквайринговая операция", "оплата"}
)
SHIPMENT_OPERATIONS = frozenset({"отпуск товара", "отгрузка"})
SERVICE_KIND = "услуга"
CENT = Decimal("0.01")


_BRACKETED = re.compile(r"^\s*\[([^\]]*)\]\s*(.*)$")


@dataclass(slots=True)
class ApplyReport:
    """Totals and the messages for 1C's operator."""

    updated: list[str] = field(default_factory=list)  # order numbers
    unchanged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    warnings: list[tuple[str | None, str]] = field(default_factory=list)  # (order number, text)

    @property
    def messages(self) -> list[str]:
        return [text for _, text in self.warnings]

    def add(self, other: ApplyReport) -> None:
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.unknown += other.unknown
        self.warnings += other.warnings


def parse_onec_datetime(text: str | None) -> dt.datetime | None:
    """1C's requisite dates (``2015-06-29T15:39:10``, ``2007-10-30 15:19:27``,
    ``11.02.2021 18:45:21``) in the site's time zone; an empty one (``T``, 1C's 0001-01-01) or
    one that is not a date is None: a requisite 1C fills by hand must not reject the document."""
    try:
        day = parse_date(text)
        moment = parse_time(text) if day is not None and text is not None and (":" in text) else None
    except CommerceMLValueError:
        return None
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, moment or dt.time()))


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in {"true", "1", "да", "yes"}:
        return True
    if lowered in {"false", "0", "нет", "no"}:
        return False
    return None


class _Requisites:
    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self._values = {name.strip().lower(): value for name, value in pairs}

    def get(self, *names: str) -> str | None:
        for name in names:
            value = self._values.get(name.lower())
            if value is not None and value.strip():
                return value.strip()
        return None


def _status_map() -> dict[str, str]:
    return {
        text.strip().lower(): status for text, status in OrderStatusMapping.objects.values_list("onec_value", "status")
    }


def _site_status(requisites: _Requisites, status_map: dict[str, str]) -> tuple[str | None, str | None]:
    """(site status, 1C's status text) from the document's requisites."""
    text = requisites.get("Статус заказа", "Статус")
    status_id = requisites.get("Статуса заказа ИД", "Статус заказа ИД")
    if status_id is not None and status_id in OrderStatus.values:
        return status_id, text
    candidates = []
    if text is not None:
        candidates.append(text)
        bracketed = _BRACKETED.match(text)
        if bracketed:
            code, label = bracketed.groups()
            if code in OrderStatus.values:
                return code, text
            candidates += [label, code]
    if status_id is not None:
        candidates.append(status_id)
    for candidate in candidates:
        status = status_map.get(candidate.strip().lower())
        if status is not None:
            return status, text
    return None, text


def _is_service(item: DocumentItem) -> bool:
    if item.id == DELIVERY_ITEM_ID:
        return True
    kinds = {value.strip().lower() for name, value in item.requisites if name in {"ТипНоменклатуры", "ВидНоменклатуры"}}
    return SERVICE_KIND in kinds


class _OrderUpdate:
    """Collects the changes of one order, writes them and their history together."""

    def __init__(self, order: Order) -> None:
        self.order = order
        self.changes: list[OrderChange] = []

    def set(self, name: str, value: object) -> None:
        old = getattr(self.order, name)
        if isinstance(old, dt.datetime) and isinstance(value, dt.datetime) and old == value:
            return
        if old == value:
            return
        setattr(self.order, name, value)
        self.changes.append(OrderChange(field=name, old=old, new=value))


def _apply_lines(update: _OrderUpdate, items: tuple[DocumentItem, ...], report: ApplyReport) -> None:
    order = update.order
    goods = [item for item in items if not _is_service(item)]
    services = [item for item in items if _is_service(item)]
    if services:
        delivery = sum(((item.amount if item.amount is not None else Decimal(0)) for item in services), Decimal(0))
        update.set("delivery_total", delivery.quantize(CENT))
    if not goods:
        return
    existing = {item.onec_id: item for item in order.items.all()}
    seen: set[str] = set()
    for line in goods:
        seen.add(line.id)
        quantity = line.quantity
        price = line.price if line.price is not None else (line.amount or Decimal(0)) / (quantity or 1)
        total = (line.amount if line.amount is not None else price * quantity).quantize(CENT)
        current = existing.get(line.id)
        if current is None:
            variant = ProductVariant.objects.filter(onec_id=line.id).first()
            if variant is None:
                report.warnings.append(
                    (order.number, SALE_LINE_VARIANT_UNKNOWN.format(number=order.number, item_id=line.id))
                )
                continue
            OrderItem.objects.create(
                order=order,
                variant=variant,
                onec_id=line.id,
                name=line.name[:1024],
                unit_code=(line.unit.code or "") if line.unit else "",
                unit_name=(line.unit.name or "") if line.unit else "",
                price=price,
                quantity=quantity,
                total=total,
            )
            update.changes.append(OrderChange(field="items", old="", new=f"+ {line.name} × {quantity}"))
            continue
        before = f"{current.name} × {current.quantity} по {current.price} = {current.total}"
        if (current.quantity, current.price, current.total) != (quantity, price, total):
            current.quantity, current.price, current.total = quantity, price, total
            current.save(update_fields=["quantity", "price", "total"])
            after = f"{current.name} × {quantity} по {price} = {total}"
            update.changes.append(OrderChange(field="items", old=before, new=after))
    for onec_id, current in existing.items():
        if onec_id not in seen:
            update.changes.append(OrderChange(field="items", old=f"{current.name} × {current.quantity}", new=""))
            current.delete()
    items_total = sum((item.total for item in order.items.all()), Decimal(0))
    update.set("items_total", items_total.quantize(CENT))


def _apply_order_document(
    order: Order, document: Document, status_map: dict[str, str], report: ApplyReport
) -> _OrderUpdate:
    update = _OrderUpdate(order)
    requisites = _Requisites(document.requisites)
    onec_number = document.onec_number or requisites.get("Номер по 1С", "Номер1С")
    if onec_number:
        update.set("onec_number", onec_number[:64])
    onec_date = parse_onec_datetime(requisites.get("Дата по 1С", "Дата1С"))
    if onec_date is None and document.onec_date is not None:
        onec_date = timezone.make_aware(dt.datetime.combine(document.onec_date, document.time or dt.time()))
    if onec_date is not None:
        update.set("onec_date", onec_date)

    status, status_text = _site_status(requisites, status_map)
    if status_text:
        update.set("onec_status", status_text[:255])
    cancelled = _flag(requisites.get("Отменен", "Отменён"))
    deleted = document.deleted or bool(_flag(requisites.get("ПометкаУдаления")))
    if deleted:
        update.set("onec_deleted", True)
    if cancelled or deleted:
        status = OrderStatus.CANCELLED
    if status is not None:
        update.set("status", status)

    _apply_payment(
        update,
        paid=_flag(requisites.get("Оплачен", "Заказ оплачен")),
        paid_at=parse_onec_datetime(requisites.get("Дата оплаты по 1С", "Дата оплаты")),
        number=requisites.get("Номер оплаты по 1С", "Номер платежного документа"),
    )
    _apply_shipment(
        update,
        shipped=_flag(requisites.get("Отгружен")),
        shipped_at=parse_onec_datetime(requisites.get("Дата отгрузки по 1С", "Дата отгрузки")),
        number=requisites.get("Номер отгрузки по 1С"),
        tracking=requisites.get("Идентификатор отправления"),
    )
    if document.items:
        _apply_lines(update, document.items, report)
    if document.amount is not None:
        update.set("total", document.amount.quantize(CENT))
    return update


def _apply_payment(update: _OrderUpdate, *, paid: bool | None, paid_at: dt.datetime | None, number: str | None) -> None:
    if paid is None and (paid_at is not None or number):
        paid = True
    if paid is True:
        update.set("payment_status", PaymentStatus.PAID)
        update.set("paid_at", paid_at or update.order.paid_at or timezone.now())
    elif paid is False:
        update.set("payment_status", PaymentStatus.UNPAID)
    if number:
        update.set("payment_document", number[:64])


def _apply_shipment(
    update: _OrderUpdate,
    *,
    shipped: bool | None,
    shipped_at: dt.datetime | None,
    number: str | None,
    tracking: str | None,
) -> None:
    if shipped is None and (shipped_at is not None or number):
        shipped = True
    if shipped is True:
        update.set("shipment_status", ShipmentStatus.SHIPPED)
        update.set("shipped_at", shipped_at or update.order.shipped_at or timezone.now())
    elif shipped is False:
        update.set("shipment_status", ShipmentStatus.NOT_SHIPPED)
    if number:
        update.set("shipment_document", number[:64])
    if tracking:
        update.set("tracking_number", tracking[:128])


def _find_order(*keys: str | None) -> Order | None:
    for key in keys:
        if key:
            order = Order.objects.select_for_update().filter(number=key.strip()).first()
            if order is not None:
                return order
    return None


def _save(update: _OrderUpdate, report: ApplyReport) -> None:
    order = update.order
    if not update.changes:
        report.unchanged.append(order.number)
        return
    in_step = order.sent_to_1c and order.exported_version is not None and order.exported_version >= order.updated_at
    order.save()
    if in_step:
        Order.objects.filter(pk=order.pk).update(exported_version=order.updated_at)
    order_changes_record(order=order, changes=update.changes, source=OrderHistory.Source.ONEC)
    report.updated.append(order.number)


def document_apply(*, document: Document, status_map: dict[str, str] | None = None) -> ApplyReport:
    """Apply one of 1C's documents (inside the caller's transaction)."""
    report = ApplyReport()
    status_map = _status_map() if status_map is None else status_map
    operation = (document.operation or "").strip().lower()
    if operation in PAYMENT_OPERATIONS or operation in SHIPMENT_OPERATIONS:
        order = _find_order(document.base_id)
        if order is None:
            number = document.base_id or document.number or document.id
            report.unknown.append(number)
            report.warnings.append((number, SALE_ORDER_NOT_FOUND.format(number=number)))
            return report
        update = _OrderUpdate(order)
        when = (
            timezone.make_aware(dt.datetime.combine(document.date, document.time or dt.time()))
            if document.date
            else None
        )
        if operation in PAYMENT_OPERATIONS:
            _apply_payment(update, paid=True, paid_at=when, number=document.onec_number or document.number)
        else:
            _apply_shipment(
                update, shipped=True, shipped_at=when, number=document.onec_number or document.number, tracking=None
            )
        _save(update, report)
        return report
    if operation not in ORDER_OPERATIONS:
        return report  # invoices and other documents 1C may attach say nothing about the order
    if not document.id.strip():
        report.warnings.append((None, SALE_DOCUMENT_WITHOUT_ID))
        return report
    order = _find_order(document.id, document.number)
    if order is None:
        number = document.number or document.id
        report.unknown.append(number)
        report.warnings.append((number, SALE_ORDER_NOT_FOUND.format(number=number)))
        return report
    _save(_apply_order_document(order, document, status_map, report), report)
    return report


def documents_apply(*, documents: Iterable[Document]) -> ApplyReport:
    """Apply every document in one transaction: when reading the file fails half way (the
    iterable raises), nothing of it stays applied and no email goes out."""
    report = ApplyReport()
    status_map = _status_map()
    with transaction.atomic():
        for document in documents:
            report.add(document_apply(document=document, status_map=status_map))
    if report.unknown:
        logger.warning("1C sent %d unknown order(s): %s", len(report.unknown), ", ".join(report.unknown[:20]))
    return report
