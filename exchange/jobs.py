"""The import-job engine: what every kind of import shares (catalog today; sale documents and
counterparties plug in the same way).

A job is an ImportSession row with its ImportFile rows: files to import in an order, a status, a
heartbeat, a progress line and a report. At most one job per kind is pending or running (the
partial unique constraint on ImportSession is the lock). The engine owns the job's lifecycle; a
kind owns only what its files mean.

How a kind plugs in
-------------------
Register a ``JobKind`` once, at import time of the flow's module (exchange/tasks.py must import
that module, so that the worker knows the kind)::

    job_kind_register(JobKind(kind=ExchangeType.SALE, describe=describe_sale_file, importer=SaleJobImporter))

* ``describe(base_dir, name) -> (content_kind, rank)``: what a file holds (stored on ImportFile.kind)
  and its place in the import order (lower first; files of one rank go in arrival order).
* ``importer(job=…, report=…, progress=…) -> JobImporter``: a fresh importer for one run of a job.
  ``report`` (exchange.report.ImportReport) is where it counts and records element
  problems with their Ид; ``progress(label, done, total)`` is what it calls after every batch.

A ``JobImporter`` (see the Protocol below) is called by the engine:

* ``import_file(job, file, progress) -> FileOutcome`` for every file, in order. It imports the
  file (``job.base_dir / file.name``), may save its own per-file state, and returns
  ``FileOutcome.done()``, ``.skipped()`` (nothing for this kind in it) or ``.failed(reason)``
  (the job stops; ``reason`` is what 1C is told, naming the file as 1C named it). An exception is
  an unexpected error: the job fails with ``IMPORT_INTERNAL_ERROR`` and the task re-raises it.
* ``finish(job)`` once no file is pending: the kind's end-of-job work (the job is still held).
* ``close(job, failed=…)`` inside the transaction that ends the job: save the kind's own state.
* ``closed(job)`` after the job has ended and the lock is free (e.g. follow-up work).

What the engine does around it
------------------------------
* ``job_queue_file(kind=…, session=…, filename=…, base_dir=…, initial_files=…)``: one 1C
  ``mode=import`` call: the file's ImportFile in this exchange's job, a new job (with every file
  ``initial_files()`` names) queued on the worker, or JobAlreadyRunning when another exchange's job
  of the kind runs. ``job_file_answer(file, …)`` turns the file's state into 1C's answer:
  ``progress`` with the stage while it runs, ``success`` (with the file's element problems on the
  following lines) or ``failure`` with the reason, for every file of a failed job.
* ``job_create`` / ``job_add_files`` / ``job_enqueue`` / ``job_run`` for callers that build jobs
  themselves (the manual ``import_1c`` command runs ``job_run`` in its own process).
* **claim**: a worker takes a pending job, or takes over one whose worker has stopped sending
  heartbeats (a redelivered task); a second live runner is refused.
* **heartbeat and progress**: while a job runs, a thread of the worker process stamps
  ``heartbeat_at`` every ``HEARTBEAT_SECONDS``, whatever the importer is doing (a long parse, a
  deactivation); the progress line, counters and report are written at most once a second.
* **close**: the outcome, counters, element problems and report are written and the lock is
  released in one transaction, under the job's row lock, so a file 1C adds meanwhile is either
  imported by this run or starts the next job.
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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from exchange.conf import exchange_settings
from exchange.models import ExchangeSession, ImportFile, ImportSession
from exchange.protocol import (
    IMPORT_ALREADY_RUNNING,
    IMPORT_FAILED,
    IMPORT_FILE_NOT_REACHED,
    IMPORT_INTERNAL_ERROR,
    IMPORT_MORE_WARNINGS,
    IMPORT_STALE,
    IMPORT_WORKER_LOST,
    IMPORT_WORKER_RESTARTED,
    Answer,
    ExchangeError,
    failure,
    progress,
    success,
)
from exchange.report import ENTITY_LABELS, ImportReport
from observability.events import ImportJobFinished, ImportProgressed, emit
from observability.logs import bind_exchange_session

logger = logging.getLogger(__name__)

ACTIVE = ImportSession.ACTIVE_STATUSES
# How often a running job stamps its heartbeat: one small UPDATE per second costs nothing next to
# the import, and lets a lost worker be recognised within EXCHANGE_IMPORT_LOST_SECONDS.
HEARTBEAT_SECONDS = 1.0
# Write the progress line at most this often (a batch is ~1000 objects, a few per second).
PROGRESS_EVERY = dt.timedelta(seconds=1)
# 1C's answer for a file lists at most this many element problems after ``success`` (protocol.md
# §1.4: the keyword alone on line 1, messages on the following lines, shown in 1C's exchange log);
# the job's report on the site keeps up to MAX_ISSUES of them.
WARNINGS_SHOWN = 20
WARNING_LINE_CHARS = 300


class JobAlreadyRunning(ExchangeError):
    """Another exchange's job of the same kind is pending or running (the lock is taken)."""

    reason = IMPORT_ALREADY_RUNNING


