"""Prometheus metrics: counters fed by the events of observability.events, and queue lengths
read from the database at scrape time.

Every process records into the shared multiprocess folder (PROMETHEUS_MULTIPROC_DIR, set by the
settings before prometheus-client is imported); ``metrics_render`` adds all processes up. Names
start with what they measure: ``exchange_…`` (requests of 1C), ``import_…`` (import jobs),
``orders_…`` and ``customers_…`` (what went to 1C), ``housekeeping_…`` (beat's periodic tasks).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from exchange.models import ExchangeType
from observability.events import (
    CustomerSynced,
    ExchangeFileReceived,
    ExchangeRequestHandled,
    ImportJobFinished,
    ImportProgressed,
    OrdersConfirmed,
    OrdersExported,
    PeriodicTaskFinished,
    listen,
)

logger = logging.getLogger(__name__)

# 1C's requests take from milliseconds (checkauth) to a minute (a 64 MiB part on a slow link).
REQUEST_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# Imports take from a second (a price update) to an hour (a full catalog of 100k+ products).
JOB_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 10800)

EXCHANGE_REQUESTS = Counter(
    "exchange_requests", "Requests of 1C answered, by type, mode and answer.", ["type", "mode", "outcome"]
)
EXCHANGE_REQUEST_DURATION = Histogram(
    "exchange_request_duration_seconds", "Time to answer a request of 1C.", ["type", "mode"], buckets=REQUEST_BUCKETS
)
EXCHANGE_RECEIVED_BYTES = Counter("exchange_received_bytes", "Bytes of request bodies 1C sent.", ["type"])
EXCHANGE_SENT_BYTES = Counter("exchange_sent_bytes", "Bytes of answers sent to 1C.", ["type"])
EXCHANGE_FILE_PARTS = Counter("exchange_file_parts_received", "File parts 1C uploaded and the site stored.", ["type"])
IMPORT_JOBS = Counter("import_jobs", "Import jobs finished, by kind and outcome.", ["kind", "outcome"])
IMPORT_JOB_DURATION = Histogram(
    "import_job_duration_seconds", "Duration of import jobs from claim to close.", ["kind"], buckets=JOB_BUCKETS
)
IMPORT_OBJECTS = Counter(
    "import_objects", "Objects of finished imports, by entity and outcome.", ["kind", "entity", "outcome"]
)
IMPORT_PROGRESS = Counter(
    "import_progress_objects", "Objects processed by running imports (its rate is the throughput).", ["kind"]
)
ORDERS_EXPORTED = Counter("orders_exported", "Orders handed to 1C by mode=query.")
ORDERS_EXPORT_SKIPPED = Counter("orders_export_skipped", "Orders left out of mode=query with a reason.")
ORDERS_CONFIRMED = Counter("orders_confirmed", "Orders 1C confirmed with mode=success.")
CUSTOMERS_EXPORT = Counter(
    "customers_export_attempts", "Attempts to send a customer to 1C: exported, retried, failed.", ["outcome"]
)
CUSTOMERS_EXPORT_DURATION = Histogram(
    "customers_export_duration_seconds", "Duration of one attempt to send a customer to 1C.", buckets=REQUEST_BUCKETS
)
HOUSEKEEPING_RUNS = Counter("housekeeping_runs", "Periodic (beat) tasks run, by task and outcome.", ["task", "outcome"])


@listen(ExchangeRequestHandled)
def _request_handled(event: ExchangeRequestHandled) -> None:
    exchange_type, mode = _label(event.exchange_type), _label(event.mode)
    EXCHANGE_REQUESTS.labels(exchange_type, mode, event.outcome).inc()
    EXCHANGE_REQUEST_DURATION.labels(exchange_type, mode).observe(event.duration_seconds)
    if event.bytes_in:
        EXCHANGE_RECEIVED_BYTES.labels(exchange_type).inc(event.bytes_in)
    if event.bytes_out:
        EXCHANGE_SENT_BYTES.labels(exchange_type).inc(event.bytes_out)


@listen(ExchangeFileReceived)
def _file_received(event: ExchangeFileReceived) -> None:
    EXCHANGE_FILE_PARTS.labels(_label(event.exchange_type)).inc()


# Per process: the last progress seen per (job, stage), so that the counter grows by the objects
# processed since, not by the running total every time progress is written.
_last_progress: dict[tuple[int, str], int] = {}


@listen(ImportProgressed)
def _import_progressed(event: ImportProgressed) -> None:
    key = (event.job_id, event.stage)
    if len(_last_progress) > 1000 or any(job != event.job_id for job, _stage in _last_progress):
        _last_progress.clear()  # another job: forget the previous one's stages
    before = _last_progress.get(key, 0)
    if event.done > before:
        IMPORT_PROGRESS.labels(event.kind).inc(event.done - before)
    _last_progress[key] = event.done


@listen(ImportJobFinished)
def _import_finished(event: ImportJobFinished) -> None:
    IMPORT_JOBS.labels(event.kind, event.outcome).inc()
    IMPORT_JOB_DURATION.labels(event.kind).observe(event.duration_seconds)
    for entity, counts in event.counts.items():
        for outcome, count in counts.items():
            if count:
                IMPORT_OBJECTS.labels(event.kind, entity, outcome).inc(count)


@listen(OrdersExported)
def _orders_exported(event: OrdersExported) -> None:
    ORDERS_EXPORTED.inc(event.count)
    ORDERS_EXPORT_SKIPPED.inc(event.skipped)


@listen(OrdersConfirmed)
def _orders_confirmed(event: OrdersConfirmed) -> None:
    ORDERS_CONFIRMED.inc(event.count)


@listen(CustomerSynced)
def _customer_synced(event: CustomerSynced) -> None:
    CUSTOMERS_EXPORT.labels(event.outcome).inc()
    CUSTOMERS_EXPORT_DURATION.observe(event.duration_seconds)


@listen(PeriodicTaskFinished)
def _periodic_task_finished(event: PeriodicTaskFinished) -> None:
    HOUSEKEEPING_RUNS.labels(event.task, event.outcome).inc()


@functools.cache
def _known_labels() -> frozenset[str]:
    from exchange.views import MODES

    return frozenset({"checkauth", *MODES, *(mode for modes in MODES.values() for mode in modes)})


def _label(value: str) -> str:
    """A label value from what a client sent: the types and modes the endpoint knows, else
    "other", so that nobody can create series by sending made-up modes."""
    return value if not value or value in _known_labels() else "other"


class QueueCollector(Collector):
    """Queue lengths read from the database when Prometheus scrapes: whoever is counting, the
    database is the truth, so these need no process to keep them up to date."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from observability.dashboard import queue_lengths

        try:
            lengths = queue_lengths()
        except Exception:
            logger.exception("could not read queue lengths for /metrics")
            return
        pending = GaugeMetricFamily("import_jobs_pending", "Import jobs waiting for a worker.", labels=["kind"])
        running = GaugeMetricFamily("import_jobs_running", "Import jobs a worker is running.", labels=["kind"])
        kinds = sorted({*ExchangeType.values, *lengths.imports_pending, *lengths.imports_running})
        for kind in kinds:  # every kind, 0 included: an empty queue is a series at 0, not a missing one
            pending.add_metric([kind], lengths.imports_pending.get(kind, 0))
            running.add_metric([kind], lengths.imports_running.get(kind, 0))
        yield pending
        yield running
        yield GaugeMetricFamily(
            "import_running_progress_ratio", "Share of the current stage the running import has done.",
            value=lengths.import_progress_ratio,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "orders_waiting_for_1c", "Orders not yet handed to 1C (skipped ones aside).", value=lengths.orders_waiting
        )
        yield GaugeMetricFamily(
            "orders_export_skipped_current",
            "Orders left out of the export with a reason.",
            value=lengths.orders_skipped,
        )
        yield GaugeMetricFamily(
            "customers_export_pending", "Customers waiting to be sent to 1C.", value=lengths.customers_pending
        )
        yield GaugeMetricFamily(
            "customers_export_failed_current", "Customers whose export to 1C failed.", value=lengths.customers_failed
        )


def metrics_render() -> bytes:
    """The text exposition of every process's samples plus the queue lengths."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(QueueCollector())
    return generate_latest(registry)
