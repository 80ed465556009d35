"""API-wide pieces: the exception handler that keeps every error a JSON answer, pagination, and
the number formats every endpoint shares."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import pagination, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("config")

# Largest id a query may carry: bigger ones overflow the database's integer (a 500 otherwise).
MAX_ID = 2**63 - 1


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError (they know nothing of DRF); it is the client's
        # mistake, answered like a serializer's field errors.
        exc = serializers.ValidationError(detail=serializers.as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    ref = uuid.uuid4().hex[:12]
    logger.exception("Unhandled API error ref=%s", ref)
    return Response({"detail": f"Internal error, ref {ref}"}, status=500)


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=`` (up to 100); answers carry the total ``count``."""

    page_size_query_param = "page_size"
    max_page_size = 100


@extend_schema_field({"type": "string", "format": "decimal", "example": "1499.90"})
class MoneyField(serializers.Field):
    """Money as a string with at least two decimals, never rounded: "1499.90", "50.005"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        value = Decimal(value)
        cents = value.quantize(Decimal("0.01"))
        return str(cents) if cents == value else format(value.normalize(), "f")


@extend_schema_field(OpenApiTypes.DECIMAL)
class QuantityField(serializers.Field):
    """A quantity as a string without trailing zeros: "10", "2.5"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        value = Decimal(value)
        return format(value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize(), "f")
