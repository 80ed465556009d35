"""Content fingerprints of products and offers, taken where the record is read.

1C resends its whole catalog on every exchange and nearly all of it is unchanged. An importer
keeps a fingerprint of what it wrote; comparing it with the fingerprint of the record read now
tells it the record is unchanged without looking further. Big files are parsed in a child process
(commerceml.pipe): there each product and offer is *sealed* — its fingerprints, the few fields an
importer decides on, and the record's fields packed with marshal (the very bytes the fingerprint
is taken of) — so the importer decodes only the records that changed (unpickling every record
was a third of a re-export's time in the importer).

Fingerprints are blake2b digests of a marshal dump (format 2: values only, the same bytes for
the same values in any process) of every field that matters. Prices and stock are fingerprinted as 1C sent
them (price type and warehouse Ид): the importer adds what they resolve to (``combine``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
import operator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from commerceml.records import (
    Offer,
    OfferPrice,
    OfferStock,
    Product,
    ProductUnit,
    PropertyValue,
)

# Format 2: from format 3 on, marshal writes an object that has other references as a
# back-reference, so the same value dumps to different bytes depending on who else holds its
# strings at that moment (seen: a product sealed in the reader's process and the same product
# sealed here gave two fingerprints). Format 2 writes values only.
MARSHAL_VERSION = 2

# A product's fingerprint includes its catalog's Ид, cut to what the importer stores.
CATALOG_ID_LENGTH = 255

_PRODUCT_FIELDS = tuple(f.name for f in dataclasses.fields(Product))
_product_fields = operator.attrgetter(*_PRODUCT_FIELDS)
_PRODUCT_UNIT = _PRODUCT_FIELDS.index("unit")
_PRODUCT_PROPERTY_VALUES = _PRODUCT_FIELDS.index("property_values")
_unit_values = operator.attrgetter(*(f.name for f in dataclasses.fields(ProductUnit)))
_property_value_values = operator.attrgetter(*(f.name for f in dataclasses.fields(PropertyValue)))


def digest_of(value: Any) -> str:
    """The fingerprint of a value marshal can dump (nested tuples, lists, str, int, bool, None)."""
    return _digest_bytes(marshal.dumps(value, MARSHAL_VERSION))


def _digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def combine(digest: str, context: str) -> str:
    """A fingerprint of ``digest`` taken in ``context`` (e.g. what the Ид it names resolve to)."""
    return hashlib.blake2b(f"{digest}:{context}".encode(), digest_size=16).hexdigest()


def _product_values(product: Product, catalog_id: str) -> list[Any]:
    """Every field of the product (read from dataclasses.fields, so a field the reader adds is
    hashed too) and the catalog it is in; nested records are flattened to tuples, and any other
    nested object makes marshal raise instead of hashing wrong."""
    values = [*_product_fields(product), catalog_id]
    unit = values[_PRODUCT_UNIT]
    if unit is not None:
        values[_PRODUCT_UNIT] = _unit_values(unit)
    values[_PRODUCT_PROPERTY_VALUES] = [_property_value_values(v) for v in values[_PRODUCT_PROPERTY_VALUES]]
    return values


def product_digest(product: Product, catalog_id: str) -> str:
    return digest_of(_product_values(product, catalog_id))


def _offer_attributes(offer: Offer) -> tuple[Any, ...]:
    return (
        offer.name,
        offer.article,
        offer.barcode,
        offer.characteristics,
        [_property_value_values(v) for v in offer.property_values],
        offer.deleted,
    )


def _offer_prices(offer: Offer) -> tuple[Any, ...]:
    return tuple(
        (p.price_type_id, str(p.value), p.currency, p.unit, None if p.coefficient is None else str(p.coefficient))
        for p in offer.prices
    )


def _offer_stock(offer: Offer) -> tuple[Any, ...]:
    quantity = None if offer.quantity is None else str(offer.quantity)
    return (tuple((s.warehouse_id, str(s.quantity)) for s in offer.stocks), quantity)


def offer_digest(offer: Offer) -> str:
    """The offer's own attributes (prices and stock have their own fingerprints)."""
    return digest_of(_offer_attributes(offer))


def prices_digest(offer: Offer) -> str:
    """The offer's prices as sent (price type Ид, value, currency, unit, coefficient), in the
    file's order: 1C writes them in the same order every time."""
    return digest_of(_offer_prices(offer))


def stock_digest(offer: Offer) -> str:
    """The offer's stock as sent: per warehouse Ид, and the total when 1C gave one."""
    return digest_of(_offer_stock(offer))


