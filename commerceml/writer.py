"""Incremental CommerceML writer: records in, a document streamed out.

``open_writer(stream, version=..., encoding=...)`` writes the root element and yields a
``CommerceMLWriter``; each ``write_document``/``write_counterparty`` call builds one small element
tree (one Документ with its lines, one Контрагент) and hands it to lxml's ``etree.xmlfile``, which
writes it out at once. So memory holds one order at a time, never the document.

Schema differences come from ``commerceml.versions``: the namespace (none for 2.03–2.05,
``urn:1C.ru:commerceml_2`` for 2.07–2.10, ``commerceml_3`` for 3.1), ``Контейнер`` around each 3.1
order, and how a line names its unit. 2.x documents follow the element order of XSD 2.10
(protocol.md §5.6); tests validate them against it.

Encodings (protocol.md §3.2): UTF-8 with a BOM by default (1C fails on UTF-8 without one), or
windows-1251. Text is cleaned before lxml sees it: characters XML cannot carry, and in
windows-1251 characters the code page lacks, become ``?`` — libxml2's windows-1251 output would
turn most of the latter into character references but silently drop some (the Unicode Tags block
U+E0000–E007F), so none of them is left to it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import IO, Any

from lxml import etree

from commerceml import versions
from commerceml.records import Address, Counterparty, Discount, Document, DocumentItem, ProductUnit
from commerceml.values import format_bool, format_decimal

_SubElement = etree.SubElement

UTF8 = "utf-8"
WINDOWS_1251 = "windows-1251"
ENCODINGS = (UTF8, WINDOWS_1251)
UTF8_BOM = b"\xef\xbb\xbf"
REPLACEMENT = "?"

# Characters XML 1.0 does not allow at all (controls other than tab/CR/LF, lone surrogates,
# U+FFFE/U+FFFF): lxml refuses them, so they are replaced like unencodable ones.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Money has two places (СуммаТип: fractionDigits 2); quantities keep what the site stores.
MONEY_PLACES = 2
QUANTITY_PLACES = 3


# Short texts repeat endlessly in an orders document (requisite names, units, "false", product
# names): their cleaned form is remembered, up to this many, which halved the cleaning cost in
# ``make bench`` (orders).
_MEMO_LIMIT = 20_000
_MEMO_MAX_LENGTH = 80


def text_cleaner(encoding: str) -> Callable[[str], str]:
    """A function that makes any text writable in ``encoding``, replacing visibly what is not."""
    clean = _text_cleaner(encoding)
    memo: dict[str, str] = {}

    def remembered(text: str) -> str:
        known = memo.get(text)
        if known is not None:
            return known
        result = clean(text)
        if len(text) <= _MEMO_MAX_LENGTH and len(memo) < _MEMO_LIMIT:
            memo[text] = result
        return result

    return remembered


def _text_cleaner(encoding: str) -> Callable[[str], str]:
    if encoding == UTF8:

        def clean_utf8(text: str) -> str:
            if _NOT_XML.search(text) is None:
                return text
            return _NOT_XML.sub(REPLACEMENT, text)

        return clean_utf8
    if encoding == WINDOWS_1251:

        def clean_1251(text: str) -> str:
            if text.isascii() and text.isprintable():
                return text
            try:
                text.encode("cp1251")
            except UnicodeEncodeError:
                text = text.encode("cp1251", errors="replace").decode("cp1251")
            return _NOT_XML.sub(REPLACEMENT, text)

        return clean_1251
    raise ValueError(f"unsupported encoding {encoding!r}; one of {ENCODINGS}")


def _declaration(encoding: str) -> bytes:
    name = "UTF-8" if encoding == UTF8 else encoding
    return f'<?xml version="1.0" encoding="{name}"?>\n'.encode("ascii")


def _format_date(value: dt.date) -> str:
    return value.strftime("%Y-%m-%d")


def _format_time(value: dt.time) -> str:
    return value.strftime("%H:%M:%S")


def _format_quantity(value: Decimal) -> str:
    if value == value.to_integral_value():
        return format_decimal(value, 0)
    return format(value.normalize(), "f")


class CommerceMLWriter:
    """Writes records into an open КоммерческаяИнформация. Get one from ``open_writer``."""

    def __init__(self, xf: Any, *, version: str, clean: Callable[[str], str]) -> None:
        self._xf = xf
        self.version = version
        self._clean = clean
        self._containers = versions.orders_in_containers(version)
        self._unit_block = versions.line_unit_as_block(version)
        self._counterparties_open: AbstractContextManager[Any] | None = None
        self._units: dict[ProductUnit, tuple[dict[str, str], str | None]] = {}
        self.documents_written = 0

    # --- small builders -------------------------------------------------------------------

    def _sub(self, parent: etree._Element, tag: str, text: str | None) -> None:
        if text is not None:
            _SubElement(parent, tag).text = self._clean(text)

    def _requisites(self, parent: etree._Element, tag: str, requisites: tuple[tuple[str, str], ...]) -> None:
        if not requisites:
            return
        holder = _SubElement(parent, tag)
        clean = self._clean
        for name, value in requisites:
            requisite = _SubElement(holder, "ЗначениеРеквизита")
            _SubElement(requisite, "Наименование").text = clean(name)
            _SubElement(requisite, "Значение").text = clean(value)

    def _address(self, parent: etree._Element, tag: str, address: Address | None) -> None:
        if address is None:
            return
        element = etree.SubElement(parent, tag)
        # Представление is required by the XSD (Адрес); an address of fields only repeats them.
        presentation = address.presentation
        if presentation is None:
            presentation = ", ".join(value for _, value in address.fields)
        self._sub(element, "Представление", presentation)
        for kind, value in address.fields:
            field = etree.SubElement(element, "АдресноеПоле")
            self._sub(field, "Тип", kind)
            self._sub(field, "Значение", value)

    def _discounts(self, parent: etree._Element, discounts: tuple[Discount, ...]) -> None:
        if not discounts:
            return
        holder = etree.SubElement(parent, "Скидки")
        for discount in discounts:
            element = etree.SubElement(holder, "Скидка")
            self._sub(element, "Наименование", discount.name)
            self._sub(element, "Сумма", format_decimal(discount.amount, MONEY_PLACES))
            if discount.percent is not None:
                self._sub(element, "Процент", format(discount.percent.normalize(), "f"))
            self._sub(element, "УчтеноВСумме", format_bool(discount.included))

    def _base_unit(self, parent: etree._Element, unit: ProductUnit | None) -> None:
        # Required in a 2.x document line (XSD Товар/БазоваяЕдиница); an empty one says "unknown".
        if unit is None:
            _SubElement(parent, "БазоваяЕдиница")
            return
        known = self._units.get(unit)
        if known is None:
            attributes = {
                attribute: self._clean(value)
                for attribute, value in (
                    ("Код", unit.code),
                    ("НаименованиеПолное", unit.full_name),
                    ("МеждународноеСокращение", unit.intl_abbr),
                )
                if value
            }
            known = self._units[unit] = (attributes, self._clean(unit.name) if unit.name else None)
        _SubElement(parent, "БазоваяЕдиница", known[0]).text = known[1]

    def _unit_block_elements(self, parent: etree._Element, unit: ProductUnit | None) -> None:
        if unit is None:
            return
        element = etree.SubElement(parent, "Единица")
        self._sub(element, "Ид", unit.code)
        self._sub(element, "НаименованиеКраткое", unit.name)
        self._sub(element, "Код", unit.code)
        self._sub(element, "НаименованиеПолное", unit.full_name)
        self._sub(element, "МеждународноеСокращение", unit.intl_abbr)
        self._sub(parent, "Коэффициент", "1")

    def _counterparty(self, parent: etree._Element, counterparty: Counterparty, *, in_document: bool) -> None:
        element = etree.SubElement(parent, "Контрагент")
        sub = self._sub
        sub(element, "Ид", counterparty.id)
        if counterparty.version is not None:
            sub(element, "НомерВерсии", counterparty.version)
        if counterparty.deleted:
            sub(element, "ПометкаУдаления", format_bool(True))
        sub(element, "Наименование", counterparty.name)
        if counterparty.official_name is not None:
            # A company: the РеквизитыЮрЛица group of the XSD.
            sub(element, "ОфициальноеНаименование", counterparty.official_name)
            self._address(element, "ЮридическийАдрес", counterparty.address)
            sub(element, "ИНН", counterparty.inn)
            sub(element, "КПП", counterparty.kpp)
            sub(element, "ОКПО", counterparty.okpo)
        else:
            # A person: РеквизитыФизЛица, whose ПолноеНаименование is required.
            sub(element, "ПолноеНаименование", counterparty.full_name or counterparty.name)
            sub(element, "Фамилия", counterparty.last_name)
            sub(element, "Имя", counterparty.first_name)
            sub(element, "Отчество", counterparty.middle_name)
            sub(element, "ИНН", counterparty.inn)
            sub(element, "КПП", counterparty.kpp)
            self._address(element, "АдресРегистрации", counterparty.address)
        if counterparty.contacts:
            contacts = etree.SubElement(element, "Контакты")
            for contact in counterparty.contacts:
                item = etree.SubElement(contacts, "Контакт")
                sub(item, "Тип", contact.kind)
                sub(item, "Значение", contact.value)
        if in_document:
            # Inside a Документ the role follows the base type's elements (XSD extension).
            sub(element, "Роль", counterparty.role or "Покупатель")
        else:
            sub(element, "Роль", counterparty.role)
        self._requisites(element, "ЗначенияРеквизитов", counterparty.requisites)

    def _item(self, parent: etree._Element, item: DocumentItem) -> None:
        # The innermost loop of an orders document: plain SubElement calls, no helper per field.
        element = _SubElement(parent, "Товар")
        clean = self._clean
        _SubElement(element, "Ид").text = clean(item.id)
        _SubElement(element, "Наименование").text = clean(item.name)
        if not self._unit_block:
            self._base_unit(element, item.unit)
        if item.requisites:
            self._requisites(element, "ЗначенияРеквизитов", item.requisites)
        if item.catalog_id is not None:
            _SubElement(element, "ИдКаталога").text = clean(item.catalog_id)
        if self._unit_block:
            self._unit_block_elements(element, item.unit)
        # Numbers are ASCII digits and a dot: nothing to clean.
        if item.price is not None:
            _SubElement(element, "ЦенаЗаЕдиницу").text = format_decimal(item.price, MONEY_PLACES)
        _SubElement(element, "Количество").text = _format_quantity(item.quantity)
        if item.amount is not None:
            _SubElement(element, "Сумма").text = format_decimal(item.amount, MONEY_PLACES)
        if item.discounts:
            self._discounts(element, item.discounts)

    def _document_element(self, document: Document) -> etree._Element:
        element = etree.Element("Документ")
        sub = self._sub
        # XSD 2.10 order: Ид, Номер, Дата, ХозОперация, Роль, Валюта, Курс, Сумма, Контрагенты,
        # Время, СрокПлатежа, Комментарий, Налоги, Скидки, ДопРасходы, Склады, Товары,
        # ЗначенияРеквизитов. What 1C adds in its own documents (НомерВерсии, ПометкаУдаления,
        # Номер1С, Дата1С, Основание; protocol.md §5.7) is written only when set, never by the
        # site's order export.
        sub(element, "Ид", document.id)
        sub(element, "НомерВерсии", document.version)
        if document.deleted:
            sub(element, "ПометкаУдаления", format_bool(True))
        sub(element, "Номер", document.number)
        sub(element, "Номер1С", document.onec_number)
        sub(element, "Дата", _format_date(document.date) if document.date else None)
        sub(element, "Дата1С", _format_date(document.onec_date) if document.onec_date else None)
        sub(element, "ХозОперация", document.operation)
        sub(element, "Роль", document.role)
        sub(element, "Валюта", document.currency)
        sub(element, "Курс", format(document.rate.normalize(), "f") if document.rate is not None else None)
        sub(element, "Сумма", format_decimal(document.amount, MONEY_PLACES) if document.amount is not None else None)
        sub(element, "Основание", document.base_id)
        counterparties = etree.SubElement(element, "Контрагенты")
        for counterparty in document.counterparties:
            self._counterparty(counterparties, counterparty, in_document=True)
        sub(element, "Время", _format_time(document.time) if document.time else None)
        sub(element, "Комментарий", document.comment)
        self._discounts(element, document.discounts)
        if document.items:
            items = etree.SubElement(element, "Товары")
            for item in document.items:
                self._item(items, item)
        requisites = document.requisites
        if document.delivery_address is not None:
            # No АдресДоставки in the 2.x XSD: the address travels as Bitrix's requisite.
            presentation = document.delivery_address.presentation or ", ".join(
                value for _, value in document.delivery_address.fields
            )
            requisites = (*requisites, (DELIVERY_ADDRESS_REQUISITE, presentation))
        self._requisites(element, "ЗначенияРеквизитов", requisites)
        return element

    # --- public ---------------------------------------------------------------------------

    def write_document(self, document: Document) -> None:
        """One Документ (in its own Контейнер for 3.1), written out before this returns."""
        self._close_counterparties()
        element = self._document_element(document)
        if self._containers:
            container = etree.Element("Контейнер")
            self._sub(container, "Ид", document.container_id)
            container.append(element)
            element = container
        self._xf.write(element)
        self.documents_written += 1

    def write_counterparty(self, counterparty: Counterparty) -> None:
        """One Контрагент inside a root-level Контрагенты (the 3.1 contragents___ file shape)."""
        if self._counterparties_open is None:
            self._counterparties_open = self._xf.element("Контрагенты")
            self._counterparties_open.__enter__()
        element = etree.Element("Контрагенты")
        self._counterparty(element, counterparty, in_document=False)
        self._xf.write(element[0])

    def _close_counterparties(self) -> None:
        if self._counterparties_open is not None:
            self._counterparties_open.__exit__(None, None, None)
            self._counterparties_open = None

    def flush(self) -> None:
        self._xf.flush()


DELIVERY_ADDRESS_REQUISITE = "Адрес доставки"


@contextmanager
def open_writer(
    stream: IO[bytes],
    *,
    version: str,
    encoding: str = UTF8,
    bom: bool | None = None,
    generated_at: dt.datetime | None = None,
) -> Iterator[CommerceMLWriter]:
    """Write ``<?xml …?><КоммерческаяИнформация …>``, yield a writer, close the root on exit.

    ``bom`` defaults to True for UTF-8 (what 1C needs, protocol.md §3.2) and is never written for
    windows-1251. ``generated_at`` is ДатаФормирования (local time, no zone, as 1C writes it).
    """
    clean = text_cleaner(encoding)  # also rejects an unknown encoding before anything is written
    if bom is None:
        bom = encoding == UTF8
    if bom and encoding == UTF8:
        stream.write(UTF8_BOM)
    stream.write(_declaration(encoding))
    formed = (generated_at or dt.datetime.now()).strftime("%Y-%m-%dT%H:%M:%S")
    namespace = versions.write_namespace(version)
    nsmap = {None: namespace} if namespace else None
    # Child elements are built without a namespace and serialised inside this root, so they
    # inherit its default namespace in the output; tests validate the result against XSD 2.10.
    root_tag = f"{{{namespace}}}{versions.ROOT}" if namespace else versions.ROOT
    attributes = {"ВерсияСхемы": version, "ДатаФормирования": formed}
    with etree.xmlfile(stream, encoding=encoding) as xf, xf.element(root_tag, nsmap=nsmap, attrib=attributes):
        writer = CommerceMLWriter(xf, version=version, clean=clean)
        yield writer
        writer._close_counterparties()
    stream.write(b"\n")


def write_counterparty(
    stream: IO[bytes],
    counterparty: Counterparty,
    *,
    version: str,
    encoding: str = UTF8,
    generated_at: dt.datetime | None = None,
) -> None:
    """A whole КоммерческаяИнформация with one Контрагент (what the customer sync sends 1C)."""
    with open_writer(stream, version=version, encoding=encoding, generated_at=generated_at) as writer:
        writer.write_counterparty(counterparty)
