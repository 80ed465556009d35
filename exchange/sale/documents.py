"""An order as the Документ 1C needs to create it without a human (protocol.md §5.6).

What is written, and why:

* Ид and Номер are the site's order number (1C echoes Ид back in its own documents, §5.7, and
  the number is what a customer quotes); Дата/Время its creation in the site's time zone.
* One Контрагент, the buyer, never dropped: a registered customer under its 1C Ид when 1C gave
  one (else the site's stable ``site-customer-<id>``), a company with ОфициальноеНаименование,
  ИНН, КПП; a guest from the order's own name, email and phone (``site-guest-<number>``).
* Lines name the variant by the 1C Ид as 1C sent it (``product#characteristic`` where it has
  one): the line's snapshot, or the variant's Ид when 1C sent it only after the order was placed.
  A line with neither cannot be matched in 1C, so the order is not written (``OrderNotExportable``).
* Delivery is a service line ``ORDER_DELIVERY`` (Bitrix's Ид, what 1C's modules expect).
* ЗначенияРеквизитов use the Bitrix vocabulary 1C's site-exchange module maps (§5.6).
"""

from __future__ import annotations

import functools
from datetime import datetime, tzinfo
from decimal import Decimal

from django.utils import timezone

from commerceml.records import (
    DELIVERY_ITEM_ID,
    Address,
    Contact,
    Counterparty,
    Discount,
    Document,
    DocumentItem,
    ProductUnit,
)
from commerceml.values import format_bool, format_requisite_datetime
from customers.models import CustomerType
from exchange.sale.selectors import LineRow, OrderRow
from orders.models import FINAL_STATUSES, OrderStatus, PaymentMethod, PaymentStatus, ShipmentStatus

ORDER_OPERATION = "Заказ товара"
SELLER_ROLE = "Продавец"
BUYER_ROLE = "Покупатель"
DELIVERY_NAME = "Доставка заказа"
LINE_DISCOUNT_NAME = "Скидка на товар"
# Contact types from the XSD's КонтактТип list (Bitrix's older "ТелефонРабочий" is not in it).
EMAIL_CONTACT = "Почта"
PHONE_CONTACT = "Телефон рабочий"
PIECE = ProductUnit(code="796", name="шт", full_name="Штука", intl_abbr="PCE")
UNIT_FULL_NAMES = {
    "796": "Штука",
    "166": "Килограмм",
    "163": "Грамм",
    "112": "Литр",
    "006": "Метр",
    "055": "Квадратный метр",
}
GOODS = (("ВидНоменклатуры", "Товар"), ("ТипНоменклатуры", "Товар"))
SERVICE = (("ВидНоменклатуры", "Услуга"), ("ТипНоменклатуры", "Услуга"))
CENT = Decimal("0.01")

# Why an order was not handed to 1C (shown in the admin next to the retry action).
NO_LINES = "В заказе нет строк."
LINE_WITHOUT_ONEC_ID = "Строка «{name}»: у товара нет Ид 1С, 1С не сможет его найти."
BAD_LINE = "Строка «{name}»: {problem}."
BAD_ORDER = "Заказ не удалось записать: {problem}."


