"""Set-based writes of the catalog, for a catalog kept in step with another system (1C).

The shop's own edits go through ``catalog.services`` one object at a time; an exchange writes
thousands of rows per batch. What such an importer needs is here, in the catalog app, so that the
catalog's schema is known in one place:

* ``CatalogWriter``: per-batch lookups by 1C Ид and set-based writes of each table (upsert a batch,
  insert new rows with COPY, replace a product's values, prices and stock), a fixed number of
  statements per batch whatever its size (catalog.bulk).
* ``variants_ensure_default``: every active product without variants gets its default variant,
  in one statement (the set-based form of ``catalog.services.product_ensure_default_variant``).
* ``products_deactivate_all_but`` / ``variants_deactivate_all_but``: a full export's "what is
  missing is no longer sold", scoped to the catalogs that export covered.
* ``catalog_state``: a fingerprint of every catalog table (row count, latest change), so a caller
  can tell that nothing changed between two moments.

Row types name the columns a write takes, in order; the table and column names behind them are
taken from the models' ``_meta`` when this module is loaded, so a migration that renames or
drops a column fails at import time, not in the middle of an exchange.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Collection, Container, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from django.db import connection, models, transaction
from django.utils import timezone

from catalog.bulk import BulkWriter, Table
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

# Deactivation updates this many rows per statement and transaction.
DEACTIVATE_CHUNK = 10_000


# --- rows, in the column order of their table ---------------------------------------------------
class CategoryRow(NamedTuple):
    onec_id: str
    name: str
    is_active: bool
    sort_order: int
    content_hash: str


class PropertyRow(NamedTuple):
    onec_id: str
    name: str
    value_type: str
    for_products: bool
    for_offers: bool
    is_active: bool
    content_hash: str


class OptionRow(NamedTuple):
    """A value of a reference property (PropertyValue)."""

    property_id: int
    onec_id: str
    value: str


class PriceTypeRow(NamedTuple):
    onec_id: str
    name: str
    currency: str


class WarehouseRow(NamedTuple):
    onec_id: str
    name: str
    is_active: bool


class ProductRow(NamedTuple):
    onec_id: str
    article: str
    name: str
    description: str
    category_id: int | None
    unit_code: str
    unit_name: str
    is_active: bool
    requisites: dict[str, str]
    content_hash: str
    catalog_onec_id: str


class ProductValueRow(NamedTuple):
    product_id: int
    property_id: int
    value: str
    reference_id: int | None


class ProductImageRow(NamedTuple):
    product_id: int
    image: str
    source_path: str
    position: int
    description: str


class VariantRow(NamedTuple):
    onec_id: str
    product_id: int
    name: str
    article: str
    barcode: str
    characteristics: list[dict[str, str]]
    is_default: bool
    is_active: bool
    stock_total: Decimal
    content_hash: str
    prices_hash: str
    stock_hash: str


class VariantPartsRow(NamedTuple):
    """What a variant's prices and stock rows add up to: their hashes and the stock total."""

    id: int
    prices_hash: str
    stock_total: Decimal
    stock_hash: str


class PriceRow(NamedTuple):
    variant_id: int
    price_type_id: int
    value: Decimal
    currency: str


class StockRow(NamedTuple):
    variant_id: int
    warehouse_id: int
    quantity: Decimal


# --- what is stored -------------------------------------------------------------------------------
class StoredCategory(NamedTuple):
    pk: int
    content_hash: str
    parent_id: int | None


class StoredProduct(NamedTuple):
    pk: int
    content_hash: str
    is_active: bool
    # Site fields (catalog.models.PRODUCT_SITE_FIELDS) a manager edited on the site.
    site_edited_fields: frozenset[str]


class StoredVariant(NamedTuple):
    pk: int
    product_id: int
    content_hash: str
    prices_hash: str
    stock_hash: str
    stock_total: Decimal
    is_active: bool
    is_default: bool


class StoredImage(NamedTuple):
    pk: int
    product_id: int
    source_path: str
    image: str


