"""Orders (Документ, bare or in a 3.1 Контейнер) read from real files and from edge cases.

Values asserted for the sample files were taken by reading the files (tests/data/cml, see
PROVENANCE.md): ArgentCrusade's documents-example.xml is what 1C's module sends back (2.09),
carono's orders.xml the classic 2.03 sample, dobromyslov's query responses what Bitrix writes.
"""

from __future__ import annotations

import datetime as dt
import io
import pickle
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from commerceml import (
    CommerceMLError,
    CommerceMLSyntaxError,
    CommerceMLValueError,
    InvalidElement,
    Product,
    ProductUnit,
    ReaderLimits,
    Section,
    SectionHeader,
    iter_records,
)
from commerceml.records import Address, Contact, Counterparty, Discount, Document, DocumentItem

DATA = Path(__file__).resolve().parent.parent / "data" / "cml"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
ROOT_31 = (
    '<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_3" ВерсияСхемы="3.1" ДатаФормирования="2021-02-12T9:03:19">'
)

T = TypeVar("T")


def of_type(items: Iterable[object], kind: type[T]) -> list[T]:
    return [item for item in items if isinstance(item, kind)]


def read(source: str | Path | io.BytesIO, **options: object) -> list[object]:
    if isinstance(source, str):
        source = DATA / source
    return list(iter_records(source, **options))


def xml(body: str, *, root: str = ROOT_31) -> io.BytesIO:
    return io.BytesIO(f"{HEAD}{root}{body}</КоммерческаяИнформация>".encode())


def document_xml(doc_id: str, *parts: str) -> str:
    return f"<Документ><Ид>{doc_id}</Ид>{''.join(parts)}</Документ>"


# --- 1C -> site: the 1C-Bitrix module's answer (ArgentCrusade, 2.09) ----------------------------


def test_1c_answer_reads_header_numbers_dates_and_requisites() -> None:
    items = read("cml31-argentcrusade/documents-example.xml")

    header = items[0]
    assert header == SectionHeader(
        section=Section.DOCUMENTS,
        id=None,
        name=None,
        catalog_id=None,
        classifier_id=None,
        changes_only=False,
        changes_only_explicit=False,
        schema_version="2.09",
        generated_at="2015-06-29T18:27:13",
    )
    first, second = of_type(items, Document)
    assert len(items) == 3
    assert (first.id, first.number, first.onec_number) == ("142", "142", "ТДЦУ-000001")
    assert (first.date, first.onec_date, first.time) == (
        dt.date(2015, 6, 29),
        dt.date(2015, 6, 29),
        dt.time(15, 39, 10),
    )
    assert (first.operation, first.role, first.currency) == ("Заказ товара", "Продавец", "RUB")
    assert (first.rate, first.amount) == (Decimal("1.0000"), Decimal("8186.84"))
    assert (first.version, first.deleted) == ("AAAAEAAAAAA=", False)
    assert first.comment == "[Номер документа на сайте: 142]"
    assert second.comment == "[Номер документа на сайте: 235] "  # free text is kept verbatim
    assert first.requisites == (
        ("Проведен", "true"),
        ("Номер оплаты по 1С", "ТДЦУ-000001"),
        ("Дата оплаты по 1С", "2015-06-29T15:39:10"),
        ("Номер отгрузки по 1С", "ТДЦУ-000003"),
        ("Дата отгрузки по 1С", "2015-06-29T17:32:27"),
        ("Статуса заказа ИД", "P"),
    )
    assert (first.container_id, first.base_id, first.delivery_address) == (None, None, None)


def test_1c_answer_lines_use_cena_and_unit_elements() -> None:
    first, second = of_type(read("cml31-argentcrusade/documents-example.xml"), Document)

    fan, boots = first.items
    assert fan == DocumentItem(
        id="cbcf493f-55bc-11d9-848a-00112f43529a",
        name="Вентилятор BINATONE ALPINE 160вт, напольный ,",
        quantity=Decimal(1),
        price=Decimal(3338),  # <Цена> in this direction
        amount=Decimal(3338),
        unit=ProductUnit(code="796", name="шт", full_name="Штука"),
        requisites=(("ВидНоменклатуры", "Электротовары"), ("ТипНоменклатуры", "Товар")),
    )
    # Each <Единица><Код>…</Код>…</Единица> is read for itself, not taken from the one before.
    assert boots.unit == ProductUnit(code="715", name="пар", full_name="Пара (2 шт.)")
    assert boots.id == "bd72d913-55bc-11d9-848a-00112f43529a#b02e2814-720f-11df-b436-0015e92f2802"
    delivery = second.items[-1]
    assert (delivery.id, delivery.name, delivery.price, delivery.amount) == (
        "ORDER_DELIVERY",
        "Доставка заказа",
        Decimal(500),
        Decimal(500),
    )
    assert ("ТипНоменклатуры", "Услуга") in delivery.requisites


