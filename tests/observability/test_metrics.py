"""/metrics: what Prometheus reads after real requests, the token, and the queue lengths."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.test import Client
from django.utils import timezone

from customers.models import SyncStatus
from exchange.jobs import jobs_check
from exchange.models import ImportSession
from observability.events import ExchangeRequestHandled, emit, listen
from tests.exchange.conftest import OneC
from tests.factories import OrderFactory, UserFactory
from tests.importer.conftest import Runner, run_import  # noqa: F401
from tests.observability.conftest import scrape, value

pytestmark = pytest.mark.django_db


def test_requests_of_1c_are_counted_by_type_mode_and_answer(onec: OneC) -> None:
    client = Client()
    before = scrape(client)

    assert onec.checkauth().lines[0] == "success"
    assert onec.checkauth(password="wrong").lines[0] == "failure"
    onec.checkauth()
    onec.init()
    assert onec.post_file("import.xml", b"<x/>" * 1000).lines[0] == "success"

    after = scrape(client)
    ok = {"type": "catalog", "mode": "checkauth", "outcome": "success"}
    refused = {"type": "catalog", "mode": "checkauth", "outcome": "failure"}
    assert value(after, "exchange_requests_total", **ok) - value(before, "exchange_requests_total", **ok) == 2
    assert value(after, "exchange_requests_total", **refused) - value(before, "exchange_requests_total", **refused) == 1
    checkauth = {"type": "catalog", "mode": "checkauth"}
    assert (
        value(after, "exchange_request_duration_seconds_count", **checkauth)
        - value(before, "exchange_request_duration_seconds_count", **checkauth)
        == 3
    )
    received = value(after, "exchange_received_bytes_total", type="catalog") - value(
        before, "exchange_received_bytes_total", type="catalog"
    )
    assert received == 4000
    parts = value(after, "exchange_file_parts_received_total", type="catalog") - value(
        before, "exchange_file_parts_received_total", type="catalog"
    )
    assert parts == 1


def test_a_finished_import_counts_its_job_objects_and_progress(run_import: Runner) -> None:  # noqa: F811
    from tests.importer.conftest import SAMPLES

    client = Client()
    before = scrape(client)

    item = run_import(SAMPLES / "cml207-dobromyslov", "import0_1.xml", "offers0_1.xml")

    after = scrape(client)
    assert item.status == ImportSession.Status.COMPLETED
    jobs = {"kind": "catalog", "outcome": "completed"}
    assert value(after, "import_jobs_total", **jobs) - value(before, "import_jobs_total", **jobs) == 1
    created = {"kind": "catalog", "entity": "products", "outcome": "created"}
    products_created = item.counters["products"]["created"]
    assert products_created > 0
    assert value(after, "import_objects_total", **created) - value(before, "import_objects_total", **created) == (
        products_created
    )
    progressed = value(after, "import_progress_objects_total", kind="catalog") - value(
        before, "import_progress_objects_total", kind="catalog"
    )
    assert progressed >= products_created


def test_a_stale_import_counts_as_a_stale_job() -> None:
    client = Client()
    before = scrape(client)
    long_ago = timezone.now() - dt.timedelta(days=1)
    ImportSession.objects.create(base_dir="/nowhere", status=ImportSession.Status.IN_PROGRESS, heartbeat_at=long_ago)

    assert jobs_check() == 1

    after = scrape(client)
    stale = {"kind": "catalog", "outcome": "stale"}
    assert value(after, "import_jobs_total", **stale) - value(before, "import_jobs_total", **stale) == 1


def test_queue_lengths_are_read_from_the_database_at_scrape() -> None:
    OrderFactory.create_batch(3)
    OrderFactory(sent_to_1c=True)
    OrderFactory(export_skipped=True, export_skip_reason="нет Ид товара")
    UserFactory.create_batch(2, needs_1c_export=True, sync_status=SyncStatus.PENDING)
    UserFactory(sync_status=SyncStatus.ERROR)
    ImportSession.objects.create(
        base_dir="/x", status=ImportSession.Status.IN_PROGRESS, progress_done=25, progress_total=100
    )

    samples = scrape(Client())

    assert value(samples, "orders_waiting_for_1c") == 3
    assert value(samples, "orders_export_skipped_current") == 1
    assert value(samples, "customers_export_pending") == 2
    assert value(samples, "customers_export_failed_current") == 1
    assert value(samples, "import_jobs_running", kind="catalog") == 1
    assert value(samples, "import_jobs_pending", kind="catalog") == 0
    assert value(samples, "import_running_progress_ratio") == 0.25


def test_metrics_are_open_without_a_token(settings) -> None:
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 200


def test_with_a_token_metrics_need_it_as_a_bearer(settings) -> None:
    settings.METRICS_TOKEN = "scrape-secret-1"
    client = Client()

    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert b"exchange_requests" not in missing.content
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-secret").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic c2NyYXBlLXNlY3JldC0x").status_code == 401
    granted = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-1")
    assert granted.status_code == 200
    assert granted["Content-Type"].startswith("text/plain; version=")


def test_a_failing_listener_never_breaks_the_flow(onec: OneC, caplog: pytest.LogCaptureFixture) -> None:
    @listen(ExchangeRequestHandled)
    def broken(event: ExchangeRequestHandled) -> None:
        raise RuntimeError("listener bug")

    try:
        with caplog.at_level(logging.ERROR, logger="observability.events"):
            assert onec.checkauth().lines[0] == "success"
            emit(ExchangeRequestHandled("catalog", "init", "success", 0.1, 0, 0))
    finally:
        from observability import events

        events._listeners[ExchangeRequestHandled].remove(broken)
    assert "listener bug" in caplog.text


def test_made_up_types_and_modes_are_counted_as_other(onec: OneC) -> None:
    client = Client()
    before = scrape(client)

    for mode in ("x1", "x2", "x3"):
        onec.client.get(f"/1c/exchange?type=catalog&mode={mode}")
    onec.client.get("/1c/exchange?type=made-up&mode=checkauth")

    after = scrape(client)
    other = {"type": "catalog", "mode": "other", "outcome": "failure"}
    assert value(after, "exchange_requests_total", **other) - value(before, "exchange_requests_total", **other) == 3
    assert not any(labels and ("mode", "x1") in labels for _name, labels in after)
    unknown_type = {"type": "other", "mode": "checkauth", "outcome": "failure"}
    assert (
        value(after, "exchange_requests_total", **unknown_type)
        - value(before, "exchange_requests_total", **unknown_type)
        == 1
    )
