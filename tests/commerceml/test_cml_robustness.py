"""Encodings, namespaces, old-format quirks, broken and hostile files."""

from __future__ import annotations

import io
import resource
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from commerceml import (
    CommerceMLError,
    CommerceMLLimitError,
    CommerceMLSyntaxError,
    CommerceMLUnsafeXMLError,
    CommerceMLValueError,
    Group,
    InvalidElement,
    Offer,
    OfferStock,
    Product,
    ProductUnit,
    Property,
    PropertyOption,
    ReaderLimits,
    Section,
    SectionHeader,
    ValueType,
    iter_records,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "cml"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
ROOT = '<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.10">'


def xml(body: str, *, head: str = HEAD, root: str = ROOT) -> io.BytesIO:
    return io.BytesIO(f"{head}{root}{body}</КоммерческаяИнформация>".encode())


def offers_file(*offers: str) -> io.BytesIO:
    return xml(f"<ПакетПредложений><Ид>c#</Ид><Предложения>{''.join(offers)}</Предложения></ПакетПредложений>")


T = TypeVar("T")


def of_type(items: Iterable[object], kind: type[T]) -> list[T]:
    return [item for item in items if isinstance(item, kind)]


# --- encodings and namespaces -------------------------------------------------------------------


def test_windows_1251_catalog_without_namespace() -> None:
    items = list(iter_records(DATA / "edge/import-cp1251-no-namespace.xml"))

    product = of_type(items, Product)[0]
    assert product.name == "Кастрюля «Бабушкина» 2,5 л"
    assert product.article == "КС-20"  # identifiers are trimmed, free text is not
    assert product.description == "Эмалированная, с крышкой <b>новинка</b>"
    assert product.unit == ProductUnit(code="796", name="шт", full_name="Штука", intl_abbr="PCE")
    assert product.images == ("import_files/00/00000000123_1.jpg",)
    assert product.country == "РОССИЯ"
    assert of_type(items, Group)[1] == Group(id="гр-2", name="Кастрюли & сковороды", parent_id="гр-1")


def test_windows_1251_offers_with_comma_and_space_decimals() -> None:
    offer = of_type(list(iter_records(DATA / "edge/offers-cp1251-no-namespace.xml")), Offer)[0]

    assert offer.prices[0].value == Decimal("1719.50")
    assert offer.prices[0].currency == "руб"
    assert offer.quantity == Decimal("10.5")
    assert offer.stocks == (OfferStock("склад-1", Decimal("10.5")),)


@pytest.mark.parametrize(
    ("namespace", "bom", "encoding"),
    [
        ("", False, "utf-8"),
        ("urn:1C.ru:commerceml_2", True, "utf-8"),
        ("urn:1C.ru:commerceml_210", False, "utf-8"),
        ("urn:1C.ru:commerceml_3", True, "utf-8"),
        ("", False, "windows-1251"),
        ("urn:1C.ru:commerceml_2", False, "windows-1251"),
    ],
)
def test_same_content_reads_the_same_in_any_namespace_and_encoding(namespace: str, bom: bool, encoding: str) -> None:
    declared = "UTF-8" if encoding == "utf-8" else encoding
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    text = (
        f'<?xml version="1.0" encoding="{declared}"?>\n<КоммерческаяИнформация{xmlns} ВерсияСхемы="2.08">'
        "<Каталог><Ид>к</Ид><Товары><Товар><Ид>т-1</Ид><Наименование>Чайник «Ёж»</Наименование>"
        '<БазоваяЕдиница Код="796">шт</БазоваяЕдиница></Товар></Товары></Каталог></КоммерческаяИнформация>'
    )
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)

    product = of_type(list(iter_records(io.BytesIO(data))), Product)[0]

    assert (product.id, product.name, product.unit) == ("т-1", "Чайник «Ёж»", ProductUnit("796", "шт", None))


# --- old-format quirks --------------------------------------------------------------------------


def test_changes_only_flag_as_a_child_element() -> None:
    headers = of_type(list(iter_records(DATA / "edge/import-cp1251-no-namespace.xml")), SectionHeader)

    catalog = headers[1]
    assert catalog.section == Section.CATALOG
    assert (catalog.changes_only, catalog.changes_only_explicit) == (True, True)


