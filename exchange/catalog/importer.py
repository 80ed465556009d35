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

import hashlib
import logging
import os
import re
import shutil
from array import array
from collections.abc import Callable, Collection, Container, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from catalog.sync import (
    CatalogWriter,
    CategoryRow,
    OptionRow,
    PriceRow,
    PriceTypeRow,
    ProductImageRow,
    ProductRow,
    ProductValueRow,
    PropertyRow,
    StockRow,
    StoredVariant,
    VariantPartsRow,
    VariantRow,
    WarehouseRow,
    catalog_ids,
    images_remove_unused,
    products_deactivate_all_but,
    variants_deactivate_all_but,
    variants_ensure_default,
)
from commerceml import records as cml
from commerceml.digests import (
    CATALOG_ID_LENGTH,
    SealedOffer,
    SealedProduct,
    combine,
    digest_of,
    seal_offer,
    seal_product,
)
from exchange.catalog.limits import catalog_limits
from exchange.catalog.pipeline import read_ahead
from exchange.conf import exchange_settings
from exchange.report import ImportReport

logger = logging.getLogger(__name__)

ReferenceRow = TypeVar("ReferenceRow", PriceTypeRow, WarehouseRow)

# Measured on the 100k-product benchmark catalog (2 cores, PostgreSQL 15): 1000 keeps each
# COPY + merge around 50-100 ms and progress updates frequent; 5000 was no faster.
BATCH_SIZE = 1000

DEFAULT_UNIT_NAMES = {"796": "шт"}


def _digest(value: object) -> str:
    """A stable content hash of a small record (groups, properties): the repr of the dataclass."""
    return hashlib.blake2b(repr(value).encode("utf-8"), digest_size=16).hexdigest()


@dataclass(slots=True)
class _ExistingVariant:
    """A stored variant as this batch changes it: its prices' and stock's hashes and its stock
    total move when they are written (then ``parts_changed``)."""

    stored: StoredVariant
    prices_hash: str
    stock_hash: str
    stock_total: Decimal
    # Created by this batch: it cannot have price or stock rows yet, so they are COPYed
    # straight into their tables instead of going through the staging merge.
    new: bool = False
    parts_changed: bool = False

    @property
    def pk(self) -> int:
        return self.stored.pk

    @property
    def product_pk(self) -> int:
        return self.stored.product_id


def _variant(stored: StoredVariant, *, new: bool = False) -> _ExistingVariant:
    return _ExistingVariant(stored, stored.prices_hash, stored.stock_hash, stored.stock_total, new=new)


_NONZERO = re.compile(rb"[^\x00]")


