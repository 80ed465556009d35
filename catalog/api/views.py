"""Catalog API: categories and products, read-only, for guests and customers alike."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api.serializers import (
    CategoryQuerySerializer,
    CategorySerializer,
    ProductDetailSerializer,
    ProductListSerializer,
    ProductQuerySerializer,
)
from catalog.models import Category, PriceType, Product
from catalog.selectors import category_list, product_detail, product_list
from config.api import MAX_ID, PageNumberPagination
from customers.selectors import customer_price_type


class _PricedView(generics.GenericAPIView[Product]):
    """Serializers get the requesting customer's price type (guests: retail)."""

    def price_type(self) -> PriceType | None:
        if not hasattr(self, "_price_type"):
            self._price_type = customer_price_type(customer=self.request.user)
        return self._price_type

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "price_type": self.price_type()}


@extend_schema(tags=["catalog"], parameters=[CategoryQuerySerializer])
class CategoryListView(generics.ListAPIView[Category]):
    """Active categories, flat, with their parent's id: build the tree with ``?parent=`` or
    ``?root=true`` one level at a time, or read all pages."""

    serializer_class = CategorySerializer
    pagination_class = PageNumberPagination
    filter_backends = ()

    def get_queryset(self) -> QuerySet[Category]:
        query = CategoryQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        categories = category_list().order_by("sort_order", "name", "id")
        if query.validated_data.get("parent"):
            categories = categories.filter(parent_id=query.validated_data["parent"])
        if query.validated_data.get("root"):
            categories = categories.filter(parent__isnull=True)
        return categories


@extend_schema(tags=["catalog"])
class CategoryDetailView(generics.RetrieveAPIView[Category]):
    serializer_class = CategorySerializer
    filter_backends = ()

    def get_object(self) -> Category:
        category = category_list().filter(pk=min(self.kwargs["pk"], MAX_ID)).first()
        if category is None:
            raise Http404
        return category


@extend_schema(tags=["catalog"], parameters=[ProductQuerySerializer])
class ProductListView(_PricedView, generics.ListAPIView[Product]):
    """Active products, by name. ``price`` is the lowest price of the product's variants in your
    price type (retail for guests)."""

    serializer_class = ProductListSerializer
    pagination_class = PageNumberPagination
    filter_backends = ()

    def get_queryset(self) -> QuerySet[Product]:
        query = ProductQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return product_list(
            price_type=self.price_type(),
            category_id=query.validated_data.get("category"),
            search=query.validated_data.get("search", ""),
        )


@extend_schema(tags=["catalog"])
class ProductDetailView(_PricedView):
    """A product with its variants (what is ordered), their prices, stock, properties and images."""

    serializer_class = ProductDetailSerializer
    filter_backends = ()

    def get(self, request: Request, pk: int) -> Response:
        product = product_detail(product_id=min(pk, MAX_ID), price_type=self.price_type())
        if product is None:
            raise Http404
        return Response(self.get_serializer(product).data)
