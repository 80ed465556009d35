"""``/metrics``: Prometheus' text format, open when METRICS_TOKEN is empty (the embedded default),
else only to ``Authorization: Bearer <METRICS_TOKEN>``."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from observability.metrics import metrics_render


def _refusal(request: HttpRequest, token: str) -> HttpResponse | None:
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        response = HttpResponse("Bearer token required\n", status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(presented.strip().encode(), token.encode()):
        return HttpResponse("Wrong token\n", status=403, content_type="text/plain; charset=utf-8")
    return None


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:
        refusal = _refusal(request, token)
        if refusal is not None:
            return refusal
    response = HttpResponse(metrics_render(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
