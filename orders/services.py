"""Placing orders.

Decisions (also in the API description):

* **Prices** are the customer's price type's (customers.selectors.customer_price_type; guests buy
  at retail). Line and order totals are computed here; nothing the client sends about money is
  read. A variant without a price of that type cannot be ordered.
* **Stock is checked, never decremented**: 1C owns stock and sends new figures with every
  exchange. What may be ordered is 1C's ``stock_total`` minus what orders still holding stock
  claim (orders.selectors.order_items_holding_stock: until 1C took the order and sent a stock
  figure after that). The variants' rows are locked (``select_for_update``) for the duration of the
  check, so two concurrent orders for the last unit cannot both pass. On SQLite the IMMEDIATE
  transaction mode (settings) serialises writers, which gives the same guarantee.
* **Duplicate lines** for one variant are merged (quantities added) into one order line; errors
  are reported on the first of them.
* **Lines** name a ``variant``, or a ``product`` that has exactly one active variant (a product
  without characteristics is sold through its default variant).
* **Numbers** are the primary key, zero-padded to six digits, after SHOP_ORDER_NUMBER_PREFIX:
  unique without a counter table. Guests get an unguessable ``access_key`` to read the order.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from catalog.models import Price, ProductVariant
from catalog.selectors import product_sellable_variant, variant_title
from customers.models import User
from customers.selectors import customer_price_type
from customers.validators import phone_normalize
from orders.models import Order, OrderHistory, OrderItem, OrderStatus
from orders.selectors import order_items_holding_stock

MAX_LINES = 500
CENT = Decimal("0.01")
# Order totals are DecimalField(max_digits=18, decimal_places=2): anything from here up would
# not fit the column and fail at INSERT, so it is refused as a field error first.
MAX_TOTAL = Decimal(10) ** 16
MAX_QUANTITY = Decimal(10) ** 15
QUANTITY_PLACES = 3


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line as the customer asked for it: a variant (or a single-variant product) and a quantity."""

    quantity: Decimal
    variant_id: int | None = None
    product_id: int | None = None


class OrderInvalid(Exception):
    """The order cannot be placed. ``errors`` has the shape of a serializer's errors:
    ``{"items": [{}, {"quantity": ["…"]}], "contact_phone": ["…"]}``; nothing was written."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(slots=True)
class _Contact:
    name: str
    email: str
    phone: str


def _contact(*, customer: User | None, name: str, email: str, phone: str, errors: dict[str, Any]) -> _Contact:
    """The order's contact details: as given, else (for a logged-in customer) from the profile."""
    name, email, phone = name.strip(), email.strip().lower(), phone.strip()
    if phone:
        try:
            phone = phone_normalize(phone)
        except ValidationError as exc:
            errors["contact_phone"] = exc.messages
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            errors["contact_email"] = exc.messages
    if customer is not None:
        return _Contact(
            name=name or customer.display_name, email=email or customer.email, phone=phone or customer.phone
        )
    if not name:
        errors["contact_name"] = ["Укажите имя."]
    if not email and not phone and "contact_phone" not in errors and "contact_email" not in errors:
        errors["non_field_errors"] = ["Укажите email или телефон для связи."]
    return _Contact(name=name, email=email, phone=phone)


def _quantity_error(quantity: Decimal) -> str | None:
    if not quantity.is_finite() or quantity <= 0:
        return "Количество должно быть больше нуля."
    if quantity >= MAX_QUANTITY:
        return "Слишком большое количество."
    if quantity != quantity.quantize(Decimal(1).scaleb(-QUANTITY_PLACES)):
        return f"Не больше {QUANTITY_PLACES} знаков после запятой."
    return None


def _reserved(variant_ids: Sequence[int]) -> dict[int, Decimal]:
    """What orders still holding stock claim of each variant (orders.selectors)."""
    rows = (
        order_items_holding_stock()
        .filter(variant_id__in=variant_ids)
        .values("variant_id")
        .annotate(quantity=Sum("quantity"))
        .order_by()
    )
    return {row["variant_id"]: row["quantity"] for row in rows}


def _format_quantity(quantity: Decimal) -> str:
    return format(quantity.normalize(), "f") if quantity == quantity.to_integral() else str(quantity)


