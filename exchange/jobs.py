"""The import-job engine: what every kind of import (catalog today) shares.

A job is an ImportSession row: files to import in order, a status, a heartbeat and a progress
line. At most one job per kind is pending or running (the partial unique constraint on
ImportSession is the lock). This module owns the job's lifecycle around the importer:

* **claim**: a worker takes a pending job, or takes over one whose worker has stopped sending
  heartbeats (a redelivered task); a second live runner is refused.
* **heartbeat**: while a job runs, a thread of the worker process stamps ``heartbeat_at`` every
  ``HEARTBEAT_SECONDS``, whatever the importer is doing (a long parse, a deactivation). Only a
  dead process stops it, so a stale heartbeat means the worker is gone.
* **lost and stale jobs**: a running job whose heartbeat is older than
  ``EXCHANGE_IMPORT_LOST_SECONDS`` is failed with a reason 1C sees, which releases the lock. This is
  checked when a worker starts (a job claimed by that very worker name is dead at once), when
  Celery reports a lost pool process, and by the beat task every minute. A pending job no worker
  ever claimed is failed after ``EXCHANGE_IMPORT_STALE_MINUTES``.
* **failing by hand**: the admin action fails selected active jobs the same way; a worker still
  running such a job notices at its next progress write and stops (JobCancelled).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from types import TracebackType

from django.db import DatabaseError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from exchange.conf import exchange_settings
from exchange.models import ImportFile, ImportSession
from exchange.protocol import (
    IMPORT_FILE_NOT_REACHED,
    IMPORT_STALE,
    IMPORT_WORKER_LOST,
    IMPORT_WORKER_RESTARTED,
)

logger = logging.getLogger(__name__)

ACTIVE = ImportSession.ACTIVE_STATUSES
# How often a running job stamps its heartbeat: one small UPDATE per second costs nothing next to
# the import, and lets a lost worker be recognised within EXCHANGE_IMPORT_LOST_SECONDS.
HEARTBEAT_SECONDS = 1.0


class JobCancelled(Exception):
    """The job was failed or taken over while this worker ran it: stop without writing more."""


# --- claim and heartbeat ---------------------------------------------------------------------
def _lost_before(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=exchange_settings().import_lost_seconds)


def job_claim(*, job_id: int, task_id: str = "", worker: str = "") -> ImportSession | None:
    """Mark the job in progress for this runner; None when it is not this runner's to run.

    A job in progress is taken over only when its heartbeat is older than the lost threshold (its
    worker died and the broker redelivered the task); otherwise another runner is on it.
    """
    now = timezone.now()
    with transaction.atomic():
        job = ImportSession.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        if job.status == ImportSession.Status.IN_PROGRESS:
            last = job.heartbeat_at or job.started_at or job.created_at
            if last > _lost_before(now):
                return None  # another worker is on it
            logger.warning("Taking over import %s: no heartbeat since %s", job.pk, last)
        elif job.status != ImportSession.Status.PENDING:
            return None
        job.status = ImportSession.Status.IN_PROGRESS
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.task_id = task_id
        job.worker = worker[:255]
        job.stage = "Импорт начат"
        job.save(update_fields=["status", "started_at", "heartbeat_at", "task_id", "worker", "stage"])
    return job


def job_owned(job: ImportSession) -> Q:
    """The filter that matches the job's row only while this runner still owns it."""
    return Q(pk=job.pk, status=ImportSession.Status.IN_PROGRESS, task_id=job.task_id)


class Heartbeat:
    """Stamps the job's ``heartbeat_at`` from a thread while the ``with`` block runs.

    The thread has its own database connection (closed when it stops); a failed stamp is logged
    and retried at the next tick, never raised into the import.
    """

    def __init__(self, job: ImportSession, interval: float = HEARTBEAT_SECONDS) -> None:
        self.job = job
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"import-{job.pk}-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    ImportSession.objects.filter(job_owned(self.job)).update(heartbeat_at=timezone.now())
                except DatabaseError:
                    logger.warning("Import %s: heartbeat not written", self.job.pk, exc_info=True)
                    connections["default"].close()
        finally:
            connections.close_all()  # this thread's own connections


