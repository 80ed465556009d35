"""A fake of the customers HTTP service a 1C developer publishes for the site (the contract in
README "Customer sync" and docs/1c-setup.ru.md), to try a deployment without 1C and for tests.

* ``POST /`` with a customer (JSON): answers ``201 {"onec_id": …}`` for a new counterparty,
  ``200 {"onec_id": …}`` for a known one. A counterparty is recognised by the ``onec_id`` sent or,
  as the contract asks of 1C, by ``site_id``: a repeated request never creates a second one.
  A CommerceML body (one Контрагент) is accepted too; its site id is the ``ИдНаСайте`` requisite.
* ``GET /?changed_since=…&offset=…&limit=…``: ``{"customers": […], "has_more": …}``, oldest change
  first, each with ``onec_id`` and ``price_type_id``.
* Faults on demand: ``fail_rate`` of the POSTs answer 500/503 (half of them after storing the
  customer, like a 1C that fails while answering), ``slow_rate`` answer after ``slow_seconds``;
  a seeded random generator makes a run repeatable. ``script`` forces the next answers.

Pure standard library, no Django: ``python -m emulator customers-service --port 8081``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIELDS = ("kind", "email", "phone", "first_name", "last_name", "company_name", "inn", "kpp", "address")


@dataclass
class ScriptedAnswer:
    """A forced answer: ``status`` with ``body`` (a dict is sent as JSON), after ``delay`` seconds;
    ``store=True`` stores the customer first (the answer then says whatever ``body`` says)."""

    status: int
    body: Any = None
    delay: float = 0.0
    store: bool = False


@dataclass
class ServiceStats:
    posts: int = 0
    gets: int = 0
    failures: int = 0
    slow: int = 0
    # Every onec_id the service ever answered for a site_id, in order.
    issued: dict[str, list[str]] = field(default_factory=dict)
    post_times: list[float] = field(default_factory=list)  # monotonic times of the POSTs


class CustomersService:
    """The service's state and behaviour; ``serve()`` puts it on a port."""

    def __init__(
        self,
        *,
        fail_rate: float = 0.0,
        slow_rate: float = 0.0,
        slow_seconds: float = 2.0,
        seed: int | None = None,
        user: str = "",
        password: str = "",
    ) -> None:
        self.fail_rate = fail_rate
        self.slow_rate = slow_rate
        self.slow_seconds = slow_seconds
        self.user, self.password = user, password
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.customers: dict[str, dict[str, Any]] = {}
        self.by_site_id: dict[str, str] = {}
        self.script: deque[ScriptedAnswer] = deque()
        self.stats = ServiceStats()
        self.requests: list[dict[str, Any]] = []  # bodies received, newest last
        self._last_change = dt.datetime.now(dt.UTC)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- 1C's side of the data -----------------------------------------------------------------
    def _touch(self) -> str:
        now = max(dt.datetime.now(dt.UTC), self._last_change + dt.timedelta(microseconds=1))
        self._last_change = now
        return now.isoformat()

    def add_counterparty(self, onec_id: str | None = None, **values: Any) -> str:
        """Create or change a counterparty as a 1C user would (shows up in the GET import)."""
        with self.lock:
            onec_id = onec_id or str(uuid.uuid4())
            record = self.customers.setdefault(onec_id, {"onec_id": onec_id, "price_type_id": None, "site_id": None})
            record.update(values)
            record["changed_at"] = self._touch()
            return onec_id

    def reset(self) -> None:
        with self.lock:
            self.customers.clear()
            self.by_site_id.clear()
            self.script.clear()
            self.requests.clear()
            self.stats = ServiceStats()
            self.fail_rate = self.slow_rate = 0.0

    # --- the contract ----------------------------------------------------------------------------
    def _store(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        site_id = str(data.get("site_id") or "").strip()
        if not site_id:
            return 400, {"error": "site_id is required"}
        with self.lock:
            onec_id = data.get("onec_id") or self.by_site_id.get(site_id)
            if onec_id and onec_id not in self.customers:
                return 404, {"error": f"no counterparty {onec_id}"}
            status = 200 if onec_id else 201
            onec_id = onec_id or str(uuid.uuid4())
            record = self.customers.setdefault(onec_id, {"onec_id": onec_id, "price_type_id": None})
            record.update({name: data.get(name) for name in FIELDS if name in data})
            record["site_id"] = site_id
            record["changed_at"] = self._touch()
            self.by_site_id[site_id] = onec_id
            self.stats.issued.setdefault(site_id, []).append(onec_id)
            return status, {"onec_id": onec_id}

    def handle_post(self, body: bytes, content_type: str) -> tuple[int, Any, float]:
        """(status, body, delay) of a POST."""
        with self.lock:
            self.stats.posts += 1
            self.stats.post_times.append(time.monotonic())
            scripted = self.script.popleft() if self.script else None
            roll_fail, roll_slow, roll_when = self.random.random(), self.random.random(), self.random.random()
        try:
            data = parse_cml_counterparty(body) if "xml" in content_type else json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return 400, {"error": "body is not JSON"}, 0.0
        if not isinstance(data, dict):
            return 400, {"error": "body is not a JSON object"}, 0.0
        with self.lock:
            self.requests.append(data)
        if scripted is not None:
            if scripted.store:
                self._store(data)
            return scripted.status, scripted.body, scripted.delay
        if roll_fail < self.fail_rate:
            with self.lock:
                self.stats.failures += 1
            if roll_when < 0.5:  # failed after 1C stored the counterparty
                self._store(data)
            return (500 if roll_when < 0.75 else 503), {"error": "simulated failure"}, 0.0
        status, answer = self._store(data)
        delay = 0.0
        if roll_slow < self.slow_rate:
            with self.lock:
                self.stats.slow += 1
            delay = self.slow_seconds
        return status, answer, delay

    def handle_get(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        try:
            offset = int(query.get("offset", ["0"])[0])
            limit = int(query.get("limit", ["100"])[0])
            since_raw = query.get("changed_since", [""])[0]
            since = dt.datetime.fromisoformat(since_raw) if since_raw else None
        except ValueError:
            return 400, {"error": "bad offset, limit or changed_since"}
        with self.lock:
            self.stats.gets += 1
            records = sorted(self.customers.values(), key=lambda r: (r["changed_at"], r["onec_id"]))
            if since is not None:
                records = [r for r in records if dt.datetime.fromisoformat(r["changed_at"]) >= since]
            page = records[offset : offset + limit]
            customers = [{k: v for k, v in r.items() if k != "changed_at"} for r in page]
        return 200, {"customers": customers, "has_more": offset + limit < len(records)}

    def authorized(self, header: str | None) -> bool:
        if not self.user:
            return True
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return header == f"Basic {expected}"

    # --- serving ---------------------------------------------------------------------------------
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving in a background thread; returns the service URL."""
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any, delay: float = 0.0) -> None:
                if delay:
                    time.sleep(delay)
                payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (timeout) before the answer
                    pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if not service.authorized(self.headers.get("Authorization")):
                    self._answer(401, {"error": "unauthorized"})
                    return
                self._answer(*service.handle_post(body, self.headers.get("Content-Type") or ""))

            def do_GET(self) -> None:
                if not service.authorized(self.headers.get("Authorization")):
                    self._answer(401, {"error": "unauthorized"})
                    return
                self._answer(*service.handle_get(parse_qs(urlsplit(self.path).query)))

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="customers-service", daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host_text}:{port}/customers"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


_TAG = re.compile(r"<(ИНН|КПП|Ид|ОфициальноеНаименование|Наименование|Фамилия|Имя)>([^<]*)</\1>")
_SITE_ID = re.compile(r"<Наименование>ИдНаСайте</Наименование>\s*<Значение>([^<]*)</Значение>")


def parse_cml_counterparty(body: bytes) -> dict[str, Any]:
    """The fields of the one Контрагент of a CommerceML export body that this fake needs. A real
    1C reads it with its XDTO package; a regular expression is enough for a test double."""
    text = body.decode("utf-8-sig")
    site = _SITE_ID.search(text)
    if "<Контрагент>" not in text or site is None:
        raise ValueError("no Контрагент with ИдНаСайте")
    values: dict[str, str] = {}
    for tag, value in _TAG.findall(text):
        values.setdefault(tag, value)
    onec_id = values.get("Ид", "")
    is_company = "ОфициальноеНаименование" in values
    return {
        "site_id": site.group(1),
        "onec_id": None if onec_id.startswith("site-") else onec_id,
        "kind": "company" if is_company else "individual",
        "company_name": values.get("ОфициальноеНаименование", ""),
        "inn": values.get("ИНН", ""),
        "kpp": values.get("КПП", ""),
        "first_name": values.get("Имя", ""),
        "last_name": values.get("Фамилия", ""),
    }
