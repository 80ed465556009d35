"""Request ids and structured (JSON) logs.

``RequestIdMiddleware`` gives every request an id (X-Request-ID from our own proxy when
TRUSTED_PROXIES says there is one, else a new one), returns it in the X-Request-ID header and
keeps it, with the exchange session once the endpoint knows it, in context variables.
In a Celery worker the task id stands for the request id (``bind_task``), and an import binds the
exchange session it belongs to. ``ContextFilter`` copies both onto every log record; ``JsonFormatter`` (LOG_FORMAT=json) writes
one JSON object per line with them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

REQUEST_ID_HEADER = "X-Request-ID"
# What we take from a proxy: nginx's $request_id is 32 hex digits; anything else reasonable.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
exchange_session_var: contextvars.ContextVar[str] = contextvars.ContextVar("exchange_session", default="")


def bind_exchange_session(session_id: object) -> None:
    """Mark the rest of this request's log records with the exchange session (its safe id)."""
    exchange_session_var.set(str(session_id) if session_id else "")


def bind_task(task_id: str | None = None, **_: object) -> None:
    """Celery's task_prerun/task_postrun: a task's log lines carry its task id as request id, and
    nothing of the previous task the process ran."""
    request_id_var.set(task_id or "")
    exchange_session_var.set("")


def _trusted_request_id(request: HttpRequest) -> str | None:
    if not settings.TRUSTED_PROXIES:
        return None  # no proxy of ours in front: anyone could have written the header
    value = str(request.META.get("HTTP_X_REQUEST_ID", "")).strip()
    return value if _VALID_REQUEST_ID.fullmatch(value) else None


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = _trusted_request_id(request) or uuid.uuid4().hex
        request_token = request_id_var.set(request_id)
        session_token = exchange_session_var.set("")
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(request_token)
            exchange_session_var.reset(session_token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``exchange_session`` to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.exchange_session = exchange_session_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id_var.get(),
            "exchange_session": getattr(record, "exchange_session", "") or exchange_session_var.get(),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