class JobWaiting(Exception):
    """This exchange's previous job (of an earlier upload folder) must finish first."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


class JobCancelled(Exception):
    """The job was failed or taken over while this worker ran it: stop without writing more."""


# --- what a kind plugs in ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What importing one file came to. ``note`` replaces the report's "<file>: обработан" line."""

    status: str
    error: str = ""
    note: str = ""

    @classmethod
    def done(cls, note: str = "") -> FileOutcome:
        return cls(ImportFile.Status.DONE, note=note)

    @classmethod
    def skipped(cls, note: str = "") -> FileOutcome:
        return cls(ImportFile.Status.SKIPPED, note=note)

    @classmethod
    def failed(cls, error: str) -> FileOutcome:
        return cls(ImportFile.Status.FAILED, error=error)


ProgressListener = Callable[[str, int, int | None], None]


class JobImporter(Protocol):
    def import_file(self, job: ImportSession, file: ImportFile, progress: JobProgress) -> FileOutcome: ...

    def finish(self, job: ImportSession) -> None: ...

    def close(self, job: ImportSession, *, failed: bool) -> None: ...

    def closed(self, job: ImportSession) -> None: ...


class ImporterFactory(Protocol):
    def __call__(self, *, job: ImportSession, report: ImportReport, progress: JobProgress) -> JobImporter: ...


@dataclass(frozen=True, slots=True)
class JobKind:
    kind: str  # ImportSession.kind (an ExchangeType value): also the key of the one-job lock
    describe: Callable[[Path, str], tuple[str, int]]
    importer: ImporterFactory


KINDS: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> None:
    KINDS[kind.kind] = kind


def _kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"no importer registered for jobs of kind {name!r}") from None


# --- creating, extending and queueing jobs ----------------------------------------------------
def job_add_files(job: ImportSession, names: Iterable[str]) -> list[ImportFile]:
    """Add files (relative to the job's folder) it does not have yet, described by its kind."""
    describe = _kind(job.kind).describe
    base_dir = Path(job.base_dir)
    known = set(job.files.values_list("name", flat=True))
    created = []
    for name in names:
        if name in known:
            continue
        content_kind, rank = describe(base_dir, name)
        created.append(ImportFile(import_session=job, name=name, kind=content_kind, rank=rank))
        known.add(name)
    ImportFile.objects.bulk_create(created)
    return created


def job_create(
    *,
    kind: str,
    base_dir: Path,
    files: Sequence[str],
    exchange_session: ExchangeSession | None = None,
    source: str = ImportSession.Source.EXCHANGE,
) -> ImportSession:
    """A pending job of ``files`` (relative to ``base_dir``); raises JobAlreadyRunning."""
    try:
        with transaction.atomic():
            job = ImportSession.objects.create(
                kind=kind,
                source=source,
                exchange_session=exchange_session,
                base_dir=str(base_dir),
                stage="Ожидает запуска",
            )
            job_add_files(job, files)
    except IntegrityError as exc:  # the partial unique constraint: another job of the kind is active
        raise JobAlreadyRunning from exc
    return job


