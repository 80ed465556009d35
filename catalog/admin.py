"""The catalog in the admin.

A manager can create a product by hand and make it sellable on one page: the product form has
a "Цена и остаток" section (one price per price type, and the stock) for products without
characteristics; saving it creates the default variant (catalog.services) and writes them there.
Products with characteristics list their variants inline; each variant's page holds its prices
and per-warehouse stock.

1C is the master of what it sends: 1C identifiers are read-only, and a hand edit of a record
that came from 1C lasts until the next exchange (the importer's change hashes are cleared so the
exchange writes 1C's values again even when 1C's file did not change).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.html import format_html

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
from catalog.search import SearchFold, search_fold
from catalog.selectors import product_annotate_price_and_stock
from catalog.services import (
    price_type_default,
    product_ensure_default_variant,
    product_note_site_edits,
    variant_refresh_after_edit,
    variant_set_prices,
    variant_set_stock_total,
)
from customers.selectors import customer_price_type

TIMESTAMPS = ("created_at", "updated_at")
OFFER_PREFIX = "offer_"
PRICE_PREFIX = "offer_price_"
NEW_PRICE = "offer_price_new"
OFFER_STOCK = "offer_stock"
FROM_1C_NOTE = "Данные из 1С перезаписываются при следующем обмене."


class SourceFilter(admin.SimpleListFilter):
    title = "источник"
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("1c", "Из 1С"), ("shop", "Создан в магазине")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "1c":
            return queryset.filter(onec_id__isnull=False)
        if self.value() == "shop":
            return queryset.filter(onec_id__isnull=True)
        return queryset


class FoldedSearchMixin:
    """Admin search that also matches Cyrillic in any case on SQLite (see catalog.search)."""

    folded_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        found, may_have_duplicates = super().get_search_results(  # type: ignore[misc]
            request, queryset, search_term
        )
        needle = search_fold(search_term.strip())
        if not needle or not self.folded_search_fields:
            return found, may_have_duplicates
        condition = Q()
        aliases = {}
        for field in self.folded_search_fields:
            aliases[f"{field}_folded"] = SearchFold(field)
            condition |= Q(**{f"{field}_folded__contains": needle})
        return found | queryset.alias(**aliases).filter(condition), may_have_duplicates


class HandEditMixin:
    """Saving a record by hand clears the importer's change hash (see the module docstring)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if getattr(obj, "onec_id", None):
            obj.content_hash = ""
        super().save_model(request, obj, form, change)  # type: ignore[misc]


@admin.register(Category)
class CategoryAdmin(FoldedSearchMixin, HandEditMixin, admin.ModelAdmin):
    list_display = ("name", "parent", "is_active", "sort_order", "products_count", "onec_id")
    list_filter = ("is_active", SourceFilter)
    list_select_related = ("parent",)
    search_fields = ("name", "onec_id")
    folded_search_fields = ("name",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("onec_id", *TIMESTAMPS)
    fields = ("name", "parent", "is_active", "sort_order", "onec_id", *TIMESTAMPS)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(products_total=Count("products"))

    @admin.display(description="товаров", ordering="products_total")
    def products_count(self, obj: Category) -> int:
        return obj.products_total  # type: ignore[attr-defined]


class PropertyValueInline(admin.TabularInline):
    """Reference values come from 1C (ВариантыЗначений); shown, not edited."""

    model = PropertyValue
    fields = ("value", "onec_id")
    readonly_fields = ("value", "onec_id")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Property)
class PropertyAdmin(HandEditMixin, admin.ModelAdmin):
    list_display = ("name", "value_type", "for_products", "for_offers", "is_active", "onec_id")
    list_filter = ("value_type", "is_active", SourceFilter)
    search_fields = ("name", "onec_id")
    readonly_fields = ("onec_id", *TIMESTAMPS)
    inlines = (PropertyValueInline,)


@admin.register(PriceType)
class PriceTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "currency", "customer_role", "onec_id")
    list_editable = ("customer_role",)
    search_fields = ("name", "onec_id")
    readonly_fields = ("onec_id", *TIMESTAMPS)
    fields = ("name", "currency", "customer_role", "onec_id", *TIMESTAMPS)


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "onec_id")
    list_filter = ("is_active", SourceFilter)
    search_fields = ("name", "onec_id")
    readonly_fields = ("onec_id", *TIMESTAMPS)