def test_changes_only_defaults_false_for_a_catalog_without_the_flag() -> None:
    items = list(iter_records(xml("<Каталог><Ид>к</Ид><Товары/></Каталог>")))

    assert items == [
        SectionHeader(
            section=Section.CATALOG,
            id="к",
            name=None,
            catalog_id="к",
            classifier_id=None,
            changes_only=False,
            changes_only_explicit=False,
            schema_version="2.10",
            generated_at=None,
        )
    ]


def test_offer_changes_package_is_changes_only_and_reads_sklady_attributes() -> None:
    items = list(iter_records(DATA / "edge/offer-changes.xml"))

    header = items[0]
    assert isinstance(header, SectionHeader)
    assert header.section == Section.OFFER_CHANGES
    assert (header.changes_only, header.changes_only_explicit) == (True, False)
    first, second = of_type(items, Offer)
    assert first.id == "bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1#90c55447-d3a8-11e4-9423-e0cb4ed5eed4"
    assert first.variant_id == "90c55447-d3a8-11e4-9423-e0cb4ed5eed4"
    assert first.stocks == (
        OfferStock("6abdb0b5-18fd-11e7-80c2-0cc47ab29cd1", Decimal(3)),
        OfferStock("dd306af1-19c9-11e7-80c2-0cc47ab29cd1", Decimal("0.5")),
    )
    assert (first.quantity, first.has_stock, first.has_prices) == (Decimal("3.5"), True, False)
    assert (second.has_prices, second.has_stock, second.prices[0].value) == (True, False, Decimal(0))


def test_status_element_and_deletion_mark_both_delete() -> None:
    products = of_type(list(iter_records(DATA / "edge/import-cp1251-no-namespace.xml")), Product)

    assert [(p.id, p.deleted) for p in products] == [
        ("00000000123", False),
        ("00000000124", True),  # <Статус>Удален</Статус>
        ("00000000125", True),  # <ПометкаУдаления>TRUE</ПометкаУдаления>
    ]


def test_deleted_groups_and_properties() -> None:
    groups = of_type(list(iter_records(DATA / "edge/import-cp1251-no-namespace.xml")), Group)

    assert [g.id for g in groups if g.deleted] == ["гр-3"]


def test_rests_total_without_a_warehouse() -> None:
    offers = of_type(list(iter_records(DATA / "edge/rests-totals.xml")), Offer)

    assert (offers[0].quantity, offers[0].stocks, offers[0].has_stock) == (Decimal(12), (), True)
    # An empty Остатки still says "this file carried stock": not the same as no Остатки at all.
    assert (offers[1].quantity, offers[1].stocks, offers[1].has_stock) == (None, (), True)


def test_offer_without_prices_element_is_not_an_offer_with_no_prices() -> None:
    without, empty = of_type(
        list(
            iter_records(
                offers_file(
                    "<Предложение><Ид>a</Ид><Наименование>A</Наименование></Предложение>",
                    "<Предложение><Ид>b</Ид><Цены/></Предложение>",
                )
            )
        ),
        Offer,
    )

    assert (without.has_prices, without.prices) == (False, ())
    assert (empty.has_prices, empty.prices) == (True, ())


# --- errors with file, line and Ид ----------------------------------------------------------------


def test_bad_number_raises_with_file_line_element_and_id(tmp_path: Path) -> None:
    path = tmp_path / "offers.xml"
    path.write_bytes(
        offers_file(
            "<Предложение><Ид>ok</Ид><Цены><Цена><ИдТипаЦены>p</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу></Цена></Цены></Предложение>",
            "\n<Предложение><Ид>bad-1</Ид><Цены>\n<Цена><ИдТипаЦены>p</ИдТипаЦены><ЦенаЗаЕдиницу>12 руб</ЦенаЗаЕдиницу></Цена>"
            "</Цены></Предложение>",
        ).getvalue()
    )
    seen = []

    with pytest.raises(CommerceMLValueError) as raised:
        for record in iter_records(path):
            seen.append(record)

    error = raised.value
    assert (error.file, error.line, error.element_id) == (str(path), 4, "bad-1")
    assert "12 руб" in error.reason
    assert str(error).startswith(f"{path}:4: ")
    assert [r.id for r in of_type(seen, Offer)] == ["ok"]  # what came before was yielded


