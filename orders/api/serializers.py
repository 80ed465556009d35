from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from config.api import MAX_ID, MoneyField, QuantityField
from orders.models import Order, OrderHistory, OrderItem
from orders.services import MAX_LINES


class OrderLineInputSerializer(serializers.Serializer[Any]):
    variant = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Id of the variant (see the product's `variants`)."
    )
    product = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Instead of `variant`: a product with a single variant (no characteristics).",
    )
    quantity = serializers.DecimalField(max_digits=18, decimal_places=3, min_value=Decimal("0.001"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("variant" in attrs) == ("product" in attrs):
            raise serializers.ValidationError({"variant": ["Укажите либо variant, либо product."]})
        return attrs


class OrderCreateSerializer(serializers.Serializer[Any]):
    """What the client may say about an order. Prices and totals are not among it."""

    items = OrderLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]
    contact_name = serializers.CharField(
        required=False, allow_blank=True, max_length=255, default="", help_text="Required for guests."
    )
    contact_email = serializers.EmailField(
        required=False, allow_blank=True, max_length=254, default="", help_text="Guests: email or phone."
    )
    contact_phone = serializers.CharField(
        required=False, allow_blank=True, max_length=32, default="", help_text="Any notation; stored as E.164."
    )
    delivery_address = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class OrderItemSerializer(serializers.ModelSerializer[OrderItem]):
    price = MoneyField()
    quantity = QuantityField()
    total = MoneyField()

    class Meta:
        model = OrderItem
        fields = ("variant", "name", "article", "unit_name", "price", "quantity", "total")
        read_only_fields = fields


class OrderHistorySerializer(serializers.ModelSerializer[OrderHistory]):
    class Meta:
        model = OrderHistory
        fields = ("created_at", "source", "field", "old_value", "new_value")
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer[Order]):
    items = OrderItemSerializer(many=True, read_only=True)
    history = OrderHistorySerializer(
        many=True, read_only=True, help_text="Changes of the order, oldest first (source 1c: made in 1C)."
    )
    items_total = MoneyField()
    delivery_total = MoneyField()
    total = MoneyField()

    class Meta:
        model = Order
        fields: tuple[str, ...] = (
            "number",
            "created_at",
            "status",
            "contact_name",
            "contact_email",
            "contact_phone",
            "delivery_address",
            "comment",
            "currency",
            "items",
            "items_total",
            "delivery_total",
            "total",
            "payment_status",
            "shipment_status",
            "history",
        )
        read_only_fields = fields


class OrderCreatedSerializer(OrderSerializer):
    access_key = serializers.CharField(
        read_only=True, help_text="Keep it: `GET /api/orders/<number>/?key=<access_key>` reads the order without login."
    )

    class Meta(OrderSerializer.Meta):
        fields = (*OrderSerializer.Meta.fields, "access_key")
        read_only_fields = fields


class OrderReadQuerySerializer(serializers.Serializer[Any]):
    key = serializers.CharField(
        required=False, allow_blank=True, max_length=128, help_text="The order's access_key (for guests)."
    )