class SeenSet:
    """Primary keys seen by an import, as a bitmap: primary keys are dense integers, so the 140k
    variants of a 100k catalog take about 18 kB here, where a set of ints took 8 MB (and an
    import, its files and its package's close each held one). Stored packed as sorted int64."""

    __slots__ = ("_bits",)

    def __init__(self) -> None:
        self._bits = bytearray()

    def add_many(self, pks: Iterable[int]) -> None:
        bits = self._bits
        for pk in pks:
            index = pk >> 3
            if index >= len(bits):
                bits.extend(bytes(max(index + 1 - len(bits), len(bits))))  # at least doubled
            bits[index] |= 1 << (pk & 7)

    def update(self, other: SeenSet) -> None:
        """Add every key of ``other``."""
        if len(other._bits) > len(self._bits):
            self._bits.extend(bytes(len(other._bits) - len(self._bits)))
        merged = int.from_bytes(self._bits, "little") | int.from_bytes(other._bits, "little")
        self._bits = bytearray(merged.to_bytes(len(self._bits), "little"))

    def __contains__(self, pk: object) -> bool:
        if not isinstance(pk, int):
            return False
        index = pk >> 3
        return index < len(self._bits) and bool(self._bits[index] >> (pk & 7) & 1)

    def __iter__(self) -> Iterator[int]:
        bits = self._bits
        for found in _NONZERO.finditer(bits):  # runs of empty bytes are skipped in C
            index = found.start()
            byte, base = bits[index], index << 3
            for bit in range(8):
                if byte >> bit & 1:
                    yield base + bit

    def __bool__(self) -> bool:
        return any(self._bits)

    def pack(self) -> bytes:
        return array("q", self).tobytes()

    @staticmethod
    def unpack(data: bytes | memoryview | None) -> SeenSet:
        seen = SeenSet()
        if data:
            packed = array("q")
            packed.frombytes(bytes(data))
            seen.add_many(packed)
        return seen


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
    SealedProduct: "products",
    SealedOffer: "offers",
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
        self.writer = CatalogWriter()
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
        # Fingerprints of the price types and warehouses known (see _prices_hash), None when stale.
        self._price_types_context: str | None = None
        self._warehouses_context: str | None = None
        self.site_owned = exchange_settings().site_owned_fields
        self.limits = catalog_limits()

    # --- identity maps ---------------------------------------------------------------------
    def _load_maps(self) -> None:
        if self._maps_loaded:
            return
        ids = catalog_ids()
        self.categories, self.properties, self.options = ids.categories, ids.properties, ids.options
        self.price_types, self.warehouses = ids.price_types, ids.warehouses
        self._price_types_context = self._warehouses_context = None
        self._maps_loaded = True

    # --- driving ---------------------------------------------------------------------------
    def import_records(
        self,
        records: Iterable[cml.Record | SealedProduct | SealedOffer],
        *,
        file_label: str,
        totals: dict[str, int | None],
    ) -> None:
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
                # Products and offers are written from their seals (commerceml.digests): a
                # record read in this process is sealed here, one parsed in a child came sealed.
                if kind is cml.Product:
                    record = seal_product(record, self._catalog_id, packed=False)  # type: ignore[arg-type]
                    kind = SealedProduct
                elif kind is cml.Offer:
                    record = seal_offer(record, packed=False)  # type: ignore[arg-type]
                    kind = SealedOffer
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
                # Products and offers are checked in their batch, and only when they differ from
                # what is stored: an unchanged row passed the same checks when it was written.
                if kind is not SealedProduct and kind is not SealedOffer and not self._fits(record):
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
        return ((self._section.catalog_id if self._section is not None else None) or "")[:CATALOG_ID_LENGTH]

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
        """Why a value of ``record`` does not fit its column (exchange.catalog.limits), or None."""
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

    def _fits(self, record: Any) -> bool:
        """Whether the record's values fit their columns; if not, it is refused (_refuse)."""
        problem = self._problem(record)
        if problem is None:
            return True
        self._refuse(record, problem)
        return False

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
            pks = list(self.writer.products_pks(products).values())
            self.seen_products.add_many(pks)
            self.file_seen_products.add_many(pks)
        if offers:
            pks = list(self.writer.variants_pks(offers).values())
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
            SealedProduct: self._write_products,
            SealedOffer: self._write_offers,
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
        existing = self.writer.categories_stored([g.id for g in groups])
        rows, changed = [], []
        for position, group in enumerate(groups):
            digest = _digest(group)
            before = existing.get(group.id)
            if before and before.content_hash == digest:
                counters.unchanged += 1
                continue
            counters.add("updated" if before else "created")
            rows.append(CategoryRow(group.id, group.name, not group.deleted, position, digest))
            changed.append(group)
        self.writer.categories_upsert(rows)
        if changed:
            ids = {g.id for g in changed} | {g.parent_id for g in changed if g.parent_id}
            self.categories.update(self.writer.categories_pks(list(ids)))
            self.writer.categories_set_parents(
                [(self.categories[g.id], self.categories.get(g.parent_id) if g.parent_id else None) for g in changed],
            )
        self._advance("groups", "Группы", len(groups))

    def _write_properties(self, properties: list[cml.Property]) -> None:
        counters = self.report.entity("properties")
        existing = self.writer.properties_hashes([p.id for p in properties])
        changed = [p for p in properties if existing.get(p.id) != _digest(p)]
        counters.unchanged += len(properties) - len(changed)
        for prop in changed:
            counters.add("updated" if prop.id in existing else "created")
        self.writer.properties_upsert(
            [
                PropertyRow(p.id, p.name, str(p.value_type), p.for_products, p.for_offers, not p.deleted, _digest(p))
                for p in changed
            ]
        )
        if not changed:
            return
        self.properties.update(self.writer.properties_pks([p.id for p in changed]))
        self.writer.options_upsert(
            [OptionRow(self.properties[p.id][0], option.id, option.value) for p in changed for option in p.values]
        )
        self.options.update(self.writer.options_of([self.properties[p.id][0] for p in changed]))

    def _write_price_types(self, price_types: list[cml.PriceType]) -> None:
        # Price types and warehouses come with every offers file (and 3.1 prices/rests files):
        # only rows whose values differ from what is stored are written and counted as changed.
        counters = self.report.entity("price_types")
        currency_default = settings.SHOP_CURRENCY
        wanted = {p.id: PriceTypeRow(p.id, p.name, (p.currency or currency_default)[:8]) for p in price_types}
        stored = self.writer.price_types_stored(list(wanted))
        rows = self._changed_reference(counters, wanted, {k: row for k, (_, row) in stored.items()})
        self.writer.price_types_upsert(rows)
        if rows:
            stored = self.writer.price_types_stored(list(wanted))
        for onec_id, (pk, (_, _, currency)) in stored.items():
            self.price_types[onec_id] = (pk, currency)
        self._price_types_context = None

    def _write_warehouses(self, warehouses: list[cml.Warehouse]) -> None:
        counters = self.report.entity("warehouses")
        wanted = {w.id: WarehouseRow(w.id, w.name, not w.deleted) for w in warehouses}
        stored = self.writer.warehouses_stored(list(wanted))
        rows = self._changed_reference(counters, wanted, {k: row for k, (_, row) in stored.items()})
        self.writer.warehouses_upsert(rows)
        if rows:
            stored = self.writer.warehouses_stored(list(wanted))
        for onec_id, (pk, _) in stored.items():
            self.warehouses[onec_id] = pk
        self._warehouses_context = None

    @staticmethod
    def _changed_reference(
        counters: Any, wanted: dict[str, ReferenceRow], stored: dict[str, ReferenceRow]
    ) -> list[ReferenceRow]:
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

    def _product_row(self, product: cml.Product, digest: str) -> ProductRow:
        category = None
        for group_id in product.group_ids:
            category = self.categories.get(group_id)
            if category is not None:
                break
        unit_code, unit_name = self._unit(product.unit)
        return ProductRow(
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

    def _write_products(self, products: list[SealedProduct]) -> None:
        counters = self.report.entity("products")
        products = list({product.id: product for product in products}.values())  # the last of a repeated Ид wins
        owned = self.site_owned
        existing = self.writer.products_stored([p.id for p in products])
        # Site-owned fields (EXCHANGE_SITE_OWNED_FIELDS) a manager edited: 1C leaves them alone.
        kept = {onec_id: owned & before.site_edited_fields for onec_id, before in existing.items()}
        changed: list[cml.Product] = []
        rows: list[ProductRow] = []
        keeping: dict[frozenset[str], list[ProductRow]] = {}
        fresh: list[ProductRow] = []
        for sealed in products:
            digest = sealed.digest  # includes the catalog: a product moved to another catalog changed
            before = existing.get(sealed.id)
            # A product deactivated because a full catalog missed it is changed even when its
            # content is not: it must come back.
            if before and before.content_hash == digest and before.is_active == (not sealed.deleted):
                counters.unchanged += 1
                continue
            if sealed.deleted and before is None:
                counters.skipped += 1  # deletion of a product the site never had
                continue
            product = sealed.open()
            if not self._fits(product):
                continue
            if product.deleted:
                counters.add("deactivated" if before and before.is_active else "unchanged")
            else:
                counters.add("updated" if before else "created")
            changed.append(product)
            row = self._product_row(product, digest)
            if before is None:
                fresh.append(row)
            elif kept[product.id]:
                keeping.setdefault(kept[product.id], []).append(row)
            else:
                rows.append(row)
        # New rows go straight in with COPY; only rows that exist take the merge path. No one
        # else writes 1C products meanwhile: the import lock is held and onec_id is read-only.
        self.writer.products_upsert(rows)
        for fields, kept_rows in keeping.items():
            self.writer.products_upsert(kept_rows, keep=fields)
        self.writer.products_insert(fresh)

        pks = {onec_id: before.pk for onec_id, before in existing.items()}
        pks.update(self.writer.products_pks([p.id for p in changed if p.id not in pks]))
        self.seen_products.add_many(pks.values())
        self.file_seen_products.add_many(pks.values())
        if changed:
            self._write_product_values(changed, pks)
        keep_images = {onec_id for onec_id, fields in kept.items() if "images" in fields}
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
                    rows.append(ProductValueRow(product_pk, prop_pk, text[:1024], reference))
        self.writer.product_values_replace([pks[p.id] for p in products], rows)

    def _write_product_images(self, products: list[SealedProduct], pks: dict[str, int], *, changed: set[str]) -> None:
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
        for pk, product_pk, source_path, image in self.writer.product_images_of(list(wanted)):
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
                    rows.append(ProductImageRow(product_pk, stored, path, position, ""))
                    counters.created += 1
        self.writer.product_images_apply(delete=to_delete, replace=replaced, add=rows)
        if released:
            media_root = self.media_root
            transaction.on_commit(lambda: images_remove_unused(media_root=media_root, names=released))

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
    def _write_offers(self, offers: list[SealedOffer]) -> None:
        counters = self.report.entity("offers")
        price_counters, stock_counters = self.report.entity("prices"), self.report.entity("stock")
        update_only = self._section is not None and self._section.section == cml.Section.OFFER_CHANGES
        offers = list({offer.id: offer for offer in offers}.values())  # the last of a repeated Ид wins
        existing = {
            onec_id: _variant(stored) for onec_id, stored in self.writer.variants_stored([o.id for o in offers]).items()
        }
        # A stored variant knows its product (the product part of its Ид never changes); only
        # offers new to the site are looked up, so a re-export reads one table per batch, not two.
        unknown = list({o.product_id for o in offers if o.id not in existing})
        products = self.writer.products_pks(unknown)
        variant_rows: list[VariantRow] = []
        new_variant_rows: list[VariantRow] = []
        accepted: list[SealedOffer] = []  # in the file and applied (or unchanged): seen
        # Offers whose prices (stock) are written: Ид, hash, and what they resolve to.
        new_prices: list[tuple[str, str, list[tuple[int, Decimal, str]]]] = []
        new_stock: list[tuple[str, str, tuple[dict[int, Decimal], Decimal]]] = []
        for sealed in offers:
            before = existing.get(sealed.id)
            # A value that does not fit is the element's error, whatever else is wrong with it.
            offer = sealed.open() if before is None else None
            if offer is not None and not self._fits(offer):
                continue
            product_pk = before.product_pk if before is not None else products.get(sealed.product_id)
            if product_pk is None:
                counters.skipped += 1
                self.report.warning("offers", sealed.id, "предложение для неизвестного товара", file=self._file)
                continue
            if before is None and (update_only or not sealed.carries_attributes) and sealed.variant_id is not None:
                # A price or stock line for a characteristic the site was never told about.
                counters.skipped += 1
                self.report.warning("offers", sealed.id, "неизвестное предложение", file=self._file)
                continue
            attributes_unchanged = before is not None and (
                not sealed.carries_attributes
                or (before.stored.content_hash == sealed.digest and before.stored.is_active == (not sealed.deleted))
            )
            prices_hash = self._prices_hash(sealed) if sealed.has_prices else ""
            stock_hash = self._stock_hash(sealed) if sealed.has_stock else ""
            prices_changed = sealed.has_prices and (before is None or prices_hash != before.prices_hash)
            stock_changed = sealed.has_stock and (before is None or stock_hash != before.stock_hash)
            if before is not None:
                # Nearly every offer of a re-export is unchanged: decided on its seal, never opened.
                unchanged = attributes_unchanged and not prices_changed and not stock_changed
                if not unchanged:
                    offer = sealed.open()
                    if not self._fits(offer):
                        continue
                if sealed.has_prices and not prices_changed:
                    price_counters.unchanged += sealed.price_count
                if sealed.has_stock and not stock_changed:
                    stock_counters.unchanged += 1
                if unchanged:
                    accepted.append(sealed)
                    counters.unchanged += 1
                    continue
            assert offer is not None
            accepted.append(sealed)
            if prices_changed:
                new_prices.append((offer.id, prices_hash, self._price_parts(offer)))
            stock = self._stock_parts(offer) if stock_changed else None
            if stock is not None:
                new_stock.append((offer.id, stock_hash, stock))
            if attributes_unchanged:
                counters.unchanged += 1
                continue
            counters.add("updated" if before else "created")
            # A new variant is inserted with its price and stock hashes and total already set,
            # instead of inserting it empty and updating every new row right after.
            stock_total = stock[1] if before is None and stock is not None else Decimal(0)
            (variant_rows if before else new_variant_rows).append(
                VariantRow(
                    offer.id,
                    product_pk,
                    (offer.name or "")[:1024],
                    (offer.article or "")[:255],
                    (offer.barcode or "")[:64],
                    [{"name": n, "value": v} for n, v in offer.characteristics],
                    offer.variant_id is None,
                    not offer.deleted,
                    stock_total,
                    sealed.digest,
                    prices_hash if before is None else "",
                    stock_hash if before is None else "",
                )
            )
        self.writer.variants_upsert(variant_rows)
        self.writer.variants_insert(new_variant_rows)
        missing = [o.id for o in accepted if o.id not in existing]
        for onec_id, stored in self.writer.variants_stored(missing).items():
            existing[onec_id] = _variant(stored, new=True)
        seen = [existing[o.id].pk for o in accepted if o.id in existing]
        self.seen_variants.add_many(seen)
        self.file_seen_variants.add_many(seen)

        self._write_prices(new_prices, existing)
        self._write_stock(new_stock, existing)
        self.writer.variants_set_parts(
            [
                VariantPartsRow(v.pk, v.prices_hash, v.stock_total, v.stock_hash)
                for v in existing.values()
                if v.parts_changed
            ]
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
        self.writer.default_variants_hide(sorted(with_variants))
        self._advance("offers", "Предложения", len(offers))

    # Prices and stock are fingerprinted as 1C sent them (commerceml.digests); what they are
    # stored as depends on what their price type and warehouse Ид resolve to, so the stored
    # hash is that fingerprint combined with a fingerprint of the price types (or warehouses)
    # the import knows: a new price type or another currency changes it, and the offer's prices
    # are written again.
    def _prices_hash(self, sealed: SealedOffer) -> str:
        if self._price_types_context is None:
            self._price_types_context = digest_of(sorted(self.price_types.items()))
        return combine(sealed.prices_digest, self._price_types_context)

    def _stock_hash(self, sealed: SealedOffer) -> str:
        if self._warehouses_context is None:
            self._warehouses_context = digest_of(sorted(self.warehouses.items()))
        return combine(sealed.stock_digest, self._warehouses_context)

    def _price_parts(self, offer: cml.Offer) -> list[tuple[int, Decimal, str]]:
        """The offer's prices resolved to (price type pk, value, currency), sorted (unknown price
        types are reported)."""
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
        return resolved

    def _stock_parts(self, offer: cml.Offer) -> tuple[dict[int, Decimal], Decimal]:
        """The offer's stock per warehouse pk and its total (unknown warehouses are reported)."""
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
        return per_warehouse, total

    def _write_prices(
        self, offers: list[tuple[str, str, list[tuple[int, Decimal, str]]]], variants: dict[str, _ExistingVariant]
    ) -> None:
        """Prices of offers whose prices are new or changed (``offers``: Ид, hash, resolved prices)."""
        counters = self.report.entity("prices")
        rows: list[PriceRow] = []
        fresh: list[PriceRow] = []
        replace: dict[frozenset[int], list[int]] = {}
        for onec_id, digest, resolved in offers:
            variant = variants.get(onec_id)
            if variant is None:
                continue
            if variant.new:  # inserted by this batch with its hash already
                counters.add("created", len(resolved))
                fresh.extend(PriceRow(variant.pk, pt, value, currency) for pt, value, currency in resolved)
                continue
            counters.add("updated" if variant.prices_hash else "created", len(resolved))
            rows.extend(PriceRow(variant.pk, pt, value, currency) for pt, value, currency in resolved)
            variant.prices_hash = digest
            variant.parts_changed = True
            replace.setdefault(frozenset(pt for pt, _, _ in resolved), []).append(variant.pk)
        self.writer.prices_upsert(rows)
        self.writer.prices_insert(fresh)
        if self._section is not None and not self._section.changes_only:
            # In a full package an offer lists all its prices: drop prices of types it no longer has.
            for kept, pks in replace.items():
                self.writer.prices_delete_except(pks, kept)

    def _write_stock(
        self, offers: list[tuple[str, str, tuple[dict[int, Decimal], Decimal]]], variants: dict[str, _ExistingVariant]
    ) -> None:
        """Stock of offers whose stock is new or changed (``offers``: Ид, hash, per warehouse and total)."""
        counters = self.report.entity("stock")
        rows: list[StockRow] = []
        fresh: list[StockRow] = []
        replace: dict[frozenset[int], list[int]] = {}
        for onec_id, digest, (per_warehouse, total) in offers:
            variant = variants.get(onec_id)
            if variant is None:
                continue
            if variant.new:  # inserted by this batch with its total and hash already
                counters.add("created")
                fresh.extend(StockRow(variant.pk, warehouse, quantity) for warehouse, quantity in per_warehouse.items())
                continue
            counters.add("updated" if variant.stock_hash else "created")
            rows.extend(StockRow(variant.pk, warehouse, quantity) for warehouse, quantity in per_warehouse.items())
            variant.stock_total = total
            variant.stock_hash = digest
            variant.parts_changed = True
            replace.setdefault(frozenset(per_warehouse), []).append(variant.pk)
        self.writer.stocks_upsert(rows)
        self.writer.stocks_insert(fresh)
        if self._section is not None and not self._section.changes_only:
            for kept, pks in replace.items():
                self.writer.stocks_delete_except(pks, kept)

    def adopt_file(self, *, seen_products: bytes, seen_variants: bytes, full_catalog: bool, full_offers: bool) -> None:
        """Count an unchanged, skipped file as imported: what it contained still counts for
        deactivation at the end of this import."""
        self.seen_products.update(SeenSet.unpack(seen_products))
        self.seen_variants.update(SeenSet.unpack(seen_variants))
        self.full_catalog = self.full_catalog or full_catalog
        self.full_offers = self.full_offers or full_offers

    # --- the end of an import ------------------------------------------------------------
    def create_missing_default_variants(self) -> int:
        """Every active product from 1C is sold through variants: those whose offers have not
        come (yet) get their default variant (catalog.sync.variants_ensure_default)."""
        return variants_ensure_default()

    def deactivate_missing_products(self, seen: Container[int], *, catalogs: Collection[str]) -> int:
        """Deactivate the 1C products of ``catalogs`` not in ``seen`` (a full catalog did not contain them)."""
        count = products_deactivate_all_but(seen=seen, catalogs=catalogs)
        self.report.entity("products").deactivated += count
        return count

    def deactivate_missing_variants(self, seen: Container[int], *, catalogs: Collection[str]) -> int:
        """Deactivate the 1C offers of ``catalogs`` not in ``seen`` (a full offers package did not contain them)."""
        count = variants_deactivate_all_but(seen=seen, catalogs=catalogs)
        self.report.entity("offers").deactivated += count
        return count


# Where 1C puts the pictures of an exchange: Картинка paths are relative to the exchange folder
# and start with import_files/ (../shared/reference/protocol.md §2, filename).
PICTURES_DIR = "import_files"


def pictures_sent(base_dir: Path) -> bool:
    """Whether the exchange folder holds pictures: a catalog file naming them is then imported
    even when its bytes are unchanged, because a picture file may have changed on its own."""
    return (base_dir / PICTURES_DIR).is_dir()


def _clean_image_path(path: str) -> str:
    """Картинка paths are relative to the exchange folder; 1C may write backslashes."""
    cleaned = path.strip().replace("\\", "/").lstrip("/")
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if ".." in parts:
        return ""
    return "/".join(parts)
