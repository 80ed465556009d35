"""What the catalog API shows. Prices are in the requesting customer's price type, passed in
the serializer context as ``price_type``: the only price type a visitor ever sees (no list of
every price type: purchase and other tiers' prices are not for the visitor's eyes)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Category, Price, PriceType, Product, ProductImage, ProductVariant
from config.api import MAX_ID, MoneyField, QuantityField


class CategorySerializer(serializers.ModelSerializer[Category]):
    children_count = serializers.IntegerField(read_only=True, help_text="Active subcategories.")

    class Meta:
        model = Category
        fields = ("id", "name", "parent", "sort_order", "children_count")


class CategoryQuerySerializer(serializers.Serializer[Any]):
    # The names shadow Serializer.parent/.root in the type stubs only: DRF's metaclass moves
    # declared fields off the class.
    parent = serializers.IntegerField(  # type: ignore[assignment]
        required=False, min_value=1, max_value=MAX_ID, help_text="Only the subcategories of this category."
    )
    root = serializers.BooleanField(  # type: ignore[assignment]
        required=False, default=None, allow_null=True, help_text="Only top-level categories."
    )


class ProductQuerySerializer(serializers.Serializer[Any]):
    category = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Products of this category and its subcategories."
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Part of the name or the article, any letter case (ё and е match).",
    )


class NameValueSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    value = serializers.CharField()


def _price_type(context: dict[str, Any]) -> PriceType | None:
    return context.get("price_type")


def _visitor_price(context: dict[str, Any], variant: ProductVariant) -> Price | None:
    """The variant's price of the visitor's price type (the selector prefetched only that one)."""
    price_type = _price_type(context)
    if price_type is None:
        return None
    return next((price for price in variant.prices.all() if price.price_type_id == price_type.pk), None)


class _WarehouseRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StockSerializer(serializers.Serializer[Any]):
    warehouse = _WarehouseRef()
    quantity = QuantityField()


class VariantSerializer(serializers.ModelSerializer[ProductVariant]):
    characteristics = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField(
        help_text="The price for you (your price type); null: not for sale to you."
    )
    currency = serializers.SerializerMethodField(help_text="Currency of ``price``; null when there is no price.")
    stock = QuantityField(
        source="available",
        help_text="What can be ordered now: 1C's stock less what orders not yet in 1C hold. "
        "An order for more is refused with this same figure.",
    )
    stocks = StockSerializer(
        many=True, read_only=True, help_text="Stock per warehouse as 1C reported it, when 1C reports it."
    )

    class Meta:
        model = ProductVariant
        fields = (
            "id",
            "name",
            "article",
            "barcode",
            "is_default",
            "characteristics",
            "price",
            "currency",
            "stock",
            "stocks",
        )

    @extend_schema_field(NameValueSerializer(many=True))
    def get_characteristics(self, variant: ProductVariant) -> list[dict[str, str]]:
        items = variant.characteristics if isinstance(variant.characteristics, list) else []
        return [
            {"name": str(item.get("name", "")), "value": str(item.get("value", ""))}
            for item in items
            if isinstance(item, dict)
        ]

    @extend_schema_field(MoneyField(allow_null=True))
    def get_price(self, variant: ProductVariant) -> str | None:
        price = _visitor_price(self.context, variant)
        return MoneyField().to_representation(price.value) if price is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_currency(self, variant: ProductVariant) -> str | None:
        price_type = _price_type(self.context)
        has_price = _visitor_price(self.context, variant) is not None
        return price_type.currency if price_type is not None and has_price else None


class ProductListSerializer(serializers.ModelSerializer[Product]):
    price = MoneyField(allow_null=True, help_text="The lowest price for you among the variants; null: no price.")
    currency = serializers.SerializerMethodField()
    stock = QuantityField(
        source="available", allow_null=True, help_text="What can be ordered now, all variants together."
    )
    image = serializers.SerializerMethodField(help_text="URL of the first image.")

    class Meta:
        model = Product
        fields: tuple[str, ...] = (
            "id",
            "name",
            "article",
            "category",
            "unit_name",
            "price",
            "currency",
            "stock",
            "image",
        )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_currency(self, product: Product) -> str | None:
        price_type = _price_type(self.context)
        has_price = getattr(product, "price", None) is not None
        return price_type.currency if price_type is not None and has_price else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image(self, product: Product) -> str | None:
        images = list(product.images.all())
        return _image_url(self.context, images[0]) if images else None

    def to_representation(self, instance: Product) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["stock"] = data["stock"] if data["stock"] is not None else "0"
        return data


def _image_url(context: dict[str, Any], image: ProductImage) -> str:
    request = context.get("request")
    url = image.image.url
    return request.build_absolute_uri(url) if request is not None else url


class ImageSerializer(serializers.Serializer[Any]):
    url = serializers.SerializerMethodField()
    description = serializers.CharField()

    @extend_schema_field(serializers.URLField())
    def get_url(self, image: ProductImage) -> str:
        return _image_url(self.context, image)


class _CategoryRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ProductDetailSerializer(ProductListSerializer):
    category = _CategoryRef(allow_null=True, read_only=True)
    properties = serializers.SerializerMethodField()
    images = ImageSerializer(many=True, read_only=True)
    variants = VariantSerializer(many=True, read_only=True)

    class Meta(ProductListSerializer.Meta):
        fields = (
            "id",
            "name",
            "article",
            "description",
            "category",
            "unit_name",
            "unit_code",
            "price",
            "currency",
            "stock",
            "properties",
            "images",
            "variants",
        )

    @extend_schema_field(NameValueSerializer(many=True))
    def get_properties(self, product: Product) -> list[dict[str, str]]:
        values = ({"name": pv.property.name, "value": pv.display_value()} for pv in product.property_values.all())
        return [item for item in values if item["value"]]