def test_1c_answer_counterparty_is_a_company_with_an_address() -> None:
    first = of_type(read("cml31-argentcrusade/documents-example.xml"), Document)[0]

    assert first.counterparties == (
        Counterparty(
            id="4a65ecb6-8b1b-11df-be16-e0cb4ed5f70f",
            name="Kikinda (Сербия)",
            role="Покупатель",
            official_name="Kikinda (Сербия)",
            address=Address(presentation="Адрес"),
            version="AAAAAQAAAG4=",
        ),
    )  # <ИНН/>, <КПП/>, <КодПоОКПО/> are empty: None


# --- site -> 1C: classic 2.03 sample (carono, windows-1251) and Bitrix's query answer ----------


def test_classic_order_reads_person_address_lines_and_status_requisites() -> None:
    items = read("cml207-carono/orders.xml")

    (order,) = of_type(items, Document)
    assert (order.id, order.number, order.date, order.time) == ("20", "20", dt.date(2007, 10, 16), dt.time(15, 40, 40))
    assert (order.currency, order.rate, order.amount, order.comment) == ("RUB", Decimal(1), Decimal("9683.42"), None)
    (buyer,) = order.counterparties
    assert buyer == Counterparty(
        id="1#admin#Петров Петр",
        name="Петр Петров",
        role="Покупатель",
        full_name="Петр Петров",
        last_name="Петров",
        first_name="Петр",
        address=Address(presentation="87698", fields=(("Почтовый индекс", "6546"), ("Улица", "87698"))),
    )
    delivery, combine = order.items
    assert (delivery.id, delivery.price, delivery.quantity) == ("ORDER_DELIVERY", Decimal("348.00"), Decimal(1))
    assert combine.catalog_id == "bd72d8f9-55bc-11d9-848a-00112f43529a"
    assert combine.unit == ProductUnit(code="796", name="шт", full_name="Штука", intl_abbr="PCE")
    assert (combine.price, combine.quantity, combine.amount) == (
        Decimal("9335.42"),
        Decimal("1.00"),
        Decimal("9335.42"),
    )
    assert ("Статус заказа", "[F] Доставлен") in order.requisites
    assert ("Дата изменения статуса", "2007-10-16 15:51:58") in order.requisites


def test_bitrix_query_answer_reads_every_order() -> None:
    items = read("cml207-dobromyslov/bitrix-query-response-full.xml")

    assert isinstance(items[0], SectionHeader)
    assert items[0].schema_version == "2.05"
    first, second = of_type(items, Document)
    assert (first.id, first.date, first.time, first.amount) == (
        "132",
        dt.date(2021, 2, 11),
        dt.time(18, 45, 21),
        Decimal("231.7400"),
    )
    assert first.currency == "руб"
    # Bitrix sends a guest's empty name and empty address: "" and no address, never an error.
    assert first.counterparties == (Counterparty(id="38#catalog_exchange#", name="", role="Покупатель"),)
    assert first.items[0].requisites[2:] == (
        ("НомерПозицииКорзины", "437"),
        ("СвойствоКорзины#CATALOG.XML_ID", "42475bb5-958f-40dc-a99f-9ad996a27af1"),
        ("СвойствоКорзины#PRODUCT.XML_ID", "910e89e5-205e-4d95-872a-0a0255c42f02"),
    )
    assert ("Дата изменения статуса", "11.02.2021 18:45:21") in first.requisites
    assert (second.id, second.time, len(second.items)) == ("133", dt.time(9, 11, 4), 7)
    assert second.counterparties[0].id == "5#content-manager# Контент менджер"
    assert sum((item.amount or Decimal(0) for item in second.items), Decimal(0)) == second.amount


def test_empty_query_answer_has_no_records() -> None:
    assert read("cml207-dobromyslov/bitrix-query-response-empty.xml") == []


@pytest.mark.parametrize(
    "relative",
    [
        "cml31-argentcrusade/documents-example.xml",
        "cml207-carono/orders.xml",
        "cml207-dobromyslov/bitrix-query-response-full.xml",
    ],
)
def test_document_records_are_plain_data_that_survive_pickling(relative: str) -> None:
    items = read(relative)

    assert pickle.loads(pickle.dumps(items)) == items


# --- 3.1 containers -------------------------------------------------------------------------


