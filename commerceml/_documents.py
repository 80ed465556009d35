"""Builders for orders and counterparties: Документ (bare at the root, or in a 3.1 Контейнер) and
Контрагент (inside a Документ, or in a 3.1 Контрагенты file); protocol.md §5.6–5.8.

The same builders read both directions: what the site writes for ``mode=query`` (``ЦенаЗаЕдиницу``,
``БазоваяЕдиница Код="796"``) and what 1C sends back (``Цена``, ``<Единица><Код>796</Код>…``,
``Номер1С``/``Дата1С``), so the writer's output reads back field for field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from commerceml._build import (
    BuildContext,
    Element,
    base_unit_of,
    check_lengths,
    element_id,
    field_table,
    name_value_pairs,
    required_id,
    strip_or_none,
)
from commerceml.errors import CommerceMLValueError
from commerceml.records import Address, Contact, Counterparty, Discount, Document, DocumentItem
from commerceml.values import parse_bool, parse_date, parse_decimal, parse_time

# --------------------------------------------------------------------------- scalar fields
# A bad value makes the whole Документ an element error (reported with the document's Ид, as the
# importer files errors by record element); the field's name goes into the reason.


def _in_field(exc: CommerceMLValueError, element: Element, what: str) -> CommerceMLValueError:
    return CommerceMLValueError(f"{what}: {exc.reason}", line=element.sourceline)


def _decimal_or_none(text: str | None, element: Element, what: str) -> Decimal | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_decimal(text)
    except CommerceMLValueError as exc:
        raise _in_field(exc, element, what) from None


def _date(text: str | None, element: Element, what: str) -> dt.date | None:
    try:
        return parse_date(text)
    except CommerceMLValueError as exc:
        raise _in_field(exc, element, what) from None


def _bool(text: str | None, element: Element, what: str, *, default: bool = False) -> bool:
    try:
        return parse_bool(text, default=default)
    except CommerceMLValueError as exc:
        raise _in_field(exc, element, what) from None


def _free_text(text: str | None) -> str | None:
    """Free text verbatim; None when absent or blank (an empty Комментарий is no comment)."""
    if text is None or not text.strip():
        return None
    return text


# --------------------------------------------------------------------------- counterparties

_ADDRESS_ELEMENTS = ("ЮридическийАдрес", "АдресРегистрации", "Адрес")


def _address(element: Element, ctx: BuildContext) -> Address | None:
    """Представление and АдресноеПоле{Тип, Значение}; None when both are empty."""
    names = ctx.names
    presentation = None
    fields: list[tuple[str, str]] = []
    for child in element:
        local = names[child.tag]
        if local == "Представление":
            presentation = _free_text(child.text)
        elif local == "АдресноеПоле":
            kind = value = None
            for part in child:
                part_name = names[part.tag]
                if part_name == "Тип":
                    kind = part.text
                elif part_name == "Значение":
                    value = part.text
            check_lengths([kind, value, presentation], child, ctx)
            kind, value = strip_or_none(kind), _free_text(value)
            if kind is not None and value is not None:
                fields.append((kind, value))
    if presentation is None and not fields:
        return None
    return Address(presentation=presentation, fields=tuple(fields))


def _contacts(container: Element, ctx: BuildContext) -> tuple[Contact, ...]:
    """Контакты/Контакт{Тип, Значение}; contacts without a value are left out."""
    names = ctx.names
    result = []
    for contact in container:
        if names[contact.tag] != "Контакт":
            continue
        kind = value = None
        for part in contact:
            local = names[part.tag]
            if local == "Тип":
                kind = part.text
            elif local == "Значение":
                value = part.text
        check_lengths([kind, value], contact, ctx)
        value = strip_or_none(value)
        if value is not None:
            result.append(Contact(kind=strip_or_none(kind) or "", value=value))
    return tuple(result)


_C_ID, _C_NAME, _C_ROLE, _C_FULL_NAME, _C_OFFICIAL_NAME = 1, 2, 3, 4, 5
_C_LAST_NAME, _C_FIRST_NAME, _C_MIDDLE_NAME, _C_INN, _C_KPP, _C_OKPO = 6, 7, 8, 9, 10, 11
_C_DELETION_MARK, _C_VERSION = 12, 13
_C_SIMPLE = 14  # codes below are plain text fields
_C_ADDRESS, _C_CONTACTS, _C_REQUISITES = 14, 15, 16
_COUNTERPARTY_FIELDS: dict[str, int] = {
    "Ид": _C_ID,
    "Наименование": _C_NAME,
    "Роль": _C_ROLE,
    "ПолноеНаименование": _C_FULL_NAME,
    "ОфициальноеНаименование": _C_OFFICIAL_NAME,
    "Фамилия": _C_LAST_NAME,
    "Имя": _C_FIRST_NAME,
    "Отчество": _C_MIDDLE_NAME,
    "ИНН": _C_INN,
    "КПП": _C_KPP,
    "КодПоОКПО": _C_OKPO,
    "ОКПО": _C_OKPO,
    "ПометкаУдаления": _C_DELETION_MARK,
    "НомерВерсии": _C_VERSION,
    **dict.fromkeys(_ADDRESS_ELEMENTS, _C_ADDRESS),
    "Контакты": _C_CONTACTS,
    "ЗначенияРеквизитов": _C_REQUISITES,
}
_COUNTERPARTY_TABLE = field_table(_COUNTERPARTY_FIELDS)


def counterparty(element: Element, ctx: BuildContext) -> Counterparty:
    """Контрагент. РасчетныеСчета and Представители are not read (nothing on the site uses them).

    Of several addresses the legal one wins (ЮридическийАдрес, then АдресРегистрации, then Адрес);
    an empty one (``<АдресРегистрации><Представление/></…>``, Bitrix) is no address.
    """
    codes = ctx.field_codes[_COUNTERPARTY_TABLE]
    texts: list[str | None] = [None] * _C_SIMPLE
    addresses: dict[str, Address] = {}
    contacts: tuple[Contact, ...] = ()
    requisites: tuple[tuple[str, str], ...] = ()
    names = ctx.names
    for child in element:
        code = codes[child.tag]
        if code < _C_SIMPLE:
            texts[code] = child.text
        elif code == _C_ADDRESS:
            address = _address(child, ctx)
            if address is not None:
                addresses.setdefault(names[child.tag], address)
        elif code == _C_CONTACTS:
            contacts = _contacts(child, ctx)
        elif code == _C_REQUISITES:
            requisites = name_value_pairs(child, ctx)
    check_lengths(texts, element, ctx)
    address = next((addresses[name] for name in _ADDRESS_ELEMENTS if name in addresses), None)
    return Counterparty(
        id=strip_or_none(texts[_C_ID]),
        name=texts[_C_NAME] or "",
        role=strip_or_none(texts[_C_ROLE]),
        full_name=_free_text(texts[_C_FULL_NAME]),
        official_name=_free_text(texts[_C_OFFICIAL_NAME]),
        last_name=strip_or_none(texts[_C_LAST_NAME]),
        first_name=strip_or_none(texts[_C_FIRST_NAME]),
        middle_name=strip_or_none(texts[_C_MIDDLE_NAME]),
        inn=strip_or_none(texts[_C_INN]),
        kpp=strip_or_none(texts[_C_KPP]),
        okpo=strip_or_none(texts[_C_OKPO]),
        address=address,
        contacts=contacts,
        requisites=requisites,
        deleted=_bool(texts[_C_DELETION_MARK], element, "ПометкаУдаления"),
        version=strip_or_none(texts[_C_VERSION]),
    )


def counterparty_record(element: Element, ctx: BuildContext) -> Counterparty:
    """A Контрагент of a 3.1 Контрагенты file: its Ид is what the site matches it by first."""
    record = counterparty(element, ctx)
    required_id(record.id, "Контрагент")
    return record


def _counterparties(container: Element, ctx: BuildContext) -> tuple[Counterparty, ...]:
    names = ctx.names
    return tuple(counterparty(child, ctx) for child in container if names[child.tag] == "Контрагент")


# --------------------------------------------------------------------------- discounts and lines


def _discounts(container: Element, ctx: BuildContext) -> tuple[Discount, ...]:
    """Скидки/Скидка{Наименование, Сумма, Процент, УчтеноВСумме}.

    Bitrix writes a placeholder ``<Скидка><Наименование>Скидка на товар</…><Сумма/><УчтеноВСумме/>``
    for a line without a discount (protocol.md §5.6): a discount with neither sum nor percent is
    left out.
    """
    names = ctx.names
    result = []
    for discount in container:
        if names[discount.tag] != "Скидка":
            continue
        name = amount = percent = included = None
        for part in discount:
            local = names[part.tag]
            if local == "Наименование":
                name = part.text
            elif local == "Сумма":
                amount = part.text
            elif local == "Процент":
                percent = part.text
            elif local == "УчтеноВСумме":
                included = part.text
        check_lengths([name, amount, percent, included], discount, ctx)
        amount_value = _decimal_or_none(amount, discount, "Скидка")
        percent_value = _decimal_or_none(percent, discount, "Скидка")
        if amount_value is None and percent_value is None:
            continue
        result.append(
            Discount(
                name=name or "",
                amount=amount_value if amount_value is not None else Decimal(0),
                included=_bool(included, discount, "УчтеноВСумме", default=True),
                percent=percent_value,
            )
        )
    return tuple(result)


_I_ID, _I_NAME, _I_CATALOG_ID, _I_PRICE, _I_QUANTITY, _I_AMOUNT = 1, 2, 3, 4, 5, 6
_I_SIMPLE = 7  # codes below are plain text fields
_I_UNIT, _I_DISCOUNTS, _I_REQUISITES = 7, 8, 9
_ITEM_FIELDS: dict[str, int] = {
    "Ид": _I_ID,
    "Наименование": _I_NAME,
    "ИдКаталога": _I_CATALOG_ID,
    "ЦенаЗаЕдиницу": _I_PRICE,  # site -> 1C (protocol.md §5.6)
    "Цена": _I_PRICE,  # 1C -> site (protocol.md §5.7)
    "Количество": _I_QUANTITY,
    "Сумма": _I_AMOUNT,
    "БазоваяЕдиница": _I_UNIT,  # <= 2.05: Код as an attribute
    "Единица": _I_UNIT,  # 2.10+ and 1C's answers: Код as a child element
    "Скидки": _I_DISCOUNTS,
    "ЗначенияРеквизитов": _I_REQUISITES,
}
_ITEM_TABLE = field_table(_ITEM_FIELDS)


def _item(element: Element, ctx: BuildContext) -> DocumentItem:
    codes = ctx.field_codes[_ITEM_TABLE]
    texts: list[str | None] = [None] * _I_SIMPLE
    unit = None
    discounts: tuple[Discount, ...] = ()
    requisites: tuple[tuple[str, str], ...] = ()
    for child in element:
        code = codes[child.tag]
        if code < _I_SIMPLE:
            texts[code] = child.text
        elif code == _I_UNIT:
            unit = base_unit_of(child, ctx) or unit
        elif code == _I_DISCOUNTS:
            discounts = _discounts(child, ctx)
        elif code == _I_REQUISITES:
            requisites = name_value_pairs(child, ctx)
    check_lengths(texts, element, ctx)
    item_id = strip_or_none(texts[_I_ID])
    if item_id is None:
        raise CommerceMLValueError("Товар of a Документ has no Ид", line=element.sourceline)
    quantity = _decimal_or_none(texts[_I_QUANTITY], element, "Количество")
    if quantity is None:
        raise CommerceMLValueError(f"Товар Ид={item_id} has no Количество", line=element.sourceline)
    return DocumentItem(
        id=item_id,
        name=texts[_I_NAME] or "",
        quantity=quantity,
        price=_decimal_or_none(texts[_I_PRICE], element, "Цена"),
        amount=_decimal_or_none(texts[_I_AMOUNT], element, "Сумма"),
        unit=unit,
        catalog_id=strip_or_none(texts[_I_CATALOG_ID]),
        discounts=discounts,
        requisites=requisites,
    )


def _items(container: Element, ctx: BuildContext) -> tuple[DocumentItem, ...]:
    names = ctx.names
    return tuple(_item(child, ctx) for child in container if names[child.tag] == "Товар")


# --------------------------------------------------------------------------- documents

_D_ID, _D_NUMBER, _D_DATE, _D_TIME, _D_OPERATION, _D_ROLE, _D_CURRENCY = 1, 2, 3, 4, 5, 6, 7
_D_RATE, _D_AMOUNT, _D_COMMENT, _D_ONEC_NUMBER, _D_ONEC_DATE, _D_DELETION_MARK, _D_VERSION = (
    8,
    9,
    10,
    11,
    12,
    13,
    14,
)
_D_SIMPLE = 15  # codes below are plain text fields
_D_COUNTERPARTIES, _D_ITEMS, _D_REQUISITES, _D_DISCOUNTS, _D_DELIVERY_ADDRESS, _D_BASE = 15, 16, 17, 18, 19, 20
_DOCUMENT_FIELDS: dict[str, int] = {
    "Ид": _D_ID,
    "Номер": _D_NUMBER,
    "Дата": _D_DATE,
    "Время": _D_TIME,
    "ХозОперация": _D_OPERATION,
    "Роль": _D_ROLE,
    "Валюта": _D_CURRENCY,
    "Курс": _D_RATE,
    "Сумма": _D_AMOUNT,
    "Комментарий": _D_COMMENT,
    "Номер1С": _D_ONEC_NUMBER,
    "Дата1С": _D_ONEC_DATE,
    "ПометкаУдаления": _D_DELETION_MARK,
    "НомерВерсии": _D_VERSION,
    "Контрагенты": _D_COUNTERPARTIES,
    "Товары": _D_ITEMS,
    "ЗначенияРеквизитов": _D_REQUISITES,
    "Скидки": _D_DISCOUNTS,
    "АдресДоставки": _D_DELIVERY_ADDRESS,
    "Основание": _D_BASE,
}
_DOCUMENT_TABLE = field_table(_DOCUMENT_FIELDS)


def _base_id(element: Element, ctx: BuildContext) -> str | None:
    """Основание: the order's Ид as text, or as an Ид child (``<Основание><Ид>…</Ид>…``)."""
    if len(element):
        return element_id(element, ctx.names)
    return strip_or_none(element.text)


