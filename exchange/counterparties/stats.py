"""The customer sync's numbers for the admin page (and anything else that wants them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, Q
from django.utils import timezone

from customers.models import SyncStatus, User
from exchange.counterparties.models import CustomerSyncLog, SyncDirection, SyncOutcome


@dataclass(frozen=True, slots=True)
class CustomerSyncNumbers:
    exported_today: int  # customers 1C accepted today
    attempts_today: int
    successes_today: int
    pending: int  # marked, waiting for an attempt or a retry
    failed: int  # the dead letter
    average_time_to_1c: dt.timedelta | None  # from being marked to 1C accepting, today
    imported_today: int  # counterparties created or updated from 1C today
    conflicts_today: int  # import operations that logged a conflict

    @property
    def success_rate(self) -> float | None:
        """Share of today's export attempts that 1C accepted."""
        return self.successes_today / self.attempts_today if self.attempts_today else None


def customer_sync_numbers(*, now: dt.datetime | None = None) -> CustomerSyncNumbers:
    now = now or timezone.now()
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today = CustomerSyncLog.objects.filter(created_at__gte=day_start, created_at__lte=now)
    exports = today.filter(direction=SyncDirection.EXPORT).aggregate(
        attempts=Count("id"),
        successes=Count("id", filter=Q(outcome=SyncOutcome.SUCCESS)),
        customers=Count("customer", filter=Q(outcome=SyncOutcome.SUCCESS), distinct=True),
        latency=Avg("latency_ms", filter=Q(outcome=SyncOutcome.SUCCESS)),
    )
    imports = today.filter(direction=SyncDirection.IMPORT).aggregate(
        changed=Count("id", filter=Q(outcome__in=(SyncOutcome.CREATED, SyncOutcome.UPDATED))),
        conflicts=Count("id", filter=~Q(conflicts=[])),
    )
    states = User.objects.filter(needs_1c_export=True).aggregate(
        pending=Count("id", filter=~Q(sync_status=SyncStatus.FAILED)),
        failed=Count("id", filter=Q(sync_status=SyncStatus.FAILED)),
    )
    latency = exports["latency"]
    return CustomerSyncNumbers(
        exported_today=exports["customers"],
        attempts_today=exports["attempts"],
        successes_today=exports["successes"],
        pending=states["pending"],
        failed=states["failed"],
        average_time_to_1c=dt.timedelta(milliseconds=latency) if latency is not None else None,
        imported_today=imports["changed"],
        conflicts_today=imports["conflicts"],
    )
