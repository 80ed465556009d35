"""The CommerceML writer: documents 1C can read, in both encodings, written as they are produced."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from commerceml import iter_records
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
from commerceml.writer import open_writer, text_cleaner, write_counterparty

XSD_DIR = Path(__file__).resolve().parents[1] / "data" / "cml" / "cml207-dobromyslov"
XSD_210 = XSD_DIR / "commerceml-2.10.xsd"
XSD_208 = XSD_DIR / "commerceml-2.08.xsd"
NS2 = "urn:1C.ru:commerceml_2"

PIECE = ProductUnit(code="796", name="шт", full_name="Штука", intl_abbr="PCE")


def person() -> Counterparty:
    return Counterparty(
        id="site-customer-7",
        name="Пётр Петров",
        role="Покупатель",
        full_name="Пётр Петров",
        last_name="Петров",
        first_name="Пётр",
        address=Address("101000, Москва, ул. Мясницкая, 1", (("Почтовый индекс", "101000"), ("Город", "Москва"))),
        contacts=(Contact("Почта", "petr@example.com"), Contact("Телефон рабочий", "+79991234567")),
    )


def company() -> Counterparty:
    return Counterparty(
        id="5d1a0e3c-0b8d-11e4-9c2f-0015e9b8c48d",
        name="ООО «Ромашка»",
        role="Покупатель",
        official_name="ООО «Ромашка»",
        inn="7701234567",
        kpp="770101001",
        contacts=(Contact("Почта", "buy@romashka.ru"),),
    )


def order(number: str = "SH-000001", buyer: Counterparty | None = None, comment: str | None = "Позвонить") -> Document:
    return Document(
        id=number,
        number=number,
        date=dt.date(2026, 3, 1),
        time=dt.time(14, 5, 9),
        operation="Заказ товара",
        role="Продавец",
        currency="RUB",
        rate=Decimal(1),
        amount=Decimal("1350.00"),
        counterparties=(buyer or person(),),
        comment=comment,
        items=(
            DocumentItem(
                id="bd72d913#b02e2814",
                name="Ботинки (35, Бежевый)",
                quantity=Decimal("2"),
                price=Decimal("600"),
                amount=Decimal("1150"),
                unit=PIECE,
                discounts=(Discount("Скидка на товар", Decimal("50")),),
                requisites=(("ВидНоменклатуры", "Товар"), ("ТипНоменклатуры", "Товар")),
            ),
            DocumentItem(
                id=DELIVERY_ITEM_ID,
                name="Доставка заказа",
                quantity=Decimal(1),
                price=Decimal(200),
                amount=Decimal(200),
                unit=PIECE,
                requisites=(("ВидНоменклатуры", "Услуга"), ("ТипНоменклатуры", "Услуга")),
            ),
        ),
        requisites=(("Заказ оплачен", "false"), ("Статус заказа", "[new] Новый")),
        delivery_address=Address("Москва, ул. Тверская, 7"),
    )


def write(documents: list[Document], **options: object) -> bytes:
    stream = io.BytesIO()
    with open_writer(stream, **options) as writer:
        for document in documents:
            writer.write_document(document)
    return stream.getvalue()


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data.removeprefix(b"\xef\xbb\xbf"))


@pytest.mark.parametrize(("version", "xsd"), [("2.10", XSD_210), ("2.08", XSD_208)])
def test_a_2x_orders_document_validates_against_the_official_schema(version: str, xsd: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    data = write([order("1", person()), order("2", company()), order("3", comment=None)], version=version)

    root = parse(data)

    assert schema.validate(root), schema.error_log
    assert root.nsmap == {None: NS2}
    assert [element.findtext(f"{{{NS2}}}Номер") for element in root] == ["1", "2", "3"]


def test_a_company_is_written_with_its_official_name_inn_and_kpp() -> None:
    root = parse(write([order(buyer=company())], version="2.10"))

    buyer = root.find(f"{{{NS2}}}Документ/{{{NS2}}}Контрагенты/{{{NS2}}}Контрагент")
    assert buyer is not None
    values = {etree.QName(child).localname: child.text for child in buyer}
    assert values["ОфициальноеНаименование"] == "ООО «Ромашка»"
    assert (values["ИНН"], values["КПП"], values["Роль"]) == ("7701234567", "770101001", "Покупатель")
    assert "ПолноеНаименование" not in values


def test_utf8_documents_start_with_a_bom_and_1251_documents_declare_their_encoding() -> None:
    utf8 = write([order()], version="2.10")
    cp1251 = write([order()], version="2.05", encoding="windows-1251")

    assert utf8.startswith(b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>')
    assert cp1251.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    assert "Ботинки (35, Бежевый)".encode("cp1251") in cp1251
    assert parse(cp1251).findtext("Документ/Товары/Товар/Наименование") == "Ботинки (35, Бежевый)"


def test_2_05_documents_have_no_namespace_and_2_07_on_have_the_official_one() -> None:
    assert parse(write([order()], version="2.05")).nsmap == {}
    assert parse(write([order()], version="2.07")).nsmap == {None: NS2}


@pytest.mark.parametrize(
    "text",
    [
        "Tag chars \U000e0041\U000e007f end",  # libxml2's windows-1251 output drops these silently
        "Emoji 😀 and ✓ and Renée",
        "Control \x01 and \x0b chars",
    ],
)
def test_characters_windows_1251_cannot_hold_become_question_marks_never_vanish(text: str) -> None:
    data = write([order(comment=text)], version="2.10", encoding="windows-1251")

    written = parse(data).findtext(f"{{{NS2}}}Документ/{{{NS2}}}Комментарий")
    assert written is not None
    assert len(written) == len(text)  # one character out for each character in
    for sent, got in zip(text, written, strict=True):
        assert got == sent or got == "?"
    assert "?" in written


def test_utf8_keeps_every_character_xml_allows_and_replaces_the_rest() -> None:
    text = "Tag \U000e0041, emoji 😀, bell \x07"

    written = parse(write([order(comment=text)], version="2.10")).findtext(f"{{{NS2}}}Документ/{{{NS2}}}Комментарий")

    assert written == "Tag \U000e0041, emoji 😀, bell ?"


def test_the_cleaner_refuses_an_encoding_it_cannot_check() -> None:
    with pytest.raises(ValueError, match="unsupported encoding"):
        text_cleaner("koi8-r")


def test_3_1_wraps_each_order_in_its_own_container_and_names_the_unit_in_a_block() -> None:
    root = parse(write([order("1"), order("2")], version="3.1"))

    ns = "urn:1C.ru:commerceml_3"
    assert root.nsmap == {None: ns}
    containers = root.findall(f"{{{ns}}}Контейнер")
    assert [len(container.findall(f"{{{ns}}}Документ")) for container in containers] == [1, 1]
    line = containers[0].find(f"{{{ns}}}Документ/{{{ns}}}Товары/{{{ns}}}Товар")
    assert line is not None
    assert line.findtext(f"{{{ns}}}Единица/{{{ns}}}Код") == "796"
    assert line.findtext(f"{{{ns}}}Коэффициент") == "1"
    assert line.find(f"{{{ns}}}БазоваяЕдиница") is None


def test_2x_lines_carry_the_okei_code_price_quantity_sum_and_discount() -> None:
    root = parse(write([order()], version="2.10"))

    line = root.find(f"{{{NS2}}}Документ/{{{NS2}}}Товары/{{{NS2}}}Товар")
    assert line is not None
    unit = line.find(f"{{{NS2}}}БазоваяЕдиница")
    assert unit is not None
    assert (unit.get("Код"), unit.get("НаименованиеПолное"), unit.text) == ("796", "Штука", "шт")
    assert line.findtext(f"{{{NS2}}}Ид") == "bd72d913#b02e2814"
    assert line.findtext(f"{{{NS2}}}ЦенаЗаЕдиницу") == "600.00"
    assert line.findtext(f"{{{NS2}}}Количество") == "2"
    assert line.findtext(f"{{{NS2}}}Сумма") == "1150.00"
    assert line.findtext(f"{{{NS2}}}Скидки/{{{NS2}}}Скидка/{{{NS2}}}Сумма") == "50.00"


def test_documents_reach_the_stream_while_later_ones_are_still_being_written() -> None:
    stream = io.BytesIO()
    sizes = []
    with open_writer(stream, version="2.10") as writer:
        for index in range(300):
            writer.write_document(order(str(index)))
            if index % 100 == 99:
                sizes.append(stream.tell())

    assert 0 < sizes[0] < sizes[1] < sizes[2] < len(stream.getvalue())


def test_write_counterparty_makes_a_whole_file_with_one_contragent() -> None:
    stream = io.BytesIO()
    write_counterparty(stream, company(), version="3.1", generated_at=dt.datetime(2026, 3, 1, 9, 3, 19))

    root = parse(stream.getvalue())
    ns = "urn:1C.ru:commerceml_3"
    assert root.get("ДатаФормирования") == "2026-03-01T09:03:19"
    (holder,) = root
    assert etree.QName(holder).localname == "Контрагенты"
    (element,) = holder
    assert element.findtext(f"{{{ns}}}Ид") == "5d1a0e3c-0b8d-11e4-9c2f-0015e9b8c48d"
    assert element.findtext(f"{{{ns}}}ИНН") == "7701234567"


def test_an_empty_document_is_a_root_without_children() -> None:
    root = parse(write([], version="2.10"))

    assert etree.QName(root).localname == "КоммерческаяИнформация"
    assert len(root) == 0
    assert root.get("ВерсияСхемы") == "2.10"


@pytest.mark.parametrize("encoding", ["utf-8", "windows-1251"])
@pytest.mark.parametrize("version", ["2.05", "2.10", "3.1"])
def test_the_reader_reads_back_every_field_the_writer_wrote(version: str, encoding: str, tmp_path: Path) -> None:
    written = [
        dataclasses.replace(document, delivery_address=None, container_id=document.id if version == "3.1" else None)
        for document in (order("1", person()), order("2", company()), order("3", comment=None))
    ]
    path = tmp_path / "orders.xml"
    path.write_bytes(write(written, version=version, encoding=encoding))

    read = [record for record in iter_records(path) if isinstance(record, Document)]

    assert read == written


def test_the_delivery_address_travels_as_bitrix_s_requisite(tmp_path: Path) -> None:
    path = tmp_path / "orders.xml"
    path.write_bytes(write([order()], version="2.10"))

    (read,) = [record for record in iter_records(path) if isinstance(record, Document)]

    assert read.requisites[-1] == ("Адрес доставки", "Москва, ул. Тверская, 7")
