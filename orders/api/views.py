"""Order API: place an order (guests and customers), read it back (its owner, or with its key)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import PageNumberPagination
from config.http import client_address
from config.ratelimit import Limit, RateLimited, rate_give_back, rate_take
from customers.models import User
from orders.api.serializers import (
    OrderCreatedSerializer,
    OrderCreateSerializer,
    OrderReadQuerySerializer,
    OrderSerializer,
)
from orders.models import Order
from orders.selectors import order_get_for_reader, order_list_for_customer
from orders.services import OrderInvalid, OrderLine, order_create


def _order_rate_take(request: Request, customer: User | None) -> list[str]:
    """A slot of the order rate limits: per client address (X-Forwarded-For only behind
    TRUSTED_PROXIES proxies), and per account for a customer. Raises Throttled (429)."""
    address = client_address(request._request) or "unknown"
    limits = [Limit("orders:address", address, settings.SHOP_ORDER_RATE_PER_ADDRESS)]
    if customer is not None:
        limits.append(Limit("orders:customer", str(customer.pk), settings.SHOP_ORDER_RATE_PER_CUSTOMER))
    try:
        return rate_take(*limits)
    except RateLimited as exc:
        raise exceptions.Throttled(wait=exc.wait) from exc


@extend_schema(tags=["orders"])
class OrderListCreateView(generics.ListAPIView[Order]):
    serializer_class = OrderSerializer
    pagination_class = PageNumberPagination
    filter_backends = ()

    def get_permissions(self) -> Sequence[BasePermission]:
        return [IsAuthenticated()] if self.request.method == "GET" else []

    def get_queryset(self) -> QuerySet[Order]:
        assert isinstance(self.request.user, User)
        return order_list_for_customer(customer=self.request.user)

    @extend_schema(summary="Your orders (logged-in customers)")
    def get(self, request: Request) -> Response:
        return super().get(request)

    @extend_schema(
        summary="Place an order",
        request=OrderCreateSerializer,
        responses={201: OrderCreatedSerializer, 429: None},
    )
    def post(self, request: Request) -> Response:
        """Prices come from your price type (retail for guests), totals are computed here, stock
        is checked. Guests give a name and an email or a phone; a logged-in customer's profile
        fills what is left out. Several lines for one variant are merged into one. Orders placed
        are limited per client address and per customer (429 with Retry-After); refused orders
        do not count."""
        data = OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        lines = [
            OrderLine(variant_id=item.get("variant"), product_id=item.get("product"), quantity=item["quantity"])
            for item in fields.pop("items")
        ]
        customer = request.user if isinstance(request.user, User) else None
        slots = _order_rate_take(request, customer)
        try:
            order = order_create(customer=customer, lines=lines, **fields)
        except BaseException as exc:
            rate_give_back(slots)  # only orders placed count against the limits
            if isinstance(exc, OrderInvalid):
                raise serializers.ValidationError(exc.errors) from exc
            raise
        return Response(OrderCreatedSerializer(order).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["orders"])
class OrderDetailView(APIView):
    @extend_schema(
        summary="Read an order",
        parameters=[OrderReadQuerySerializer],
        responses={200: OrderSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        """For its logged-in owner, or with ``?key=`` the access key the order was placed with.
        Anyone else gets 404, as for an order that does not exist."""
        query = OrderReadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        order = order_get_for_reader(
            number=number, customer=request.user, access_key=query.validated_data.get("key", "")
        )
        if order is None:
            raise Http404
        return Response(OrderSerializer(order).data)