@dataclass(frozen=True, slots=True)
class SealedProduct:
    """A product with its fingerprint and what an importer decides on; ``open()`` gives the record."""

    id: str
    deleted: bool
    images: tuple[str, ...]
    digest: str  # product_digest(record, catalog_id)
    blob: bytes  # the record's fields packed with marshal, or b"" when ``record`` holds it
    record: Product | None = None

    def open(self) -> Product:
        if self.record is not None:
            return self.record
        values = marshal.loads(self.blob)  # noqa: S302 - written by our own child process
        del values[-1]  # the catalog Ид
        unit = values[_PRODUCT_UNIT]
        if unit is not None:
            values[_PRODUCT_UNIT] = ProductUnit(*unit)
        values[_PRODUCT_PROPERTY_VALUES] = tuple(PropertyValue(*v) for v in values[_PRODUCT_PROPERTY_VALUES])
        return Product(*values)


@dataclass(frozen=True, slots=True)
class SealedOffer:
    """An offer with its fingerprints and what an importer decides on; ``open()`` gives the record."""

    id: str
    product_id: str
    variant_id: str | None
    deleted: bool
    carries_attributes: bool  # a name or characteristics came with it (not only prices or stock)
    has_prices: bool
    has_stock: bool
    price_count: int
    digest: str  # offer_digest
    prices_digest: str
    stock_digest: str
    blob: bytes
    record: Offer | None = None

    def open(self) -> Offer:
        if self.record is not None:
            return self.record
        attributes, prices, stock, rest = (
            marshal.loads(part)  # noqa: S302 - written by our own child process
            for part in marshal.loads(self.blob)  # noqa: S302
        )
        name, article, barcode, characteristics, property_values, deleted = attributes
        unit, version, has_characteristics, has_property_values = rest
        stocks, quantity = stock
        return Offer(
            self.id,
            self.product_id,
            self.variant_id,
            name,
            article,
            barcode,
            None if unit is None else ProductUnit(*unit),
            characteristics,
            tuple(PropertyValue(*v) for v in property_values),
            tuple(
                OfferPrice(pt, Decimal(value), currency, unit, None if k is None else Decimal(k))
                for pt, value, currency, unit, k in prices
            ),
            None if quantity is None else Decimal(quantity),
            tuple(OfferStock(warehouse, Decimal(q)) for warehouse, q in stocks),
            deleted,
            version,
            self.has_prices,
            self.has_stock,
            has_characteristics,
            has_property_values,
        )


def seal_product(product: Product, catalog_id: str, *, packed: bool) -> SealedProduct:
    """``packed``: carry the record as marshal bytes (to cross a pipe) instead of the object
    itself; the bytes are the very ones its fingerprint is taken of."""
    if not packed:
        return SealedProduct(
            product.id, product.deleted, product.images, product_digest(product, catalog_id), b"", product
        )
    blob = marshal.dumps(_product_values(product, catalog_id), MARSHAL_VERSION)
    return SealedProduct(product.id, product.deleted, product.images, _digest_bytes(blob), blob)


def seal_offer(offer: Offer, *, packed: bool) -> SealedOffer:
    attributes = marshal.dumps(_offer_attributes(offer), MARSHAL_VERSION)
    prices = marshal.dumps(_offer_prices(offer), MARSHAL_VERSION) if offer.has_prices or packed else b""
    stock = marshal.dumps(_offer_stock(offer), MARSHAL_VERSION) if offer.has_stock or packed else b""
    blob = b""
    if packed:
        unit = offer.unit
        rest = (
            None if unit is None else _unit_values(unit),
            offer.version,
            offer.has_characteristics,
            offer.has_property_values,
        )
        blob = marshal.dumps((attributes, prices, stock, marshal.dumps(rest, MARSHAL_VERSION)), MARSHAL_VERSION)
    return SealedOffer(
        offer.id,
        offer.product_id,
        offer.variant_id,
        offer.deleted,
        offer.name is not None or offer.has_characteristics,
        offer.has_prices,
        offer.has_stock,
        len(offer.prices),
        _digest_bytes(attributes),
        _digest_bytes(prices) if offer.has_prices else "",
        _digest_bytes(stock) if offer.has_stock else "",
        blob,
        None if packed else offer,
    )


def sealed_fields(sealed: SealedProduct | SealedOffer) -> tuple[Any, ...]:
    """A sealed record's fields but the record itself, as marshal can write them."""
    return _sealed_product_fields(sealed) if type(sealed) is SealedProduct else _sealed_offer_fields(sealed)


_sealed_product_fields = operator.attrgetter(*(f.name for f in dataclasses.fields(SealedProduct) if f.name != "record"))
_sealed_offer_fields = operator.attrgetter(*(f.name for f in dataclasses.fields(SealedOffer) if f.name != "record"))
