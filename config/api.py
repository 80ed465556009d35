"""API-wide pieces: the exception handler that keeps every error a JSON answer."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("config")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    ref = uuid.uuid4().hex[:12]
    logger.exception("Unhandled API error ref=%s", ref)
    return Response({"detail": f"Internal error, ref {ref}"}, status=500)