# --- failing jobs -----------------------------------------------------------------------------
def job_fail(*, job_id: int, reason: str, only: Q | None = None) -> bool:
    """Fail an active job with ``reason`` (what 1C is answered for each of its files), releasing
    the lock; files not done are failed as not reached. False when it was no longer active (or
    no longer matched ``only``)."""
    now = timezone.now()
    with transaction.atomic():
        updated = (
            ImportSession.objects.filter(pk=job_id, status__in=ACTIVE)
            .filter(only or Q())
            .update(status=ImportSession.Status.FAILED, finished_at=now, error_message=reason, stage=reason[:255])
        )
        if not updated:
            return False
        ImportFile.objects.filter(
            import_session_id=job_id, status__in=(ImportFile.Status.PENDING, ImportFile.Status.IN_PROGRESS)
        ).update(status=ImportFile.Status.FAILED, error_message=IMPORT_FILE_NOT_REACHED, finished_at=now)
    logger.warning("Import %s failed: %s", job_id, reason)
    return True


def _since(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"


def jobs_fail_lost(*, now: dt.datetime | None = None) -> int:
    """Fail running jobs whose heartbeat is older than EXCHANGE_IMPORT_LOST_SECONDS: their worker
    process is gone (killed, out of memory, host restarted)."""
    now = now or timezone.now()
    threshold = _lost_before(now)
    lost = Q(status=ImportSession.Status.IN_PROGRESS) & (
        Q(heartbeat_at__lt=threshold) | Q(heartbeat_at=None, created_at__lt=threshold)
    )
    count = 0
    for job in ImportSession.objects.filter(lost):
        last = job.heartbeat_at or job.created_at
        count += job_fail(job_id=job.pk, reason=IMPORT_WORKER_LOST.format(since=_since(last)), only=lost)
    return count


def jobs_fail_stale(*, now: dt.datetime | None = None) -> int:
    """Fail jobs no worker has claimed (or stamped) for EXCHANGE_IMPORT_STALE_MINUTES: no worker
    is running at all, or the task was lost before it started."""
    now = now or timezone.now()
    threshold = now - dt.timedelta(minutes=exchange_settings().import_stale_minutes)
    stale = Q(status__in=ACTIVE) & (Q(heartbeat_at__lt=threshold) | Q(heartbeat_at=None, created_at__lt=threshold))
    count = 0
    for job in ImportSession.objects.filter(stale):
        last = job.heartbeat_at or job.created_at
        count += job_fail(job_id=job.pk, reason=IMPORT_STALE.format(since=_since(last)), only=stale)
    return count


def jobs_check(*, now: dt.datetime | None = None) -> int:
    """The beat task's check (every minute): lost workers first, then jobs never started."""
    return jobs_fail_lost(now=now) + jobs_fail_stale(now=now)


def jobs_fail_of_worker(*, worker: str) -> int:
    """A worker (re)started under ``worker``: whatever it was running before is dead."""
    if not worker:
        return 0
    mine = Q(status=ImportSession.Status.IN_PROGRESS, worker=worker)
    count = 0
    for job in ImportSession.objects.filter(mine):
        count += job_fail(job_id=job.pk, reason=IMPORT_WORKER_RESTARTED.format(worker=worker), only=mine)
    return count


def jobs_fail_of_task(*, task_id: str, reason: str) -> int:
    """Celery lost the pool process running ``task_id`` (killed, out of memory, hard time limit)."""
    if not task_id:
        return 0
    mine = Q(status=ImportSession.Status.IN_PROGRESS, task_id=task_id)
    return sum(job_fail(job_id=job.pk, reason=reason, only=mine) for job in ImportSession.objects.filter(mine))
