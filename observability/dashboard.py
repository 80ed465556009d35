"""What the exchange dashboard (the admin's front page) and the queue gauges of /metrics show:
read-only selectors over the exchange, orders and customers."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from customers.models import SyncStatus, User
from exchange.models import ExchangeFile, ExchangeRequestLog, ExchangeSession, ImportFile, ImportSession
from exchange.services.uploads import UploadError, normalise_filename
from observability.models import HousekeepingRun

RECENT_EXCHANGES = 15
RECENT_ERRORS = 20
ERRORS_WINDOW = dt.timedelta(hours=24)


# --- queues ---------------------------------------------------------------------------------
def orders_waiting_for_1c() -> QuerySet[Any]:
    from orders.models import Order

    return Order.objects.filter(sent_to_1c=False, export_skipped=False)


def orders_skipped() -> QuerySet[Any]:
    from orders.models import Order

    return Order.objects.filter(export_skipped=True)


def customers_pending() -> QuerySet[User]:
    return User.objects.filter(needs_1c_export=True)


def customers_failed() -> QuerySet[User]:
    return User.objects.filter(sync_status=SyncStatus.ERROR)


@dataclass(frozen=True, slots=True)
class QueueLengths:
    imports_pending: dict[str, int]
    imports_running: dict[str, int]
    import_progress_ratio: float
    orders_waiting: int
    orders_skipped: int
    customers_pending: int
    customers_failed: int


def running_import() -> ImportSession | None:
    return ImportSession.objects.filter(status__in=ImportSession.ACTIVE_STATUSES).order_by("created_at").first()


def _ratio(item: ImportSession | None) -> float:
    if item is None or not item.progress_total:
        return 0.0
    return min(1.0, item.progress_done / item.progress_total)


def queue_lengths() -> QueueLengths:
    by_status: dict[str, Counter[str]] = {"pending": Counter(), "in_progress": Counter()}
    for kind, status, count in (
        ImportSession.objects.filter(status__in=ImportSession.ACTIVE_STATUSES)
        .values_list("kind", "status")
        .annotate(count=Count("id"))
    ):
        by_status[status][kind] += count
    return QueueLengths(
        imports_pending=dict(by_status["pending"]),
        imports_running=dict(by_status["in_progress"]),
        import_progress_ratio=_ratio(running_import()),
        orders_waiting=orders_waiting_for_1c().count(),
        orders_skipped=orders_skipped().count(),
        customers_pending=customers_pending().count(),
        customers_failed=customers_failed().count(),
    )


# --- the page -------------------------------------------------------------------------------
def logged_file_url(log_name: str) -> str:
    return reverse("admin:exchange_logged_file", args=[log_name]) if log_name else ""


def import_progress(item: ImportSession | None) -> dict[str, object] | None:
    """The running import as the page and its JSON poll show it."""
    if item is None:
        return None
    ratio = _ratio(item)
    return {
        "id": item.pk,
        "status": item.get_status_display(),
        "stage": item.stage,
        "done": item.progress_done,
        "total": item.progress_total,
        "percent": round(100 * ratio),
        "url": reverse("admin:exchange_importsession_change", args=[item.pk]),
    }


def _duration(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """``12.3 с``, ``3 мин 05 с``, ``1 ч 02 мин``; empty when unknown."""
    if not start or not end:
        return ""
    seconds = max(0.0, (end - start).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f} с"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} мин {rest:02d} с"
    return f"{minutes // 60} ч {minutes % 60:02d} мин"


def recent_exchanges(limit: int = RECENT_EXCHANGES) -> list[dict[str, object]]:
    sessions = list(
        ExchangeSession.objects.select_related("user")
        .annotate(
            request_count=Count("requests"),
            failure_count=Count("requests", filter=Q(requests__outcome="failure")),
        )
        .order_by("-started_at")[:limit]
    )
    files: dict[object, list[ExchangeFile]] = {}
    for file in ExchangeFile.objects.filter(session__in=sessions).exclude(log_name="").order_by("created_at"):
        files.setdefault(file.session_id, []).append(file)
    rows = []
    for session in sessions:
        failures = getattr(session, "failure_count", 0)
        if failures:
            outcome, ok = f"ошибок: {failures}", False
        elif session.status == ExchangeSession.Status.COMPLETED:
            outcome, ok = "успешно", True
        elif session.status == ExchangeSession.Status.ACTIVE:
            outcome, ok = "идёт", True
        else:
            outcome, ok = session.get_status_display(), True
        rows.append(
            {
                "session": session,
                "outcome": outcome,
                "ok": ok,
                "duration": _duration(session.started_at, session.finished_at or session.last_seen_at),
                "requests": getattr(session, "request_count", 0),
                "url": reverse("admin:exchange_exchangesession_change", args=[session.pk]),
                "files": [(file.name, logged_file_url(file.log_name)) for file in files.get(session.pk, [])],
            }
        )
    return rows


def _request_file_url(entry: ExchangeRequestLog) -> str:
    """The logged copy of the file a failed request was about, when there is one."""
    raw = (entry.params or {}).get("filename", "")
    if not raw or entry.session_id is None:
        return ""
    try:
        name = normalise_filename(raw)
    except UploadError:
        return ""
    log_name = (
        ExchangeFile.objects.filter(session_id=entry.session_id, name=name).values_list("log_name", flat=True).first()
    )
    return logged_file_url(log_name or "")


def _import_file_url(item: ImportSession) -> str:
    """The logged copy of the file a failed import failed on: the file 1C uploaded under that
    name, else the archive it came in."""
    if item.exchange_session_id is None:
        return ""
    failed = item.files.filter(status=ImportFile.Status.FAILED).values_list("name", flat=True).first()
    uploads = ExchangeFile.objects.filter(session_id=item.exchange_session_id).exclude(log_name="")
    found = uploads.filter(name=failed).first() if failed else None
    found = found or uploads.filter(is_archive=True).order_by("-created_at").first()
    return logged_file_url(found.log_name) if found else ""


def recent_errors(*, now: dt.datetime | None = None, limit: int = RECENT_ERRORS) -> dict[str, object]:
    since = (now or timezone.now()) - ERRORS_WINDOW
    failed_requests = ExchangeRequestLog.objects.filter(outcome="failure", created_at__gte=since)
    failed_imports = ImportSession.objects.filter(status=ImportSession.Status.FAILED, finished_at__gte=since)
    return {
        "request_count": failed_requests.count(),
        "requests": [
            {
                "entry": entry,
                "reason": entry.answer.partition("\n")[2].strip() or entry.answer,
                "url": reverse("admin:exchange_exchangerequestlog_change", args=[entry.pk]),
                "file_url": _request_file_url(entry),
            }
            for entry in failed_requests.order_by("-created_at")[:limit]
        ],
        "import_count": failed_imports.count(),
        "imports": [
            {
                "item": item,
                "url": reverse("admin:exchange_importsession_change", args=[item.pk]),
                "file_url": _import_file_url(item),
            }
            for item in failed_imports.order_by("-finished_at")[:limit]
        ],
    }


def housekeeping_runs() -> list[dict[str, object]]:
    """Every task beat runs, with its last run (None when it has not run yet)."""
    runs = {run.task: run for run in HousekeepingRun.objects.all()}
    rows: list[dict[str, object]] = []
    for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        task = str(entry["task"])
        rows.append({"name": name, "task": task, "every": _every(entry.get("schedule")), "run": runs.get(task)})
    return rows


def _every(schedule: object) -> str:
    if not isinstance(schedule, int | float | dt.timedelta):
        return str(schedule)  # a crontab says it itself
    seconds = int(schedule.total_seconds() if isinstance(schedule, dt.timedelta) else schedule)
    if seconds % 86400 == 0:
        return "каждый день" if seconds == 86400 else f"каждые {seconds // 86400} дн."
    if seconds % 3600 == 0:
        return "каждый час" if seconds == 3600 else f"каждые {seconds // 3600} ч"
    if seconds % 60 == 0:
        return f"каждые {seconds // 60} мин"
    return f"каждые {seconds} с"


def dashboard_context() -> dict[str, object]:
    lengths = queue_lengths()
    return {
        "recent_exchanges": recent_exchanges(),
        "running_import": import_progress(running_import()),
        "queues": lengths,
        "orders_waiting_url": reverse("admin:orders_order_changelist") + "?sent_to_1c__exact=0&export_skipped__exact=0",
        "orders_skipped_url": reverse("admin:orders_order_changelist") + "?export_skipped__exact=1",
        "customers_pending_url": reverse("admin:customers_user_changelist") + "?needs_1c_export__exact=1",
        "customers_failed_url": reverse("admin:customers_user_changelist") + f"?sync_status__exact={SyncStatus.ERROR}",
        "errors": recent_errors(),
        "housekeeping": housekeeping_runs(),
    }
