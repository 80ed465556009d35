"""Catalog importer: CommerceML records in, catalog rows out, in batches.

Strategy (documented for operators in docs/catalog-import.md):

* Records are buffered per kind and flushed in batches of ``BATCH_SIZE``; each flush is one
  transaction, so a product is always written together with its default variant, property
  values and images, and an offer together with its prices and stock. A broken file stops the
  import at the batch it reached: every batch before it is complete and consistent, none after
  it is started.
* Before a batch is written, the existing rows for its Ид are fetched in one query and compared
  by content hash (``content_hash`` / ``prices_hash`` / ``stock_hash``); only rows whose hash
  changed reach the database, so an unchanged re-import writes nothing and ``updated_at`` keeps
  its meaning.
* Small reference data (groups, properties, price types, warehouses) is kept in identity maps
  Ид -> primary key for the whole run; products and offers are looked up per batch, so memory
  does not grow with the catalog beyond the set of seen primary keys used for deactivation.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import marshal
import operator
import os
import shutil
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from catalog.models import (
    Category,
    Price,
    PriceType,
    Product,
    ProductImage,
    ProductPropertyValue,
    ProductVariant,
    Property,
    PropertyValue,
    Stock,
    Warehouse,
)
from commerceml import records as cml
from exchange.conf import exchange_settings
from exchange.importers.bulk import BulkWriter, Table
from exchange.importers.limits import catalog_limits
from exchange.importers.pipeline import read_ahead
from exchange.importers.report import ImportReport

logger = logging.getLogger(__name__)

# Measured on the 100k-product benchmark catalog (2 cores, PostgreSQL 15): 1000 keeps each
# COPY + merge around 50-100 ms and progress updates frequent; 5000 was no faster.
BATCH_SIZE = 1000

DEFAULT_UNIT_NAMES = {"796": "шт"}


def _digest(value: object) -> str:
    """A stable content hash of a small record (groups, properties): the repr of the dataclass."""
    return hashlib.blake2b(repr(value).encode("utf-8"), digest_size=16).hexdigest()


# Products and offers are hashed on every import, changed or not (100k + 140k per re-export):
# their fields are taken with one attrgetter and serialised with marshal (format 4, stable),
# about three times faster than the dataclass repr. Every field of the record is included
# (read from dataclasses.fields, so a field the reader adds is hashed too); nested records are
# flattened to tuples, and any other nested object makes marshal raise instead of hashing wrong.
_PRODUCT_FIELDS = tuple(f.name for f in dataclasses.fields(cml.Product))
_product_values = operator.attrgetter(*_PRODUCT_FIELDS)
_PRODUCT_UNIT = _PRODUCT_FIELDS.index("unit")
_PRODUCT_PROPERTY_VALUES = _PRODUCT_FIELDS.index("property_values")
_unit_values = operator.attrgetter(*(f.name for f in dataclasses.fields(cml.ProductUnit)))
_property_value_values = operator.attrgetter(*(f.name for f in dataclasses.fields(cml.PropertyValue)))


def _marshal_digest(value: Any) -> str:
    return hashlib.blake2b(marshal.dumps(value, 4), digest_size=16).hexdigest()


def _product_digest(product: cml.Product, catalog_id: str) -> str:
    values = [*_product_values(product), catalog_id]
    unit = values[_PRODUCT_UNIT]
    if unit is not None:
        values[_PRODUCT_UNIT] = _unit_values(unit)
    values[_PRODUCT_PROPERTY_VALUES] = [_property_value_values(v) for v in values[_PRODUCT_PROPERTY_VALUES]]
    return _marshal_digest(values)


def _offer_digest(offer: cml.Offer) -> str:
    """The offer's own attributes (prices and stock have their own hashes)."""
    return _marshal_digest(
        (
            offer.name,
            offer.article,
            offer.barcode,
            offer.characteristics,
            [_property_value_values(v) for v in offer.property_values],
            offer.deleted,
        )
    )


def _table(
    model: type[models.Model],
    columns: tuple[str, ...],
    *,
    key: tuple[str, ...],
    update: tuple[str, ...] = (),
    timestamps: bool = True,
    json_columns: frozenset[str] = frozenset(),
) -> Table:
    """A BulkWriter table of a catalog model: the table and column names come from the model's
    ``_meta`` (fields by name or attname), so a catalog migration that renames or drops one
    fails here, when the importer is loaded, not in the middle of an import."""

    def column(name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field) and field.column, f"{model.__name__}.{name} is not a column"
        return field.column

    return Table(
        model._meta.db_table,
        tuple(map(column, columns)),
        key=tuple(map(column, key)),
        update=tuple(map(column, update)),
        timestamps=timestamps,
        json_columns=frozenset(map(column, json_columns)),
    )


CATEGORY_TABLE = Category._meta.db_table
PROPERTY_TABLE = Property._meta.db_table
PROPERTYVALUE_TABLE = PropertyValue._meta.db_table
PRICETYPE_TABLE = PriceType._meta.db_table
WAREHOUSE_TABLE = Warehouse._meta.db_table
PRODUCT_TABLE = Product._meta.db_table
PRODUCTPROPERTYVALUE_TABLE = ProductPropertyValue._meta.db_table
PRODUCTIMAGE_TABLE = ProductImage._meta.db_table
PRODUCTVARIANT_TABLE = ProductVariant._meta.db_table
PRICE_TABLE = Price._meta.db_table
STOCK_TABLE = Stock._meta.db_table