def test_containers_give_one_header_and_documents_with_container_and_base_ids() -> None:
    order = document_xml(
        "order-1",
        "<Номер>1</Номер><Дата>2021-02-11</Дата><ХозОперация>Заказ товара</ХозОперация>",
        "<Товары><Товар><Ид>p1</Ид><Наименование>Чайник</Наименование>",
        "<Единица><Код>796 </Код><НаименованиеКраткое>шт</НаименованиеКраткое></Единица>",
        "<Количество>2</Количество><ЦенаЗаЕдиницу>10.50</ЦенаЗаЕдиницу><Сумма>21</Сумма></Товар></Товары>",
    )
    payment = document_xml(
        "payment-1", "<ХозОперация>Выплата безналичных денег</ХозОперация><Основание>order-1</Основание>"
    )
    shipment = document_xml(
        "shipment-1", "<ХозОперация>Отпуск товара</ХозОперация><Основание><Ид>order-1</Ид></Основание>"
    )
    body = (
        f"<Контейнер>{order}{payment}{shipment}</Контейнер>"
        f"<Контейнер><Ид>box-2</Ид>{document_xml('order-2', '<Номер>2</Номер>')}</Контейнер>"
    )

    items = read(xml(body))

    assert [type(item).__name__ for item in items] == ["SectionHeader"] + ["Document"] * 4
    assert isinstance(items[0], SectionHeader)
    assert (items[0].section, items[0].schema_version, items[0].generated_at) == (
        Section.DOCUMENTS,
        "3.1",
        "2021-02-12T9:03:19",
    )
    documents = of_type(items, Document)
    assert [(d.id, d.container_id, d.base_id) for d in documents] == [
        ("order-1", "order-1", None),  # a Контейнер without Ид: its first document's Ид stands for it
        ("payment-1", "order-1", "order-1"),
        ("shipment-1", "order-1", "order-1"),
        ("order-2", "box-2", None),
    ]
    line = documents[0].items[0]
    assert (line.unit, line.price, line.quantity) == (ProductUnit("796", "шт", None), Decimal("10.50"), Decimal(2))


def test_sections_of_different_kinds_each_get_their_header() -> None:
    body = (
        document_xml("d1")
        + "<Каталог><Ид>к</Ид><Товары><Товар><Ид>t1</Ид></Товар></Товары></Каталог>"
        + document_xml("d2")
        + f"<Контейнер>{document_xml('d3')}</Контейнер>"
    )

    items = read(xml(body))

    assert [(type(i).__name__, getattr(i, "section", None) or i.id) for i in items] == [
        ("SectionHeader", Section.DOCUMENTS),
        ("Document", "d1"),
        ("SectionHeader", Section.CATALOG),
        ("Product", "t1"),
        ("SectionHeader", Section.DOCUMENTS),
        ("Document", "d2"),
        ("Document", "d3"),
    ]


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "time", "expected_date", "expected_time"),
    [
        ("2015-06-29", "15:39:10", dt.date(2015, 6, 29), dt.time(15, 39, 10)),
        ("2015-06-29T15:39:10", "9:03:19", dt.date(2015, 6, 29), dt.time(9, 3, 19)),
        ("11.02.2021", "18:45", dt.date(2021, 2, 11), dt.time(18, 45)),
        ("T", "T", None, None),  # protocol.md §4.14: 1C's empty date-time
        ("", "", None, None),
        ("0001-01-01T00:00:00", " ", None, None),  # 1C's empty date
    ],
)
def test_document_dates_and_times_in_every_spelling(
    date: str, time: str, expected_date: dt.date | None, expected_time: dt.time | None
) -> None:
    body = document_xml("d", f"<Дата>{date}</Дата><Время>{time}</Время><Дата1С>{date}</Дата1С>")

    (document,) = of_type(read(xml(body)), Document)

    assert (document.date, document.time, document.onec_date) == (expected_date, expected_time, expected_date)


