"""Site -> 1C: the export outbox of customers.

``needs_1c_export`` on the customer is the outbox. It is set in the same transaction as the change
that needs exporting (the ``customer_changed`` receiver below), so a change can never be saved
without its mark; the task that sends it is queued only after that transaction commits, new
customers at a higher priority than updates. Anything that keeps the task from running (the broker
down at registration, a worker killed mid-request) is caught by ``customers_requeue_due``, which a
beat task runs every minute: customers still marked a few minutes after they were due are queued
again, new ones first.

One attempt (``customer_export_attempt``) takes a lease on the customer's sync state, so that two
tasks for the same customer never talk to 1C at once; sends the customer with the 1C Ид already
known (1C's service also recognises a customer it has seen by ``site_id``); and records the outcome:

* success: the first ``onec_id`` 1C gives is kept for good (a later different one is logged and
  ignored); the mark is cleared unless the customer changed while the request was in flight;
* transient: tried again after an exponential backoff with jitter, up to ONEC_SYNC_MAX_ATTEMPTS;
  then the customer is ``failed``, the dead letter the admin lists with a retry action;
* permanent (a 4xx, data 1C cannot accept): ``failed`` at once with 1C's answer stored.

Every attempt writes a CustomerSyncLog row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q
from django.dispatch import receiver
from django.utils import timezone

from customers.models import SyncStatus, User
from customers.signals import customer_changed
from exchange.conf import CustomerSyncSettings, customer_sync_settings
from exchange.counterparties.client import CallResult, CustomersServiceClient
from exchange.counterparties.mapper import CustomerDataInvalid, CustomerDataMapper
from exchange.counterparties.models import CustomerSyncLog, CustomerSyncState, SyncDirection, SyncOutcome
from exchange.protocol import ONEC_ID_DIFFERS, ONEC_ID_TAKEN
from observability.events import CustomerOutcome, CustomerSynced, emit

logger = logging.getLogger(__name__)

# Celery priorities (Redis: 0 is served first). New customers wait for their terms, so their
# first export goes before profile updates of customers 1C already knows.
PRIORITY_NEW = 0
PRIORITY_UPDATE = 6
# How many overdue customers one run of the beat task queues again; the next run takes the rest.
REQUEUE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class AttemptResult:
    outcome: str  # SyncOutcome value, or "skipped" when there was nothing to do
    retry_in: float | None = None  # seconds until the next attempt should run
    reason: str = ""
    new: bool = False  # 1C did not know the customer before this attempt (queue priority)


def backoff_delay(attempt: int, conf: CustomerSyncSettings, rng: random.Random | None = None) -> float:
    """Seconds before the attempt after ``attempt`` (1-based): base * 2^(attempt-1), capped,
    with "equal jitter" (half fixed, half random) so that customers failed by one outage do not
    all come back at the same second."""
    rng = rng or random.Random()
    delay = min(conf.backoff_max_seconds, conf.backoff_seconds * 2 ** max(0, attempt - 1))
    return delay / 2 + rng.uniform(0, delay / 2)


def _lease_duration(conf: CustomerSyncSettings) -> dt.timedelta:
    # Longer than any request can take (connect + write + read, each up to the timeout), so that a
    # lease only expires when its worker is gone.
    return dt.timedelta(seconds=4 * conf.timeout + 30)


# --- marking ------------------------------------------------------------------------------------
def customer_export_enqueue(*, customer_id: int, new: bool, countdown: float | None = None) -> None:
    """Queue the export task now (call after commit). A broker that cannot be reached is logged,
    not raised: the customer stays marked and the beat task queues it again."""
    from exchange.tasks import export_customer_to_1c  # the task module imports this one

    try:
        options: dict[str, Any] = {"priority": PRIORITY_NEW if new else PRIORITY_UPDATE, "retry": False}
        if countdown:
            options["countdown"] = countdown
        export_customer_to_1c.apply_async((customer_id,), **options)
    except Exception:
        logger.warning("could not queue the export of customer %s; the requeue task will", customer_id, exc_info=True)


def customer_mark_for_export(
    *, customer: User, fields: Iterable[str] = (), created: bool = False, enqueue: bool = True
) -> bool:
    """Mark the customer for export (inside the caller's transaction) when the change matters to 1C
    and queue the task after commit (unless the caller exports it itself); return whether it was
    marked. Staff accounts are not customers and are never exported."""
    conf = customer_sync_settings()
    changed = set(fields) & conf.sync_fields
    if (customer.created_in_1c and created) or customer.is_staff:
        return False
    if not created and not changed:
        return False
    now = timezone.now()
    with transaction.atomic():
        state, _ = CustomerSyncState.objects.select_for_update().get_or_create(customer=customer)
        state.version += 1
        state.requested_at = state.requested_at or now
        state.attempts = 0
        state.next_attempt_at = now
        if not created:
            state.unsynced_fields = sorted(set(state.unsynced_fields) | changed)
        state.save()
        User.objects.filter(pk=customer.pk).update(needs_1c_export=True, sync_status=SyncStatus.PENDING)
    customer.needs_1c_export, customer.sync_status = True, SyncStatus.PENDING
    if conf.enabled and enqueue:
        is_new = not customer.onec_id
        pk = customer.pk
        transaction.on_commit(lambda: customer_export_enqueue(customer_id=pk, new=is_new))
    return True


@receiver(customer_changed, dispatch_uid="exchange.counterparties.mark_for_export")
def _on_customer_changed(sender: object, *, customer: User, fields: frozenset[str], created: bool, **_: Any) -> None:
    customer_mark_for_export(customer=customer, fields=fields, created=created)


# --- one attempt --------------------------------------------------------------------------------
def _claim(customer_id: int, conf: CustomerSyncSettings) -> CustomerSyncState | None:
    """Take the customer's lease, or None when another attempt holds it or nothing is to be done.
    The state row is locked while deciding, so two tasks can never both take it."""
    now = timezone.now()
    with transaction.atomic():
        state = (
            CustomerSyncState.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(pk=customer_id)
            .first()
        )
        if state is None or not state.customer.needs_1c_export or state.customer.sync_status == SyncStatus.FAILED:
            return None
        if state.lease_until is not None and state.lease_until >= now:
            return None
        state.lease_until = now + _lease_duration(conf)
        state.save(update_fields=["lease_until"])
    return state


def _request_body(customer: User, mapper: CustomerDataMapper) -> tuple[bytes, str]:
    data = mapper.map_platform_to_1c(customer)
    if isinstance(data, dict):
        return json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8"
    from exchange.counterparties.cml import counterparty_document

    return counterparty_document(data), "application/xml; charset=utf-8"


def customer_export_attempt(*, customer_id: int, conf: CustomerSyncSettings | None = None) -> AttemptResult:
    """Send the customer to 1C once and record the outcome (see the module docstring)."""
    conf = conf or customer_sync_settings()
    if not conf.enabled:
        return AttemptResult("skipped", reason="sync off")
    state = _claim(customer_id, conf)
    if state is None:
        return AttemptResult("skipped", reason="not marked, failed or being exported by another task")
    customer = state.customer
    version, attempt, new = state.version, state.attempts + 1, customer.onec_id is None
    try:
        body, content_type = _request_body(customer, CustomerDataMapper(conf))
    except CustomerDataInvalid as exc:
        result = CallResult("permanent", None, None, "", exc.reason, 0.0)
    else:
        with CustomersServiceClient(conf) as client:
            result = client.post_customer(body=body, content_type=content_type)
    if result.outcome == "success":
        outcome = _record_success(customer_id, version, attempt, result)
    else:
        outcome = _record_failure(customer_id, attempt, result, conf)
    synced = _SYNCED_EVENT_OUTCOMES.get(outcome.outcome)
    if synced is not None:
        emit(CustomerSynced(outcome=synced, duration_seconds=result.duration))
    return AttemptResult(outcome.outcome, outcome.retry_in, outcome.reason, new=new)


# What an attempt's outcome counts as at /metrics (customers_exported / _retried / _failed).
_SYNCED_EVENT_OUTCOMES: dict[str, CustomerOutcome] = {
    SyncOutcome.SUCCESS: "exported",
    SyncOutcome.RETRY: "retried",
    SyncOutcome.FAILED: "failed",
}


def _log(customer_id: int, outcome: str, attempt: int, result: CallResult, **extra: Any) -> None:
    CustomerSyncLog.objects.create(
        direction=SyncDirection.EXPORT,
        customer_id=customer_id,
        onec_id=result.onec_id or "",
        outcome=outcome,
        attempt=attempt,
        status_code=result.status_code,
        answer=result.answer,
        duration_ms=round(result.duration * 1000),
        **extra,
    )


def _record_success(customer_id: int, version: int, attempt: int, result: CallResult) -> AttemptResult:
    assert result.onec_id is not None
    now = timezone.now()
    requeue = False
    with transaction.atomic():
        customer = User.objects.select_for_update().get(pk=customer_id)
        state = CustomerSyncState.objects.select_for_update().get(pk=customer_id)
        conflicts = []
        if customer.onec_id is None:
            owner = User.objects.filter(onec_id=result.onec_id).exclude(pk=customer_id).first()
            if owner is not None:
                # 1C merged two site customers into one counterparty: nothing to store safely.
                reason = ONEC_ID_TAKEN.format(onec_id=result.onec_id, other=owner.email)
                state.lease_until = None
                state.save(update_fields=["lease_until"])
                User.objects.filter(pk=customer_id).update(sync_status=SyncStatus.FAILED, sync_error_message=reason)
                _log(customer_id, SyncOutcome.FAILED, attempt, result, error=reason)
                return AttemptResult(SyncOutcome.FAILED, reason=reason)
            customer.onec_id = result.onec_id
        elif customer.onec_id != result.onec_id:
            conflicts.append(ONEC_ID_DIFFERS.format(got=result.onec_id, kept=customer.onec_id))
            logger.warning("customer %s: %s", customer_id, conflicts[-1])
        customer.last_sync_at = now
        customer.sync_error_message = ""
        latency = now - state.requested_at if state.requested_at else None
        if state.version == version:
            customer.needs_1c_export = False
            customer.sync_status = SyncStatus.SYNCED
            state.attempts = 0
            state.requested_at = None
            state.next_attempt_at = None
            state.unsynced_fields = []
        else:  # changed while the request was in flight: send the newer data too
            customer.sync_status = SyncStatus.PENDING
            state.attempts = 0
            requeue = True
        state.lease_until = None
        customer.save(update_fields=["onec_id", "last_sync_at", "sync_error_message", "needs_1c_export", "sync_status"])
        state.save()
        _log(
            customer_id,
            SyncOutcome.SUCCESS,
            attempt,
            result,
            conflicts=conflicts,
            latency_ms=round(latency.total_seconds() * 1000) if latency is not None else None,
        )
    return AttemptResult(SyncOutcome.SUCCESS, retry_in=0.0 if requeue else None)


def _record_failure(customer_id: int, attempt: int, result: CallResult, conf: CustomerSyncSettings) -> AttemptResult:
    now = timezone.now()
    final = result.outcome == "permanent" or attempt >= conf.max_attempts
    retry_in = None if final else backoff_delay(attempt, conf)
    with transaction.atomic():
        state = CustomerSyncState.objects.select_for_update().get(pk=customer_id)
        state.attempts = attempt
        state.lease_until = None
        state.next_attempt_at = None if retry_in is None else now + dt.timedelta(seconds=retry_in)
        state.save(update_fields=["attempts", "lease_until", "next_attempt_at"])
        User.objects.filter(pk=customer_id).update(
            sync_status=SyncStatus.FAILED if final else SyncStatus.ERROR, sync_error_message=result.reason
        )
        outcome = SyncOutcome.FAILED if final else SyncOutcome.RETRY
        _log(customer_id, outcome, attempt, result, error=result.reason)
    log = logger.warning if final else logger.info
    log("customer %s export attempt %s: %s", customer_id, attempt, result.reason)
    return AttemptResult(outcome, retry_in=retry_in, reason=result.reason)


# --- the outbox's safety net and the admin's retry ---------------------------------------------
def customers_due_for_export(*, conf: CustomerSyncSettings, overdue: dt.timedelta) -> list[tuple[int, bool]]:
    """(customer id, is new) of marked customers whose attempt is overdue by ``overdue``, new
    customers first, then the longest waiting."""
    now = timezone.now()
    cutoff = now - overdue
    rows = (
        User.objects.filter(needs_1c_export=True)
        .exclude(sync_status=SyncStatus.FAILED)
        .filter(
            Q(onec_sync__isnull=True)
            | Q(onec_sync__next_attempt_at__isnull=True)
            | Q(onec_sync__next_attempt_at__lte=cutoff)
        )
        .filter(Q(onec_sync__lease_until__isnull=True) | Q(onec_sync__lease_until__lt=now))
        .annotate(is_new=ExpressionWrapper(Q(onec_id__isnull=True), output_field=BooleanField()))
        .order_by("-is_new", F("onec_sync__requested_at").asc(nulls_first=True), "pk")
        .values_list("pk", "onec_id")[:REQUEUE_BATCH]
    )
    return [(pk, onec_id is None) for pk, onec_id in rows]


def customers_requeue_due(*, conf: CustomerSyncSettings | None = None) -> int:
    """Queue again the exports that should have run a few minutes ago (their task was lost)."""
    conf = conf or customer_sync_settings()
    if not conf.enabled:
        return 0
    due = customers_due_for_export(conf=conf, overdue=dt.timedelta(minutes=conf.requeue_minutes))
    for pk, is_new in due:
        # Customers marked by something other than the signal (data loaded directly) get a state.
        CustomerSyncState.objects.get_or_create(customer_id=pk, defaults={"requested_at": timezone.now(), "version": 1})
        customer_export_enqueue(customer_id=pk, new=is_new)
    return len(due)


def customers_retry_export(*, customer_ids: Iterable[int]) -> int:
    """The admin's retry: failed (or any) customers get a fresh round of attempts now."""
    ids = list(customer_ids)
    now = timezone.now()
    with transaction.atomic():
        for pk in ids:
            CustomerSyncState.objects.get_or_create(customer_id=pk)
        CustomerSyncState.objects.filter(pk__in=ids).update(
            attempts=0, next_attempt_at=now, lease_until=None, requested_at=now
        )
        User.objects.filter(pk__in=ids).update(
            needs_1c_export=True, sync_status=SyncStatus.PENDING, sync_error_message=""
        )
        new_flags = dict(User.objects.filter(pk__in=ids).values_list("pk", "onec_id"))

        def enqueue_all() -> None:
            for pk in ids:
                customer_export_enqueue(customer_id=pk, new=new_flags.get(pk) is None)

        transaction.on_commit(enqueue_all)
    return len(ids)