def job_enqueue(*, job: ImportSession) -> None:
    """Queue the worker task once the creating transaction commits."""
    from exchange.tasks import run_import_job  # the task module imports the flows, which import this one

    pk = job.pk
    transaction.on_commit(lambda: run_import_job.delay(pk))


def _file_for(session: ExchangeSession, kind: str, filename: str, base_dir: Path) -> ImportFile | None:
    """The job file of this very upload of ``filename``: same upload folder, and the file on disk
    not written after that job read it. 1C may run init again within a session and upload a file
    of the same name; that upload must be imported, not answered from the earlier job."""
    found = (
        ImportFile.objects.filter(
            import_session__exchange_session=session,
            import_session__kind=kind,
            import_session__base_dir=str(base_dir),
            name=filename,
        )
        .select_related("import_session")
        .order_by("-import_session_id")
        .first()
    )
    if found is None or found.status in (ImportFile.Status.PENDING, ImportFile.Status.IN_PROGRESS):
        return found  # not read yet: it will read what is on disk now
    try:
        written = (base_dir / filename).stat().st_mtime
    except OSError:
        return found
    started = found.started_at or found.import_session.created_at
    return found if written <= started.timestamp() else None


def job_queue_file(
    *, kind: str, session: ExchangeSession, filename: str, base_dir: Path, initial_files: Callable[[], list[str]]
) -> ImportFile:
    """Make sure ``filename`` is part of a job of this exchange; create and queue one if needed,
    with the files ``initial_files()`` lists that no job of this upload has yet. Raises
    JobAlreadyRunning (another exchange's job) or JobWaiting (this exchange's job of an earlier
    upload folder still runs)."""
    with transaction.atomic():
        active = ImportSession.objects.select_for_update().filter(kind=kind, status__in=ACTIVE).first()
        if active is not None and active.exchange_session_id != session.pk:
            raise JobAlreadyRunning
        existing = _file_for(session, kind, filename, base_dir)
        if existing is not None:
            return existing
        if active is not None and active.base_dir != str(base_dir):
            # 1C ran init again while a job of its previous upload still runs: that job reads the
            # old folder; this file is imported once it has finished.
            raise JobWaiting(active.stage or "Ожидание завершения предыдущего импорта")
        if active is not None:
            # The worker re-reads pending files under the same row lock before it finishes, so a
            # file added here is either seen by it or finds the job finished (and starts a new one).
            job_add_files(active, [filename])
        else:
            names = [name for name in initial_files() if _file_for(session, kind, name, base_dir) is None]
            if filename not in names:
                names.append(filename)
            job = job_create(kind=kind, base_dir=base_dir, files=names, exchange_session=session)
            job_enqueue(job=job)
    found = _file_for(session, kind, filename, base_dir)
    assert found is not None
    return found


# --- 1C's answer for a file -------------------------------------------------------------------
def job_file_answer(file: ImportFile, *, done_text: str, skipped_text: str, queued_text: str | None = None) -> Answer:
    """What 1C's ``mode=import`` for ``file`` is answered (protocol.md §2.4).

    Every file of a failed job fails, whatever its own state (done, skipped, never reached): the
    package was not applied as a whole, and 1C must never hear success for it (with changes-only
    exchanges it would never send those changes again). ``queued_text`` answers a file not
    finished yet with success at once (the ``background`` behaviour) instead of ``progress``.
    """
    job = file.import_session
    if job.status == ImportSession.Status.FAILED or file.status == ImportFile.Status.FAILED:
        own = file.error_message if file.status == ImportFile.Status.FAILED else ""
        if own == IMPORT_FILE_NOT_REACHED:
            own = ""
        return failure(own or job.error_message or IMPORT_FAILED)
    if file.status == ImportFile.Status.DONE:
        return success(done_text, *file_warning_lines(file))
    if file.status == ImportFile.Status.SKIPPED:
        return success(skipped_text)
    if queued_text is not None:
        return success(queued_text)
    if job.status == ImportSession.Status.COMPLETED:
        # Finished without reaching this file: cannot happen unless the file vanished.
        return failure(f"Файл {file.name} не был обработан")
    return progress(job.stage or "Импорт выполняется")