def test_contacts_requisites_discounts_and_delivery_address() -> None:
    body = document_xml(
        "d",
        "<Скидки><Скидка><Наименование>Купон</Наименование><Сумма>10,5</Сумма><Процент>5</Процент>"
        "<УчтеноВСумме>false</УчтеноВСумме></Скидка></Скидки>",
        "<АдресДоставки><Представление>Москва, Тверская 1</Представление>"
        "<АдресноеПоле><Тип>Город</Тип><Значение>Москва</Значение></АдресноеПоле></АдресДоставки>",
        "<Контрагенты><Контрагент><Ид>c1</Ид><Наименование>ООО Ромашка</Наименование>"
        "<ОфициальноеНаименование>ООО «Ромашка»</ОфициальноеНаименование><ИНН> 7707083893 </ИНН><КПП>773601001</КПП>"
        "<АдресРегистрации><Представление>Адрес регистрации</Представление></АдресРегистрации>"
        "<ЮридическийАдрес><Представление>Юридический адрес</Представление></ЮридическийАдрес>"
        "<Контакты><Контакт><Тип>Почта</Тип><Значение>a@b.c</Значение></Контакт>"
        "<Контакт><Тип>Телефон рабочий</Тип><Значение/></Контакт></Контакты>"
        "<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ТипЦен</Наименование><Значение>Опт</Значение>"
        "</ЗначениеРеквизита></ЗначенияРеквизитов></Контрагент></Контрагенты>",
        "<Товары><Товар><Ид>p</Ид><Количество>1</Количество><Скидки><Скидка><Наименование>Скидка на товар"
        "</Наименование><Сумма/><УчтеноВСумме/></Скидка></Скидки></Товар></Товары>",
    )

    (document,) = of_type(read(xml(body)), Document)

    assert document.discounts == (Discount("Купон", Decimal("10.5"), included=False, percent=Decimal(5)),)
    assert document.delivery_address == Address("Москва, Тверская 1", (("Город", "Москва"),))
    (company,) = document.counterparties
    assert (company.official_name, company.inn, company.kpp) == ("ООО «Ромашка»", "7707083893", "773601001")
    assert company.address == Address("Юридический адрес")  # the legal address wins
    assert company.contacts == (Contact("Почта", "a@b.c"),)  # a contact without a value is left out
    assert company.requisites == (("ТипЦен", "Опт"),)
    assert document.items[0].discounts == ()  # Bitrix's empty placeholder discount


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "reason"),
    [
        ("<Сумма>много</Сумма>", "not a number"),
        ("<Дата>2021-13-45</Дата>", "not a date"),
        ("<Время>25:61</Время>", "not a time"),
        ("<ПометкаУдаления>да</ПометкаУдаления>", "not a boolean"),
        ("<Товары><Товар><Ид>p</Ид><Количество>x</Количество></Товар></Товары>", "not a number"),
        ("<Товары><Товар><Ид>p</Ид></Товар></Товары>", "no Количество"),
        ("<Товары><Товар><Количество>1</Количество></Товар></Товары>", "no Ид"),
    ],
)
def test_a_bad_value_makes_its_document_an_element_error_and_reading_goes_on(part: str, reason: str) -> None:
    body = document_xml("bad-1", part) + document_xml("ok-2", "<Номер>2</Номер>")

    items = read(xml(body), on_invalid="yield")

    (invalid,) = of_type(items, InvalidElement)
    assert (invalid.element, invalid.id, invalid.line) == ("Документ", "bad-1", 2)
    assert reason in invalid.reason
    assert [d.id for d in of_type(items, Document)] == ["ok-2"]
    with pytest.raises(CommerceMLValueError, match=reason) as raised:
        read(xml(body))
    assert raised.value.element_id == "bad-1"


def test_a_document_without_id_is_an_element_error() -> None:
    items = read(xml("<Документ><Номер>5</Номер></Документ>"), on_invalid="yield")

    assert [(i.element, i.id, "no Ид" in i.reason) for i in of_type(items, InvalidElement)] == [
        ("Документ", None, True)
    ]


def test_a_broken_orders_file_raises_after_the_complete_documents(tmp_path: Path) -> None:
    data = (DATA / "cml31-argentcrusade/documents-example.xml").read_bytes()
    path = tmp_path / "orders.xml"
    path.write_bytes(data[: data.index("<Ид>235</Ид>".encode()) + 20])
    seen = []

    with pytest.raises(CommerceMLSyntaxError) as raised:
        for record in iter_records(path):
            seen.append(record)

    assert raised.value.file == str(path)
    assert [d.id for d in of_type(seen, Document)] == ["142"]


def test_catalog_records_never_come_from_inside_a_document() -> None:
    body = document_xml("7", "<Товары><Товар><Ид>x</Ид><Количество>1</Количество></Товар></Товары>")

    items = read(xml(body))

    assert of_type(items, Product) == []
    assert [item.id for item in of_type(items, Document)[0].items] == ["x"]


def test_every_reader_error_on_documents_is_a_commerceml_error() -> None:
    for broken in (b"<\xd0\x9a", "<КоммерческаяИнформация><Документ><Ид>1</Ид></Документ>".encode()):
        with pytest.raises(CommerceMLError):
            read(io.BytesIO(broken))


def test_an_order_with_too_many_elements_is_an_element_error_and_the_next_is_read() -> None:
    line = "<Товар><Ид>p</Ид><Количество>1</Количество></Товар>"
    body = document_xml("huge", f"<Товары>{line * 40}</Товары>") + document_xml("ok", f"<Товары>{line}</Товары>")

    items = read(
        xml(f"<Контейнер>{body}</Контейнер>"), limits=ReaderLimits(max_record_elements=100), on_invalid="yield"
    )

    (invalid,) = of_type(items, InvalidElement)
    assert (invalid.element, invalid.id) == ("Документ", "huge")
    assert "more than 100 elements" in invalid.reason
    assert [(d.id, len(d.items)) for d in of_type(items, Document)] == [("ok", 1)]