CATEGORIES = _table(
    Category,
    ("onec_id", "name", "is_active", "sort_order", "content_hash"),
    key=("onec_id",),
    update=("name", "is_active", "sort_order", "content_hash"),
)
CATEGORY_PARENTS = _table(Category, ("id", "parent_id"), key=("id",), update=("parent_id",))
PROPERTIES = _table(
    Property,
    ("onec_id", "name", "value_type", "for_products", "for_offers", "is_active", "content_hash"),
    key=("onec_id",),
    update=("name", "value_type", "for_products", "for_offers", "is_active", "content_hash"),
)
PROPERTY_OPTIONS = _table(
    PropertyValue,
    ("property_id", "onec_id", "value"),
    key=("property_id", "onec_id"),
    update=("value",),
    timestamps=False,
)
PRICE_TYPES = _table(PriceType, ("onec_id", "name", "currency"), key=("onec_id",), update=("name", "currency"))
WAREHOUSES = _table(Warehouse, ("onec_id", "name", "is_active"), key=("onec_id",), update=("name", "is_active"))
PRODUCTS = _table(
    Product,
    (
        "onec_id",
        "article",
        "name",
        "description",
        "category_id",
        "unit_code",
        "unit_name",
        "is_active",
        "requisites",
        "content_hash",
        "catalog_onec_id",
    ),
    key=("onec_id",),
    update=(
        "article",
        "name",
        "description",
        "category_id",
        "unit_code",
        "unit_name",
        "is_active",
        "requisites",
        "content_hash",
        "catalog_onec_id",
    ),
    json_columns=frozenset({"requisites"}),
)
PRODUCT_VALUES = _table(
    ProductPropertyValue, ("product_id", "property_id", "value", "reference_id"), key=(), timestamps=False
)
PRODUCT_IMAGES = _table(ProductImage, ("product_id", "image", "source_path", "position", "description"), key=())
PRODUCT_IMAGE_FILES = _table(ProductImage, ("id", "image"), key=("id",), update=("image",))
VARIANT_COLUMNS = (
    "onec_id",
    "product_id",
    "name",
    "article",
    "barcode",
    "characteristics",
    "is_default",
    "is_active",
    "stock_total",
    "content_hash",
    "prices_hash",
    "stock_hash",
)
VARIANTS = _table(
    ProductVariant,
    VARIANT_COLUMNS,
    key=("onec_id",),
    update=("product_id", "name", "article", "barcode", "characteristics", "is_active", "content_hash"),
    json_columns=frozenset({"characteristics"}),
)
VARIANT_PARTS = _table(
    ProductVariant,
    ("id", "prices_hash", "stock_total", "stock_hash"),
    key=("id",),
    update=("prices_hash", "stock_total", "stock_hash"),
)
PRICES = _table(
    Price,
    ("variant_id", "price_type_id", "value", "currency"),
    key=("variant_id", "price_type_id"),
    update=("value", "currency"),
)
STOCKS = _table(
    Stock,
    ("variant_id", "warehouse_id", "quantity"),
    key=("variant_id", "warehouse_id"),
    update=("quantity",),
)


@dataclass(slots=True)
class _ExistingProduct:
    pk: int
    content_hash: str
    is_active: bool
    # Site-owned fields (EXCHANGE_SITE_OWNED_FIELDS) a manager edited: 1C leaves them alone.
    kept: frozenset[str] = frozenset()


# Product columns behind each site field name (catalog.models.PRODUCT_SITE_FIELDS); "images"
# is the picture list, kept by not syncing pictures at all.
SITE_FIELD_COLUMNS = {
    "name": ("name",),
    "article": ("article",),
    "description": ("description",),
    "category": ("category_id",),
    "unit": ("unit_code", "unit_name"),
    "images": (),
}


