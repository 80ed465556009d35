"""Catalog write paths used by the shop itself (the admin); an exchange writes sets of rows through catalog.sync.

How a product is sold: always through a ProductVariant. A product without characteristics has
one *default* variant (``is_default``); a product created in the admin gets it from
``product_ensure_default_variant`` when it is saved, and the manager sets its prices and stock
there. Products from 1C get their variants from the offers the importer reads.

1C owns the data: a manager's hand edit of prices or stock clears the importer's change hashes,
so the next exchange writes 1C's values again even if 1C's file did not change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from catalog.models import PRODUCT_SITE_FIELDS, Price, PriceType, Product, ProductVariant
from customers.roles import CustomerRole

DEFAULT_PRICE_TYPE_NAME = "Розничная"


def product_ensure_default_variant(*, product: Product) -> ProductVariant | None:
    """Make ``product`` sellable: give it a default variant if it has no variants at all.

    Returns the default variant (new or existing), or None when the product is sold through
    variants with characteristics. A product from 1C gets the variant Ид 1C uses for the offer
    of a product without characteristics (the product's own Ид), so the importer's upsert later
    updates this variant instead of adding a second one.
    """
    with transaction.atomic():
        # Two saves of one product at once must not create two default variants.
        Product.objects.select_for_update().filter(pk=product.pk).first()
        variants = list(product.variants.all())
        if not variants:
            return ProductVariant.objects.create(
                product=product,
                onec_id=product.onec_id,
                name=product.name,
                article=product.article,
                is_default=True,
            )
        return next((variant for variant in variants if variant.is_default), None)


def price_type_default() -> PriceType:
    """The price type a manager's first hand-entered price goes to in a shop that has none yet:
    "Розничная", mapped to the retail role. When 1C's price types arrive, a manager maps roles
    to them in the admin."""
    existing = PriceType.objects.order_by("id").first()
    if existing is not None:
        return existing
    price_type, _ = PriceType.objects.get_or_create(
        customer_role=CustomerRole.RETAIL,
        defaults={"name": DEFAULT_PRICE_TYPE_NAME, "currency": settings.SHOP_CURRENCY},
    )
    return price_type


def variant_set_prices(*, variant: ProductVariant, prices: Mapping[PriceType, Decimal | None]) -> None:
    """Set (or, for None, remove) the variant's price of each given price type."""
    with transaction.atomic():
        for price_type, value in prices.items():
            if value is None:
                Price.objects.filter(variant=variant, price_type=price_type).delete()
            else:
                Price.objects.update_or_create(
                    variant=variant,
                    price_type=price_type,
                    defaults={"value": value, "currency": price_type.currency or settings.SHOP_CURRENCY},
                )
        ProductVariant.objects.filter(pk=variant.pk).update(prices_hash="")


def variant_set_stock_total(*, variant: ProductVariant, quantity: Decimal) -> None:
    """Set the total stock of a variant that has no per-warehouse stock rows."""
    ProductVariant.objects.filter(pk=variant.pk).update(stock_total=quantity, stock_hash="")
    variant.stock_total = quantity


def variant_refresh_after_edit(*, variant: ProductVariant) -> None:
    """After a manager edited a variant's prices or warehouse stock by hand: the total follows the
    warehouses (when there are any), and 1C's next exchange rewrites prices and stock."""
    update: dict[str, object] = {"prices_hash": "", "stock_hash": ""}
    if variant.stocks.exists():
        total = variant.stocks.aggregate(total=Sum("quantity"))["total"] or Decimal("0")
        update["stock_total"] = total
        variant.stock_total = total
    ProductVariant.objects.filter(pk=variant.pk).update(**update)


# Form fields of the product page and the site field each belongs to.
_SITE_FIELD_OF = {"unit_name": "unit", "unit_code": "unit", **{name: name for name in PRODUCT_SITE_FIELDS}}


def product_note_site_edits(*, product: Product, fields: Iterable[str]) -> list[str]:
    """Remember which of the product's fields a manager changed on the site (form field names;
    ``unit_name``/``unit_code`` count as ``unit``, an edited picture list as ``images``).

    Returns the product's edited fields. Whether the exchange leaves them alone is the
    exchange's setting; the catalog only keeps the fact.
    """
    edited = {_SITE_FIELD_OF[name] for name in fields if name in _SITE_FIELD_OF}
    if not edited - set(product.site_edited_fields):
        return list(product.site_edited_fields)
    with transaction.atomic():
        current = Product.objects.select_for_update().values_list("site_edited_fields", flat=True).get(pk=product.pk)
        merged = sorted(set(current or []) | edited)
        Product.objects.filter(pk=product.pk).update(site_edited_fields=merged)
    product.site_edited_fields = merged
    return merged
