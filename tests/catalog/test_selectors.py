"""What the catalog shows: search, categories, prices for a price type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.selectors import category_descendant_ids, category_list, product_detail, product_list, variant_title
from tests.factories import (
    CategoryFactory,
    PriceFactory,
    PriceTypeFactory,
    ProductFactory,
    ProductVariantFactory,
    StockFactory,
)

pytestmark = pytest.mark.django_db


def names(**kwargs: object) -> list[str]:
    kwargs.setdefault("price_type", None)
    return [product.name for product in product_list(**kwargs)]


@pytest.mark.parametrize("query", ["ёлка", "ЁЛКА", "елка", "Елка", "лка нов", "ЁлКа"])
def test_search_finds_cyrillic_names_in_any_case_and_with_e_for_yo(query: str) -> None:
    ProductFactory(name="Ёлка новогодняя")
    ProductFactory(name="Игрушка")

    assert names(search=query) == ["Ёлка новогодняя"]


def test_search_finds_by_article_in_any_case() -> None:
    ProductFactory(name="Молоток", article="МЛТ-500x")
    ProductFactory(name="Гвоздь", article="GV-1")

    assert names(search="млт-500X") == ["Молоток"]


def test_search_treats_like_wildcards_literally() -> None:
    ProductFactory(name="Скидка 50% на всё")
    ProductFactory(name="Скидка 50 рублей")

    assert names(search="50%") == ["Скидка 50% на всё"]
    assert names(search="_") == []


def test_inactive_products_are_not_listed() -> None:
    ProductFactory(name="Есть")
    ProductFactory(name="Снят", is_active=False)

    assert names() == ["Есть"]


def test_category_filter_includes_subcategories_but_not_inactive_ones() -> None:
    tools = CategoryFactory(name="Инструменты")
    hammers = CategoryFactory(name="Молотки", parent=tools)
    small = CategoryFactory(name="Маленькие", parent=hammers)
    hidden = CategoryFactory(name="Скрытая", parent=tools, is_active=False)
    ProductFactory(name="A", category=tools)
    ProductFactory(name="B", category=small)
    ProductFactory(name="C", category=hidden)
    ProductFactory(name="D", category=CategoryFactory())

    assert category_descendant_ids(category_id=tools.pk) == {tools.pk, hammers.pk, small.pk}
    assert names(category_id=tools.pk) == ["A", "B"]
    assert names(category_id=hidden.pk) == []
    assert names(category_id=999_999) == []


def test_categories_count_their_active_children() -> None:
    root = CategoryFactory()
    CategoryFactory(parent=root)
    CategoryFactory(parent=root, is_active=False)
    CategoryFactory(is_active=False)

    counts = {category.pk: category.children_count for category in category_list()}

    assert counts[root.pk] == 1
    assert len(counts) == 2


def test_list_price_is_the_lowest_of_active_variants_in_the_given_price_type() -> None:
    retail, wholesale = PriceTypeFactory(retail=True), PriceTypeFactory()
    product = ProductFactory()
    cheap, dear, hidden = (ProductVariantFactory(product=product, stock_total=Decimal(n)) for n in (1, 2, 4))
    hidden.is_active = False
    hidden.save()
    PriceFactory(variant=cheap, price_type=retail, value=Decimal("90"))
    PriceFactory(variant=dear, price_type=retail, value=Decimal("120"))
    PriceFactory(variant=hidden, price_type=retail, value=Decimal("10"))
    PriceFactory(variant=dear, price_type=wholesale, value=Decimal("70"))

    [listed] = product_list(price_type=retail)
    [for_wholesale] = product_list(price_type=wholesale)

    assert (listed.price, listed.stock) == (Decimal("90"), Decimal("3"))
    assert for_wholesale.price == Decimal("70")
    assert product_list(price_type=None)[0].price is None


def test_detail_has_only_active_variants_and_their_stock_in_active_warehouses() -> None:
    product = ProductFactory(sellable=True)
    ProductVariantFactory(product=product, is_active=False)
    variant = product.variants.get(is_default=True)
    StockFactory(variant=variant, quantity=Decimal("3"))
    StockFactory(variant=variant, warehouse__is_active=False)

    detail = product_detail(product_id=product.pk, price_type=None)

    assert detail is not None
    assert [v.pk for v in detail.variants.all()] == [variant.pk]
    assert [s.quantity for s in detail.variants.all()[0].stocks.all()] == [Decimal("3")]


def test_detail_of_an_inactive_product_is_not_found() -> None:
    product = ProductFactory(is_active=False)

    assert product_detail(product_id=product.pk, price_type=None) is None


def test_order_line_title_names_the_characteristics_of_a_variant() -> None:
    product = ProductFactory(name="Кроссовки")
    plain = ProductVariantFactory(product=product, default=True, name="старое имя")
    sized = ProductVariantFactory(product=product, name="", characteristics=[{"name": "Размер", "value": "43"}])
    named = ProductVariantFactory(
        product=product, name="Кроссовки (44)", characteristics=[{"name": "Размер", "value": "44"}]
    )

    assert variant_title(plain) == "Кроссовки"
    assert variant_title(sized) == "Кроссовки (Размер: 43)"
    assert variant_title(named) == "Кроссовки (44)"