def _issue_line(issue: dict[str, Any]) -> str:
    """One element problem as a line of 1C's log: ``Ошибка: offers.xml:12: Предложения Ид=…: reason``."""
    where = f"{issue.get('file') or ''}:{issue['line']}" if issue.get("line") else str(issue.get("file") or "")
    label = ENTITY_LABELS.get(str(issue.get("entity")), str(issue.get("entity")))
    level = "Ошибка" if issue.get("level") == "error" else "Замечание"
    element = f" Ид={issue['id']}" if issue.get("id") else ""
    return f"{level}: {where}: {label}{element}: {issue.get('reason')}"[:WARNING_LINE_CHARS]


def file_warning_lines(file: ImportFile) -> list[str]:
    lines = list(file.warnings or [])
    if file.warnings_count > len(lines):
        lines.append(IMPORT_MORE_WARNINGS.format(count=file.warnings_count - len(lines)))
    return lines


# --- running a job ----------------------------------------------------------------------------
class JobProgress:
    """The importer's progress callback: the stage line, counters and report on the job row, at
    most once a second. Raises JobCancelled when the job is no longer this runner's."""

    def __init__(self, job: ImportSession, report: ImportReport, listener: ProgressListener | None = None) -> None:
        self.job = job
        self.report = report
        self.listener = listener
        self.finished_lines: list[str] = []
        self.file = ""
        self.last_write = timezone.now() - PROGRESS_EVERY

    def __call__(self, label: str, done: int, total: int | None, *, force: bool = False) -> None:
        emit(ImportProgressed(self.job.kind, self.job.pk, f"{self.file}: {label}" if self.file else label, done, total))
        if self.listener is not None:
            self.listener(f"{self.file}: {label}" if self.file else label, done, total)
        now = timezone.now()
        if not force and now - self.last_write < PROGRESS_EVERY:
            return
        self.last_write = now
        line = f"{label}: {done} из {total}" if total else f"{label}: {done}"
        stage = f"{self.file}: {line}" if self.file else line
        written = ImportSession.objects.filter(job_owned(self.job)).update(
            stage=stage[:255],
            progress_done=done,
            progress_total=total or 0,
            heartbeat_at=now,
            counters=self.report.counters_dict(),
            report="\n".join([*self.finished_lines, stage]),
        )
        if not written:  # failed meanwhile (lost-worker check, the admin) or taken over
            raise JobCancelled


def job_run(
    *, job_id: int, task_id: str = "", worker: str = "", on_progress: ProgressListener | None = None
) -> ImportSession | None:
    """Run (or resume) a job: the body of the Celery task, callable without Celery. None when it
    was not this runner's to run (already done, or another live runner has it).

    ``on_progress(stage, done, total)`` is called after every batch (the manual command draws
    its progress bar with it); the job row is updated at most once a second.
    """
    job = job_claim(job_id=job_id, task_id=task_id, worker=worker)
    if job is None:
        return None
    bind_exchange_session(job.exchange_session_id)  # the worker's log lines name the exchange
    report = ImportReport()
    tracker = JobProgress(job, report, on_progress)
    importer = _kind(job.kind).importer(job=job, report=report, progress=tracker)
    try:
        with Heartbeat(job):
            _drive(job, importer, tracker)
    except JobCancelled:
        logger.warning("Import %s was failed or taken over while it ran; stopped", job.pk)
    job.refresh_from_db()
    if not job.is_active:
        importer.closed(job)
    return job


def _pending_files(job: ImportSession) -> QuerySet[ImportFile]:
    return job.files.filter(status__in=(ImportFile.Status.PENDING, ImportFile.Status.IN_PROGRESS))