class OrderNotExportable(Exception):
    """The order cannot be written for 1C; ``reason`` says why, in words a manager can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def customer_counterparty_id(*, customer_id: int, onec_id: str | None) -> str:
    """The Ид 1C knows a registered customer by: its own, or the site's stable one until 1C sends
    it back."""
    return onec_id or f"site-customer-{customer_id}"


def guest_counterparty_id(*, number: str) -> str:
    return f"site-guest-{number}"


def _contacts(email: str, phone: str) -> tuple[Contact, ...]:
    contacts = []
    if email:
        contacts.append(Contact(EMAIL_CONTACT, email))
    if phone:
        contacts.append(Contact(PHONE_CONTACT, phone))
    return tuple(contacts)


def _buyer(values: dict[str, object]) -> Counterparty:
    name = str(values["contact_name"] or "").strip()
    email = str(values["contact_email"] or "")
    phone = str(values["contact_phone"] or "")
    address = Address(str(values["delivery_address"])) if values["delivery_address"] else None
    customer_id = values["customer_id"]
    if customer_id is None:
        return Counterparty(
            id=guest_counterparty_id(number=str(values["number"])),
            name=name or email or phone,
            role=BUYER_ROLE,
            full_name=name or email or phone,
            address=address,
            contacts=_contacts(email, phone),
        )
    counterparty_id = customer_counterparty_id(customer_id=int(str(customer_id)), onec_id=values["customer__onec_id"])  # type: ignore[arg-type]
    email = email or str(values["customer__email"] or "")
    phone = phone or str(values["customer__phone"] or "")
    company = str(values["customer__company_name"] or "").strip()
    if values["customer__customer_type"] == CustomerType.COMPANY and company:
        return Counterparty(
            id=counterparty_id,
            name=company,
            role=BUYER_ROLE,
            official_name=company,
            inn=str(values["customer__inn"] or "") or None,
            kpp=str(values["customer__kpp"] or "") or None,
            address=address,
            contacts=_contacts(email, phone),
        )
    first = str(values["customer__first_name"] or "").strip() or None
    last = str(values["customer__last_name"] or "").strip() or None
    full = " ".join(part for part in (last, first) if part) or name or email
    return Counterparty(
        id=counterparty_id,
        name=full,
        role=BUYER_ROLE,
        full_name=full,
        last_name=last,
        first_name=first,
        inn=str(values["customer__inn"] or "") or None,
        address=address,
        contacts=_contacts(email, phone),
    )


@functools.lru_cache(maxsize=256)
def _unit_of(code: str, name: str) -> ProductUnit:
    code = code.strip()
    if not code and not name:
        return PIECE
    return ProductUnit(
        code=code or None,
        name=name or None,
        full_name=UNIT_FULL_NAMES.get(code),
        intl_abbr=PIECE.intl_abbr if code == PIECE.code else None,
    )


def _unit(line: LineRow) -> ProductUnit:
    return _unit_of(line.unit_code, line.unit_name)


def _line(line: LineRow) -> DocumentItem:
    item_id = line.onec_id or line.variant_onec_id or ""
    if not item_id.strip():
        raise OrderNotExportable(LINE_WITHOUT_ONEC_ID.format(name=line.name))
    if line.quantity is None or line.quantity <= 0:
        raise OrderNotExportable(BAD_LINE.format(name=line.name, problem="количество не больше нуля"))
    if line.price is None or line.price < 0 or line.total is None or line.total < 0:
        raise OrderNotExportable(BAD_LINE.format(name=line.name, problem="отрицательная цена или сумма"))
    full = (line.price * line.quantity).quantize(CENT)
    discounts = (Discount(LINE_DISCOUNT_NAME, full - line.total),) if full - line.total >= CENT else ()
    return DocumentItem(
        id=item_id.strip(),
        name=line.name,
        quantity=line.quantity,
        price=line.price,
        amount=line.total,
        unit=_unit(line),
        discounts=discounts,
        requisites=GOODS,
    )


STATUS_LABELS: dict[str, str] = dict(OrderStatus.choices)
PAYMENT_LABELS: dict[str, str] = dict(PaymentMethod.choices)


def _status_text(status: str) -> str:
    return f"[{status}] {STATUS_LABELS.get(status, status)}"


def _local(value: datetime) -> datetime:
    # One time-zone lookup per process instead of timezone.localtime()'s per call (it goes
    # through asgiref's context-local storage): the exporter formats two dates per order.
    return value.astimezone(_site_timezone())


@functools.lru_cache(maxsize=1)
def _site_timezone() -> tzinfo:
    return timezone.get_default_timezone()


def _requisites(row: OrderRow) -> tuple[tuple[str, str], ...]:
    values = row.values
    status = str(values["status"])
    paid = values["payment_status"] == PaymentStatus.PAID
    delivery_allowed = values["shipment_status"] != ShipmentStatus.NOT_SHIPPED or status in {
        OrderStatus.SHIPPED,
        OrderStatus.COMPLETED,
    }
    changed = row.status_changed_at or values["created_at"]
    requisites: list[tuple[str, str]] = []
    if values["payment_method"]:
        requisites += [
            ("Метод оплаты", PAYMENT_LABELS.get(str(values["payment_method"]), str(values["payment_method"]))),
            ("Метод оплаты ИД", str(values["payment_method"])),
        ]
    requisites += [
        ("Заказ оплачен", format_bool(paid)),
        ("Доставка разрешена", format_bool(delivery_allowed)),
        ("Отменен", format_bool(status == OrderStatus.CANCELLED)),
        ("Финальный статус", format_bool(status in FINAL_STATUSES)),
        ("Статус заказа", _status_text(status)),
        ("Статуса заказа ИД", status),
        ("Дата изменения статуса", format_requisite_datetime(_local(changed))),
    ]
    if paid and values["paid_at"]:
        requisites.append(("Дата оплаты", format_requisite_datetime(_local(values["paid_at"]))))
    if values["payment_document"]:
        requisites.append(("Номер платежного документа", str(values["payment_document"])))
    if values["comment"]:
        requisites.append(("Комментарии покупателя", str(values["comment"])))
    return tuple(requisites)


def order_document(row: OrderRow) -> Document:
    """The Документ for one order; raises OrderNotExportable when 1C could not take it."""
    values = row.values
    if not row.lines:
        raise OrderNotExportable(NO_LINES)
    items = [_line(line) for line in row.lines]
    delivery = values["delivery_total"] or Decimal(0)
    if delivery < 0 or values["total"] is None or values["total"] < 0:
        raise OrderNotExportable(BAD_ORDER.format(problem="отрицательная сумма"))
    if delivery > 0:
        items.append(
            DocumentItem(
                id=DELIVERY_ITEM_ID,
                name=DELIVERY_NAME,
                quantity=Decimal(1),
                price=delivery,
                amount=delivery,
                unit=PIECE,
                requisites=SERVICE,
            )
        )
    created = _local(values["created_at"])
    return Document(
        id=str(values["number"]),
        number=str(values["number"]),
        date=created.date(),
        time=created.time().replace(microsecond=0),
        operation=ORDER_OPERATION,
        role=SELLER_ROLE,
        currency=str(values["currency"] or "RUB"),
        rate=Decimal(1),
        amount=values["total"],
        counterparties=(_buyer(values),),
        comment=str(values["comment"]) or None,
        items=tuple(items),
        requisites=_requisites(row),
        delivery_address=Address(str(values["delivery_address"])) if values["delivery_address"] else None,
    )
