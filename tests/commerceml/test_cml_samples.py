"""Real 1C and Bitrix files (tests/data/cml, see PROVENANCE.md) read into the expected records.

Counts and values below were taken by reading the files themselves.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Iterable
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from commerceml import (
    Group,
    Offer,
    OfferPrice,
    OfferStock,
    PriceType,
    Product,
    ProductUnit,
    Property,
    PropertyOption,
    PropertyValue,
    Record,
    Section,
    SectionHeader,
    Unit,
    ValueType,
    Warehouse,
    iter_records,
)
from commerceml.records import Counterparty, Document

DATA = Path(__file__).resolve().parent.parent / "data" / "cml"


T = TypeVar("T")


def records(relative: str) -> list[Record]:
    return list(iter_records(DATA / relative))


def of_type(items: Iterable[object], kind: type[T]) -> list[T]:
    return [item for item in items if isinstance(item, kind)]


def by_id(items: Iterable[object], kind: type[T]) -> dict[str, T]:
    return {getattr(item, "id"): item for item in of_type(items, kind)}  # noqa: B009


EXPECTED_COUNTS = {
    "cml207-carono/classifier.xml": {"SectionHeader": 1, "Group": 22, "Property": 10},
    "cml207-carono/import.xml": {"SectionHeader": 2, "Group": 22, "Property": 10, "Product": 2},
    "cml207-carono/import_wo_classifier.xml": {"SectionHeader": 1, "Product": 2},
    "cml207-carono/offers.xml": {"SectionHeader": 2, "PriceType": 1, "Warehouse": 5, "Offer": 5},
    "cml207-dobromyslov/import0_1.xml": {"SectionHeader": 2, "Group": 1, "Property": 12, "Product": 36},
    "cml207-dobromyslov/import0_1_with_nested_groups.xml": {
        "SectionHeader": 2,
        "Group": 13,
        "Property": 20,
        "Product": 283,
    },
    "cml207-dobromyslov/offers0_1.xml": {"SectionHeader": 2, "PriceType": 1, "Warehouse": 3, "Offer": 44},
    "cml208-bigperson/classifier.xml": {"SectionHeader": 1, "Group": 5, "Property": 3, "Unit": 1},
    "cml208-bigperson/import.xml": {"SectionHeader": 2, "Group": 5, "Property": 3, "Unit": 1, "Product": 2},
    "cml208-bigperson/offers.xml": {"SectionHeader": 2, "Property": 1, "PriceType": 3, "Offer": 2},
    "cml31-argentcrusade/group-example.xml": {"SectionHeader": 1, "Group": 12},
    "cml31-argentcrusade/products-example.xml": {"SectionHeader": 1, "Product": 1},
    "cml31-argentcrusade/prices-example.xml": {"SectionHeader": 1, "Offer": 3},
    "cml31-argentcrusade/remainders-example.xml": {"SectionHeader": 1, "Offer": 2},
}


@pytest.mark.parametrize("relative", sorted(EXPECTED_COUNTS))
def test_every_catalog_sample_yields_the_expected_records(relative: str) -> None:
    counts = Counter(type(record).__name__ for record in records(relative))

    assert counts == EXPECTED_COUNTS[relative]


@pytest.mark.parametrize(
    "relative",
    [
        "cml207-carono/orders.xml",
        "cml207-dobromyslov/bitrix-query-response-full.xml",
        "cml207-dobromyslov/bitrix-query-response-empty.xml",
        "cml31-argentcrusade/documents-example.xml",
        "cml31-argentcrusade/contractors-example.xml",
    ],
)
def test_order_and_contragent_files_yield_no_catalog_records(relative: str) -> None:
    kinds = {type(record) for record in records(relative)}

    assert kinds <= {SectionHeader, Document, Counterparty}


@pytest.mark.parametrize("relative", sorted(EXPECTED_COUNTS))
def test_records_are_plain_data_that_survive_pickling(relative: str) -> None:
    items = records(relative)

    assert pickle.loads(pickle.dumps(items)) == items
    for item in items:
        for field in fields(item):
            assert "lxml" not in type(getattr(item, field.name)).__module__


@pytest.mark.parametrize("relative", sorted(EXPECTED_COUNTS))
def test_each_section_header_comes_before_its_records(relative: str) -> None:
    items = records(relative)

    assert isinstance(items[0], SectionHeader)
    current = items[0].section
    for item in items:
        if isinstance(item, SectionHeader):
            current = item.section
        elif isinstance(item, Product):
            assert current == Section.CATALOG
        elif isinstance(item, Offer):
            assert current in (Section.OFFERS, Section.OFFER_CHANGES)
        elif isinstance(item, Group):
            assert current == Section.CLASSIFIER


@pytest.mark.parametrize("relative", sorted(EXPECTED_COUNTS))
def test_groups_come_after_their_parents(relative: str) -> None:
    seen: set[str] = set()
    for group in of_type(records(relative), Group):
        assert group.parent_id is None or group.parent_id in seen
        seen.add(group.id)


# --- 2.07, UTF-8 with BOM, urn:1C.ru:commerceml_2 (dobromyslov) ---------------------------------


def test_product_fields_from_a_1c_export() -> None:
    items = records("cml207-dobromyslov/import0_1.xml")
    product = by_id(items, Product)["bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1"]

    assert product == Product(
        id="bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1",
        name="Портативный коврик Portable 140x200x1 см, Деревянные лошадки",
        article="PM-421-WP",
        barcode="8809288404089",
        description=None,
        group_ids=("82cfb8dc-18f9-11e7-80c2-0cc47ab29cd1",),
        unit=ProductUnit(code="796", name=None, full_name="Штука", intl_abbr="PCE"),
        images=(),
        property_values=product.property_values,  # checked below
        requisites=(
            ("ВидНоменклатуры", "Коврики для дома"),
            ("ТипНоменклатуры", "Товар"),
            ("Полное наименование", "Портативный коврик Portable 140x200x1 см, Деревянные лошадки"),
        ),
        characteristics=(),
        manufacturer="Crazy Boom",
        country=None,
        deleted=False,
        version=None,
    )
    assert len(product.property_values) == 12
    assert product.property_values[1] == PropertyValue("38409b0c-29da-11e9-80c9-0cc47ab29cd1", ("1,4",))
    assert product.property_values[2] == PropertyValue(
        "3268183f-18fa-11e7-80c2-0cc47ab29cd1", ("af848a7e-18fa-11e7-80c2-0cc47ab29cd1",)
    )


def test_unit_code_with_a_trailing_space_is_trimmed() -> None:
    products = of_type(records("cml207-dobromyslov/import0_1.xml"), Product)

    assert {product.unit.code for product in products if product.unit} == {"796"}


def test_status_attribute_deleted_marks_the_product_deleted() -> None:
    products = of_type(records("cml207-dobromyslov/import0_1.xml"), Product)

    assert [product.id for product in products if product.deleted] == ["b631c9c1-49de-11e9-80c9-0cc47ab29cd1"]


def test_properties_keep_their_type_and_options() -> None:
    properties = by_id(records("cml207-dobromyslov/import0_1.xml"), Property)

    assert properties["8d11c16f-1d64-11e9-80c9-0cc47ab29cd1"].value_type == ValueType.STRING
    assert properties["38409b0c-29da-11e9-80c9-0cc47ab29cd1"].value_type == "number"
    country = properties["3268183f-18fa-11e7-80c2-0cc47ab29cd1"]
    assert country.value_type == ValueType.REFERENCE
    assert country.values == (PropertyOption("af848a7e-18fa-11e7-80c2-0cc47ab29cd1", "КОРЕЯ, РЕСПУБЛИКА"),)
    assert country.for_products and not country.for_offers


def test_nested_groups_get_their_parent_from_the_nesting() -> None:
    groups = by_id(records("cml207-dobromyslov/import0_1_with_nested_groups.xml"), Group)

    assert groups["94878333-8068-11ea-80c9-0cc47ab29cd1"].parent_id is None
    assert groups["82cfb8dc-18f9-11e7-80c2-0cc47ab29cd1"].parent_id == "94878333-8068-11ea-80c9-0cc47ab29cd1"
    assert groups["82cfb8dc-18f9-11e7-80c2-0cc47ab29cd1"].name == "Коврики для дома"


def test_offer_with_price_total_and_per_warehouse_stock() -> None:
    items = records("cml207-dobromyslov/offers0_1.xml")
    offer = by_id(items, Offer)["bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1"]

    assert offer.product_id == "bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1"
    assert offer.variant_id is None
    assert offer.prices == (
        OfferPrice("279b6812-740b-11e8-80c8-0cc47ab29cd1", Decimal("100"), "RUB", "PCE", Decimal("1")),
    )
    assert offer.quantity == Decimal("377")
    assert offer.stocks == (
        OfferStock("6abdb0b5-18fd-11e7-80c2-0cc47ab29cd1", Decimal("1")),
        OfferStock("d2a52d49-19c9-11e7-80c2-0cc47ab29cd1", Decimal("0")),
        OfferStock("dd306af1-19c9-11e7-80c2-0cc47ab29cd1", Decimal("376")),
    )
    assert (offer.has_prices, offer.has_stock) == (True, True)
    assert offer.name == "Портативный коврик Portable 140x200x1 см, Деревянные лошадки"
    assert offer.article == "PM-421-WP"


def test_offers_file_of_2x_carries_price_types_and_warehouses() -> None:
    items = records("cml207-dobromyslov/offers0_1.xml")

    assert of_type(items, PriceType) == [PriceType("279b6812-740b-11e8-80c8-0cc47ab29cd1", "BASE", "RUB")]
    assert [w.name for w in of_type(items, Warehouse)] == ["Владивосток", "Новосибирск", "Москва"]
    headers = of_type(items, SectionHeader)
    assert [h.section for h in headers] == [Section.CLASSIFIER, Section.OFFERS]
    offers_header = headers[1]
    assert offers_header.id == "b21db898-7f82-46d8-a5ca-7c4f1d200a13#"
    assert offers_header.catalog_id == "b21db898-7f82-46d8-a5ca-7c4f1d200a13"
    assert (offers_header.changes_only, offers_header.changes_only_explicit) == (False, True)
    assert offers_header.schema_version == "2.07"
    assert offers_header.generated_at == "2020-04-07T12:08:44"


def test_catalog_header_reads_the_changes_only_attribute() -> None:
    headers = of_type(records("cml207-dobromyslov/import0_1.xml"), SectionHeader)

    classifier, catalog = headers
    assert classifier.section == Section.CLASSIFIER
    assert (classifier.changes_only, classifier.changes_only_explicit) == (False, False)
    assert catalog.section == Section.CATALOG
    assert catalog.catalog_id == catalog.id == "b21db898-7f82-46d8-a5ca-7c4f1d200a13"
    assert catalog.classifier_id == "b21db898-7f82-46d8-a5ca-7c4f1d200a13"
    assert (catalog.changes_only, catalog.changes_only_explicit) == (False, True)


# --- 2.07 (carono): variants, images, unit without text -----------------------------------------


def test_variant_offer_splits_its_id_and_keeps_characteristics() -> None:
    offer = by_id(records("cml207-carono/offers.xml"), Offer)[
        "bd72d910-55bc-11d9-848a-00112f43529a#90c55447-d3a8-11e4-9423-e0cb4ed5eed4"
    ]

    assert offer.product_id == "bd72d910-55bc-11d9-848a-00112f43529a"
    assert offer.variant_id == "90c55447-d3a8-11e4-9423-e0cb4ed5eed4"
    assert offer.characteristics == (("Размер", "40"), ("Тип кожи", "натуральная кожа"), ("Цвет", "Коричневый"))
    assert offer.has_characteristics
    assert offer.prices == (
        OfferPrice("bb14a3a4-6b17-11e0-9819-e0cb4ed5eed4", Decimal("1719"), "RUB", None, Decimal(1)),
    )
    assert offer.unit == ProductUnit(code="715", name=None, full_name="Пара (2 шт.)")
    assert offer.stocks == (OfferStock("b6112590-41ba-11dd-ac9d-0015e9b8c48d", Decimal("20")),)


def test_product_images_and_groups() -> None:
    product = by_id(records("cml207-carono/import.xml"), Product)["bd72d910-55bc-11d9-848a-00112f43529a"]

    assert product.images == tuple(
        f"import_files/9d/9da00149441011e19bb10015174048b8_0e01fd9e204611e8b2a794de807044d{n}.jpg" for n in (1, 2, 3)
    )
    assert product.group_ids == ("e5a4c309-a659-11dd-acee-0015e9b8c48d",)
    assert product.barcode == "2000018987155"
    assert product.property_values[-1] == PropertyValue("444bbea0-6b18-11e0-9819-e0cb4ed5eed4", ("ООО Рога и копыта",))


def test_classifier_file_without_wrapper_or_prolog() -> None:
    """carono/classifier.xml has no XML declaration and Классификатор as its root."""
    items = records("cml207-carono/classifier.xml")

    assert of_type(items, SectionHeader)[0].schema_version is None
    assert by_id(items, Group)["f3257ce7-9c2f-11e1-a282-0011955bd175"].parent_id == (
        "453d6e1a-7233-11e0-8636-0011951d229d"
    )
    sizes = by_id(items, Property)["444bbe9a-6b18-11e0-9819-e0cb4ed5eed4"]
    assert [option.value for option in sizes.values] == ["55", "65", "85", "100"]


# --- 2.08 with urn:1C.ru:commerceml_210 (bigperson) ----------------------------------------------


def test_commerceml_210_namespace_and_offer_properties() -> None:
    items = records("cml208-bigperson/offers.xml")

    color = of_type(items, Property)[0]
    assert (color.name, color.for_offers, color.for_products) == ("Цвет", True, False)
    offer = of_type(items, Offer)[0]
    assert offer.id == "ffce323d-c133-11e8-8111-0050569b2b72#8a4e5ea9-d129-11e8-8112-0050569b2b72"
    assert offer.property_values == (
        PropertyValue("5ea1e6c2-cc93-11e8-8112-0050569b2b72", ("6efed1d2-cc93-11e8-8112-0050569b2b72",)),
    )
    assert [(p.value, p.currency, p.unit) for p in offer.prices] == [
        (Decimal("10500"), "руб", "шт"),
        (Decimal("15500"), "руб", "шт"),
        (Decimal("10500"), "руб", "шт"),
    ]
    assert (offer.quantity, offer.stocks, offer.has_stock) == (Decimal("2"), (), True)


def test_classifier_units_and_empty_property_values() -> None:
    items = records("cml208-bigperson/import.xml")

    assert of_type(items, Unit) == [Unit(code="796", name=None, full_name="Штука", intl_abbr="PCE")]
    product = of_type(items, Product)[0]
    assert product.unit == ProductUnit(code="796", name=None, full_name="Штука", intl_abbr="PCE")
    assert product.property_values[0] == PropertyValue("80fa607e-83ea-11e8-810b-0050569b5454", ())
    assert product.article == "NF-00005894"


# --- 3.1 split files, urn:1C.ru:commerceml_3, no BOM (ArgentCrusade) -------------------------


def test_31_groups_with_version_and_deletion_mark() -> None:
    groups = of_type(records("cml31-argentcrusade/group-example.xml"), Group)

    assert groups[0] == Group(
        id="dad4ab2a-8d6c-11e7-80e5-9e70408b1b6c",
        name="Автомобильные аксессуары",
        parent_id=None,
        deleted=False,
        version="AAAEogAAAAA=",
    )
    deepest = groups[-1]
    assert (deepest.name, deepest.parent_id) == ("Чехол книжка", "d11e7e01-7821-11e6-80ca-a72a8c906e0a")


def test_31_product_reads_unit_code_from_text_and_version() -> None:
    items = records("cml31-argentcrusade/products-example.xml")
    header, product = items

    assert isinstance(header, SectionHeader)
    assert (header.changes_only, header.changes_only_explicit, header.schema_version) == (True, True, "3.1")
    assert isinstance(product, Product)
    assert product.unit == ProductUnit(code="796", name=None, full_name=None)
    assert product.version == "AAAHgAAAAAA=32906"
    assert product.name == 'Гироскутер 10"'
    assert len(product.images) == 5
    assert ("Код", "ФР-00000029") in product.requisites
    assert ("Планируемая дата поступления", "") in product.requisites
    assert product.property_values == (PropertyValue("935cfd9c-9303-11e7-80e5-9e70408b1b6c", ()),)
    assert (product.article, product.barcode, product.description, product.country) == (None, None, None, None)


def test_31_prices_file_offers_carry_only_prices() -> None:
    offers = of_type(records("cml31-argentcrusade/prices-example.xml"), Offer)

    assert [offer.prices[0].value for offer in offers] == [Decimal(790), Decimal(790), Decimal(600)]
    first = offers[0]
    assert first.prices[0] == OfferPrice("d023050c-8ecc-11e6-80cc-8ba31e8e113c", Decimal(790), "RUB", None, None)
    assert (first.has_prices, first.has_stock, first.has_characteristics) == (True, False, False)
    assert (first.name, first.quantity, first.stocks) == (None, None, ())


def test_31_rests_file_offers_carry_only_stock() -> None:
    offers = of_type(records("cml31-argentcrusade/remainders-example.xml"), Offer)

    first = offers[0]
    assert (first.has_prices, first.has_stock, first.prices) == (False, True, ())
    assert len(first.stocks) == 7
    assert first.stocks[4] == OfferStock("a3d8885d-d931-11e6-a8e7-38d547224d22", Decimal(4))
    assert first.quantity is None  # no total in the file: only per-warehouse rests