class ProductVariantInline(admin.TabularInline):
    model = ProductVariant
    fields = ("name", "article", "barcode", "characteristics", "is_active", "is_default", "stock_total", "onec_id")
    readonly_fields = ("is_default", "stock_total", "onec_id")
    extra = 0
    show_change_link = True
    verbose_name_plural = "варианты (цены и остатки — на странице варианта)"


class ProductPropertyValueInline(admin.TabularInline):
    model = ProductPropertyValue
    fields = ("property", "value", "reference")
    autocomplete_fields = ("property",)
    raw_id_fields = ("reference",)
    extra = 0


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    fields = ("preview", "image", "position", "description", "source_path")
    readonly_fields = ("preview", "source_path")
    extra = 0

    @admin.display(description="")
    def preview(self, obj: ProductImage) -> str:
        if not obj.pk or not obj.image:
            return ""
        return format_html('<img src="{}" alt="" style="max-height: 60px">', obj.image.url)


def _default_variant(product: Product | None) -> ProductVariant | None:
    if product is None or product.pk is None:
        return None
    return product.variants.filter(is_default=True).first()


def _sold_through_default_variant(product: Product | None) -> bool:
    """New products and products without characteristic variants get the price/stock section."""
    if product is None or product.pk is None:
        return True
    return not product.variants.filter(is_default=False).exists()


