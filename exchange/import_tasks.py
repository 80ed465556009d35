"""Celery tasks of the catalog import (thin: ids in, service call)."""

from __future__ import annotations

from celery import Task, shared_task

from exchange.services.catalog_import import import_session_run, imports_fail_stale

# Soft limit: the task stops cleanly and the import is marked failed; hard limit: the worker
# process is killed, the stale cleanup releases the lock. 100k products take about a minute.
SOFT_TIME_LIMIT = 3 * 3600
HARD_TIME_LIMIT = SOFT_TIME_LIMIT + 300


@shared_task(
    name="exchange.run_catalog_import",
    bind=True,
    acks_late=True,  # safe: the import is idempotent and _claim refuses a second live runner
    reject_on_worker_lost=False,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def run_catalog_import(self: Task, import_session_id: int) -> str:
    result = import_session_run(import_session_id=import_session_id, task_id=self.request.id or "")
    return result.status if result is not None else "not claimed"


@shared_task(name="exchange.fail_stale_imports", soft_time_limit=300, time_limit=360)
def fail_stale_imports() -> int:
    return imports_fail_stale()
