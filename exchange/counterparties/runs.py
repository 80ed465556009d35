"""Whole-population runs of the sync: the full export and the import from 1C's HTTP service, in
chunks, resumable. Used by ``manage.py sync_customers_with_1c`` and the scheduled import.

A run is a CustomerSyncRun row whose ``cursor`` moves after each chunk (export: the last customer
id done; import: the next offset). A run stopped between chunks is ``interrupted``; the next run of
the same direction and source continues from its cursor with the same ``since``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from customers.models import User
from exchange.conf import CustomerSyncSettings, customer_sync_settings
from exchange.counterparties.client import CustomersServiceClient, ImportPageError
from exchange.counterparties.export import customer_export_attempt, customer_export_enqueue, customer_mark_for_export
from exchange.counterparties.importer import counterparty_apply
from exchange.counterparties.mapper import CustomerDataMapper
from exchange.counterparties.models import CustomerSyncRun, SyncDirection

Run = CustomerSyncRun
# A run that has not finished a chunk for this long is taken for dead (its process was killed) and
# may be continued; a younger one is still running and a second run of its direction is refused.
# A chunk is at most a few hundred requests of ONEC_HTTP_TIMEOUT each.
RUN_DEAD_AFTER = dt.timedelta(minutes=30)


class RunBusy(Exception):
    def __init__(self, run: CustomerSyncRun) -> None:
        super().__init__(f"запуск #{run.pk} ({run.source}) ещё выполняется, позиция {run.cursor}")
        self.run = run


@dataclass
class ChunkReport:
    processed: int
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def run_start(*, direction: str, source: str, since: dt.datetime | None, resume: bool = True) -> tuple[Run, bool]:
    """The interrupted run of ``direction`` from ``source`` (the command, the schedule) to
    continue (``resumed`` True), else a new one. Raises RunBusy while another run of the same
    direction and source is alive. Sources keep apart, so the scheduled import never replaces a
    command's interrupted run."""
    with transaction.atomic():
        unfinished = list(
            Run.objects.select_for_update()
            .filter(direction=direction, source=source, status__in=(Run.Status.INTERRUPTED, Run.Status.RUNNING))
            .order_by("-started_at")
        )
        alive_after = timezone.now() - RUN_DEAD_AFTER
        for run in unfinished:
            if run.status == Run.Status.RUNNING and run.updated_at > alive_after:
                raise RunBusy(run)
        previous = unfinished[0] if unfinished else None
        if resume and previous is not None and (since is None or previous.since == since):
            previous.status = Run.Status.RUNNING
            previous.save(update_fields=["status", "updated_at"])
            return previous, True
        Run.objects.filter(pk__in=[run.pk for run in unfinished]).update(
            status=Run.Status.FAILED, error="заменён новым запуском", finished_at=timezone.now()
        )
        return Run.objects.create(direction=direction, source=source, since=since), False


def run_finish(run: Run, status: str, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now() if status != Run.Status.INTERRUPTED else None
    run.save(update_fields=["status", "error", "finished_at", "updated_at"])


# The scheduled import asks for changes a little before the last import started: 1C's clock may be
# behind ours, and asking twice for a counterparty costs nothing (it comes back unchanged).
IMPORT_OVERLAP = dt.timedelta(minutes=5)


def last_import_since() -> dt.datetime | None:
    """Where the next scheduled import starts: shortly before the last finished import started."""
    last = Run.objects.filter(direction=SyncDirection.IMPORT, status=Run.Status.DONE).order_by("-started_at").first()
    return last.started_at - IMPORT_OVERLAP if last is not None else None


# --- export -------------------------------------------------------------------------------------
def customers_to_export(*, since: dt.datetime | None) -> QuerySet[User]:
    """What a full export sends: customers marked for export (failed ones too) and customers the
    site has never sent (registered before the sync was set up); never staff."""
    queryset = User.objects.filter(is_staff=False).filter(
        Q(needs_1c_export=True) | Q(onec_id__isnull=True, created_in_1c=False)
    )
    if since is not None:
        queryset = queryset.filter(updated_at__gte=since)
    return queryset.order_by("pk")


def export_chunk(*, ids: list[int], conf: CustomerSyncSettings | None = None) -> ChunkReport:
    """Export these customers now, one attempt each; retries go to the worker with backoff."""
    conf = conf or customer_sync_settings()
    report = ChunkReport(processed=len(ids))
    for customer in User.objects.filter(pk__in=ids).order_by("pk"):
        # A fresh round of attempts (failed customers included), marked like a registration.
        customer_mark_for_export(customer=customer, created=True, enqueue=False)
        result = customer_export_attempt(customer_id=customer.pk, conf=conf)
        report.count(result.outcome)
        if result.retry_in is not None:
            customer_export_enqueue(customer_id=customer.pk, new=result.new, countdown=result.retry_in)
    return report


# --- import -------------------------------------------------------------------------------------
def import_page(
    *, client: CustomersServiceClient, since: dt.datetime | None, offset: int, limit: int, source: str
) -> tuple[ChunkReport, bool]:
    """Fetch one page from 1C and apply it; (report, has_more). Raises ImportPageError."""
    page = client.fetch_page(changed_since=since, offset=offset, limit=limit)
    mapper = CustomerDataMapper(client.conf)
    report = ChunkReport(processed=len(page.customers))
    for item in page.customers:
        result = counterparty_apply(data=mapper.map_1c_to_platform(item), source=source)
        report.count(result.outcome)
    return report, page.has_more and bool(page.customers)


def import_run(
    *,
    run: Run,
    limit: int,
    should_stop: Callable[[], bool] = lambda: False,
    on_chunk: Callable[[Run, ChunkReport], None] = lambda run, report: None,
    conf: CustomerSyncSettings | None = None,
) -> Run:
    """Page through 1C's customers from ``run.cursor``; stops between pages when asked."""
    conf = conf or customer_sync_settings()
    with CustomersServiceClient(conf) as client:
        while True:
            try:
                report, has_more = import_page(
                    client=client, since=run.since, offset=int(run.cursor), limit=limit, source=run.source
                )
            except ImportPageError as exc:
                # Kept resumable: the next run continues at this page.
                run_finish(run, Run.Status.INTERRUPTED, error=exc.reason)
                raise
            run.cursor += report.processed
            run.processed += report.processed
            run.save(update_fields=["cursor", "processed", "updated_at"])
            on_chunk(run, report)
            if not has_more:
                run_finish(run, Run.Status.DONE)
                return run
            if should_stop():
                run_finish(run, Run.Status.INTERRUPTED)
                return run