def _json_list(value: Any) -> list[Any]:
    """A JSON list column as read by a raw cursor: text on PostgreSQL (Django's loader) and SQLite."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, list) else []


@functools.cache
def _products_keeping(kept: frozenset[str]) -> Table:
    """PRODUCTS whose merge leaves the columns of the site-owned fields ``kept`` as they are."""
    columns = {column for name in kept for column in SITE_FIELD_COLUMNS[name]}
    return dataclasses.replace(PRODUCTS, update=tuple(c for c in PRODUCTS.update if c not in columns))


@dataclass(slots=True)
class _ExistingVariant:
    pk: int
    product_pk: int
    content_hash: str
    prices_hash: str
    stock_hash: str
    stock_total: Decimal
    is_active: bool
    is_default: bool
    # Created by this batch: it cannot have price or stock rows yet, so they are COPYed
    # straight into their tables instead of going through the staging merge.
    new: bool = False
    parts_changed: bool = False


def _variant(row: Sequence[Any], *, new: bool = False) -> _ExistingVariant:
    """A row selected with _VARIANT_LOOKUP (onec_id first) as an _ExistingVariant."""
    pk, product_pk, content_hash, prices_hash, stock_hash, stock_total, is_active, is_default = row[1:]
    return _ExistingVariant(
        pk, product_pk, content_hash, prices_hash, stock_hash, stock_total, is_active, is_default, new=new
    )


_VARIANT_LOOKUP = (
    "onec_id",
    "id",
    "product_id",
    "content_hash",
    "prices_hash",
    "stock_hash",
    "stock_total",
    "is_active",
    "is_default",
)


@dataclass
class SeenSet:
    """Primary keys seen by an import, packed as int64 so 100k ids take 800 kB, not 8 MB."""

    ids: set[int] = field(default_factory=set)

    def add_many(self, pks: Iterable[int]) -> None:
        self.ids.update(pks)

    def pack(self) -> bytes:
        return array("q", sorted(self.ids)).tobytes()

    @staticmethod
    def unpack(data: bytes | memoryview | None) -> set[int]:
        if not data:
            return set()
        packed = array("q")
        packed.frombytes(bytes(data))
        return set(packed)


# Where an element the reader could not read is reported, by the element's local name.
_INVALID_ENTITIES = {
    "Товар": "products",
    "Предложение": "offers",
    "Группа": "groups",
    "Свойство": "properties",
    "ТипЦены": "price_types",
    "Склад": "warehouses",
}
_KIND_ENTITIES: dict[type, str] = {
    cml.Group: "groups",
    cml.Property: "properties",
    cml.PriceType: "price_types",
    cml.Warehouse: "warehouses",
    cml.Product: "products",
    cml.Offer: "offers",
}

ProgressCallback = Callable[[str, int, int | None], None]


class CatalogImporter:
    """Imports CommerceML files of one ImportSession into the catalog tables.

    ``progress(entity_label, done, total)`` is called after every batch, so the caller can store
    the progress line on the ImportSession.
    """

    def __init__(
        self,
        *,
        base_dir: Path,
        report: ImportReport,
        progress: ProgressCallback | None = None,
        media_root: Path | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.base_dir = base_dir
        self._base_dir_str = str(base_dir)
        self._base_dir_resolved = base_dir.resolve()
        self.report = report
        self.progress = progress or (lambda label, done, total: None)
        self.media_root = Path(media_root or settings.MEDIA_ROOT)
        self.batch_size = batch_size
        self.writer = BulkWriter()
        self.seen_products = SeenSet()
        self.seen_variants = SeenSet()
        self.full_catalog = False
        self.full_offers = False
        # The same, for the file being imported (kept on its ImportFile for later skips).
        self.file_seen_products = SeenSet()
        self.file_seen_variants = SeenSet()
        self.file_full_catalog = False
        self.file_full_offers = False
        self.units: dict[str, cml.Unit] = {}
        self._maps_loaded = False
        self.categories: dict[str, int] = {}
        self.properties: dict[str, tuple[int, str]] = {}
        self.options: dict[tuple[int, str], tuple[int, str]] = {}
        self.price_types: dict[str, tuple[int, str]] = {}
        self.warehouses: dict[str, int] = {}
        # Per-file state
        self._file = ""
        self._section: cml.SectionHeader | None = None
        self._buffer: list[Any] = []
        self._buffer_kind: type | None = None
        self._done: dict[str, int] = {}
        self._totals: dict[str, int | None] = {}
        # Ид of products/offers whose element could not be read, resolved to seen pks in batches.
        self._unreadable: dict[str, list[str]] = {"products": [], "offers": []}
        self._image_dirs: dict[str, bool] = {}
        # Resolved prices/stock of the offers of the batch being written (_price_parts, _stock_parts).
        self._parts_cache: dict[tuple[str, str], tuple[Any, ...]] = {}
        self.site_owned = exchange_settings().site_owned_fields
        self.limits = catalog_limits()

    # --- identity maps ---------------------------------------------------------------------
    def _load_maps(self) -> None:
        if self._maps_loaded:
            return
        self.categories = {o: pk for o, pk in Category.objects.values_list("onec_id", "pk") if o}
        self.properties = {
            o: (pk, value_type)
            for o, pk, value_type in Property.objects.values_list("onec_id", "pk", "value_type")
            if o
        }
        self.options = {
            (prop, o): (pk, value)
            for prop, o, pk, value in PropertyValue.objects.values_list("property_id", "onec_id", "pk", "value")
        }
        self.price_types = {
            o: (pk, currency) for o, pk, currency in PriceType.objects.values_list("onec_id", "pk", "currency") if o
        }
        self.warehouses = {o: pk for o, pk in Warehouse.objects.values_list("onec_id", "pk") if o}
        self._maps_loaded = True

    # --- driving ---------------------------------------------------------------------------
    def import_records(self, records: Iterable[cml.Record], *, file_label: str, totals: dict[str, int | None]) -> None:
        """Import one file's records (from ``commerceml.reader.iter_records``)."""
        self._load_maps()
        self._file = file_label
        self._totals = totals
        self._done = {}
        self.file_seen_products = SeenSet()
        self.file_seen_variants = SeenSet()
        self.file_full_catalog = self.file_full_offers = False
        try:
            for record in read_ahead(records):
                kind = type(record)
                # Element errors and units do not end a batch (many bad elements must not turn
                # batches of 1000 into batches of a few).
                if kind is cml.InvalidElement:
                    self._invalid(record)  # type: ignore[arg-type]
                    continue
                if isinstance(record, cml.Unit):
                    self.units[record.code] = record
                    continue
                if kind is not self._buffer_kind and self._buffer:
                    self._flush()
                if kind is cml.SectionHeader:
                    self._start_section(record)  # type: ignore[arg-type]
                    continue
                problem = self._problem(record)
                if problem is not None:
                    self._refuse(record, problem)
                    continue
                self._buffer_kind = kind
                self._buffer.append(record)
                if len(self._buffer) >= self.batch_size:
                    self._flush()
        finally:
            # Records read before a syntax error are whole elements: keep them (they form
            # complete batches of their own); the caller fails the file afterwards.
            if self._buffer:
                self._flush()
            self._keep_unreadable()

    @property
    def _catalog_id(self) -> str:
        """The catalog (Каталог/Ид) of the section being read: what deactivation is scoped to."""
        return ((self._section.catalog_id if self._section is not None else None) or "")[:255]

    def _start_section(self, header: cml.SectionHeader) -> None:
        self._section = header
        if not header.changes_only:
            if header.section == cml.Section.CATALOG:
                self.full_catalog = self.file_full_catalog = True
            elif header.section == cml.Section.OFFERS:
                self.full_offers = self.file_full_offers = True

    def _invalid(self, record: cml.InvalidElement) -> None:
        """An element the reader could not read: reported under its entity, and its row kept as
        it is. A product or offer that failed to read is still *in* the file, so a full package
        must not deactivate it as missing (the next exchange with a readable element fixes it)."""
        entity = _INVALID_ENTITIES.get(record.element)
        if entity is None:
            # The reader names the innermost element that failed (e.g. ПометкаУдаления): the
            # section and the kind of the records around it say whose child it was.
            entity = self._entity_in_section()
        # The reader's file name is the server's path; operators and 1C see the exchange name.
        self.report.error(entity, record.id, record.reason, file=self._file, line=record.line)
        if record.id:
            self._keep_as_is(entity, record.id)

    def _problem(self, record: Any) -> str | None:
        """Why a value of ``record`` does not fit its column (exchange.importers.limits), or None."""
        limits = self.limits
        kind = type(record)
        if kind is cml.Offer:
            problem = limits.variant_id.problem(record.id) or limits.variant_name.problem(record.name)
            if problem is not None:
                return problem
            for price in record.prices:
                problem = limits.price.problem(price.value)
                if problem is not None:
                    return problem
            for stock in record.stocks:
                problem = limits.stock.problem(stock.quantity)
                if problem is not None:
                    return problem
            if record.quantity is not None:
                return limits.stock_total.problem(record.quantity)
            if record.stocks:
                return limits.stock_total.problem(sum((s.quantity for s in record.stocks), Decimal(0)))
            return None
        if kind is cml.Product:
            return limits.product_id.problem(record.id) or limits.product_name.problem(record.name)
        if kind is cml.Group:
            return limits.category_id.problem(record.id) or limits.category_name.problem(record.name)
        if kind is cml.Property:
            problem = limits.property_id.problem(record.id) or limits.property_name.problem(record.name)
            for option in record.values:
                problem = problem or limits.option_id.problem(option.id) or limits.option_value.problem(option.value)
            return problem
        if kind is cml.PriceType:
            return limits.price_type_id.problem(record.id) or limits.price_type_name.problem(record.name)
        if kind is cml.Warehouse:
            return limits.warehouse_id.problem(record.id) or limits.warehouse_name.problem(record.name)
        return None

    def _refuse(self, record: Any, problem: str) -> None:
        """A record whose values do not fit: an element error, its row left as it was."""
        entity = _KIND_ENTITIES.get(type(record), "other")
        self.report.error(entity, record.id[:200], problem, file=self._file)
        self._keep_as_is(entity, record.id)

    def _keep_as_is(self, entity: str, onec_id: str) -> None:
        """A product or offer element that was in the file but not applied counts as seen."""
        pending = self._unreadable.get(entity)
        if pending is None:
            return
        pending.append(onec_id)
        if len(pending) >= self.batch_size:
            self._keep_unreadable()

    def _entity_in_section(self) -> str:
        section = self._section.section if self._section is not None else None
        if section == cml.Section.CATALOG:
            return "products"
        if section in (cml.Section.OFFERS, cml.Section.OFFER_CHANGES):
            return "offers"  # the few ТипЦены/Склад come first; offers are nearly all of it
        if section == cml.Section.CLASSIFIER and self._buffer_kind is not None:
            return _KIND_ENTITIES.get(self._buffer_kind, "other")
        return "other"

    def _keep_unreadable(self) -> None:
        """Count existing products/offers whose element could not be read as seen (one query each)."""
        products, offers = self._unreadable["products"], self._unreadable["offers"]
        self._unreadable = {"products": [], "offers": []}
        if products:
            pks = [pk for (pk,) in self.writer.select_in(PRODUCT_TABLE, ("id",), "onec_id", products)]
            self.seen_products.add_many(pks)
            self.file_seen_products.add_many(pks)
        if offers:
            pks = [pk for (pk,) in self.writer.select_in(PRODUCTVARIANT_TABLE, ("id",), "onec_id", offers)]
            self.seen_variants.add_many(pks)
            self.file_seen_variants.add_many(pks)

    def _flush(self) -> None:
        batch, kind = self._buffer, self._buffer_kind
        self._buffer = []
        handlers: dict[type, Callable[[list[Any]], None]] = {
            cml.Group: self._write_groups,
            cml.Property: self._write_properties,
            cml.PriceType: self._write_price_types,
            cml.Warehouse: self._write_warehouses,
            cml.Product: self._write_products,
            cml.Offer: self._write_offers,
        }
        handler = handlers.get(kind) if kind is not None else None
        if handler is None:
            return
        with transaction.atomic():
            self.writer.relax_commit()
            handler(batch)

    def _advance(self, entity: str, label: str, count: int) -> None:
        done = self._done.get(entity, 0) + count
        self._done[entity] = done
        self.progress(label, done, self._totals.get(entity))

    # --- reference data --------------------------------------------------------------------
    def _write_groups(self, groups: list[cml.Group]) -> None:
        counters = self.report.entity("groups")
        existing = {
            onec_id: (pk, content_hash, parent)
            for onec_id, pk, content_hash, parent in self.writer.select_in(
                CATEGORY_TABLE, ("onec_id", "id", "content_hash", "parent_id"), "onec_id", [g.id for g in groups]
            )
        }
        rows, changed = [], []
        for position, group in enumerate(groups):
            digest = _digest(group)
            before = existing.get(group.id)
            if before and before[1] == digest:
                counters.unchanged += 1
                continue
            counters.add("updated" if before else "created")
            rows.append((group.id, group.name, not group.deleted, position, digest))
            changed.append(group)
        self.writer.upsert(CATEGORIES, rows)
        if changed:
            ids = {g.id for g in changed} | {g.parent_id for g in changed if g.parent_id}
            for onec_id, pk in self.writer.select_in(CATEGORY_TABLE, ("onec_id", "id"), "onec_id", list(ids)):
                self.categories[onec_id] = pk
            self.writer.update_rows(
                CATEGORY_PARENTS,
                [(self.categories[g.id], self.categories.get(g.parent_id) if g.parent_id else None) for g in changed],
            )
        self._advance("groups", "Группы", len(groups))

    def _write_properties(self, properties: list[cml.Property]) -> None:
        counters = self.report.entity("properties")
        existing = dict(
            self.writer.select_in(PROPERTY_TABLE, ("onec_id", "content_hash"), "onec_id", [p.id for p in properties])
        )
        changed = [p for p in properties if existing.get(p.id) != _digest(p)]
        counters.unchanged += len(properties) - len(changed)
        for prop in changed:
            counters.add("updated" if prop.id in existing else "created")
        self.writer.upsert(
            PROPERTIES,
            [
                (p.id, p.name, str(p.value_type), p.for_products, p.for_offers, not p.deleted, _digest(p))
                for p in changed
            ],
        )
        if not changed:
            return
        for onec_id, pk, value_type in self.writer.select_in(
            PROPERTY_TABLE, ("onec_id", "id", "value_type"), "onec_id", [p.id for p in changed]
        ):
            self.properties[onec_id] = (pk, value_type)
        option_rows = [(self.properties[p.id][0], option.id, option.value) for p in changed for option in p.values]
        self.writer.upsert(PROPERTY_OPTIONS, option_rows)
        pks = [self.properties[p.id][0] for p in changed]
        for prop_pk, onec_id, pk, value in self.writer.select_in(
            PROPERTYVALUE_TABLE, ("property_id", "onec_id", "id", "value"), "property_id", pks
        ):
            self.options[(prop_pk, onec_id)] = (pk, value)

    def _write_price_types(self, price_types: list[cml.PriceType]) -> None:
        # Price types and warehouses come with every offers file (and 3.1 prices/rests files):
        # only rows whose values differ from what is stored are written and counted as changed.
        counters = self.report.entity("price_types")
        currency_default = settings.SHOP_CURRENCY
        wanted = {p.id: (p.id, p.name, (p.currency or currency_default)[:8]) for p in price_types}
        stored = self._stored_reference(PRICE_TYPES, list(wanted))
        rows = self._changed_reference(counters, wanted, {k: row for k, (_, row) in stored.items()})
        self.writer.upsert(PRICE_TYPES, rows)
        if rows:
            stored = self._stored_reference(PRICE_TYPES, list(wanted))
        for onec_id, (pk, (_, _, currency)) in stored.items():
            self.price_types[onec_id] = (pk, currency)

    def _write_warehouses(self, warehouses: list[cml.Warehouse]) -> None:
        counters = self.report.entity("warehouses")
        wanted = {w.id: (w.id, w.name, not w.deleted) for w in warehouses}
        stored = self._stored_reference(WAREHOUSES, list(wanted))
        rows = self._changed_reference(counters, wanted, {k: row for k, (_, row) in stored.items()})
        self.writer.upsert(WAREHOUSES, rows)
        if rows:
            stored = self._stored_reference(WAREHOUSES, list(wanted))
        for onec_id, (pk, _) in stored.items():
            self.warehouses[onec_id] = pk

    def _stored_reference(self, table: Table, keys: list[str]) -> dict[str, tuple[int, tuple[Any, ...]]]:
        """Ид -> (pk, row in ``table.columns`` order) of stored reference rows, in one statement."""
        return {
            row[1]: (row[0], tuple(row[1:]))
            for row in self.writer.select_in(table.name, ("id", *table.columns), table.key[0], keys)
        }

    @staticmethod
    def _changed_reference(
        counters: Any, wanted: dict[str, tuple[Any, ...]], stored: dict[str, tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        """Rows of ``wanted`` that differ from ``stored`` (same columns), counted by outcome."""
        rows = []
        for onec_id, row in wanted.items():
            before = stored.get(onec_id)
            if before == row:
                counters.unchanged += 1
                continue
            counters.add("updated" if before else "created")
            rows.append(row)
        return rows

    # --- products --------------------------------------------------------------------------
    def _unit(self, unit: cml.ProductUnit | None) -> tuple[str, str]:
        if unit is None:
            return "", ""
        code = (unit.code or "").strip()
        name = unit.name
        if not name and code in self.units:
            name = self.units[code].name or self.units[code].full_name
        return code[:16], (name or DEFAULT_UNIT_NAMES.get(code, ""))[:64]

    def _product_row(self, product: cml.Product, digest: str) -> tuple[Any, ...]:
        category = None
        for group_id in product.group_ids:
            category = self.categories.get(group_id)
            if category is not None:
                break
        unit_code, unit_name = self._unit(product.unit)
        return (
            product.id,
            (product.article or "")[:255],
            product.name[:1024],
            product.description or "",
            category,
            unit_code,
            unit_name,
            not product.deleted,
            dict(product.requisites),
            digest,
            self._catalog_id,
        )

    def _write_products(self, products: list[cml.Product]) -> None:
        counters = self.report.entity("products")
        products = list({product.id: product for product in products}.values())  # the last of a repeated Ид wins
        owned = self.site_owned
        existing = {
            onec_id: _ExistingProduct(pk, content_hash, is_active, owned.intersection(_json_list(edited)))
            for onec_id, pk, content_hash, is_active, edited in self.writer.select_in(
                PRODUCT_TABLE,
                ("onec_id", "id", "content_hash", "is_active", "site_edited_fields"),
                "onec_id",
                [p.id for p in products],
            )
        }
        changed: list[cml.Product] = []
        rows: list[tuple[Any, ...]] = []
        keeping: dict[frozenset[str], list[tuple[Any, ...]]] = {}
        fresh: list[tuple[Any, ...]] = []
        for product in products:
            digest = _product_digest(product, self._catalog_id)  # a product moved to another catalog changed
            before = existing.get(product.id)
            # A product deactivated because a full catalog missed it is changed even when its
            # content is not: it must come back.
            if before and before.content_hash == digest and before.is_active == (not product.deleted):
                counters.unchanged += 1
                continue
            if product.deleted and before is None:
                counters.skipped += 1  # deletion of a product the site never had
                continue
            if product.deleted:
                counters.add("deactivated" if before and before.is_active else "unchanged")
            else:
                counters.add("updated" if before else "created")
            changed.append(product)
            row = self._product_row(product, digest)
            if before is None:
                fresh.append(row)
            elif before.kept:
                keeping.setdefault(before.kept, []).append(row)
            else:
                rows.append(row)
        # New rows go straight in with COPY; only rows that exist take the merge path. No one
        # else writes 1C products meanwhile: the import lock is held and onec_id is read-only.
        self.writer.upsert(PRODUCTS, rows)
        for kept, kept_rows in keeping.items():
            self.writer.upsert(_products_keeping(kept), kept_rows)
        self.writer.insert(PRODUCTS, fresh)

        pks = {onec_id: before.pk for onec_id, before in existing.items()}
        new_ids = [p.id for p in changed if p.id not in pks]
        pks.update(dict(self.writer.select_in(PRODUCT_TABLE, ("onec_id", "id"), "onec_id", new_ids)))
        self.seen_products.add_many(pks.values())
        self.file_seen_products.add_many(pks.values())
        if changed:
            self._write_product_values(changed, pks)
        keep_images = {onec_id for onec_id, before in existing.items() if "images" in before.kept}
        self._write_product_images(
            [p for p in products if p.id not in keep_images] if keep_images else products,
            pks,
            changed={p.id for p in changed},
        )
        self._advance("products", "Товары", len(products))

    def _write_product_values(self, products: list[cml.Product], pks: dict[str, int]) -> None:
        rows = []
        for product in products:
            product_pk = pks[product.id]
            for item in product.property_values:
                known = self.properties.get(item.property_id)
                if known is None:
                    self.report.warning(
                        "products", product.id, f"неизвестное свойство {item.property_id}", file=self._file
                    )
                    continue
                prop_pk, value_type = known
                for value in item.values:
                    if value == "":
                        continue
                    reference = None
                    text = value
                    if value_type == cml.ValueType.REFERENCE:
                        option = self.options.get((prop_pk, value))
                        if option is not None:
                            reference, text = option
                    rows.append((product_pk, prop_pk, text[:1024], reference))
        self.writer.delete_in(PRODUCTPROPERTYVALUE_TABLE, "product_id", [pks[p.id] for p in products])
        self.writer.insert(PRODUCT_VALUES, rows)

    def _write_product_images(self, products: list[cml.Product], pks: dict[str, int], *, changed: set[str]) -> None:
        """Bring the products' pictures in line with what 1C lists and sent.

        * A product whose record changed may list other pictures: rows of pictures it no longer
          lists are removed (pictures added by hand in the admin, without a 1C path, stay).
        * A picture file 1C sent in this exchange is hashed; the stored file's name carries the
          hash of its content (``products/<path>-<hash>.<ext>``), so an unchanged picture is
          neither copied nor written again, and a changed one (same path, new bytes) replaces the
          row's file. Unchanged products are looked at only when 1C sent a file they list.
        * A file no picture row uses any more is removed from MEDIA_ROOT after the batch commits.
        A (product, path) pair is unique in the table, so a picture is never attached twice.
        """
        candidates = [
            p
            for p in products
            if p.id in changed or (p.images and any(self._sent(_clean_image_path(i)) for i in p.images))
        ]
        if not candidates:
            return
        wanted = {pks[p.id]: [path for path in map(_clean_image_path, p.images) if path] for p in candidates}
        existing: dict[int, dict[str, tuple[int, str]]] = {}
        for pk, product_pk, source_path, image in self.writer.select_in(
            PRODUCTIMAGE_TABLE, ("id", "product_id", "source_path", "image"), "product_id", list(wanted)
        ):
            if source_path:  # pictures added in the admin are the shop's, not 1C's
                existing.setdefault(product_pk, {})[source_path] = (pk, image)
        counters = self.report.entity("images")
        relisted = {pks[p.id] for p in candidates if p.id in changed}
        to_delete: list[int] = []
        released: set[str] = set()
        replaced: list[tuple[int, str]] = []
        rows = []
        for product_pk, paths in wanted.items():
            have = existing.get(product_pk, {})
            if product_pk in relisted:
                for path, (pk, image) in have.items():
                    if path not in paths:
                        to_delete.append(pk)
                        released.add(image)
                        counters.removed += 1
            for position, path in enumerate(dict.fromkeys(paths)):
                before = have.get(path)
                if len(path) > self.limits.image_path.max_length:
                    counters.skipped += 1
                    self.report.warning(
                        "images", path[:200], self.limits.image_path.problem(path) or "", file=self._file
                    )
                    continue
                stored = self._store_image(path)
                if stored is None:  # 1C named the file but did not send it (this time)
                    if before is None:
                        counters.skipped += 1
                    continue
                if before is not None and before[1] == stored:
                    counters.unchanged += 1
                    continue
                if before is not None:
                    replaced.append((before[0], stored))
                    released.add(before[1])
                    counters.updated += 1
                else:
                    rows.append((product_pk, stored, path, position, ""))
                    counters.created += 1
        self.writer.delete_in(PRODUCTIMAGE_TABLE, "id", to_delete)
        self.writer.update_rows(PRODUCT_IMAGE_FILES, replaced)
        self.writer.insert(PRODUCT_IMAGES, rows)
        if released:
            media_root = self.media_root
            transaction.on_commit(lambda: _remove_unused_images(media_root, released))

    def _sent(self, path: str) -> bool:
        """Whether 1C sent the file at ``path`` in this exchange (a cheap check, no hashing).

        A re-export without pictures has no image folder at all: then no file is stat()ed.
        """
        if not path:
            return False
        top = path.split("/", 1)[0]
        present = self._image_dirs.get(top)
        if present is None:
            present = self._image_dirs[top] = os.path.isdir(os.path.join(self._base_dir_str, top))  # noqa: PTH112, PTH118
        return present and os.path.isfile(os.path.join(self._base_dir_str, path))  # noqa: PTH113, PTH118

    def _store_image(self, path: str) -> str | None:
        """The MEDIA_ROOT name of the picture 1C sent at ``path``, linked (or copied) there unless
        a file of the same content is there already; None when 1C did not send the file.

        ``path`` is already cleaned of ``..`` (_clean_image_path); a cheap existence check comes
        first because a changes-only exchange names many images it does not send again.
        """
        if not self._sent(path):
            return None
        source = (self.base_dir / path).resolve()
        if not source.is_relative_to(self._base_dir_resolved):  # a symlink pointing outside
            return None
        relative = PurePosixPath(path)
        if relative.parts and relative.parts[0] == PICTURES_DIR:
            relative = PurePosixPath(*relative.parts[1:])
        with source.open("rb") as stream:
            content = hashlib.file_digest(stream, "blake2b").hexdigest()[:16]
        name = f"products/{relative.with_name(f'{relative.stem}-{content}{relative.suffix}').as_posix()}"
        if len(name) > self.limits.image_name.max_length:  # a long 1C path: keep the hash, drop the folders
            name = f"products/{content}{relative.suffix[:16]}"
        target = self.media_root / name
        if target.is_file():  # the same bytes are stored already (this or another product)
            return name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        tmp.replace(target)
        return name

    # --- offers ----------------------------------------------------------------------------
    def _write_offers(self, offers: list[cml.Offer]) -> None:
        counters = self.report.entity("offers")
        self._parts_cache = {}
        update_only = self._section is not None and self._section.section == cml.Section.OFFER_CHANGES
        offers = list({offer.id: offer for offer in offers}.values())  # the last of a repeated Ид wins
        existing = {
            row[0]: _variant(row)
            for row in self.writer.select_in(PRODUCTVARIANT_TABLE, _VARIANT_LOOKUP, "onec_id", [o.id for o in offers])
        }
        # A stored variant knows its product (the product part of its Ид never changes); only
        # offers new to the site are looked up, so a re-export reads one table per batch, not two.
        unknown = list({o.product_id for o in offers if o.id not in existing})
        products = dict(self.writer.select_in(PRODUCT_TABLE, ("onec_id", "id"), "onec_id", unknown))
        variant_rows: list[tuple[Any, ...]] = []
        new_variant_rows: list[tuple[Any, ...]] = []
        accepted: list[cml.Offer] = []
        for offer in offers:
            before = existing.get(offer.id)
            product_pk = before.product_pk if before is not None else products.get(offer.product_id)
            if product_pk is None:
                counters.skipped += 1
                self.report.warning("offers", offer.id, "предложение для неизвестного товара", file=self._file)
                continue
            carries_attributes = offer.name is not None or offer.has_characteristics
            if before is None and (update_only or not carries_attributes) and offer.variant_id is not None:
                # A price or stock line for a characteristic the site was never told about.
                counters.skipped += 1
                self.report.warning("offers", offer.id, "неизвестное предложение", file=self._file)
                continue
            accepted.append(offer)
            if not carries_attributes and before is not None:
                counters.unchanged += 1
                continue
            digest = _offer_digest(offer)
            if before and before.content_hash == digest and before.is_active == (not offer.deleted):
                counters.unchanged += 1
                continue
            counters.add("updated" if before else "created")
            # A new variant is inserted with its price and stock hashes and total already set,
            # instead of inserting it empty and updating every new row right after.
            prices_hash = self._price_parts(offer)[1] if before is None and offer.has_prices else ""
            stock_total, stock_hash = Decimal(0), ""
            if before is None and offer.has_stock:
                _, stock_total, stock_hash = self._stock_parts(offer)
            (variant_rows if before else new_variant_rows).append(
                (
                    offer.id,
                    product_pk,
                    (offer.name or "")[:1024],
                    (offer.article or "")[:255],
                    (offer.barcode or "")[:64],
                    [{"name": n, "value": v} for n, v in offer.characteristics],
                    offer.variant_id is None,
                    not offer.deleted,
                    stock_total,
                    digest,
                    prices_hash,
                    stock_hash,
                )
            )
        self.writer.upsert(VARIANTS, variant_rows)
        self.writer.insert(VARIANTS, new_variant_rows)
        missing = [o.id for o in accepted if o.id not in existing]
        for row in self.writer.select_in(PRODUCTVARIANT_TABLE, _VARIANT_LOOKUP, "onec_id", missing):
            existing[row[0]] = _variant(row, new=True)
        seen = [existing[o.id].pk for o in accepted if o.id in existing]
        self.seen_variants.add_many(seen)
        self.file_seen_variants.add_many(seen)

        self._write_prices([o for o in accepted if o.has_prices], existing)
        self._write_stock([o for o in accepted if o.has_stock], existing)
        self.writer.update_rows(
            VARIANT_PARTS,
            [(v.pk, v.prices_hash, v.stock_total, v.stock_hash) for v in existing.values() if v.parts_changed],
        )

        # A product sold by characteristics has no sale of its own: hide its default variant.
        # Only products with a variant row written in this batch can have one to hide (a new
        # characteristic, or the default offer itself brought back); unchanged ones were
        # settled by an earlier import, so a re-export sends no statement here.
        written = {row[1] for row in variant_rows} | {row[1] for row in new_variant_rows}
        with_variants = {
            existing[o.id].product_pk
            for o in accepted
            if o.variant_id is not None and o.id in existing and existing[o.id].product_pk in written
        }
        self.writer.update_in(
            PRODUCTVARIANT_TABLE,
            {"is_active": False},
            "product_id",
            sorted(with_variants),
            where="is_default = TRUE AND is_active = TRUE",
        )
        self._advance("offers", "Предложения", len(offers))

    def _price_parts(self, offer: cml.Offer) -> tuple[list[tuple[int, Decimal, str]], str]:
        """The offer's prices resolved to (price type pk, value, currency), sorted, and their hash;
        computed once per offer (unknown price types are reported once)."""
        cached = self._parts_cache.get(("prices", offer.id))
        if cached is not None:
            return cached
        counters = self.report.entity("prices")
        resolved = []
        for price in offer.prices:
            known = self.price_types.get(price.price_type_id)
            if known is None:
                counters.skipped += 1
                self.report.warning("prices", offer.id, f"неизвестный тип цен {price.price_type_id}", file=self._file)
                continue
            resolved.append((known[0], price.value, (price.currency or known[1])[:8]))
        resolved.sort()
        parts = (resolved, _marshal_digest([(pt, str(value), currency) for pt, value, currency in resolved]))
        self._parts_cache[("prices", offer.id)] = parts
        return parts

    def _stock_parts(self, offer: cml.Offer) -> tuple[dict[int, Decimal], Decimal, str]:
        """The offer's stock per warehouse pk, its total and their hash; computed once per offer."""
        cached = self._parts_cache.get(("stock", offer.id))
        if cached is not None:
            return cached
        counters = self.report.entity("stock")
        per_warehouse: dict[int, Decimal] = {}
        for stock in offer.stocks:
            warehouse = self.warehouses.get(stock.warehouse_id)
            if warehouse is None:
                counters.skipped += 1
                self.report.warning("stock", offer.id, f"неизвестный склад {stock.warehouse_id}", file=self._file)
                continue
            per_warehouse[warehouse] = per_warehouse.get(warehouse, Decimal(0)) + stock.quantity
        total = offer.quantity if offer.quantity is not None else sum(per_warehouse.values(), Decimal(0))
        digest = _marshal_digest(([(w, str(q)) for w, q in sorted(per_warehouse.items())], str(total)))
        parts = (per_warehouse, total, digest)
        self._parts_cache[("stock", offer.id)] = parts
        return parts

    def _write_prices(self, offers: list[cml.Offer], variants: dict[str, _ExistingVariant]) -> None:
        counters = self.report.entity("prices")
        rows: list[tuple[Any, ...]] = []
        fresh: list[tuple[Any, ...]] = []
        replace: dict[frozenset[int], list[int]] = {}
        for offer in offers:
            variant = variants.get(offer.id)
            if variant is None:
                continue
            resolved, digest = self._price_parts(offer)
            if variant.new:  # inserted by this batch with its hash already
                counters.add("created", len(resolved))
                fresh.extend((variant.pk, pt, value, currency) for pt, value, currency in resolved)
                continue
            if digest == variant.prices_hash:
                counters.unchanged += len(resolved)
                continue
            counters.add("updated" if variant.prices_hash else "created", len(resolved))
            rows.extend((variant.pk, pt, value, currency) for pt, value, currency in resolved)
            variant.prices_hash = digest
            variant.parts_changed = True
            replace.setdefault(frozenset(pt for pt, _, _ in resolved), []).append(variant.pk)
        self.writer.upsert(PRICES, rows)
        self.writer.insert(PRICES, fresh)
        if self._section is not None and not self._section.changes_only:
            # In a full package an offer lists all its prices: drop prices of types it no longer has.
            for kept, pks in replace.items():
                self._delete_except(PRICE_TABLE, "price_type_id", pks, kept)

    def _write_stock(self, offers: list[cml.Offer], variants: dict[str, _ExistingVariant]) -> None:
        counters = self.report.entity("stock")
        rows: list[tuple[Any, ...]] = []
        fresh: list[tuple[Any, ...]] = []
        replace: dict[frozenset[int], list[int]] = {}
        for offer in offers:
            variant = variants.get(offer.id)
            if variant is None:
                continue
            per_warehouse, total, digest = self._stock_parts(offer)
            if variant.new:  # inserted by this batch with its total and hash already
                counters.add("created")
                fresh.extend((variant.pk, warehouse, quantity) for warehouse, quantity in per_warehouse.items())
                continue
            if digest == variant.stock_hash:
                counters.unchanged += 1
                continue
            counters.add("updated" if variant.stock_hash else "created")
            rows.extend((variant.pk, warehouse, quantity) for warehouse, quantity in per_warehouse.items())
            variant.stock_total = total
            variant.stock_hash = digest
            variant.parts_changed = True
            replace.setdefault(frozenset(per_warehouse), []).append(variant.pk)
        self.writer.upsert(STOCKS, rows)
        self.writer.insert(STOCKS, fresh)
        if self._section is not None and not self._section.changes_only:
            for kept, pks in replace.items():
                self._delete_except(STOCK_TABLE, "warehouse_id", pks, kept)

    def _delete_except(self, table: str, column: str, variant_pks: Sequence[int], kept: frozenset[int]) -> None:
        if not kept:
            self.writer.delete_in(table, "variant_id", variant_pks)
            return
        marks = ", ".join(["%s"] * len(kept))
        self.writer.delete_in(table, "variant_id", variant_pks, where=f"{column} NOT IN ({marks})", params=sorted(kept))

    def adopt_file(self, *, seen_products: bytes, seen_variants: bytes, full_catalog: bool, full_offers: bool) -> None:
        """Count an unchanged, skipped file as imported: what it contained still counts for
        deactivation at the end of this import."""
        self.seen_products.add_many(SeenSet.unpack(seen_products))
        self.seen_variants.add_many(SeenSet.unpack(seen_variants))
        self.full_catalog = self.full_catalog or full_catalog
        self.full_offers = self.full_offers or full_offers

    # --- default variants ------------------------------------------------------------------
    def create_missing_default_variants(self) -> int:
        """Give every active 1C product without any variant its default variant, in one statement.

        Every product is sold through variants: a simple product's only variant has the product's
        own Ид, which is the offer Ид 1C sends for it (see catalog.models). The offer creates it
        when it comes; this covers products whose offers have not come (yet).
        """
        qn = self.writer.connection.ops.quote_name
        now = self.writer.adapt(timezone.now())
        empty_list = "'[]'::jsonb" if self.writer.vendor == "postgresql" else "'[]'"
        columns = ", ".join(qn(c) for c in (*VARIANT_COLUMNS, "created_at", "updated_at"))
        with transaction.atomic(), self.writer.connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {qn(PRODUCTVARIANT_TABLE)} ({columns}) "
                f"SELECT p.onec_id, p.id, p.name, p.article, '', {empty_list}, TRUE, TRUE, 0, '', '', '', %s, %s "
                f"FROM {qn(PRODUCT_TABLE)} p WHERE p.onec_id IS NOT NULL AND p.is_active = TRUE "
                f"AND NOT EXISTS (SELECT 1 FROM {qn(PRODUCTVARIANT_TABLE)} v WHERE v.product_id = p.id) "
                f"AND NOT EXISTS (SELECT 1 FROM {qn(PRODUCTVARIANT_TABLE)} d WHERE d.onec_id = p.onec_id)",
                [now, now],
            )
            return int(cursor.rowcount)

    # --- deactivation ----------------------------------------------------------------------
    def deactivate_missing_products(self, seen: set[int]) -> int:
        """Deactivate 1C products not in ``seen`` (a full catalog did not contain them)."""
        active = Product.objects.filter(is_active=True).exclude(onec_id=None).values_list("pk", flat=True)
        missing = [pk for pk in active.iterator(chunk_size=10_000) if pk not in seen]
        for start in range(0, len(missing), 10_000):
            with transaction.atomic():
                self.writer.update_in(PRODUCT_TABLE, {"is_active": False}, "id", missing[start : start + 10_000])
        self.report.entity("products").deactivated += len(missing)
        return len(missing)

    def deactivate_missing_variants(self, seen: set[int]) -> int:
        """Deactivate 1C offers not in ``seen`` (a full offers package did not contain them)."""
        active = (
            ProductVariant.objects.filter(is_active=True, is_default=False)
            .exclude(onec_id=None)
            .values_list("pk", flat=True)
        )
        missing = [pk for pk in active.iterator(chunk_size=10_000) if pk not in seen]
        for start in range(0, len(missing), 10_000):
            with transaction.atomic():
                self.writer.update_in(PRODUCTVARIANT_TABLE, {"is_active": False}, "id", missing[start : start + 10_000])
        self.report.entity("offers").deactivated += len(missing)
        return len(missing)


# Tables whose state decides whether a file identical to an earlier one may be skipped: any
# write (import, admin, deactivation) moves their latest updated_at or their row count.
STATE_TABLES = (
    (CATEGORY_TABLE, True),
    (PROPERTY_TABLE, True),
    (PROPERTYVALUE_TABLE, False),
    (PRICETYPE_TABLE, True),
    (WAREHOUSE_TABLE, True),
    (PRODUCT_TABLE, True),
    (PRODUCTPROPERTYVALUE_TABLE, False),
    (PRODUCTIMAGE_TABLE, True),
    (PRODUCTVARIANT_TABLE, True),
    (PRICE_TABLE, True),
    (STOCK_TABLE, True),
)


def catalog_state() -> dict[str, list[str | int | None]]:
    """Row count and latest updated_at per catalog table, in one statement."""
    from django.db import connection

    parts = [
        f"SELECT '{table}', COUNT(*), {'MAX(updated_at)' if stamped else 'NULL'} FROM {table}"
        for table, stamped in STATE_TABLES
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        rows = cursor.fetchall()
    return {
        table: [int(count), latest.isoformat() if hasattr(latest, "isoformat") else latest]
        for table, count, latest in rows
    }


# Where 1C puts the pictures of an exchange: Картинка paths are relative to the exchange folder
# and start with import_files/ (../shared/reference/protocol.md §2, filename).
PICTURES_DIR = "import_files"


def pictures_sent(base_dir: Path) -> bool:
    """Whether the exchange folder holds pictures: a catalog file naming them is then imported
    even when its bytes are unchanged, because a picture file may have changed on its own."""
    return (base_dir / PICTURES_DIR).is_dir()


def _remove_unused_images(media_root: Path, names: set[str]) -> None:
    """Delete picture files that no ProductImage row names any more (after the batch committed)."""
    used = set(ProductImage.objects.filter(image__in=names).values_list("image", flat=True))
    for name in names - used:
        target = media_root / name
        if target.resolve().is_relative_to(media_root.resolve()):
            target.unlink(missing_ok=True)


def _clean_image_path(path: str) -> str:
    """Картинка paths are relative to the exchange folder; 1C may write backslashes."""
    cleaned = path.strip().replace("\\", "/").lstrip("/")
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if ".." in parts:
        return ""
    return "/".join(parts)