@dataclass
class CatalogIds:
    """The catalog's small reference tables as 1C Ид -> what an importer resolves them to."""

    categories: dict[str, int]
    properties: dict[str, tuple[int, str]]  # Ид -> (pk, value_type)
    options: dict[tuple[int, str], tuple[int, str]]  # (property pk, Ид) -> (pk, value)
    price_types: dict[str, tuple[int, str]]  # Ид -> (pk, currency)
    warehouses: dict[str, int]


# --- tables ---------------------------------------------------------------------------------------
def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, f"{model.__name__}.{name} is not a column"
    return str(field.column)


def _name(model: type[models.Model], *fields: str) -> tuple[str, ...]:
    return tuple(_column(model, name) for name in fields)


def _table(
    model: type[models.Model],
    row: type[tuple[Any, ...]] | Sequence[str],
    *,
    key: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
    timestamps: bool = True,
    json_columns: frozenset[str] = frozenset(),
) -> Table:
    """A BulkWriter table of a catalog model; fields by name or attname (``category_id``)."""
    columns = row._fields if isinstance(row, type) else row  # type: ignore[attr-defined]
    return Table(
        model._meta.db_table,
        _name(model, *columns),
        key=_name(model, *key),
        update=_name(model, *update),
        timestamps=timestamps,
        json_columns=frozenset(_name(model, *json_columns)),
    )


def _rest(row: type[tuple[Any, ...]], *key: str) -> tuple[str, ...]:
    return tuple(name for name in row._fields if name not in key)  # type: ignore[attr-defined]


CATEGORIES = _table(Category, CategoryRow, key=("onec_id",), update=_rest(CategoryRow, "onec_id"))
CATEGORY_PARENTS = _table(Category, ("id", "parent_id"), key=("id",), update=("parent_id",))
PROPERTIES = _table(Property, PropertyRow, key=("onec_id",), update=_rest(PropertyRow, "onec_id"))
OPTIONS = _table(PropertyValue, OptionRow, key=("property_id", "onec_id"), update=("value",), timestamps=False)
PRICE_TYPES = _table(PriceType, PriceTypeRow, key=("onec_id",), update=_rest(PriceTypeRow, "onec_id"))
WAREHOUSES = _table(Warehouse, WarehouseRow, key=("onec_id",), update=_rest(WarehouseRow, "onec_id"))
PRODUCTS = _table(
    Product,
    ProductRow,
    key=("onec_id",),
    update=_rest(ProductRow, "onec_id"),
    json_columns=frozenset({"requisites"}),
)
PRODUCT_VALUES = _table(ProductPropertyValue, ProductValueRow, timestamps=False)
PRODUCT_IMAGES = _table(ProductImage, ProductImageRow)
PRODUCT_IMAGE_FILES = _table(ProductImage, ("id", "image"), key=("id",), update=("image",))
VARIANTS = _table(
    ProductVariant,
    VariantRow,
    key=("onec_id",),
    # is_default, prices and stock are not the variant's own attributes: an update leaves them.
    update=("product_id", "name", "article", "barcode", "characteristics", "is_active", "content_hash"),
    json_columns=frozenset({"characteristics"}),
)
VARIANT_PARTS = _table(ProductVariant, VariantPartsRow, key=("id",), update=_rest(VariantPartsRow, "id"))
PRICES = _table(Price, PriceRow, key=("variant_id", "price_type_id"), update=("value", "currency"))
STOCKS = _table(Stock, StockRow, key=("variant_id", "warehouse_id"), update=("quantity",))

# Product fields behind each site field name (catalog.models.PRODUCT_SITE_FIELDS); "images" is
# the picture list, which a writer keeps by not touching the product's pictures at all.
SITE_FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "article": ("article",),
    "description": ("description",),
    "category": ("category_id",),
    "unit": ("unit_code", "unit_name"),
    "images": (),
}


@functools.cache
def _products_keeping(kept: frozenset[str]) -> Table:
    """PRODUCTS whose merge leaves the columns of the site fields ``kept`` as they are."""
    columns = {_column(Product, name) for site_field in kept for name in SITE_FIELD_COLUMNS[site_field]}
    return dataclasses.replace(PRODUCTS, update=tuple(c for c in PRODUCTS.update if c not in columns))