@admin.register(Product)
class ProductAdmin(FoldedSearchMixin, HandEditMixin, admin.ModelAdmin):
    list_display = ("name", "article", "category", "is_active", "list_price", "list_stock", "onec_id", "updated_at")
    list_filter = ("is_active", SourceFilter, "category")
    list_select_related = ("category",)
    search_fields = ("name", "article", "onec_id", "variants__barcode", "variants__onec_id")
    folded_search_fields = ("name", "article")
    autocomplete_fields = ("category",)
    readonly_fields = ("onec_id", "requisites", *TIMESTAMPS)
    inlines = (ProductVariantInline, ProductPropertyValueInline, ProductImageInline)
    base_fieldsets = (
        (None, {"fields": ("name", "article", "category", "description", "is_active")}),
        ("Единица измерения", {"fields": ("unit_name", "unit_code")}),
        ("1С", {"classes": ("collapse",), "fields": ("onec_id", "requisites", *TIMESTAMPS)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        products = super().get_queryset(request)
        return product_annotate_price_and_stock(products=products, price_type=customer_price_type(customer=None))

    @admin.display(description="цена (розн.)", ordering="price")
    def list_price(self, obj: Product) -> Decimal | None:
        return obj.price  # type: ignore[attr-defined]

    @admin.display(description="остаток", ordering="stock")
    def list_stock(self, obj: Product) -> Decimal | None:
        return obj.stock  # type: ignore[attr-defined]

    # --- "Цена и остаток": form fields that are not columns of Product ---------------------

    def _offer_fields(self, obj: Product | None) -> dict[str, forms.Field]:
        variant = _default_variant(obj)
        prices = {price.price_type_id: price.value for price in variant.prices.all()} if variant else {}
        fields: dict[str, forms.Field] = {}
        price_types = list(PriceType.objects.order_by("id"))
        for price_type in price_types:
            fields[f"{PRICE_PREFIX}{price_type.pk}"] = forms.DecimalField(
                label=f"Цена «{price_type.name}», {price_type.currency}",
                required=False,
                min_value=Decimal(0),
                max_digits=18,
                decimal_places=4,
                initial=prices.get(price_type.pk),
            )
        if not price_types:
            fields[NEW_PRICE] = forms.DecimalField(
                label=f"Цена, {settings.SHOP_CURRENCY}",
                help_text="Будет создан тип цен «Розничная» для розничных покупателей.",
                required=False,
                min_value=Decimal(0),
                max_digits=18,
                decimal_places=4,
            )
        by_warehouse = variant is not None and variant.stocks.exists()
        fields[OFFER_STOCK] = forms.DecimalField(
            label="Остаток",
            required=False,
            min_value=Decimal(0),
            max_digits=18,
            decimal_places=3,
            initial=variant.stock_total if variant else None,
            disabled=by_warehouse,
            help_text="Сумма по складам: меняйте на странице варианта." if by_warehouse else "",
        )
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Product | None = None) -> Any:
        if not _sold_through_default_variant(obj):
            return self.base_fieldsets
        note = "Товар без характеристик продаётся через вариант по умолчанию; он создаётся при сохранении."
        if obj is not None and obj.onec_id:
            note = f"{note} {FROM_1C_NOTE}"
        names = tuple(self._offer_fields(obj))
        return (
            *self.base_fieldsets[:2],
            ("Цена и остаток", {"fields": names, "description": note}),
            self.base_fieldsets[2],
        )

    def get_form(self, request: HttpRequest, obj: Product | None = None, change: bool = False, **kwargs: Any) -> Any:
        if _sold_through_default_variant(obj):
            kwargs["form"] = type("ProductForm", (self.form,), self._offer_fields(obj))
        return super().get_form(request, obj, change, **kwargs)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        product = form.instance
        if change:
            pictures = any(fs.has_changed() for fs in formsets if fs.model is ProductImage)
            product_note_site_edits(product=product, fields=[*form.changed_data, *(["images"] if pictures else [])])
        variant = product_ensure_default_variant(product=product)
        edited = [name for name in form.changed_data if name.startswith(OFFER_PREFIX)]
        if not edited:
            return
        if variant is None:
            messages.warning(
                request, "У товара есть варианты с характеристиками: цены и остатки задаются на их страницах."
            )
            return
        prices: dict[PriceType, Decimal | None] = {}
        for name in edited:
            if name == NEW_PRICE:
                if form.cleaned_data[name] is not None:
                    prices[price_type_default()] = form.cleaned_data[name]
            elif name.startswith(PRICE_PREFIX):
                price_type = PriceType.objects.filter(pk=int(name.removeprefix(PRICE_PREFIX))).first()
                if price_type is not None:
                    prices[price_type] = form.cleaned_data[name]
        if prices:
            variant_set_prices(variant=variant, prices=prices)
        if OFFER_STOCK in edited and not form.fields[OFFER_STOCK].disabled:
            variant_set_stock_total(variant=variant, quantity=form.cleaned_data[OFFER_STOCK] or Decimal(0))


class PriceInline(admin.TabularInline):
    model = Price
    fields = ("price_type", "value", "currency")
    readonly_fields = ("currency",)
    extra = 0


class StockInline(admin.TabularInline):
    model = Stock
    fields = ("warehouse", "quantity")
    extra = 0
    verbose_name_plural = "остатки по складам (итог пересчитывается при сохранении)"


@admin.register(ProductVariant)
class ProductVariantAdmin(HandEditMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "product",
        "article",
        "barcode",
        "characteristics_text",
        "is_active",
        "stock_total",
        "onec_id",
    )
    list_filter = ("is_active", "is_default", SourceFilter)
    list_select_related = ("product",)
    search_fields = ("name", "article", "barcode", "onec_id", "product__name", "product__article")
    autocomplete_fields = ("product",)
    inlines = (PriceInline, StockInline)
    fields = (
        "product",
        "name",
        "article",
        "barcode",
        "characteristics",
        "is_active",
        "is_default",
        "stock_total",
        "onec_id",
        *TIMESTAMPS,
    )

    def get_readonly_fields(self, request: HttpRequest, obj: ProductVariant | None = None) -> Any:
        readonly = ["is_default", "onec_id", *TIMESTAMPS]
        if obj is not None:
            readonly.append("product")
            if obj.stocks.exists():
                readonly.append("stock_total")
        return readonly

    @admin.display(description="характеристики")
    def characteristics_text(self, obj: ProductVariant) -> str:
        return obj.characteristics_text

    def save_formset(self, request: HttpRequest, form: Any, formset: BaseInlineFormSet, change: bool) -> None:
        if formset.model is Price:
            # A price is in its price type's currency (1C sends them that way too).
            for price_form in formset.forms:
                price = price_form.instance
                if price.price_type_id is not None:
                    price.currency = price.price_type.currency or settings.SHOP_CURRENCY
        super().save_formset(request, form, formset, change)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        variant_refresh_after_edit(variant=form.instance)
