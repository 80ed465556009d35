"""The catalog's set-based services an exchange writes through (catalog.sync)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction

from catalog.bulk import Table
from catalog.models import Price, Product, ProductVariant
from catalog.sync import (
    CATEGORIES,
    CATEGORY_PARENTS,
    OPTIONS,
    PRICE_TYPES,
    PRICES,
    PRODUCT_IMAGE_FILES,
    PRODUCT_IMAGES,
    PRODUCT_VALUES,
    PRODUCTS,
    PROPERTIES,
    STOCKS,
    VARIANT_PARTS,
    VARIANTS,
    WAREHOUSES,
    CatalogWriter,
    PriceRow,
    ProductRow,
    catalog_state,
    products_deactivate_all_but,
    variants_deactivate_all_but,
    variants_ensure_default,
)
from tests.factories import PriceTypeFactory, ProductFactory, ProductVariantFactory

pytestmark = pytest.mark.django_db

ALL_TABLES = (
    CATEGORIES,
    CATEGORY_PARENTS,
    PROPERTIES,
    OPTIONS,
    PRICE_TYPES,
    WAREHOUSES,
    PRODUCTS,
    PRODUCT_VALUES,
    PRODUCT_IMAGES,
    PRODUCT_IMAGE_FILES,
    VARIANTS,
    VARIANT_PARTS,
    PRICES,
    STOCKS,
)


@pytest.mark.parametrize("table", ALL_TABLES, ids=lambda t: f"{t.name}:{','.join(t.columns)}")
def test_every_table_the_exchange_writes_matches_the_migrated_schema(table: Table) -> None:
    """The names come from the models' _meta; this checks them against the database the
    migrations built, so a model change without its migration (or the reverse) fails here."""
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, table.name)}
    written = {*table.columns, *table.key, *table.update, *(("created_at", "updated_at") if table.timestamps else ())}
    assert written <= columns


def _product(onec_id: str, catalog: str = "", **extra: object) -> Product:
    return ProductFactory(onec_id=onec_id, catalog_onec_id=catalog, **extra)


def test_deactivating_all_but_the_seen_products_leaves_other_catalogs_and_site_products_alone() -> None:
    seen = _product("a", "cat-1")
    missing = _product("b", "cat-1")
    of_no_known_catalog = _product("c", "")
    other_catalog = _product("d", "cat-2")
    made_on_the_site = ProductFactory(onec_id=None)

    count = products_deactivate_all_but(seen={seen.pk}, catalogs={"cat-1"})

    active = set(Product.objects.filter(is_active=True).values_list("pk", flat=True))
    assert count == 2
    assert active == {seen.pk, other_catalog.pk, made_on_the_site.pk}
    assert missing.pk not in active and of_no_known_catalog.pk not in active


def test_deactivating_all_but_the_seen_offers_keeps_default_variants_and_other_catalogs() -> None:
    product = _product("p", "cat-1")
    default = ProductVariantFactory(product=product, onec_id="p", is_default=True)
    kept = ProductVariantFactory(product=product, onec_id="p#1")
    missing = ProductVariantFactory(product=product, onec_id="p#2")
    other = ProductVariantFactory(product=_product("q", "cat-2"), onec_id="q#1")

    count = variants_deactivate_all_but(seen={kept.pk}, catalogs={"cat-1"})

    active = set(ProductVariant.objects.filter(is_active=True).values_list("pk", flat=True))
    assert count == 1
    assert active == {default.pk, kept.pk, other.pk}
    assert missing.pk not in active


def test_every_active_1c_product_without_variants_gets_its_default_variant_once() -> None:
    bare = _product("bare", name="Чайник", article="ART-1")
    inactive = _product("off", is_active=False)
    sold_by_characteristics = _product("chars")
    ProductVariantFactory(product=sold_by_characteristics, onec_id="chars#1")

    assert variants_ensure_default() == 1
    assert variants_ensure_default() == 0

    variant = ProductVariant.objects.get(product=bare)
    assert (variant.onec_id, variant.name, variant.article, variant.is_default) == ("bare", "Чайник", "ART-1", True)
    assert not ProductVariant.objects.filter(product=inactive).exists()
    assert ProductVariant.objects.filter(product=sold_by_characteristics).count() == 1


def test_the_catalog_state_moves_with_any_write_and_stands_still_without() -> None:
    product = _product("a")
    before = catalog_state()
    assert catalog_state() == before

    Product.objects.filter(pk=product.pk).update(name="Другое имя", updated_at=product.updated_at.replace(year=2100))

    assert catalog_state() != before


def test_an_upsert_keeping_site_fields_leaves_them_and_writes_the_rest() -> None:
    product = _product("a", name="Имя на сайте", description="Описание сайта")
    row = ProductRow("a", "ART", "Имя из 1С", "Описание 1С", None, "796", "шт", True, {"Код": "1"}, "hash", "")
    writer = CatalogWriter()

    with transaction.atomic():
        writer.products_upsert([row], keep=frozenset({"name"}))

    product.refresh_from_db()
    assert (product.name, product.description, product.article) == ("Имя на сайте", "Описание 1С", "ART")


def test_prices_of_types_an_offer_no_longer_has_are_deleted() -> None:
    retail, wholesale = PriceTypeFactory(), PriceTypeFactory()
    variant = ProductVariantFactory(product=_product("a"), onec_id="a")
    writer = CatalogWriter()
    with transaction.atomic():
        writer.prices_insert(
            [
                PriceRow(variant.pk, retail.pk, Decimal("10"), "RUB"),
                PriceRow(variant.pk, wholesale.pk, Decimal("8"), "RUB"),
            ]
        )

    with transaction.atomic():
        writer.prices_upsert([PriceRow(variant.pk, retail.pk, Decimal("12"), "RUB")])
        writer.prices_delete_except([variant.pk], {retail.pk})

    assert list(Price.objects.filter(variant=variant).values_list("price_type_id", "value")) == [
        (retail.pk, Decimal("12"))
    ]