def _json_list(value: Any) -> list[Any]:
    """A JSON list column as read by a raw cursor: text on PostgreSQL (Django's loader) and SQLite."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, list) else []


_CATEGORY_LOOKUP = _name(Category, "onec_id", "id", "content_hash", "parent_id")
_PRODUCT_LOOKUP = _name(Product, "onec_id", "id", "content_hash", "is_active", "site_edited_fields")
_VARIANT_LOOKUP = _name(
    ProductVariant,
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
_IMAGE_LOOKUP = _name(ProductImage, "id", "product_id", "source_path", "image")
_ONEC_ID = "onec_id"  # the same column name in every catalog table (checked below)
assert all(
    _column(model, "onec_id") == _ONEC_ID
    for model in (Category, Property, PriceType, Warehouse, Product, ProductVariant)
)


class CatalogWriter:
    """Lookups by 1C Ид and set-based writes of the catalog tables, on one connection, inside the
    caller's transaction (one per batch). Each method is one statement, or a fixed few."""

    def __init__(self, using: str = "default") -> None:
        self.bulk = BulkWriter(using)

    def relax_commit(self) -> None:
        self.bulk.relax_commit()

    def _pks(self, model: type[models.Model], onec_ids: Sequence[str]) -> dict[str, int]:
        return dict(self.bulk.select_in(model._meta.db_table, (_ONEC_ID, "id"), _ONEC_ID, onec_ids))

    # --- categories ------------------------------------------------------------------------------
    def categories_stored(self, onec_ids: Sequence[str]) -> dict[str, StoredCategory]:
        rows = self.bulk.select_in(CATEGORIES.name, _CATEGORY_LOOKUP, _ONEC_ID, onec_ids)
        return {row[0]: StoredCategory(*row[1:]) for row in rows}

    def categories_upsert(self, rows: Sequence[CategoryRow]) -> None:
        self.bulk.upsert(CATEGORIES, rows)

    def categories_pks(self, onec_ids: Sequence[str]) -> dict[str, int]:
        return self._pks(Category, onec_ids)

    def categories_set_parents(self, parents: Sequence[tuple[int, int | None]]) -> None:
        """(category pk, parent pk or None) pairs."""
        self.bulk.update_rows(CATEGORY_PARENTS, parents)

    # --- properties ------------------------------------------------------------------------------
    def properties_hashes(self, onec_ids: Sequence[str]) -> dict[str, str]:
        return dict(self.bulk.select_in(PROPERTIES.name, (_ONEC_ID, "content_hash"), _ONEC_ID, onec_ids))

    def properties_upsert(self, rows: Sequence[PropertyRow]) -> None:
        self.bulk.upsert(PROPERTIES, rows)

    def properties_pks(self, onec_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Ид -> (pk, value type)."""
        columns = (_ONEC_ID, "id", _column(Property, "value_type"))
        return {o: (pk, vt) for o, pk, vt in self.bulk.select_in(PROPERTIES.name, columns, _ONEC_ID, onec_ids)}

    def options_upsert(self, rows: Sequence[OptionRow]) -> None:
        self.bulk.upsert(OPTIONS, rows)

    def options_of(self, property_pks: Sequence[int]) -> dict[tuple[int, str], tuple[int, str]]:
        """(property pk, Ид) -> (pk, value) of the options of these properties."""
        columns = _name(PropertyValue, "property_id", "onec_id", "id", "value")
        return {
            (prop, o): (pk, value)
            for prop, o, pk, value in self.bulk.select_in(OPTIONS.name, columns, columns[0], property_pks)
        }

    # --- price types and warehouses --------------------------------------------------------------
    def price_types_stored(self, onec_ids: Sequence[str]) -> dict[str, tuple[int, PriceTypeRow]]:
        return {
            row[1]: (row[0], PriceTypeRow(*row[1:]))
            for row in self.bulk.select_in(PRICE_TYPES.name, ("id", *PRICE_TYPES.columns), _ONEC_ID, onec_ids)
        }

    def price_types_upsert(self, rows: Sequence[PriceTypeRow]) -> None:
        self.bulk.upsert(PRICE_TYPES, rows)

    def warehouses_stored(self, onec_ids: Sequence[str]) -> dict[str, tuple[int, WarehouseRow]]:
        return {
            row[1]: (row[0], WarehouseRow(*row[1:]))
            for row in self.bulk.select_in(WAREHOUSES.name, ("id", *WAREHOUSES.columns), _ONEC_ID, onec_ids)
        }

    def warehouses_upsert(self, rows: Sequence[WarehouseRow]) -> None:
        self.bulk.upsert(WAREHOUSES, rows)

    # --- products --------------------------------------------------------------------------------
    def products_stored(self, onec_ids: Sequence[str]) -> dict[str, StoredProduct]:
        return {
            onec_id: StoredProduct(pk, content_hash, is_active, frozenset(_json_list(edited)))
            for onec_id, pk, content_hash, is_active, edited in self.bulk.select_in(
                PRODUCTS.name, _PRODUCT_LOOKUP, _ONEC_ID, onec_ids
            )
        }

    def products_pks(self, onec_ids: Sequence[str]) -> dict[str, int]:
        return self._pks(Product, onec_ids)

    def products_upsert(self, rows: Sequence[ProductRow], *, keep: frozenset[str] = frozenset()) -> None:
        """Insert or update products; ``keep``: site fields whose columns an update leaves alone."""
        self.bulk.upsert(_products_keeping(keep) if keep else PRODUCTS, rows)

    def products_insert(self, rows: Sequence[ProductRow]) -> None:
        """Products not stored yet, straight in with COPY (no merge)."""
        self.bulk.insert(PRODUCTS, rows)

    def product_values_replace(self, product_pks: Sequence[int], rows: Sequence[ProductValueRow]) -> None:
        """The property values of these products become ``rows``."""
        self.bulk.delete_in(PRODUCT_VALUES.name, _column(ProductPropertyValue, "product_id"), product_pks)
        self.bulk.insert(PRODUCT_VALUES, rows)

    def product_images_of(self, product_pks: Sequence[int]) -> list[StoredImage]:
        rows = self.bulk.select_in(PRODUCT_IMAGES.name, _IMAGE_LOOKUP, _IMAGE_LOOKUP[1], product_pks)
        return [StoredImage(*row) for row in rows]

    def product_images_apply(
        self,
        *,
        delete: Sequence[int] = (),
        replace: Sequence[tuple[int, str]] = (),
        add: Sequence[ProductImageRow] = (),
    ) -> None:
        """Remove picture rows by pk, point rows at another file ((pk, image) pairs), add rows."""
        self.bulk.delete_in(PRODUCT_IMAGES.name, "id", delete)
        self.bulk.update_rows(PRODUCT_IMAGE_FILES, replace)
        self.bulk.insert(PRODUCT_IMAGES, add)

    # --- variants, prices, stock -----------------------------------------------------------------
    def variants_stored(self, onec_ids: Sequence[str]) -> dict[str, StoredVariant]:
        rows = self.bulk.select_in(VARIANTS.name, _VARIANT_LOOKUP, _ONEC_ID, onec_ids)
        return {row[0]: StoredVariant(*row[1:]) for row in rows}

    def variants_pks(self, onec_ids: Sequence[str]) -> dict[str, int]:
        return self._pks(ProductVariant, onec_ids)

    def variants_upsert(self, rows: Sequence[VariantRow]) -> None:
        self.bulk.upsert(VARIANTS, rows)

    def variants_insert(self, rows: Sequence[VariantRow]) -> None:
        self.bulk.insert(VARIANTS, rows)

    def variants_set_parts(self, rows: Sequence[VariantPartsRow]) -> None:
        self.bulk.update_rows(VARIANT_PARTS, rows)

    def default_variants_hide(self, product_pks: Sequence[int]) -> None:
        """Products sold by characteristics have no sale of their own: their active default
        variants are deactivated."""
        is_default, is_active = _name(ProductVariant, "is_default", "is_active")
        self.bulk.update_in(
            VARIANTS.name,
            {is_active: False},
            _column(ProductVariant, "product_id"),
            product_pks,
            where=f"{is_default} = TRUE AND {is_active} = TRUE",
        )

    def prices_upsert(self, rows: Sequence[PriceRow]) -> None:
        self.bulk.upsert(PRICES, rows)

    def prices_insert(self, rows: Sequence[PriceRow]) -> None:
        """Prices of variants created in this batch (they have none to merge with)."""
        self.bulk.insert(PRICES, rows)

    def prices_delete_except(self, variant_pks: Sequence[int], kept_price_types: Collection[int]) -> None:
        """Delete the prices of these variants whose price type is not in ``kept_price_types``."""
        self._delete_except(PRICES, "price_type_id", variant_pks, kept_price_types)

    def stocks_upsert(self, rows: Sequence[StockRow]) -> None:
        self.bulk.upsert(STOCKS, rows)

    def stocks_insert(self, rows: Sequence[StockRow]) -> None:
        self.bulk.insert(STOCKS, rows)

    def stocks_delete_except(self, variant_pks: Sequence[int], kept_warehouses: Collection[int]) -> None:
        self._delete_except(STOCKS, "warehouse_id", variant_pks, kept_warehouses)

    def _delete_except(self, table: Table, column: str, variant_pks: Sequence[int], kept: Collection[int]) -> None:
        variant = table.key[0]
        if not kept:
            self.bulk.delete_in(table.name, variant, variant_pks)
            return
        marks = ", ".join(["%s"] * len(kept))
        self.bulk.delete_in(table.name, variant, variant_pks, where=f"{column} NOT IN ({marks})", params=sorted(kept))


# --- whole-catalog services ----------------------------------------------------------------------
def catalog_ids() -> CatalogIds:
    """The identity maps of the small reference tables (a few thousand rows at most)."""
    return CatalogIds(
        categories={o: pk for o, pk in Category.objects.values_list("onec_id", "pk") if o},
        properties={
            o: (pk, value_type)
            for o, pk, value_type in Property.objects.values_list("onec_id", "pk", "value_type")
            if o
        },
        options={
            (prop, o): (pk, value)
            for prop, o, pk, value in PropertyValue.objects.values_list("property_id", "onec_id", "pk", "value")
        },
        price_types={
            o: (pk, currency) for o, pk, currency in PriceType.objects.values_list("onec_id", "pk", "currency") if o
        },
        warehouses={o: pk for o, pk in Warehouse.objects.values_list("onec_id", "pk") if o},
    )


def variants_ensure_default() -> int:
    """Give every active product with a 1C Ид and no variant at all its default variant, in one
    statement; returns how many were created.

    A simple product's only variant carries the product's own Ид, which is the offer Ид 1C sends
    for it (see catalog.models), so the offer, when it comes, updates this variant. A product
    whose Ид is taken by a variant of another product gets none.
    """
    writer = BulkWriter()
    qn = writer.connection.ops.quote_name
    now = writer.adapt(timezone.now())
    empty_list = "'[]'::jsonb" if writer.vendor == "postgresql" else "'[]'"
    variant_table, product_table = qn(VARIANTS.name), qn(PRODUCTS.name)
    v = {name: qn(_column(ProductVariant, name)) for name in ("product_id", "onec_id")}
    p = {name: qn(_column(Product, name)) for name in ("id", "onec_id", "name", "article", "is_active")}
    # The default variant's values, in VariantRow order: taken from the product where it has them.
    values = {
        "onec_id": f"p.{p['onec_id']}",
        "product_id": f"p.{p['id']}",
        "name": f"p.{p['name']}",
        "article": f"p.{p['article']}",
        "barcode": "''",
        "characteristics": empty_list,
        "is_default": "TRUE",
        "is_active": "TRUE",
        "stock_total": "0",
        "content_hash": "''",
        "prices_hash": "''",
        "stock_hash": "''",
    }
    assert tuple(values) == VariantRow._fields
    columns = ", ".join(qn(c) for c in (*VARIANTS.columns, "created_at", "updated_at"))
    with transaction.atomic(), writer.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {variant_table} ({columns}) SELECT {', '.join(values.values())}, %s, %s "
            f"FROM {product_table} p WHERE p.{p['onec_id']} IS NOT NULL AND p.{p['is_active']} = TRUE "
            f"AND NOT EXISTS (SELECT 1 FROM {variant_table} v WHERE v.{v['product_id']} = p.{p['id']}) "
            f"AND NOT EXISTS (SELECT 1 FROM {variant_table} d WHERE d.{v['onec_id']} = p.{p['onec_id']})",
            [now, now],
        )
        return int(cursor.rowcount)


def _deactivate_all_but(model: type[models.Model], active: models.QuerySet[Any], seen: Container[int]) -> int:
    # One plain fetch of the pks (8 bytes each: 100k products are under a megabyte), not a
    # server-side cursor: PostgreSQL plans a cursor for its first rows, and right after a big
    # import (statistics not yet refreshed) that plan took 4.6 s for 6k variants, this 0.03 s.
    missing = [pk for pk in active.order_by().values_list("pk", flat=True) if pk not in seen]
    writer = BulkWriter()
    for start in range(0, len(missing), DEACTIVATE_CHUNK):
        with transaction.atomic():
            writer.update_in(
                model._meta.db_table,
                {_column(model, "is_active"): False},
                "id",
                missing[start : start + DEACTIVATE_CHUNK],
            )
    return len(missing)


def products_deactivate_all_but(*, seen: Container[int], catalogs: Collection[str]) -> int:
    """Deactivate the active products from 1C of ``catalogs`` (Каталог/Ид) whose pk is not in
    ``seen``; returns how many. Products of no known catalog ("", imported before catalogs were
    recorded) are in every scope; products of other catalogs are never touched."""
    active = Product.objects.filter(is_active=True, catalog_onec_id__in=[*catalogs, ""]).exclude(onec_id=None)
    return _deactivate_all_but(Product, active, seen)


def variants_deactivate_all_but(*, seen: Container[int], catalogs: Collection[str]) -> int:
    """Deactivate the active 1C offers (not default variants) of products of ``catalogs`` whose
    pk is not in ``seen``; scoped like products_deactivate_all_but."""
    active = ProductVariant.objects.filter(
        is_active=True, is_default=False, product__catalog_onec_id__in=[*catalogs, ""]
    ).exclude(onec_id=None)
    return _deactivate_all_but(ProductVariant, active, seen)


# Tables whose state tells whether anything in the catalog changed: any write (an import, the
# admin, a deactivation) moves their latest updated_at or their row count.
_STATE_MODELS: tuple[type[models.Model], ...] = (
    Category,
    Property,
    PropertyValue,
    PriceType,
    Warehouse,
    Product,
    ProductPropertyValue,
    ProductImage,
    ProductVariant,
    Price,
    Stock,
)


def catalog_state() -> dict[str, list[str | int | None]]:
    """Row count and latest ``updated_at`` per catalog table, in one statement."""
    qn = connection.ops.quote_name
    parts = []
    for model in _STATE_MODELS:
        table = model._meta.db_table
        stamped = any(f.name == "updated_at" for f in model._meta.concrete_fields)
        latest = f"MAX({qn(_column(model, 'updated_at'))})" if stamped else "NULL"
        parts.append(f"SELECT '{table}', COUNT(*), {latest} FROM {qn(table)}")
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        rows = cursor.fetchall()
    return {
        table: [int(count), latest.isoformat() if hasattr(latest, "isoformat") else latest]
        for table, count, latest in rows
    }


def images_remove_unused(*, media_root: Path, names: Collection[str]) -> None:
    """Delete the picture files among ``names`` that no ProductImage row names any more (call it
    after the transaction that released them committed)."""
    used = set(ProductImage.objects.filter(image__in=list(names)).values_list("image", flat=True))
    root = media_root.resolve()
    for name in set(names) - used:
        target = media_root / name
        if target.resolve().is_relative_to(root):
            target.unlink(missing_ok=True)
