"""A manager works with the catalog in the admin: a product made by hand becomes sellable."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import Price, PriceType, Product, ProductVariant
from customers.roles import CustomerRole
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
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db

INLINES = ("variants", "property_values", "images")


def management(prefixes: tuple[str, ...], initial: dict[str, int] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for prefix in prefixes:
        count = (initial or {}).get(prefix, 0)
        data |= {
            f"{prefix}-TOTAL_FORMS": count,
            f"{prefix}-INITIAL_FORMS": count,
            f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000,
        }
    return data


def product_form(**fields: Any) -> dict[str, Any]:
    data = {"name": "Чайник", "article": "", "description": "", "is_active": "on", "unit_name": "шт"}
    data |= {"unit_code": "796", "category": ""}
    return data | management(INLINES) | fields


def add_product(client: Client, **fields: Any) -> Product:
    response = client.post(reverse("admin:catalog_product_add"), product_form(**fields))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Product.objects.get()


def test_product_made_by_hand_in_a_shop_without_price_types_gets_a_retail_price_and_stock(
    admin_client: Client,
) -> None:
    form = admin_client.get(reverse("admin:catalog_product_add"))
    assert "offer_price_new" in form.content.decode()

    product = add_product(admin_client, offer_price_new="1500.50", offer_stock="7")

    variant = product.variants.get()
    assert (variant.is_default, variant.stock_total, variant.onec_id) == (True, Decimal("7"), None)
    price = variant.prices.get()
    assert (price.value, price.price_type.name, price.price_type.customer_role) == (
        Decimal("1500.50"),
        "Розничная",
        CustomerRole.RETAIL,
    )


def test_product_made_by_hand_gets_a_price_for_each_price_type_filled_in(admin_client: Client) -> None:
    retail, wholesale, unused = PriceTypeFactory(retail=True), PriceTypeFactory(), PriceTypeFactory()

    product = add_product(
        admin_client, **{f"offer_price_{retail.pk}": "100", f"offer_price_{wholesale.pk}": "80", "offer_stock": "3"}
    )

    variant = product.variants.get()
    assert {p.price_type: p.value for p in variant.prices.all()} == {retail: Decimal(100), wholesale: Decimal(80)}
    assert not Price.objects.filter(price_type=unused).exists()
    assert PriceType.objects.count() == 3


def test_product_saved_without_price_still_gets_its_default_variant(admin_client: Client) -> None:
    product = add_product(admin_client)

    assert product.variants.get().is_default
    assert not PriceType.objects.exists()


def test_changing_the_price_on_the_product_page_updates_the_default_variant(admin_client: Client) -> None:
    retail = PriceTypeFactory(retail=True)
    product = ProductFactory(onec_id=None, name="Чайник", sellable__price=Decimal("100"))
    variant = product.variants.get()
    url = reverse("admin:catalog_product_change", args=[product.pk])
    assert admin_client.get(url).status_code == 200
    fields = product_form(**{f"offer_price_{retail.pk}": "120", "offer_stock": "10"})
    fields |= management(INLINES, {"variants": 1})
    fields |= {
        "variants-0-id": variant.pk,
        "variants-0-product": product.pk,
        "variants-0-name": variant.name,
        "variants-0-characteristics": "[]",
        "variants-0-is_active": "on",
    }

    response = admin_client.post(url, fields)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert variant.prices.get().value == Decimal("120")
    assert product.variants.count() == 1


def test_fields_a_manager_changes_are_remembered_as_edited_on_the_site(admin_client: Client) -> None:
    product = ProductFactory(onec_id="from-1c", name="Из 1С", description="Из 1С")
    variant = ProductVariantFactory(product=product, onec_id="from-1c", is_default=True)
    url = reverse("admin:catalog_product_change", args=[product.pk])
    fields = product_form(name="Правка", article=product.article, description="Из 1С", unit_name="упак")
    fields |= management(INLINES, {"variants": 1})
    fields |= {
        "variants-0-id": variant.pk,
        "variants-0-product": product.pk,
        "variants-0-name": variant.name,
        "variants-0-characteristics": "[]",
        "variants-0-is_active": "on",
    }

    response = admin_client.post(url, fields)

    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert product.site_edited_fields == ["name", "unit"]


def test_onec_ids_cannot_be_changed_in_the_admin(admin_client: Client) -> None:
    product = ProductFactory(onec_id="from-1c", content_hash="h")
    url = reverse("admin:catalog_product_change", args=[product.pk])

    response = admin_client.post(url, product_form(onec_id="hacked") | management(INLINES))

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.onec_id == "from-1c"
    assert product.content_hash == ""  # so the next exchange writes 1C's values again
    assert product.name == "Чайник"


def test_product_with_characteristics_is_priced_on_its_variants_pages(admin_client: Client) -> None:
    retail, warehouse = PriceTypeFactory(retail=True), WarehouseFactory()
    product = ProductFactory()
    variant = ProductVariantFactory(
        product=product, characteristics=[{"name": "Размер", "value": "43"}], stock_total=Decimal("99")
    )
    StockFactory(variant=variant, warehouse=warehouse, quantity=Decimal("1"))

    page = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()
    assert "offer_stock" not in page

    url = reverse("admin:catalog_productvariant_change", args=[variant.pk])
    assert admin_client.get(url).status_code == 200
    data = {
        "name": variant.name,
        "article": "",
        "barcode": "4600000000001",
        "characteristics": '[{"name": "Размер", "value": "43"}]',
        "is_active": "on",
    }
    data |= management(("prices", "stocks"), {"stocks": 1}) | {"prices-TOTAL_FORMS": 1}
    data |= {"prices-0-price_type": retail.pk, "prices-0-value": "2500", "prices-0-variant": variant.pk}
    stock = variant.stocks.get()
    data |= {"stocks-0-id": stock.pk, "stocks-0-variant": variant.pk, "stocks-0-warehouse": warehouse.pk}
    data |= {"stocks-0-quantity": "4"}

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    variant.refresh_from_db()
    assert (variant.barcode, variant.stock_total) == ("4600000000001", Decimal("4"))
    assert variant.prices.get().value == Decimal("2500")


def test_admin_search_finds_cyrillic_in_any_case(admin_client: Client) -> None:
    ProductFactory(name="Ёлка новогодняя")
    ProductFactory(name="Гирлянда")

    response = admin_client.get(reverse("admin:catalog_product_changelist"), {"q": "ЕЛКА"})

    assert [p.name for p in response.context["cl"].result_list] == ["Ёлка новогодняя"]


def test_admin_search_finds_a_product_by_barcode(admin_client: Client) -> None:
    product = ProductFactory()
    ProductVariantFactory(product=product, barcode="4601234567890")
    ProductFactory()

    response = admin_client.get(reverse("admin:catalog_product_changelist"), {"q": "4601234567890"})

    assert list(response.context["cl"].result_list) == [product]


@pytest.mark.parametrize("model", ["category", "product", "productvariant", "pricetype", "warehouse", "property"])
def test_every_catalog_page_opens(admin_client: Client, model: str) -> None:
    product = ProductFactory(sellable=True, category=CategoryFactory(parent=CategoryFactory()))
    variant = product.variants.get()
    StockFactory(variant=variant)
    PriceFactory(variant=ProductVariantFactory(product=product))
    ProductPropertyValueFactory(product=product, reference=PropertyValueFactory())
    ProductImageFactory(product=product)
    objects = {
        "category": product.category,
        "product": product,
        "productvariant": variant,
        "pricetype": PriceType.objects.first(),
        "warehouse": variant.stocks.get().warehouse,
        "property": PropertyValueFactory().property,
    }

    changelist = admin_client.get(reverse(f"admin:catalog_{model}_changelist"))
    change = admin_client.get(reverse(f"admin:catalog_{model}_change", args=[objects[model].pk]))
    add = admin_client.get(reverse(f"admin:catalog_{model}_add"))

    assert (changelist.status_code, change.status_code, add.status_code) == (200, 200, 200)
    assert ProductVariant.objects.count() == 2
