"""The HTTP contract with 1C's customers service (README "Customer sync", docs/1c-setup.ru.md).

``post_customer`` sends one customer and classifies the answer; it never raises for anything the
network or 1C can do, so that the export decides from a value:

* success: a 2xx whose JSON body has a non-empty ``onec_id``;
* transient (retried with backoff): a 2xx without a usable ``onec_id``, any 5xx, 408, 429, a
  timeout, a refused or broken connection;
* permanent (failed at once, 1C's answer kept): any other 4xx, and a redirect (the URL is wrong).

``fetch_page`` reads one page of the import; it raises ``ImportPageError`` on any failure. Both use
httpx with the explicit ONEC_HTTP_TIMEOUT (per connect/read/write phase) and are only ever called
from Celery tasks and management commands, never from a web request.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import httpx

from exchange.conf import CustomerSyncSettings
from exchange.protocol import ONEC_BAD_PAGE, ONEC_HTTP_ERROR, ONEC_NO_ID, ONEC_REDIRECT, ONEC_TIMEOUT, ONEC_UNREACHABLE

Outcome = Literal["success", "transient", "permanent"]
TRANSIENT_STATUSES = frozenset({408, 429})
# 1C's answer is kept for the operator; an HTML error page of a proxy can be long.
ANSWER_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class CallResult:
    outcome: Outcome
    onec_id: str | None
    status_code: int | None
    answer: str  # 1C's body (shortened), empty when there was no answer
    reason: str  # for the operator; empty on success
    duration: float  # seconds


@dataclass(frozen=True, slots=True)
class ImportPage:
    customers: list[Mapping[str, Any]]
    has_more: bool


class ImportPageError(Exception):
    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= ANSWER_LIMIT else text[:ANSWER_LIMIT] + "…"


def classify(status: int, body: str) -> tuple[Outcome, str | None, str]:
    """(outcome, onec_id, reason) of an HTTP answer of the export."""
    if 200 <= status < 300:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        onec_id = data.get("onec_id") if isinstance(data, dict) else None
        if isinstance(onec_id, (str, int)) and str(onec_id).strip():
            return "success", str(onec_id).strip(), ""
        return "transient", None, ONEC_NO_ID.format(status=status, answer=_short(body) or "(пусто)")
    if 300 <= status < 400:
        return "permanent", None, ONEC_REDIRECT.format(status=status)
    reason = ONEC_HTTP_ERROR.format(status=status, answer=_short(body) or "(пусто)")
    if status >= 500 or status in TRANSIENT_STATUSES:
        return "transient", None, reason
    return "permanent", None, reason


class CustomersServiceClient:
    """One connection pool to 1C's service; use as a context manager."""

    def __init__(self, conf: CustomerSyncSettings) -> None:
        self.conf = conf
        auth = httpx.BasicAuth(conf.http_user, conf.http_password) if conf.http_user else None
        self._http = httpx.Client(
            timeout=httpx.Timeout(conf.timeout),
            auth=auth,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    def __enter__(self) -> CustomersServiceClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def post_customer(self, *, body: bytes, content_type: str) -> CallResult:
        started = time.monotonic()
        try:
            response = self._http.post(self.conf.url, content=body, headers={"Content-Type": content_type})
        except httpx.TimeoutException:
            reason = ONEC_TIMEOUT.format(seconds=f"{self.conf.timeout:g}")
            return CallResult("transient", None, None, "", reason, time.monotonic() - started)
        except httpx.HTTPError as exc:  # refused, reset, DNS, a broken answer
            reason = ONEC_UNREACHABLE.format(error=str(exc) or type(exc).__name__)
            return CallResult("transient", None, None, "", reason, time.monotonic() - started)
        text = response.text
        outcome, onec_id, reason = classify(response.status_code, text)
        return CallResult(outcome, onec_id, response.status_code, _short(text), reason, time.monotonic() - started)

    def fetch_page(self, *, changed_since: dt.datetime | None, offset: int, limit: int) -> ImportPage:
        params: dict[str, str | int] = {"offset": offset, "limit": limit}
        if changed_since is not None:
            params["changed_since"] = changed_since.isoformat()
        try:
            response = self._http.get(self.conf.url, params=params)
        except httpx.TimeoutException as exc:
            raise ImportPageError(ONEC_TIMEOUT.format(seconds=f"{self.conf.timeout:g}"), transient=True) from exc
        except httpx.HTTPError as exc:
            raise ImportPageError(
                ONEC_UNREACHABLE.format(error=str(exc) or type(exc).__name__), transient=True
            ) from exc
        if response.status_code != 200:
            reason = ONEC_HTTP_ERROR.format(status=response.status_code, answer=_short(response.text) or "(пусто)")
            transient = response.status_code >= 500 or response.status_code in TRANSIENT_STATUSES
            raise ImportPageError(reason, transient=transient)
        try:
            data = response.json()
        except ValueError as exc:
            raise ImportPageError(ONEC_BAD_PAGE.format(details="не JSON"), transient=True) from exc
        customers = data.get("customers") if isinstance(data, dict) else None
        if not isinstance(customers, list) or not all(isinstance(item, dict) for item in customers):
            raise ImportPageError(ONEC_BAD_PAGE.format(details="нет списка customers"), transient=False)
        return ImportPage(customers=customers, has_more=bool(data.get("has_more")))
