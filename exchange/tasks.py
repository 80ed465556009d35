"""Celery tasks of the exchange: the catalog import and periodic housekeeping (scheduled in
CELERY_BEAT_SCHEDULE). The work is in the services; the tasks pass ids and call them."""

from __future__ import annotations

import logging
from typing import Any

from billiard.exceptions import TimeLimitExceeded, WorkerLostError
from celery import Task, shared_task
from celery.signals import task_failure, worker_ready

from customers.login_throttle import login_throttle_prune
from exchange.catalog.service import catalog_packages_close_ended
from exchange.jobs import job_run, jobs_check, jobs_fail_of_task, jobs_fail_of_worker
from exchange.protocol import IMPORT_WORKER_KILLED

# The flows register their kind of import job with exchange.jobs when imported: they are imported
# here, so that the worker knows every kind (a sale flow imports its module here too).
from exchange.sale import importer as _sale_importer  # noqa: F401  (registers the sale job kind)
from exchange.services.audit import audit_prune
from exchange.services.sessions import sessions_expire_idle
from exchange.services.uploads import uploads_remove_stale


@shared_task(name="exchange.expire_sessions", soft_time_limit=600, time_limit=900)
def expire_sessions() -> dict[str, int]:
    """Expire idle sessions, close the catalog packages of exchanges that ended (deactivating what
    a whole package did not contain), then remove upload folders nothing needs any more."""
    expired = sessions_expire_idle()
    catalog_packages_close_ended()
    removed = uploads_remove_stale()
    return {"expired": expired, "folders_removed": removed}


# Longer than any throttle window anyone configures (15 minutes by default): a counter whose
# window ended is dead weight, and dropping one early would only forget old failures.
LOGIN_COUNTERS_KEPT_SECONDS = 2 * 24 * 3600


@shared_task(name="exchange.prune_exchange_logs", soft_time_limit=1800, time_limit=2400)
def prune_exchange_logs() -> dict[str, int]:
    """Apply the retention policy (days, total size) to the request log and the copies of
    exchanged files; drop login throttle counters whose window ended long ago."""
    result = audit_prune()
    counters = login_throttle_prune(older_than_seconds=LOGIN_COUNTERS_KEPT_SECONDS)
    return {
        "days_removed": result.days_removed,
        "files_removed": result.files_removed,
        "bytes_left": result.bytes_left,
        "requests_removed": result.requests_removed,
        "login_counters_removed": counters,
    }


logger = logging.getLogger(__name__)

# Soft limit: the task stops cleanly and the import is marked failed; hard limit: the pool process
# is killed and on_import_process_lost fails the import. 100k products take about a minute.
IMPORT_SOFT_TIME_LIMIT = 3 * 3600
IMPORT_HARD_TIME_LIMIT = IMPORT_SOFT_TIME_LIMIT + 300


_IMPORT_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,  # safe: the import is idempotent and a second live runner is refused
    "reject_on_worker_lost": False,  # a killed import is not redelivered: exchange.jobs fails it
    "soft_time_limit": IMPORT_SOFT_TIME_LIMIT,
    "time_limit": IMPORT_HARD_TIME_LIMIT,
}


@shared_task(name="exchange.run_import_job", **_IMPORT_TASK_OPTIONS)
def run_import_job(self: Task, job_id: int) -> str:
    """Run an import job of any kind (exchange.jobs)."""
    result = job_run(job_id=job_id, task_id=self.request.id or "", worker=self.request.hostname or "")
    return result.status if result is not None else "not claimed"


@shared_task(name="exchange.run_catalog_import", **_IMPORT_TASK_OPTIONS)
def run_catalog_import(self: Task, import_session_id: int) -> str:
    """The name catalog imports were queued under before the job engine: messages still queued
    under it after an upgrade run as jobs too."""
    result = job_run(job_id=import_session_id, task_id=self.request.id or "", worker=self.request.hostname or "")
    return result.status if result is not None else "not claimed"


