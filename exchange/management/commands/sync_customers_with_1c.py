"""Full customer sync with 1C's HTTP service: ``python manage.py sync_customers_with_1c``.

``--direction import`` pages through 1C's customers (``changed_since=--since``) and creates or
updates the site's; ``export`` sends every customer 1C should have (marked ones, failed ones, and
those registered before the sync was set up); ``both`` imports first, so that customers 1C already
has are linked by ИНН/email/phone before the export, which then updates instead of creating.

Works in chunks (``--chunk-size``); ``--async`` hands the chunks to Celery instead. Ctrl-C
finishes the current chunk, says where it stopped and exits; running the command again continues
from there (``--restart`` starts over). A second Ctrl-C stops at once.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from exchange.conf import customer_sync_settings
from exchange.counterparties.client import ImportPageError
from exchange.counterparties.models import CustomerSyncRun, SyncDirection
from exchange.counterparties.runs import (
    ChunkReport,
    RunBusy,
    customers_to_export,
    export_chunk,
    import_run,
    run_finish,
    run_start,
)
from exchange.management.commands.import_1c import _Bar as ProgressBar
from exchange.protocol import ONEC_SYNC_OFF

DEFAULT_CHUNK_SIZE = 100


def _parse_since(raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        day = parse_date(raw)
        if day is None:
            raise CommandError(f"--since: не дата и не время ISO 8601: {raw!r}")
        value = dt.datetime.combine(day, dt.time.min)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _outcomes(report: ChunkReport) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(report.outcomes.items())) or "—"


class Command(BaseCommand):
    help = "Synchronise customers with 1C's HTTP service (ONEC_CUSTOMERS_URL) in chunks; Ctrl-C stops cleanly."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--direction", choices=("import", "export", "both"), default="both")
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="customers per chunk")
        parser.add_argument("--since", help="only changes since this ISO 8601 date or time")
        parser.add_argument("--async", dest="run_async", action="store_true", help="hand the chunks to Celery")
        parser.add_argument("--restart", action="store_true", help="ignore an interrupted run and start over")
        parser.add_argument("--quiet-progress", action="store_true", help="do not draw the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        conf = customer_sync_settings()
        if not conf.enabled:
            raise CommandError(ONEC_SYNC_OFF)
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        self.stop_requested = False
        self.chunk_size = options["chunk_size"]
        self.run_async = options["run_async"]
        self.bar = ProgressBar(enabled=not options["quiet_progress"] and sys.stderr.isatty())
        since = _parse_since(options["since"])
        previous = signal.signal(signal.SIGINT, self._on_interrupt)
        try:
            if options["direction"] in ("import", "both"):
                self._import(since, restart=options["restart"])
            if options["direction"] in ("export", "both") and not self.stop_requested:
                self._export(since, restart=options["restart"])
        except RunBusy as exc:
            raise CommandError(f"Синхронизация уже идёт: {exc}") from exc
        finally:
            signal.signal(signal.SIGINT, previous)
            self.bar.close()

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested:
            raise KeyboardInterrupt
        self.stop_requested = True
        self.stdout.write("\nCtrl-C: останавливаюсь после текущей порции (ещё раз — прервать сразу).")
        self.stdout.flush()

    def _started(self, run: CustomerSyncRun, resumed: bool, what: str) -> None:
        if resumed:
            self.stdout.write(f"{what}: продолжаю прерванный запуск #{run.pk} с позиции {run.cursor}.")
        else:
            since = f" (изменения с {run.since:%Y-%m-%d %H:%M})" if run.since else ""
            self.stdout.write(f"{what}: запуск #{run.pk}{since}.")

    # --- export -------------------------------------------------------------------------------
    def _export(self, since: dt.datetime | None, *, restart: bool) -> None:
        run, resumed = run_start(direction=SyncDirection.EXPORT, source="command", since=since, resume=not restart)
        self._started(run, resumed, "Выгрузка в 1С")
        pending = customers_to_export(since=run.since)
        total = run.processed + pending.filter(pk__gt=run.cursor).count()
        while True:
            ids = list(pending.filter(pk__gt=run.cursor).values_list("pk", flat=True)[: self.chunk_size])
            if not ids:
                break
            if self.run_async:
                from exchange.tasks import export_customers_chunk

                export_customers_chunk.delay(ids)
                report = ChunkReport(processed=len(ids), outcomes={"queued": len(ids)})
            else:
                report = export_chunk(ids=ids)
            run.cursor, run.processed = ids[-1], run.processed + len(ids)
            run.save(update_fields=["cursor", "processed", "updated_at"])
            self.bar.draw("Выгрузка", run.processed, total)
            self.stdout.write(f"  выгрузка: {run.processed}/{total} ({_outcomes(report)})")
            if self.stop_requested:
                run_finish(run, CustomerSyncRun.Status.INTERRUPTED)
                self.stdout.write(
                    f"Прервано: выгрузка остановлена после покупателя id={run.cursor} "
                    f"({run.processed} из {total}). Повторный запуск продолжит с этого места."
                )
                return
        run_finish(run, CustomerSyncRun.Status.DONE)
        verb = "поставлено в очередь" if self.run_async else "обработано"
        self.stdout.write(self.style.SUCCESS(f"Выгрузка в 1С завершена: {verb} {run.processed}."))

    # --- import -------------------------------------------------------------------------------
    def _import(self, since: dt.datetime | None, *, restart: bool) -> None:
        run, resumed = run_start(direction=SyncDirection.IMPORT, source="command", since=since, resume=not restart)
        self._started(run, resumed, "Загрузка из 1С")
        if self.run_async:
            from exchange.tasks import import_customers_from_1c

            import_customers_from_1c.delay(run.pk)
            self.stdout.write(self.style.SUCCESS(f"Загрузка из 1С поставлена в очередь (запуск #{run.pk})."))
            return

        def on_chunk(run: CustomerSyncRun, report: ChunkReport) -> None:
            self.bar.draw("Загрузка", run.processed, None)
            self.stdout.write(f"  загрузка: {run.processed} ({_outcomes(report)})")

        try:
            run = import_run(run=run, limit=self.chunk_size, should_stop=lambda: self.stop_requested, on_chunk=on_chunk)
        except ImportPageError as exc:
            raise CommandError(
                f"Загрузка из 1С остановлена на позиции {run.cursor}: {exc.reason} Повторный запуск продолжит с неё."
            ) from exc
        if run.status == CustomerSyncRun.Status.INTERRUPTED:
            self.stdout.write(
                f"Прервано: загрузка остановлена на позиции {run.cursor} (загружено {run.processed}). "
                "Повторный запуск продолжит с этого места."
            )
            return
        self.stdout.write(self.style.SUCCESS(f"Загрузка из 1С завершена: {run.processed}."))
