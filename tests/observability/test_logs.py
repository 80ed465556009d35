"""Log records carry the request id and the exchange session; LOG_FORMAT=json writes them as JSON."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

from exchange import jobs
from exchange.catalog import service as catalog_import
from exchange.models import ExchangeSession
from observability.logs import ContextFilter, JsonFormatter
from tests.exchange.conftest import OneC
from tests.services import ROOT, process_env

pytestmark = pytest.mark.django_db


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.addFilter(ContextFilter())
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def json_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """JSON lines of what the exchange logs while it handles ``mode=complete``."""
    handler = Lines()
    logger = logging.getLogger("exchange.catalog.service")
    logger.addHandler(handler)
    original = catalog_import.catalog_complete

    def complete_and_log(*, session: ExchangeSession) -> object:
        logger.warning("completing the exchange")
        return original(session=session)

    monkeypatch.setattr(catalog_import, "catalog_complete", complete_and_log)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def test_a_log_line_of_an_exchange_request_names_the_request_and_the_session(
    catalog: OneC, json_lines: list[str]
) -> None:
    response = catalog.get("complete")

    record = json.loads(json_lines[-1])
    session = ExchangeSession.objects.get()
    assert record["message"] == "completing the exchange"
    assert record["level"] == "WARNING"
    assert record["exchange_session"] == str(session.pk)
    assert len(record["request_id"]) == 32
    assert record["request_id"] == response.raw["X-Request-ID"]


def test_each_request_gets_its_own_id(catalog: OneC) -> None:
    first, second = catalog.get("init"), catalog.get("init")
    assert first.raw["X-Request-ID"] != second.raw["X-Request-ID"]


def test_the_proxys_request_id_is_kept_only_behind_a_trusted_proxy(
    catalog: OneC, json_lines: list[str], settings
) -> None:
    header = {"HTTP_X_REQUEST_ID": "0123456789abcdef0123456789abcdef"}
    catalog._cookies()
    untrusted = catalog.client.get(catalog.url("init"), **header)
    assert untrusted["X-Request-ID"] != header["HTTP_X_REQUEST_ID"]

    settings.TRUSTED_PROXIES = 1
    catalog._cookies()
    trusted = catalog.client.get(catalog.url("complete"), **header)
    assert trusted["X-Request-ID"] == header["HTTP_X_REQUEST_ID"]
    assert json.loads(json_lines[-1])["request_id"] == header["HTTP_X_REQUEST_ID"]

    forged = catalog.client.get("/health", HTTP_X_REQUEST_ID="<script>")
    assert forged["X-Request-ID"] != "<script>"


def test_log_format_json_makes_every_line_of_the_project_json() -> None:
    code = "import django; django.setup(); import logging; logging.getLogger('exchange').warning('ключ %s', 1)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=process_env(LOG_FORMAT="json", DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["message"] == "ключ 1"
    assert record["logger"] == "exchange"
    assert set(record) >= {"time", "level", "request_id", "exchange_session"}


def test_an_unknown_log_format_is_refused_at_start() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=process_env(LOG_FORMAT="xml", DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json" in result.stderr


def test_a_failing_imports_log_line_names_its_exchange(
    catalog: OneC, queued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.post_file("import.xml", b"<x/>")
    catalog.import_file("import.xml")

    def crash(*args: object, **kwargs: object) -> str:
        raise RuntimeError("importer bug")

    monkeypatch.setattr(jobs, "_import_file", crash)
    handler = Lines()
    logger = logging.getLogger("exchange.jobs")
    logger.addHandler(handler)
    try:
        with pytest.raises(RuntimeError):
            catalog_import.import_session_run(import_session_id=queued[0], task_id="task-1")
    finally:
        logger.removeHandler(handler)

    record = json.loads(handler.lines[-1])
    assert record["message"] == f"Import {queued[0]} failed"
    assert record["exchange_session"] == str(ExchangeSession.objects.get().pk)
    assert "importer bug" in record["exception"]


def test_a_tasks_log_lines_carry_its_task_id_and_nothing_of_the_task_before() -> None:
    from celery.signals import task_postrun, task_prerun

    from config.celery import ping
    from observability.logs import bind_exchange_session, exchange_session_var, request_id_var

    bind_exchange_session("left-over")
    task_prerun.send(sender=ping, task_id="0f3a", task=ping, args=(), kwargs={})
    assert (request_id_var.get(), exchange_session_var.get()) == ("0f3a", "")
    task_postrun.send(sender=ping, task_id="0f3a", task=ping, args=(), kwargs={}, retval=None, state="SUCCESS")
    assert request_id_var.get() == ""
