"""The set-based writer under the importer: upserts keyed by 1C ids, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from catalog.bulk import BulkWriter, Table
from catalog.models import PriceType, Warehouse

pytestmark = pytest.mark.django_db

WAREHOUSES = Table(
    "catalog_warehouse", ("onec_id", "name", "is_active"), key=("onec_id",), update=("name", "is_active")
)
PRICE_TYPES = Table("catalog_pricetype", ("onec_id", "name", "currency"), key=("onec_id",), update=("name", "currency"))


@pytest.fixture(autouse=True, params=["staged", "row-statements"])
def merge_path(request, monkeypatch) -> str:
    """Every behaviour holds on both merge paths: staging table + one merge, and the
    pipelined row statements used for a handful of rows (bulk.SMALL_BATCH)."""
    monkeypatch.setattr("catalog.bulk.SMALL_BATCH", 0 if request.param == "staged" else 10_000)
    return str(request.param)


def test_upsert_inserts_new_rows_and_updates_changed_ones() -> None:
    writer = BulkWriter()
    with transaction.atomic():
        writer.upsert(WAREHOUSES, [("w1", "Основной", True), ("w2", "Оптовый", True)])
        writer.upsert(WAREHOUSES, [("w2", "Оптовый склад", True), ("w3", "Розничный", False)])

    assert dict(Warehouse.objects.values_list("onec_id", "name")) == {
        "w1": "Основной",
        "w2": "Оптовый склад",
        "w3": "Розничный",
    }
    assert Warehouse.objects.get(onec_id="w3").is_active is False


def test_upsert_leaves_unchanged_rows_untouched() -> None:
    writer = BulkWriter()
    writer.upsert(PRICE_TYPES, [("p1", "Розничная", "RUB")])
    before = PriceType.objects.get(onec_id="p1").updated_at

    writer.upsert(PRICE_TYPES, [("p1", "Розничная", "RUB")])

    assert PriceType.objects.get(onec_id="p1").updated_at == before


def test_last_row_wins_when_a_batch_repeats_a_key() -> None:
    BulkWriter().upsert(PRICE_TYPES, [("p1", "Старая", "RUB"), ("p1", "Новая", "USD")])

    assert list(PriceType.objects.values_list("name", "currency")) == [("Новая", "USD")]


def test_select_update_and_delete_in_take_one_statement_each(django_assert_num_queries) -> None:
    writer = BulkWriter()
    writer.upsert(WAREHOUSES, [(f"w{i}", f"Склад {i}", True) for i in range(500)])
    keys = [f"w{i}" for i in range(0, 500, 2)]

    with django_assert_num_queries(3):
        rows = writer.select_in("catalog_warehouse", ("onec_id", "id"), "onec_id", keys)
        writer.update_in("catalog_warehouse", {"is_active": False}, "id", [pk for _, pk in rows])
        writer.delete_in("catalog_warehouse", "onec_id", [f"w{i}" for i in range(1, 500, 2)])

    assert Warehouse.objects.count() == 250
    assert not Warehouse.objects.filter(is_active=True).exists()


def test_decimal_values_round_trip_exactly() -> None:
    from catalog.models import Price, Product, ProductVariant

    product = Product.objects.create(name="Товар", onec_id="prod")
    variant = ProductVariant.objects.create(product=product, onec_id="prod", is_default=True)
    price_type = PriceType.objects.create(onec_id="p1", name="Розничная")
    prices = Table(
        "catalog_price",
        ("variant_id", "price_type_id", "value", "currency"),
        key=("variant_id", "price_type_id"),
        update=("value", "currency"),
    )

    BulkWriter().upsert(prices, [(variant.pk, price_type.pk, Decimal("1234.5678"), "RUB")])

    assert Price.objects.get().value == Decimal("1234.5678")


def test_update_rows_sets_columns_of_rows_found_by_key() -> None:
    writer = BulkWriter()
    writer.upsert(WAREHOUSES, [("w1", "Основной", True), ("w2", "Оптовый", True)])
    names = Table("catalog_warehouse", ("onec_id", "name"), key=("onec_id",), update=("name",))

    writer.update_rows(names, [("w2", "Оптовый склад"), ("missing", "Никакой")])

    assert dict(Warehouse.objects.values_list("onec_id", "name")) == {"w1": "Основной", "w2": "Оптовый склад"}


def test_insert_adds_rows_without_a_natural_key() -> None:
    from catalog.models import Product, ProductPropertyValue, Property

    product = Product.objects.create(name="Товар", onec_id="prod")
    prop = Property.objects.create(name="Цвет", onec_id="color")
    values = Table(
        "catalog_productpropertyvalue", ("product_id", "property_id", "value", "reference_id"), key=(), timestamps=False
    )

    BulkWriter().insert(values, [(product.pk, prop.pk, "красный", None), (product.pk, prop.pk, "синий", None)])

    assert sorted(ProductPropertyValue.objects.values_list("value", flat=True)) == ["красный", "синий"]