def test_invalid_elements_can_be_yielded_and_reading_goes_on() -> None:
    items = list(
        iter_records(
            offers_file(
                "<Предложение><Ид>bad</Ид><Количество>много</Количество></Предложение>",
                "<Предложение><Наименование>no id</Наименование></Предложение>",
                "<Предложение><Ид>good</Ид><Количество>1</Количество></Предложение>",
            ),
            on_invalid="yield",
        )
    )

    invalid = of_type(items, InvalidElement)
    assert [(i.element, i.id) for i in invalid] == [("Предложение", "bad"), ("Предложение", None)]
    assert "много" in invalid[0].reason
    assert "no Ид" in invalid[1].reason
    assert invalid[0].file is None
    assert invalid[0].line == 2
    assert [o.id for o in of_type(items, Offer)] == ["good"]


def test_invalid_groups_and_properties_are_reported_too() -> None:
    body = (
        "<Классификатор><Ид>к</Ид><Группы><Группа><Наименование>без Ид</Наименование>"
        "<Группы><Группа><Ид>child</Ид><Наименование>Дочерняя</Наименование></Группа></Группы></Группа>"
        "<Группа><Ид>ok</Ид><Наименование>Хорошая</Наименование></Группа></Группы>"
        "<Свойства><Свойство><Ид>p</Ид><ВариантыЗначений><Справочник><Значение>x</Значение></Справочник>"
        "</ВариантыЗначений></Свойство></Свойства></Классификатор>"
    )

    items = list(iter_records(xml(body), on_invalid="yield"))

    invalid = of_type(items, InvalidElement)
    assert [(i.element, i.id) for i in invalid] == [("Группа", None), ("Свойство", "p")]
    assert "ИдЗначения" in invalid[1].reason
    # A child of a group that could not be read is still read, as a root.
    assert of_type(items, Group) == [Group("child", "Дочерняя", None), Group("ok", "Хорошая", None)]


def test_empty_reference_options_are_skipped_and_the_property_kept() -> None:
    """1C 2.09 exports write empty options into Справочник properties (issue 11, item 16)."""
    body = (
        "<Классификатор><Ид>к</Ид><Свойства><Свойство><Ид>color</Ид><Наименование>Цвет</Наименование>"
        "<ТипЗначений>Справочник</ТипЗначений><ВариантыЗначений>"
        "<Справочник><ИдЗначения/><Значение/></Справочник>"
        "<Справочник><ИдЗначения>red</ИдЗначения><Значение>Красный</Значение></Справочник>"
        "<Справочник><ИдЗначения> </ИдЗначения><Значение> </Значение></Справочник>"
        "<Справочник><ИдЗначения>blue</ИдЗначения><Значение>Синий</Значение></Справочник>"
        "</ВариантыЗначений></Свойство></Свойства></Классификатор>"
    )

    items = list(iter_records(xml(body), on_invalid="yield"))

    assert of_type(items, InvalidElement) == []
    (prop,) = of_type(items, Property)
    assert (prop.id, prop.name, prop.value_type) == ("color", "Цвет", ValueType.REFERENCE)
    assert prop.values == (PropertyOption("red", "Красный"), PropertyOption("blue", "Синий"))


def test_errors_survive_pickling_with_their_location() -> None:
    import pickle

    error = CommerceMLValueError("not a number: 'x'", file="offers.xml", line=7, element="Цена", element_id="a#b")

    copy = pickle.loads(pickle.dumps(error))

    assert (type(copy), copy.reason, copy.file, copy.line, copy.element, copy.element_id) == (
        CommerceMLValueError,
        "not a number: 'x'",
        "offers.xml",
        7,
        "Цена",
        "a#b",
    )
    assert str(copy) == "offers.xml:7: Цена Ид=a#b: not a number: 'x'"


def test_bad_boolean_is_a_value_error() -> None:
    with pytest.raises(CommerceMLValueError, match="not a boolean"):
        list(
            iter_records(
                xml(
                    "<Каталог><Товары><Товар><Ид>1</Ид><ПометкаУдаления>да</ПометкаУдаления></Товар></Товары></Каталог>"
                )
            )
        )


def test_truncated_file_raises_syntax_error_after_yielding_what_was_complete(tmp_path: Path) -> None:
    data = (DATA / "cml207-dobromyslov/import0_1.xml").read_bytes()
    cut_at = data.index(b"PM-421-LE")  # the article of the 2nd product
    path = tmp_path / "import0_1.xml"
    path.write_bytes(data[:cut_at])
    seen = []

    with pytest.raises(CommerceMLSyntaxError) as raised:
        for record in iter_records(path):
            seen.append(record)

    assert raised.value.file == str(path)
    assert raised.value.line == data[:cut_at].count(b"\n") + 1
    assert "broken XML" in str(raised.value)
    assert [p.id for p in of_type(seen, Product)] == ["bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1"]


