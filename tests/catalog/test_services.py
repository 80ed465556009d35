"""Products made in the admin become sellable; hand edits of prices and stock give way to 1C."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import Price, PriceType, ProductVariant
from catalog.services import (
    price_type_default,
    product_ensure_default_variant,
    variant_refresh_after_edit,
    variant_set_prices,
    variant_set_stock_total,
)
from customers.roles import CustomerRole
from tests.factories import (
    PriceFactory,
    PriceTypeFactory,
    ProductFactory,
    ProductVariantFactory,
    StockFactory,
)

pytestmark = pytest.mark.django_db


def test_product_without_variants_gets_one_default_variant() -> None:
    product = ProductFactory(onec_id=None, name="Чайник", article="CH-1")

    variant = product_ensure_default_variant(product=product)

    assert variant is not None
    assert (variant.is_default, variant.name, variant.article, variant.onec_id) == (True, "Чайник", "CH-1", None)
    assert list(product.variants.all()) == [variant]


def test_ensuring_the_default_variant_twice_keeps_one() -> None:
    product = ProductFactory()

    first = product_ensure_default_variant(product=product)
    second = product_ensure_default_variant(product=product)

    assert first == second
    assert product.variants.count() == 1


def test_default_variant_of_a_1c_product_carries_the_offer_id_1c_will_send() -> None:
    product = ProductFactory(onec_id="a1b2")

    variant = product_ensure_default_variant(product=product)

    assert variant is not None
    assert variant.onec_id == "a1b2"


def test_product_sold_through_characteristics_gets_no_default_variant() -> None:
    product = ProductFactory()
    ProductVariantFactory(product=product, characteristics=[{"name": "Размер", "value": "43"}])

    assert product_ensure_default_variant(product=product) is None
    assert product.variants.count() == 1


def test_prices_are_set_and_removed_per_price_type_and_1c_rewrites_them_next_time() -> None:
    retail, wholesale = PriceTypeFactory(retail=True), PriceTypeFactory(currency="USD")
    variant = ProductVariantFactory(prices_hash="abc")
    PriceFactory(variant=variant, price_type=wholesale, value=Decimal("1"))

    variant_set_prices(variant=variant, prices={retail: Decimal("150.50"), wholesale: None})

    price = Price.objects.get(variant=variant)
    assert (price.price_type, price.value, price.currency) == (retail, Decimal("150.50"), "RUB")
    variant.refresh_from_db()
    assert variant.prices_hash == ""


def test_stock_total_is_set_by_hand_for_a_variant_without_warehouses() -> None:
    variant = ProductVariantFactory(stock_total=Decimal("1"), stock_hash="abc")

    variant_set_stock_total(variant=variant, quantity=Decimal("7"))

    variant.refresh_from_db()
    assert (variant.stock_total, variant.stock_hash) == (Decimal("7"), "")


def test_after_a_hand_edit_the_total_is_the_sum_over_warehouses() -> None:
    variant = ProductVariantFactory(stock_total=Decimal("100"), stock_hash="s", prices_hash="p")
    StockFactory(variant=variant, quantity=Decimal("2.5"))
    StockFactory(variant=variant, quantity=Decimal("4"))

    variant_refresh_after_edit(variant=variant)

    variant.refresh_from_db()
    assert (variant.stock_total, variant.stock_hash, variant.prices_hash) == (Decimal("6.5"), "", "")


def test_without_warehouse_rows_the_total_stays_as_entered() -> None:
    variant = ProductVariantFactory(stock_total=Decimal("3"))

    variant_refresh_after_edit(variant=variant)

    assert ProductVariant.objects.get(pk=variant.pk).stock_total == Decimal("3")


def test_first_hand_entered_price_creates_a_retail_price_type_once() -> None:
    created = price_type_default()

    assert (created.name, created.customer_role, created.currency) == ("Розничная", CustomerRole.RETAIL, "RUB")
    assert price_type_default() == created
    assert PriceType.objects.count() == 1


def test_default_price_type_is_the_existing_one_when_there_is_one() -> None:
    existing = PriceTypeFactory(name="Оптовая")

    assert price_type_default() == existing
