"""Housekeeping runs: Celery's task signals raise PeriodicTaskFinished for every task in
CELERY_BEAT_SCHEDULE; the listener here keeps each task's last run for the dashboard."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from observability.events import PeriodicTaskFinished, emit, listen
from observability.models import HousekeepingRun

_started: dict[str, float] = {}


def periodic_task_names() -> set[str]:
    return {str(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def _result(value: object) -> dict[str, object]:
    if isinstance(value, BaseException):
        return {"error": f"{type(value).__name__}: {value}"[:500]}
    if isinstance(value, Mapping):
        return {
            str(key): item if isinstance(item, int | float | str | bool) else str(item) for key, item in value.items()
        }
    return {"result": value if isinstance(value, int | float | str | bool) or value is None else str(value)}


def on_task_prerun(task_id: str | None = None, task: Any = None, **_: object) -> None:
    if task is not None and task.name in periodic_task_names() and task_id:
        _started[task_id] = time.monotonic()


def on_task_postrun(
    task_id: str | None = None, task: Any = None, retval: object = None, state: str | None = None, **_: object
) -> None:
    if task is None or task.name not in periodic_task_names():
        return
    started = _started.pop(task_id or "", None)
    emit(
        PeriodicTaskFinished(
            task=task.name,
            outcome="success" if state == "SUCCESS" else "failure",
            duration_seconds=time.monotonic() - started if started is not None else 0.0,
            result=_result(retval),
        )
    )


@listen(PeriodicTaskFinished)
def housekeeping_record(event: PeriodicTaskFinished) -> None:
    failed = int(event.outcome != "success")
    values = {
        "finished_at": timezone.now(),
        "outcome": event.outcome,
        "duration_ms": int(event.duration_seconds * 1000),
        "result": dict(event.result),
    }
    for _attempt in range(2):
        if HousekeepingRun.objects.filter(task=event.task).update(
            runs=F("runs") + 1, failures=F("failures") + failed, **values
        ):
            return
        try:
            with transaction.atomic():
                HousekeepingRun.objects.create(task=event.task, runs=1, failures=failed, **values)
            return
        except IntegrityError:
            continue  # another process created it first: update that row
