"""Change detection: a difference in any field of a product or offer changes its content hash."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from commerceml import records as cml
from commerceml.digests import offer_digest as _offer_digest
from commerceml.digests import product_digest as _product_digest

PRODUCT = cml.Product(
    id="p",
    name="Товар",
    article="A-1",
    barcode=None,
    description="Описание",
    group_ids=("g",),
    unit=cml.ProductUnit(code="796", name="шт", full_name="Штука"),
    images=("import_files/a.jpg",),
    property_values=(cml.PropertyValue("color", ("red",)),),
    requisites=(("Вес", "1"),),
    characteristics=(),
    manufacturer=None,
    country=None,
    deleted=False,
    version=None,
)
# Another value for every field of the reader's Product; a field the reader adds must be added
# here, or this test fails (and with it the promise that every field is hashed).
OTHER_PRODUCT_VALUES: dict[str, Any] = {
    "id": "q",
    "name": "Товар 2",
    "article": "A-2",
    "barcode": "2000000000015",
    "description": "Другое описание",
    "group_ids": ("g", "h"),
    "unit": cml.ProductUnit(code="796", name="шт", full_name="Штуки"),
    "images": ("import_files/b.jpg",),
    "property_values": (cml.PropertyValue("color", ("blue",)),),
    "requisites": (("Вес", "2"),),
    "characteristics": (("Размер", "43"),),
    "manufacturer": "Завод",
    "country": "Россия",
    "deleted": True,
    "version": "AAAAAQ==",
}


def test_every_product_field_is_part_of_the_hash() -> None:
    assert set(OTHER_PRODUCT_VALUES) == {f.name for f in dataclasses.fields(cml.Product)}
    for name, value in OTHER_PRODUCT_VALUES.items():
        assert _product_digest(dataclasses.replace(PRODUCT, **{name: value}), "") != _product_digest(PRODUCT, ""), name


def test_a_product_without_a_unit_hashes() -> None:
    assert _product_digest(dataclasses.replace(PRODUCT, unit=None), "") != _product_digest(PRODUCT, "")


OFFER = cml.Offer(
    id="p#1",
    product_id="p",
    variant_id="1",
    name="Товар, 43",
    article=None,
    barcode=None,
    unit=None,
    characteristics=(("Размер", "43"),),
    property_values=(),
    prices=(cml.OfferPrice("pt", Decimal("100"), "RUB", None, None),),
    quantity=Decimal("1"),
    stocks=(),
    deleted=False,
    version=None,
    has_prices=True,
    has_stock=True,
    has_characteristics=True,
    has_property_values=False,
)


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Товар, 44"},
        {"article": "A"},
        {"barcode": "1"},
        {"characteristics": (("Размер", "44"),)},
        {"property_values": (cml.PropertyValue("color", ("red",)),)},
        {"deleted": True},
    ],
)
def test_every_offer_attribute_is_part_of_its_hash(change: dict[str, Any]) -> None:
    assert _offer_digest(dataclasses.replace(OFFER, **change)) != _offer_digest(OFFER)


def test_a_product_moved_to_another_catalog_hashes_differently() -> None:
    assert _product_digest(PRODUCT, "catalog-a") != _product_digest(PRODUCT, "catalog-b")