@shared_task(name="exchange.fail_stale_imports", soft_time_limit=50, time_limit=55)
def fail_stale_imports() -> int:
    """Every minute: fail imports whose worker is lost (no heartbeat for EXCHANGE_IMPORT_LOST_SECONDS)
    or that no worker started (EXCHANGE_IMPORT_STALE_MINUTES), releasing the lock."""
    return jobs_check()


@worker_ready.connect
def on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    """A worker (re)starting under a name fails the imports that name was running (they died with
    it), then runs the lost/stale check at once instead of waiting for beat."""
    try:
        jobs_fail_of_worker(worker=getattr(sender, "hostname", "") or "")
        jobs_check()
    except Exception:  # never keep a worker from starting
        logger.exception("Checking for lost imports at worker start failed")


@task_failure.connect(sender=run_import_job)
@task_failure.connect(sender=run_catalog_import)
def on_import_process_lost(
    sender: Any = None, task_id: str = "", exception: BaseException | None = None, **kwargs: Any
) -> None:
    """The pool process running an import died (killed, out of memory, hard time limit): the main
    worker process hears of it here and fails the import at once."""
    if isinstance(exception, WorkerLostError | TimeLimitExceeded):
        error = "превышено время выполнения" if isinstance(exception, TimeLimitExceeded) else "процесс завершён"
        jobs_fail_of_task(task_id=task_id or "", reason=IMPORT_WORKER_KILLED.format(error=error))


# --- the customer sync with 1C's HTTP service (exchange.counterparties) ------------------------
# One request takes at most a few ONEC_HTTP_TIMEOUTs (connect, write, read); the limits are far
# above, they only stop a task stuck for another reason.
@shared_task(name="exchange.export_customer_to_1c", soft_time_limit=300, time_limit=330)
def export_customer_to_1c(customer_id: int) -> str:
    """One export attempt; a transient failure queues the next attempt after the backoff."""
    from exchange.counterparties.export import customer_export_attempt, customer_export_enqueue

    result = customer_export_attempt(customer_id=customer_id)
    if result.retry_in is not None:
        customer_export_enqueue(customer_id=customer_id, new=result.new, countdown=result.retry_in)
    return result.outcome


@shared_task(name="exchange.requeue_customer_exports", soft_time_limit=120, time_limit=150)
def requeue_customer_exports() -> int:
    """The outbox's safety net: queue again customers still marked after their due time."""
    from exchange.counterparties.export import customers_requeue_due

    return customers_requeue_due()


@shared_task(name="exchange.export_customers_chunk", soft_time_limit=3600, time_limit=3700)
def export_customers_chunk(customer_ids: list[int]) -> dict[str, int]:
    """A chunk of ``sync_customers_with_1c --async``."""
    from exchange.counterparties.runs import export_chunk

    return export_chunk(ids=customer_ids).outcomes


@shared_task(name="exchange.import_customers_from_1c", soft_time_limit=3600, time_limit=3700)
def import_customers_from_1c(run_id: int | None = None) -> str:
    """Import counterparties changed in 1C since the last import (scheduled), or continue the run
    ``sync_customers_with_1c --async`` created."""
    from exchange.conf import customer_sync_settings
    from exchange.counterparties.client import ImportPageError
    from exchange.counterparties.models import CustomerSyncRun, SyncDirection
    from exchange.counterparties.runs import RunBusy, import_run, last_import_since, run_start

    conf = customer_sync_settings()
    if not conf.enabled:
        return "off"
    if run_id is not None:
        run = CustomerSyncRun.objects.get(pk=run_id)
    else:
        try:
            run, _ = run_start(direction=SyncDirection.IMPORT, source="schedule", since=last_import_since())
        except RunBusy as exc:  # the previous import (or the command) is still at it
            return f"busy: {exc}"
    try:
        run = import_run(run=run, limit=conf.import_page_size, conf=conf)
    except ImportPageError as exc:
        return f"interrupted: {exc.reason}"
    return f"{run.status}: {run.processed}"
