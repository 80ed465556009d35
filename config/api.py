"""API-wide pieces: the exception handler that keeps every error a JSON answer, the JSON parser,
pagination, and the number formats every endpoint shares."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import UnreadablePostError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, pagination, parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("config")

# Largest id a query may carry: bigger ones overflow the database's integer (a 500 otherwise).
MAX_ID = 2**63 - 1


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def _client_mistake(exc: Exception) -> exceptions.APIException | None:
    """Django's complaints about the request itself, as the API answers them: the client's
    mistake (4xx with ``detail``), never a 500."""
    if isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError (they know nothing of DRF); it is the client's
        # mistake, answered like a serializer's field errors.
        return serializers.ValidationError(detail=serializers.as_serializer_error(exc))
    if isinstance(exc, RequestDataTooBig):
        # Raised where the body is read (DATA_UPLOAD_MAX_MEMORY_SIZE); files in a multipart
        # body do not count, but no API endpoint takes files.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return RequestTooLarge(f"Тело запроса больше допустимого ({limit} байт).")
    if isinstance(exc, SuspiciousOperation):  # too many form fields or files, a broken multipart
        return exceptions.ParseError(f"Запрос не разобран: {exc}")
    if isinstance(exc, UnreadablePostError):  # the client went away mid-body
        return exceptions.ParseError("Тело запроса не прочитано полностью.")
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _client_mistake(exc) or exc
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    ref = uuid.uuid4().hex[:12]
    logger.exception("Unhandled API error ref=%s", ref)
    return Response({"detail": f"Internal error, ref {ref}"}, status=500)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with nesting too deep for the decoder answered as a parse error.

    ``[`` repeated 100000 times makes json's decoder raise RecursionError, which is not a
    ValueError and escaped DRF's parser as a 500.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from exc


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