@pytest.mark.parametrize(
    "content", [b"", b"PK\x03\x04 not xml", "<КоммерческаяИнформация><Каталог></КоммерческаяИнформация>".encode()]
)
def test_not_xml_raises_syntax_error(content: bytes) -> None:
    with pytest.raises(CommerceMLSyntaxError):
        list(iter_records(io.BytesIO(content)))


def test_non_commerceml_root_is_refused() -> None:
    with pytest.raises(CommerceMLValueError, match="not a CommerceML root"):
        list(iter_records(io.BytesIO(b"<html><body/></html>")))


def test_all_reader_errors_share_one_base_class() -> None:
    for error in (CommerceMLSyntaxError, CommerceMLUnsafeXMLError, CommerceMLLimitError, CommerceMLValueError):
        assert issubclass(error, CommerceMLError)


# --- hostile files ------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE КоммерческаяИнформация [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<КоммерческаяИнформация ВерсияСхемы="&lol9;"><Каталог><Товары><Товар><Ид>1</Ид>
<Наименование>&lol9;</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<КоммерческаяИнформация><Каталог><Товары><Товар><Ид>1</Ид><Наименование>&secret;</Наименование>
</Товар></Товары></Каталог></КоммерческаяИнформация>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_entity_declarations_are_refused_without_expanding_anything(document: str) -> None:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with pytest.raises(CommerceMLUnsafeXMLError) as raised:
        list(iter_records(io.BytesIO(document.encode())))

    assert raised.value.line == 2
    assert "DOCTYPE" in raised.value.reason
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 50 * 1024  # KiB


def test_entity_declarations_are_refused_by_detection_too() -> None:
    from commerceml import detect_file_kind

    with pytest.raises(CommerceMLUnsafeXMLError):
        detect_file_kind(io.BytesIO(BILLION_LAUGHS.encode()))


def test_deep_nesting_stops_at_the_depth_guard() -> None:
    depth = 200
    body = "<Каталог><Товары><Товар><Ид>1</Ид>" + "<x>" * depth + "</x>" * depth + "</Товар></Товары></Каталог>"

    with pytest.raises(CommerceMLLimitError, match="deeper than 64") as raised:
        list(iter_records(xml(body)))
    assert raised.value.line == 2


def test_depth_guard_is_configurable() -> None:
    body = "<Каталог><Товары><Товар><Ид>1</Ид><a><b><c/></b></a></Товар></Товары></Каталог>"

    assert len(list(iter_records(xml(body), limits=ReaderLimits(max_depth=7)))) == 2
    with pytest.raises(CommerceMLLimitError):
        list(iter_records(xml(body), limits=ReaderLimits(max_depth=6)))


def test_text_size_guard() -> None:
    body = f"<Каталог><Товары><Товар><Ид>1</Ид><Описание>{'я' * 5000}</Описание></Товар></Товары></Каталог>"

    with pytest.raises(CommerceMLLimitError, match="5000 characters"):
        list(iter_records(xml(body), limits=ReaderLimits(max_text_length=4096)))
    assert len(of_type(list(iter_records(xml(body))), Product)[0].description or "") == 5000


