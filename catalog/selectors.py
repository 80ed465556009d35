"""Catalog read paths: what the shop's API shows.

Only active categories, products and variants are shown. Prices are those of one price type,
the requesting customer's (see customers.selectors.customer_price_type): no other price is even
read, so none can leak into an answer.

Availability (``available``): what can be ordered now, one number for the product page and the
order check alike: 1C's stock less what orders not yet handed to 1C hold
(orders.selectors.order_items_holding_stock), never below zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest

from catalog.models import (
    MONEY,
    QUANTITY,
    Category,
    Price,
    PriceType,
    Product,
    ProductPropertyValue,
    ProductVariant,
    Stock,
)
from catalog.search import SearchFold, search_fold
from orders.selectors import order_items_holding_stock

_QUANTITY_FIELD: DecimalField[Decimal, Decimal] = DecimalField(
    max_digits=QUANTITY["max_digits"], decimal_places=QUANTITY["decimal_places"]
)


def category_list() -> QuerySet[Category]:
    """Active categories, each with ``children_count`` (its active subcategories)."""
    return Category.objects.filter(is_active=True).annotate(
        children_count=Count("children", filter=Q(children__is_active=True))
    )


def category_descendant_ids(*, category_id: int) -> set[int]:
    """The active category and all its active descendants (empty if it is not active).

    One query for the whole tree: categories number in the thousands at most, and this works the
    same on SQLite and PostgreSQL without a recursive CTE.
    """
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.filter(is_active=True).values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    active = {pk for ids in children.values() for pk in ids}
    if category_id not in active:
        return set()
    found, pending = set(), [category_id]
    while pending:
        pk = pending.pop()
        if pk not in found:
            found.add(pk)
            pending.extend(children.get(pk, ()))
    return found


def variants_annotate_available(variants: QuerySet[ProductVariant]) -> QuerySet[ProductVariant]:
    """``available``: what of each variant can be ordered now (see the module's docstring)."""
    held = (
        order_items_holding_stock()
        .filter(variant=OuterRef("pk"))
        .order_by()
        .values("variant")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    zero = Value(Decimal(0), output_field=_QUANTITY_FIELD)
    return variants.annotate(
        available=Greatest(
            F("stock_total") - Coalesce(Subquery(held, output_field=_QUANTITY_FIELD), zero),
            zero,
            output_field=_QUANTITY_FIELD,
        )
    )


def variant_available(*, variant_ids: Iterable[int]) -> dict[int, Decimal]:
    """``available`` of each of these variants (active or not), by id."""
    variants = variants_annotate_available(ProductVariant.objects.filter(pk__in=list(variant_ids)))
    # The stubs' plugin cannot see annotations in values_list.
    return dict(variants.values_list("pk", "available"))  # type: ignore[misc]


def product_annotate_price_and_stock(*, products: QuerySet[Product], price_type: PriceType | None) -> QuerySet[Product]:
    """``price``: the lowest price of the product's active variants for ``price_type`` (None if
    it has none); ``stock``: the sum of their totals as 1C reported them; ``available``: the sum
    of what of each can be ordered now. Subqueries, not joins, so they never multiply each other."""
    price = (
        Price.objects.filter(variant__product=OuterRef("pk"), variant__is_active=True, price_type=price_type)
        .order_by("value")
        .values("value")[:1]
    )
    active_variants = ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True).order_by()
    stock = active_variants.values("product").annotate(total=Sum("stock_total")).values("total")
    available = (
        variants_annotate_available(active_variants).values("product").annotate(total=Sum("available")).values("total")
    )
    return products.annotate(
        price=Subquery(price)
        if price_type is not None
        else Value(
            None, output_field=DecimalField(max_digits=MONEY["max_digits"], decimal_places=MONEY["decimal_places"])
        ),
        stock=Subquery(stock, output_field=_QUANTITY_FIELD),
        available=Subquery(available, output_field=_QUANTITY_FIELD),
    )


def product_list(
    *, price_type: PriceType | None, category_id: int | None = None, search: str = ""
) -> QuerySet[Product]:
    """Active products, optionally in a category (with its subcategories) and matching ``search``
    in the name or article (case-insensitive, Cyrillic included, ё = е)."""
    products = Product.objects.filter(is_active=True)
    if category_id is not None:
        products = products.filter(category_id__in=category_descendant_ids(category_id=category_id))
    if search.strip():
        needle = search_fold(search.strip())
        products = products.alias(name_folded=SearchFold("name"), article_folded=SearchFold("article")).filter(
            Q(name_folded__contains=needle) | Q(article_folded__contains=needle)
        )
    products = products.prefetch_related("images")
    return product_annotate_price_and_stock(products=products, price_type=price_type).order_by("name", "id")


def product_detail(*, product_id: int, price_type: PriceType | None) -> Product | None:
    """An active product with everything its page shows: active variants with their price of
    ``price_type`` (no other price type's) and per-warehouse stock (active warehouses), property
    values and images."""
    variants = (
        variants_annotate_available(ProductVariant.objects.filter(is_active=True))
        .prefetch_related(
            Prefetch(
                "prices", queryset=Price.objects.filter(price_type=price_type) if price_type else Price.objects.none()
            ),
            Prefetch(
                "stocks",
                queryset=Stock.objects.filter(warehouse__is_active=True)
                .select_related("warehouse")
                .order_by("warehouse__name"),
            ),
        )
        .order_by("-is_default", "id")
    )
    properties = ProductPropertyValue.objects.select_related("property", "reference").order_by("property__name", "id")
    products = Product.objects.filter(is_active=True, pk=product_id).select_related("category")
    products = products.prefetch_related(
        Prefetch("variants", queryset=variants),
        Prefetch("property_values", queryset=properties),
        "images",
    )
    return product_annotate_price_and_stock(products=products, price_type=price_type).first()


def variant_title(variant: ProductVariant) -> str:
    """The name an order line shows: the product's name, plus the characteristics for a variant
    that has them (1C's offer name already includes them)."""
    product_name = variant.product.name
    if variant.is_default or not variant.characteristics:
        return product_name
    if variant.name and variant.name != product_name:
        return variant.name
    return f"{product_name} ({variant.characteristics_text})"


def product_sellable_variant(*, product_id: int) -> ProductVariant | None:
    """The variant an order line means when it names a product: its only active variant (the
    default one for a product without characteristics); None when there are several to choose
    from or none."""
    variants = list(ProductVariant.objects.filter(product_id=product_id, is_active=True).order_by("id")[:2])
    return variants[0] if len(variants) == 1 else None
