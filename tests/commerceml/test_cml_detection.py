"""What a file holds is decided by its content, and files import in dependency order."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from commerceml import (
    CommerceMLSyntaxError,
    FileKind,
    Section,
    SectionHeader,
    detect_file_kind,
    import_rank,
    inspect_file,
    iter_records,
    sort_for_import,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "cml"

KINDS = {
    "cml207-carono/classifier.xml": FileKind.CLASSIFIER,
    "cml207-carono/import.xml": FileKind.CATALOG,
    "cml207-carono/import_wo_classifier.xml": FileKind.CATALOG,
    "cml207-carono/offers.xml": FileKind.OFFERS,
    "cml207-carono/orders.xml": FileKind.DOCUMENTS,
    "cml207-dobromyslov/bitrix-query-response-empty.xml": FileKind.EMPTY,
    "cml207-dobromyslov/bitrix-query-response-full.xml": FileKind.DOCUMENTS,
    "cml207-dobromyslov/import0_1.xml": FileKind.CATALOG,
    "cml207-dobromyslov/import0_1_with_nested_groups.xml": FileKind.CATALOG,
    "cml207-dobromyslov/offers0_1.xml": FileKind.OFFERS,
    "cml208-bigperson/classifier.xml": FileKind.CLASSIFIER,
    "cml208-bigperson/import.xml": FileKind.CATALOG,
    "cml208-bigperson/offers.xml": FileKind.OFFERS,
    "cml31-argentcrusade/contractors-example.xml": FileKind.CONTRAGENTS,
    "cml31-argentcrusade/documents-example.xml": FileKind.DOCUMENTS,
    "cml31-argentcrusade/group-example.xml": FileKind.CLASSIFIER,
    "cml31-argentcrusade/prices-example.xml": FileKind.PRICES,
    "cml31-argentcrusade/products-example.xml": FileKind.CATALOG,
    "cml31-argentcrusade/remainders-example.xml": FileKind.RESTS,
    "edge/import-cp1251-no-namespace.xml": FileKind.CATALOG,
    "edge/offers-cp1251-no-namespace.xml": FileKind.OFFERS,
    "edge/offer-changes.xml": FileKind.PRICES,
    "edge/offers-header-then-classifier.xml": FileKind.CLASSIFIER,
    "edge/rests-totals.xml": FileKind.RESTS,
}


@pytest.mark.parametrize(("relative", "kind"), sorted(KINDS.items()))
def test_every_sample_is_classified_by_its_content(relative: str, kind: FileKind) -> None:
    assert detect_file_kind(DATA / relative) == kind


def test_kinds_are_plain_strings_for_storage() -> None:
    assert FileKind.PRICES == "prices"
    assert str(FileKind.RESTS) == "rests"


def test_import_rank_follows_dependencies() -> None:
    order = [FileKind.CLASSIFIER, FileKind.CATALOG, FileKind.OFFERS, FileKind.PRICES, FileKind.RESTS]

    assert [import_rank(kind) for kind in order] == sorted(import_rank(kind) for kind in order)
    assert len({import_rank(kind) for kind in order}) == len(order)
    assert import_rank(FileKind.RESTS) < import_rank(FileKind.DOCUMENTS) <= import_rank(FileKind.UNKNOWN)


@pytest.mark.parametrize("seed", range(5))
def test_31_split_files_sort_into_dependency_order_whatever_order_they_come_in(seed: int) -> None:
    folder = DATA / "cml31-argentcrusade"
    names = ["remainders-example.xml", "prices-example.xml", "products-example.xml", "group-example.xml"]
    random.Random(seed).shuffle(names)

    ordered = sort_for_import(folder / name for name in names)

    assert [path.name for path, _ in ordered] == [
        "group-example.xml",
        "products-example.xml",
        "prices-example.xml",
        "remainders-example.xml",
    ]
    assert [kind for _, kind in ordered] == [FileKind.CLASSIFIER, FileKind.CATALOG, FileKind.PRICES, FileKind.RESTS]


def test_all_samples_sort_with_ranks_never_decreasing() -> None:
    paths = [DATA / relative for relative in KINDS]
    random.Random(1).shuffle(paths)

    ranks = [import_rank(kind) for _, kind in sort_for_import(paths)]

    assert ranks == sorted(ranks)


def test_properties_only_offers_file_sorts_before_the_offers() -> None:
    """1C-Bitrix sends offer properties in an offers___ file with no offers (protocol.md §5.5)."""
    ordered = sort_for_import(
        [
            DATA / "cml207-dobromyslov/offers0_1.xml",
            DATA / "edge/offers-header-then-classifier.xml",
            DATA / "cml207-dobromyslov/import0_1.xml",
        ]
    )

    assert [path.name for path, _ in ordered] == [
        "offers-header-then-classifier.xml",
        "import0_1.xml",
        "offers0_1.xml",
    ]


def test_inspect_reports_sections_and_schema_version() -> None:
    info = inspect_file(DATA / "cml207-carono/import.xml")

    assert info.sections == ("Классификатор", "Каталог")
    assert info.schema_version == "2.07"


def test_detection_reads_only_the_start_of_a_catalog(tmp_path: Path) -> None:
    """A Каталог start is enough: a file broken after it is still classified."""
    data = (DATA / "cml207-dobromyslov/import0_1.xml").read_bytes()
    cut = tmp_path / "import.xml"
    cut.write_bytes(data[: data.index("<Товары>".encode()) + 200])

    assert detect_file_kind(cut) == FileKind.CATALOG


def test_detection_of_a_file_broken_before_the_answer_raises(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes('<?xml version="1.0"?>\n<КоммерческаяИнформация>\n<Классификатор><Ид>1'.encode())

    with pytest.raises(CommerceMLSyntaxError) as raised:
        detect_file_kind(broken)
    assert raised.value.file == str(broken)
    assert raised.value.line == 3


def test_non_commerceml_xml_is_unknown() -> None:
    assert detect_file_kind(io.BytesIO(b"<html><body>hello</body></html>")) == FileKind.UNKNOWN


def test_detection_accepts_a_file_object() -> None:
    with (DATA / "cml31-argentcrusade/prices-example.xml").open("rb") as stream:
        assert detect_file_kind(stream) == FileKind.PRICES


_SECTION_OF_KIND = {FileKind.DOCUMENTS: Section.DOCUMENTS, FileKind.CONTRAGENTS: Section.COUNTERPARTIES}


@pytest.mark.parametrize(
    "relative", sorted(name for name, kind in KINDS.items() if kind in (*_SECTION_OF_KIND, FileKind.EMPTY))
)
def test_detection_and_the_reader_agree_on_orders_and_counterparties(relative: str) -> None:
    kind = detect_file_kind(DATA / relative)
    headers = [record for record in iter_records(DATA / relative) if isinstance(record, SectionHeader)]

    assert [header.section for header in headers] == ([_SECTION_OF_KIND[kind]] if kind in _SECTION_OF_KIND else [])


@pytest.mark.parametrize(
    "root_child", ["<Документ><Ид>1</Ид></Документ>", "<Контейнер><Документ><Ид>1</Ид></Документ></Контейнер>"]
)
def test_a_31_container_and_a_bare_document_are_both_orders(root_child: str) -> None:
    data = f'<КоммерческаяИнформация ВерсияСхемы="3.1">{root_child}</КоммерческаяИнформация>'.encode()

    assert detect_file_kind(io.BytesIO(data)) == FileKind.DOCUMENTS
    assert [type(record).__name__ for record in iter_records(io.BytesIO(data))] == ["SectionHeader", "Document"]