def _catalog_with_a_huge_product(path: Path, requisites: int) -> None:
    """Streamed to disk: a product with ``requisites`` ЗначениеРеквизита children between two normal ones."""
    block = "".join(
        f"<ЗначениеРеквизита><Наименование>Р{i}</Наименование><Значение>{i}</Значение></ЗначениеРеквизита>\n"
        for i in range(1000)
    )
    with path.open("w", encoding="utf-8") as out:
        out.write(f"{HEAD}{ROOT}<Каталог><Ид>к</Ид><Товары>")
        out.write("<Товар><Ид>before</Ид><Наименование>A</Наименование></Товар>\n")
        out.write("<Товар><Ид>huge</Ид><Наименование>B</Наименование><ЗначенияРеквизитов>\n")
        for _ in range(requisites // 1000):
            out.write(block)
        out.write("</ЗначенияРеквизитов></Товар>\n")
        out.write(
            "<Товар><Ид>after</Ид><Наименование>C</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>"
        )


def test_an_element_with_too_many_children_is_an_element_error_and_reading_goes_on() -> None:
    body = (
        "<Каталог><Товары><Товар><Ид>big</Ид>"
        + "<Картинка>a.jpg</Картинка>" * 60
        + "</Товар><Товар><Ид>ok</Ид><Картинка>b.jpg</Картинка></Товар></Товары></Каталог>"
    )
    limits = ReaderLimits(max_record_elements=50)

    items = list(iter_records(xml(body), limits=limits, on_invalid="yield"))

    (invalid,) = of_type(items, InvalidElement)
    assert (invalid.element, invalid.id) == ("Товар", "big")
    assert "more than 50 elements" in invalid.reason
    assert [(p.id, p.images) for p in of_type(items, Product)] == [("ok", ("b.jpg",))]
    with pytest.raises(CommerceMLLimitError, match="more than 50 elements") as raised:
        list(iter_records(xml(body), limits=limits))
    assert raised.value.element_id == "big"
    # A record at the limit is still read.
    assert len(of_type(list(iter_records(xml(body), limits=ReaderLimits(max_record_elements=62))), Product)) == 2


def test_groups_with_too_many_children_are_element_errors_too() -> None:
    body = (
        "<Классификатор><Группы><Группа><Ид>big</Ид>" + "<x/>" * 60 + "<Группы><Группа><Ид>child</Ид></Группа>"
        "</Группы></Группа><Группа><Ид>ok</Ид></Группа></Группы></Классификатор>"
    )

    items = list(iter_records(xml(body), limits=ReaderLimits(max_record_elements=50), on_invalid="yield"))

    assert [(i.element, i.id) for i in of_type(items, InvalidElement)] == [("Группа", "big")]
    assert [g.id for g in of_type(items, Group)] == ["child", "ok"]


_MEASURE_HUGE = """
import resource, sys
from commerceml import InvalidElement, ReaderLimits, iter_records
def read(limits):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    items = list(iter_records(sys.argv[1], limits=limits, on_invalid="yield"))
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(" ".join(f"{type(i).__name__}:{i.id}" for i in items[1:]), growth)
read(ReaderLimits(max_record_elements=10_000))  # first: ru_maxrss is a peak, it never goes down
read(ReaderLimits())
"""


def test_memory_stays_bounded_whatever_one_element_holds(tmp_path: Path) -> None:
    """Issue 11 item 5: 1.6 M requisites in one product took 1.1 GB. 300,000 here (~50 MB of XML)
    would take ~260 MB if the product were kept whole."""
    import subprocess
    import sys

    path = tmp_path / "import.xml"
    _catalog_with_a_huge_product(path, 300_000)

    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE_HUGE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    small, default = (line.rsplit(" ", 1) for line in completed.stdout.splitlines())

    expected = "Product:before InvalidElement:huge Product:after"
    assert small[0] == default[0] == expected
    assert int(small[1]) < 8 * 1024  # KiB: with a small limit the huge product costs next to nothing
    assert int(default[1]) < 64 * 1024  # the default limit bounds it at tens of MB


def test_comments_and_processing_instructions_are_ignored() -> None:
    body = "<Каталог><!-- note --><Товары><Товар><?pi x?><Ид>1</Ид><!-- c --><Наименование>N</Наименование></Товар></Товары></Каталог>"

    product = of_type(list(iter_records(xml(body))), Product)[0]

    assert (product.id, product.name) == ("1", "N")


def test_unknown_root_elements_are_skipped_between_sections() -> None:
    body = (
        "<НеизвестныйРаздел><Товары><Товар><Ид>x</Ид></Товар></Товары></НеизвестныйРаздел>"
        "<Каталог><Ид>к</Ид><Товары><Товар><Ид>1</Ид></Товар></Товары></Каталог>"
    )

    items = list(iter_records(xml(body)))

    assert [p.id for p in of_type(items, Product)] == ["1"]
    assert len(items) == 2


# --- streaming ----------------------------------------------------------------------------------

_MEASURE = """
import resource, sys
from commerceml import iter_records
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for _ in iter_records(sys.argv[1]))
print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_memory_stays_flat_while_streaming_a_large_file(tmp_path: Path) -> None:
    """A DOM of this ~30 MB file would take well over 100 MB; streaming adds next to nothing."""
    import subprocess
    import sys

    from benchmarks.generate_catalog import generate_catalog

    generate_catalog(tmp_path, products=6000, seed=11)
    path = tmp_path / "import.xml"
    assert path.stat().st_size > 25_000_000

    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    count, growth_kib = map(int, completed.stdout.split())

    assert count > 6000
    assert growth_kib < 10 * 1024
