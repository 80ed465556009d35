"""The catalog as a shop front sees it: products with the visitor's prices."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from customers.roles import CustomerRole
from tests.api.helpers import json_of, logged_in
from tests.factories import (
    CategoryFactory,
    PriceFactory,
    PriceTypeFactory,
    ProductFactory,
    ProductImageFactory,
    ProductPropertyValueFactory,
    ProductVariantFactory,
    PropertyValueFactory,
    StockFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_empty_shop_lists_no_products_with_a_count_of_zero(api: APIClient) -> None:
    response = api.get("/api/products/")

    assert response.status_code == 200
    assert json_of(response) == {"count": 0, "next": None, "previous": None, "results": []}


def test_product_list_shows_the_retail_price_to_guests_and_the_role_price_to_customers(api: APIClient) -> None:
    retail = PriceTypeFactory(retail=True)
    wholesale = PriceTypeFactory(customer_role=CustomerRole.WHOLESALE_1, currency="USD")
    product = ProductFactory(name="Чайник", article="CH-1", sellable__price=Decimal("1499.9"), sellable__stock=7)
    product.variants.get().prices.filter(price_type=wholesale).update(value=Decimal("20.125"))
    ProductImageFactory(product=product)

    guest = json_of(api.get("/api/products/"))["results"][0]
    customer = json_of(logged_in(UserFactory(wholesale=True)).get("/api/products/"))["results"][0]

    assert guest["price"] == "1499.90"
    assert guest["currency"] == retail.currency
    assert (guest["name"], guest["article"], guest["stock"], guest["unit_name"]) == ("Чайник", "CH-1", "7", "шт")
    assert guest["image"].startswith("http://testserver/media/products/")
    assert (customer["price"], customer["currency"]) == ("20.125", "USD")


def test_product_without_a_price_is_listed_with_a_null_price(api: APIClient) -> None:
    ProductFactory()

    [product] = json_of(api.get("/api/products/"))["results"]

    assert (product["price"], product["currency"], product["stock"], product["image"]) == (None, None, "0", None)


def test_products_are_filtered_by_category_with_subcategories_and_searched_in_any_case(api: APIClient) -> None:
    tools = CategoryFactory()
    ProductFactory(name="Молоток", category=CategoryFactory(parent=tools))
    ProductFactory(name="Ёлка", category=tools)
    ProductFactory(name="Чашка")
    ProductFactory(name="Скрытый", category=tools, is_active=False)

    in_tools = json_of(api.get("/api/products/", {"category": tools.pk}))
    found = json_of(api.get("/api/products/", {"search": "ЕЛК"}))

    assert [p["name"] for p in in_tools["results"]] == ["Ёлка", "Молоток"]
    assert in_tools["count"] == 2
    assert [p["name"] for p in found["results"]] == ["Ёлка"]


def test_pages_carry_the_total_count(api: APIClient) -> None:
    ProductFactory.create_batch(5)

    first = json_of(api.get("/api/products/", {"page_size": 2}))
    last = json_of(api.get("/api/products/", {"page_size": 2, "page": 3}))

    assert (first["count"], len(first["results"]), first["next"] is not None) == (5, 2, True)
    assert (len(last["results"]), last["next"]) == (1, None)


@pytest.mark.parametrize(
    "params",
    [{"category": "abc"}, {"category": "-1"}, {"category": "9" * 30}, {"search": "x" * 201}],
)
def test_bad_filters_are_400_with_field_errors(api: APIClient, params: dict[str, str]) -> None:
    response = api.get("/api/products/", params)

    assert response.status_code == 400
    assert set(json_of(response)) == set(params)


def test_page_beyond_the_end_is_404(api: APIClient) -> None:
    assert api.get("/api/products/", {"page": 5}).status_code == 404
    assert api.get("/api/products/", {"page": "abc"}).status_code == 404


def test_product_detail_has_variants_prices_stock_properties_and_images(api: APIClient) -> None:
    retail, wholesale = PriceTypeFactory(retail=True, name="Розничная"), PriceTypeFactory(name="Оптовая")
    product = ProductFactory(name="Кроссовки", category=CategoryFactory(name="Обувь"), description="Лёгкие")
    size_43 = ProductVariantFactory(
        product=product, characteristics=[{"name": "Размер", "value": "43"}], barcode="4600000000043"
    )
    PriceFactory(variant=size_43, price_type=retail, value=Decimal("5000"))
    PriceFactory(variant=size_43, price_type=wholesale, value=Decimal("4000"))
    stock = StockFactory(variant=size_43, quantity=Decimal("2"), warehouse__name="Москва")
    ProductVariantFactory(product=product, is_active=False)
    ProductPropertyValueFactory(
        product=product, property__name="Цвет", value="", reference=PropertyValueFactory(value="Синий")
    )
    ProductPropertyValueFactory(product=product, property__name="Пустое", value="")
    ProductImageFactory(product=product, description="Вид сбоку")

    response = api.get(f"/api/products/{product.pk}/")

    assert response.status_code == 200
    body = json_of(response)
    assert (body["name"], body["description"], body["category"]) == (
        "Кроссовки",
        "Лёгкие",
        {"id": product.category_id, "name": "Обувь"},
    )
    assert body["price"] == "5000.00"
    assert body["properties"] == [{"name": "Цвет", "value": "Синий"}]
    assert body["images"][0]["description"] == "Вид сбоку"
    assert body["images"][0]["url"].startswith("http://testserver/media/")
    [variant] = body["variants"]
    assert variant["id"] == size_43.pk
    assert variant["characteristics"] == [{"name": "Размер", "value": "43"}]
    assert (variant["price"], variant["currency"], variant["barcode"]) == ("5000.00", "RUB", "4600000000043")
    assert "prices" not in variant  # only the visitor's own price is shown
    assert variant["stock"] == "10"
    assert variant["stocks"] == [{"warehouse": {"id": stock.warehouse_id, "name": "Москва"}, "quantity": "2"}]


def test_malformed_characteristics_entered_by_hand_do_not_break_the_page(api: APIClient) -> None:
    product = ProductFactory()
    ProductVariantFactory(product=product, characteristics={"oops": 1})
    ProductVariantFactory(product=product, characteristics=["text", {"name": "Цвет"}])

    variants = json_of(api.get(f"/api/products/{product.pk}/"))["variants"]

    assert [v["characteristics"] for v in variants] == [[], [{"name": "Цвет", "value": ""}]]


@pytest.mark.parametrize(
    "path", ["/api/products/{inactive}/", "/api/products/999999/", "/api/products/" + "9" * 30 + "/"]
)
def test_inactive_unknown_or_absurd_products_are_404(api: APIClient, path: str) -> None:
    inactive = ProductFactory(is_active=False)

    response = api.get(path.format(inactive=inactive.pk))

    assert response.status_code == 404
    assert "detail" in json_of(response)


def test_categories_list_their_parent_and_number_of_children(api: APIClient) -> None:
    root = CategoryFactory(name="Инструменты")
    child = CategoryFactory(name="Молотки", parent=root)
    CategoryFactory(name="Скрытая", parent=root, is_active=False)

    everything = json_of(api.get("/api/categories/"))
    roots = json_of(api.get("/api/categories/", {"root": "true"}))
    children = json_of(api.get("/api/categories/", {"parent": root.pk}))
    detail = json_of(api.get(f"/api/categories/{child.pk}/"))

    assert everything["count"] == 2
    assert [(c["name"], c["parent"], c["children_count"]) for c in roots["results"]] == [("Инструменты", None, 1)]
    assert [c["id"] for c in children["results"]] == [child.pk]
    assert detail == {"id": child.pk, "name": "Молотки", "parent": root.pk, "sort_order": 0, "children_count": 0}
    assert api.get("/api/categories/" + "9" * 30 + "/").status_code == 404
    assert api.get("/api/categories/", {"parent": "x"}).status_code == 400
