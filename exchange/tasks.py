"""Celery tasks of the exchange: the catalog import and periodic housekeeping (scheduled in
CELERY_BEAT_SCHEDULE). The work is in the services; the tasks pass ids and call them."""

from __future__ import annotations

from celery import Task, shared_task

from customers.login_throttle import login_throttle_prune
from exchange.services.audit import audit_prune
from exchange.services.catalog_import import import_session_run, imports_fail_stale
from exchange.services.sessions import sessions_expire_idle
from exchange.services.uploads import uploads_remove_stale


@shared_task(name="exchange.expire_sessions", soft_time_limit=600, time_limit=900)
def expire_sessions() -> dict[str, int]:
    """Expire idle sessions, then remove upload folders nothing needs any more."""
    expired = sessions_expire_idle()
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


# Soft limit: the task stops cleanly and the import is marked failed; hard limit: the worker
# process is killed and the stale cleanup releases the lock. 100k products take about a minute.
IMPORT_SOFT_TIME_LIMIT = 3 * 3600
IMPORT_HARD_TIME_LIMIT = IMPORT_SOFT_TIME_LIMIT + 300


@shared_task(
    name="exchange.run_catalog_import",
    bind=True,
    acks_late=True,  # safe: the import is idempotent and a second live runner is refused
    reject_on_worker_lost=False,  # a killed import is not redelivered: the stale cleanup fails it
    soft_time_limit=IMPORT_SOFT_TIME_LIMIT,
    time_limit=IMPORT_HARD_TIME_LIMIT,
)
def run_catalog_import(self: Task, import_session_id: int) -> str:
    result = import_session_run(import_session_id=import_session_id, task_id=self.request.id or "")
    return result.status if result is not None else "not claimed"


@shared_task(name="exchange.fail_stale_imports", soft_time_limit=300, time_limit=360)
def fail_stale_imports() -> int:
    """Fail imports without progress for EXCHANGE_IMPORT_STALE_MINUTES, releasing the lock."""
    return imports_fail_stale()