def _document(element: Element, ctx: BuildContext, container_id: str | None) -> Document:
    codes = ctx.field_codes[_DOCUMENT_TABLE]
    texts: list[str | None] = [None] * _D_SIMPLE
    parts: dict[int, Any] = {}
    for child in element:
        code = codes[child.tag]
        if code < _D_SIMPLE:
            texts[code] = child.text
        elif code == _D_COUNTERPARTIES:
            parts[code] = parts.get(code, ()) + _counterparties(child, ctx)
        elif code == _D_ITEMS:
            parts[code] = parts.get(code, ()) + _items(child, ctx)
        elif code == _D_REQUISITES:
            parts[code] = name_value_pairs(child, ctx)
        elif code == _D_DISCOUNTS:
            parts[code] = _discounts(child, ctx)
        elif code == _D_DELIVERY_ADDRESS:
            parts[code] = _address(child, ctx)
        elif code == _D_BASE:
            parts[code] = _base_id(child, ctx)
    check_lengths(texts, element, ctx)
    return Document(
        id=required_id(strip_or_none(texts[_D_ID]), "Документ"),
        number=strip_or_none(texts[_D_NUMBER]),
        date=_date(texts[_D_DATE], element, "Дата"),
        time=_time(texts[_D_TIME], element),
        operation=strip_or_none(texts[_D_OPERATION]),
        role=strip_or_none(texts[_D_ROLE]),
        currency=strip_or_none(texts[_D_CURRENCY]),
        rate=_decimal_or_none(texts[_D_RATE], element, "Курс"),
        amount=_decimal_or_none(texts[_D_AMOUNT], element, "Сумма"),
        counterparties=parts.get(_D_COUNTERPARTIES, ()),
        comment=_free_text(texts[_D_COMMENT]),
        items=parts.get(_D_ITEMS, ()),
        requisites=parts.get(_D_REQUISITES, ()),
        discounts=parts.get(_D_DISCOUNTS, ()),
        delivery_address=parts.get(_D_DELIVERY_ADDRESS),
        onec_number=strip_or_none(texts[_D_ONEC_NUMBER]),
        onec_date=_date(texts[_D_ONEC_DATE], element, "Дата1С"),
        deleted=_bool(texts[_D_DELETION_MARK], element, "ПометкаУдаления"),
        version=strip_or_none(texts[_D_VERSION]),
        container_id=container_id,
        base_id=parts.get(_D_BASE),
    )


def _time(text: str | None, element: Element) -> dt.time | None:
    try:
        return parse_time(text)
    except CommerceMLValueError as exc:
        raise _in_field(exc, element, "Время") from None


def document(element: Element, ctx: BuildContext) -> Document:
    """A Документ at the root of the file (2.x)."""
    return _document(element, ctx, None)


def container_document(element: Element, ctx: BuildContext) -> Document:
    """A Документ inside a 3.1 Контейнер, with the container's Ид.

    When the Контейнер carries no Ид of its own, the Ид of its first Документ (the order, which
    Bitrix writes first, protocol.md §5.6) stands for it, so the documents of one container
    share ``container_id``.
    """
    container_id = ctx.section_fields.get("Ид")
    if container_id is None:
        container_id = element_id(element, ctx.names)
        if container_id:
            ctx.section_fields["Ид"] = container_id
    return _document(element, ctx, container_id or None)


DOCUMENT_BUILDERS: dict[str, Any] = {"Документ": document}
CONTAINER_BUILDERS: dict[str, Any] = {"Документ": container_document}
COUNTERPARTY_BUILDERS: dict[str, Any] = {"Контрагент": counterparty_record}
