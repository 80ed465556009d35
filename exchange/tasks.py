"""Periodic housekeeping of the exchange (scheduled in CELERY_BEAT_SCHEDULE); the work is in
the services, the tasks only call them."""

from __future__ import annotations

from celery import shared_task

from exchange.services.audit import audit_prune
from exchange.services.sessions import sessions_expire_idle
from exchange.services.uploads import uploads_remove_stale


@shared_task(name="exchange.expire_sessions", soft_time_limit=600, time_limit=900)
def expire_sessions() -> dict[str, int]:
    """Expire idle sessions, then remove upload folders nothing needs any more."""
    expired = sessions_expire_idle()
    removed = uploads_remove_stale()
    return {"expired": expired, "folders_removed": removed}


@shared_task(name="exchange.prune_exchange_logs", soft_time_limit=1800, time_limit=2400)
def prune_exchange_logs() -> dict[str, int]:
    """Apply the retention policy (days, total size) to the copies of exchanged files."""
    result = audit_prune()
    return {"days_removed": result.days_removed, "files_removed": result.files_removed, "bytes_left": result.bytes_left}