def order_create(
    *,
    customer: User | None,
    lines: Sequence[OrderLine],
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    delivery_address: str = "",
    comment: str = "",
) -> Order:
    """Place an order for a customer (or a guest, ``customer=None``); raises OrderInvalid."""
    errors: dict[str, Any] = {}
    contact = _contact(customer=customer, name=contact_name, email=contact_email, phone=contact_phone, errors=errors)
    if not lines:
        errors["items"] = ["Добавьте в заказ хотя бы один товар."]
        raise OrderInvalid(errors)
    if len(lines) > MAX_LINES:
        errors["items"] = [f"Не больше {MAX_LINES} строк в одном заказе."]
        raise OrderInvalid(errors)

    line_errors: list[dict[str, list[str]]] = [{} for _ in lines]
    with transaction.atomic():
        # Which variant each line means; duplicates merge into the first line naming the variant.
        merged: dict[int, tuple[int, Decimal]] = {}
        for index, line in enumerate(lines):
            problem = _quantity_error(line.quantity)
            if problem:
                line_errors[index]["quantity"] = [problem]
            variant_id = line.variant_id
            if variant_id is None and line.product_id is not None:
                sellable = product_sellable_variant(product_id=line.product_id)
                if sellable is None:
                    line_errors[index]["product"] = ["Товар недоступен или нужно выбрать вариант."]
                    continue
                variant_id = sellable.pk
            if variant_id is None:
                line_errors[index]["variant"] = ["Укажите вариант товара."]
                continue
            if problem:
                continue
            first, quantity = merged.get(variant_id, (index, Decimal(0)))
            merged[variant_id] = (first, quantity + line.quantity)

        ids = sorted(merged)
        # Locked in id order, so two orders over the same variants cannot deadlock.
        variants = {
            variant.pk: variant
            for variant in ProductVariant.objects.select_for_update(of=("self",))
            .select_related("product")
            .filter(pk__in=ids)
            .order_by("pk")
        }
        price_type = customer_price_type(customer=customer)
        prices = (
            {price.variant_id: price for price in Price.objects.filter(variant_id__in=ids, price_type=price_type)}
            if price_type is not None
            else {}
        )
        reserved = _reserved(ids)

        items: list[OrderItem] = []
        items_total = Decimal(0)
        for variant_id, (index, quantity) in merged.items():
            field = "product" if lines[index].variant_id is None else "variant"
            variant = variants.get(variant_id)
            if variant is None or not variant.is_active or not variant.product.is_active:
                line_errors[index][field] = ["Товар не найден или снят с продажи."]
                continue
            price = prices.get(variant_id)
            if price is None:
                line_errors[index][field] = ["У товара нет цены для вас; его нельзя заказать."]
                continue
            available = variant.stock_total - reserved.get(variant_id, Decimal(0))
            if quantity > available:
                line_errors[index]["quantity"] = [
                    f"Недостаточно на складе: доступно {_format_quantity(max(available, Decimal(0)))}."
                ]
                continue
            line_total = (price.value * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
            if line_total >= MAX_TOTAL:
                line_errors[index]["quantity"] = ["Слишком большая сумма строки."]
                continue
            items_total += line_total
            items.append(
                OrderItem(
                    variant=variant,
                    onec_id=variant.onec_id or "",
                    name=variant_title(variant)[:1024],
                    article=variant.article or variant.product.article,
                    unit_code=variant.product.unit_code,
                    unit_name=variant.product.unit_name,
                    price=price.value,
                    quantity=quantity,
                    total=line_total,
                )
            )
        if items_total >= MAX_TOTAL:
            errors.setdefault("non_field_errors", []).append("Слишком большая сумма заказа.")
        if any(line_errors):
            errors["items"] = line_errors
        if errors:
            raise OrderInvalid(errors)

        assert price_type is not None  # every line found a price of it
        order = Order.objects.create(
            number=f"~{uuid.uuid4().hex}",  # replaced below, once the primary key is known
            customer=customer,
            contact_name=contact.name[:255],
            contact_email=contact.email,
            contact_phone=contact.phone,
            delivery_address=delivery_address.strip(),
            comment=comment.strip(),
            price_type=price_type,
            currency=price_type.currency or settings.SHOP_CURRENCY,
            items_total=items_total,
            total=items_total,
            access_key=secrets.token_urlsafe(24),
        )
        order.number = f"{settings.SHOP_ORDER_NUMBER_PREFIX}{order.pk:06d}"
        Order.objects.filter(pk=order.pk).update(number=order.number)
        for item in items:
            item.order = order
        OrderItem.objects.bulk_create(items)
    return order


def order_export_retry(*, orders: QuerySet[Order]) -> int:
    """Put orders back in the queue 1C collects (``mode=query``): for an order 1C lost, or one the
    exporter skipped and a manager has since fixed. Returns how many orders were queued."""
    return orders.filter(Q(sent_to_1c=True) | Q(export_skipped=True)).update(
        sent_to_1c=False, sent_to_1c_at=None, export_skipped=False, export_skip_reason=""
    )


@dataclass(frozen=True, slots=True)
class OrderChange:
    """One field of an order changed: the values as they were and are (any type; stored as text)."""

    field: str
    old: object
    new: object


def _history_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "да" if value else "нет"
    return str(value)


def order_changes_record(*, order: Order, changes: Sequence[OrderChange], source: str) -> None:
    """Keep ``changes`` in the order's history; when the status changed, the customer gets an
    email, sent by the worker once the caller's transaction has committed (never if it rolls back)."""
    OrderHistory.objects.bulk_create(
        [
            OrderHistory(
                order=order,
                source=source,
                field=change.field,
                old_value=_history_text(change.old),
                new_value=_history_text(change.new),
            )
            for change in changes
        ]
    )
    status_change = next((change for change in changes if change.field == "status"), None)
    if status_change is not None and settings.SHOP_ORDER_STATUS_EMAIL and order.contact_email:
        from orders.tasks import send_order_status_email  # tasks import this module

        order_id, old, new = order.pk, str(status_change.old), str(status_change.new)
        transaction.on_commit(lambda: send_order_status_email.delay(order_id, old, new))


STATUS_EMAIL_SUBJECT = "Заказ № {number}: {status}"
STATUS_EMAIL_BODY = (
    "Здравствуйте, {name}!\n\n"
    "Статус вашего заказа № {number} изменился: {old} → {new}.\n\n"
    "Это письмо отправлено автоматически, отвечать на него не нужно."
)


def order_status_email_send(*, order_id: int, old_status: str, new_status: str) -> bool:
    """Tell the customer their order's status changed. False when there is nobody to tell."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or not order.contact_email:
        return False
    labels = dict(OrderStatus.choices)
    new_label = labels.get(new_status, new_status)
    send_mail(
        subject=STATUS_EMAIL_SUBJECT.format(number=order.number, status=new_label),
        message=STATUS_EMAIL_BODY.format(
            name=order.contact_name or "покупатель",
            number=order.number,
            old=labels.get(old_status, old_status),
            new=new_label,
        ),
        from_email=None,
        recipient_list=[order.contact_email],
    )
    return True