def _next_file(job: ImportSession) -> ImportFile | None:
    file = _pending_files(job).order_by("rank", "id").first()
    if file is not None:
        file.status = ImportFile.Status.IN_PROGRESS
        file.started_at = timezone.now()
        file.save(update_fields=["status", "started_at"])
    return file


def _drive(job: ImportSession, importer: JobImporter, tracker: JobProgress) -> None:
    error = ""
    try:
        while True:
            file = _next_file(job)
            if file is None:
                # The kind's end-of-job work while the job is still held, then finish unless 1C
                # added a file meanwhile.
                importer.finish(job)
                if _close(job, importer, tracker, error=""):
                    return
                continue
            tracker.file = file.name
            error = _import_file(job, importer, file, tracker)
            if error:
                break
    except JobCancelled:
        raise
    except Exception as exc:
        logger.exception("Import %s failed", job.pk)
        _close(job, importer, tracker, error=IMPORT_INTERNAL_ERROR.format(error=type(exc).__name__))
        raise
    _close(job, importer, tracker, error=error)


def _import_file(job: ImportSession, importer: JobImporter, file: ImportFile, tracker: JobProgress) -> str:
    """Import one file; its outcome, finish time and element problems on its row. The error
    that stops the job, or ""."""
    report = tracker.report
    first_issue, dropped_before = len(report.issues), report.issues_dropped
    outcome = importer.import_file(job, file, tracker)
    file.status = outcome.status
    file.finished_at = timezone.now()
    fields = ["status", "finished_at"]
    if outcome.status == ImportFile.Status.FAILED:
        file.error_message = outcome.error
        fields.append("error_message")
    else:
        issues = report.issues[first_issue:]
        file.warnings = [_issue_line(issue) for issue in issues[:WARNINGS_SHOWN]]
        file.warnings_count = len(issues) + report.issues_dropped - dropped_before
        fields += ["warnings", "warnings_count"]
        if outcome.status == ImportFile.Status.DONE:
            tracker.finished_lines.append(outcome.note or f"{file.name}: обработан")
        elif outcome.note:
            tracker.finished_lines.append(outcome.note)
    file.save(update_fields=fields)
    return outcome.error if outcome.status == ImportFile.Status.FAILED else ""


def _close(job: ImportSession, importer: JobImporter, tracker: JobProgress, *, error: str) -> bool:
    """Write the outcome and release the lock; False when 1C added a file meanwhile (go on)."""
    now = timezone.now()
    failed = bool(error)
    report = tracker.report
    lines = [*tracker.finished_lines, *report.summary_lines()]
    if report.issues_dropped:
        lines.append(f"Ещё {report.issues_dropped} замечаний не сохранено")
    if failed:
        lines.append(f"Ошибка: {error}")
    with transaction.atomic():
        # Same row lock as job_queue_file: a file added concurrently is either seen here or finds
        # this job finished and starts a new one.
        if not ImportSession.objects.select_for_update().filter(job_owned(job)).exists():
            raise JobCancelled  # failed meanwhile (lost-worker check, the admin): its outcome stands
        if not failed and _pending_files(job).exists():
            return False
        if failed:
            # Files never reached (or interrupted) are failed: 1C is answered failure for them.
            _pending_files(job).update(
                status=ImportFile.Status.FAILED, error_message=IMPORT_FILE_NOT_REACHED, finished_at=now
            )
        importer.close(job, failed=failed)
        ImportSession.objects.filter(pk=job.pk).update(
            status=ImportSession.Status.FAILED if failed else ImportSession.Status.COMPLETED,
            finished_at=now,
            heartbeat_at=now,
            stage="Импорт завершён с ошибкой" if failed else "Импорт завершён",
            error_message=error,
            counters=report.counters_dict(),
            errors=report.issues,
            report="\n".join(lines),
        )
    emit(ImportJobFinished.of(job, "failed" if failed else "completed", now, report.counters_dict()))
    return True


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
    job = ImportSession.objects.filter(pk=job_id).first()
    if job is not None:  # failed from outside its runner: lost worker, never started, the admin
        emit(ImportJobFinished.of(job, "stale", now))
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
