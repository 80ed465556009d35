"""Small typed events the flows raise; metrics, logs and the dashboard listen.

A flow says what happened once, in the one place where it is known for sure, with
``emit(SomethingHappened(...))``; it never touches a metric or a log format itself. Listeners
subscribe with ``@listen(SomethingHappened)`` (``observability.metrics`` counts, the housekeeping
record keeps the last run of each periodic task). A listener that raises is logged and skipped:
observing a flow must never break it. Events are plain frozen dataclasses and this module imports
nothing of Django, so any layer may raise them.

Where each event is raised (one place each):

* ``ExchangeRequestHandled``, ``ExchangeFileReceived`` — the exchange endpoint, in the ``finally``
  that writes the request-log row (exchange/views.py), so every request counts whatever happened.
* ``ImportProgressed``, ``ImportJobFinished`` — the import job: the progress writer and the close
  that releases the lock (exchange/catalog/service.py today; the job engine once it owns
  claim/progress/close), plus the stale-job cleanup for jobs nobody closed.
* ``PeriodicTaskFinished`` — Celery's task signals, for every task in CELERY_BEAT_SCHEDULE
  (observability.apps), so a new housekeeping task is recorded without code of its own.
* ``OrdersExported``, ``OrdersConfirmed`` — for the order exchange to raise: ``OrdersExported``
  when ``mode=query`` hands orders to 1C (count = orders in the document, skipped = orders left
  out with a reason), ``OrdersConfirmed`` when ``mode=success`` marks them sent::

      from observability.events import OrdersExported, emit
      emit(OrdersExported(count=len(handed), skipped=len(skipped)))

* ``CustomerSynced`` — for the customer export to raise after each attempt to send a customer to
  1C: ``outcome`` is ``exported`` (1C took it), ``retried`` (a transient error, another attempt is
  scheduled) or ``failed`` (given up; the customer shows as failed)::

      emit(CustomerSynced(outcome="retried", duration_seconds=elapsed))
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

logger = logging.getLogger(__name__)


class Event:
    """Base of every event (for typing only)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class ExchangeRequestHandled(Event):
    """One request of 1C answered, whatever the answer was."""

    exchange_type: str
    mode: str
    outcome: str  # the answer's first line: success, progress, failure (or "" if none was built)
    duration_seconds: float
    bytes_in: int
    bytes_out: int


@dataclass(frozen=True, slots=True)
class ExchangeFileReceived(Event):
    """A part of a file 1C uploaded was stored (``mode=file`` answered success)."""

    exchange_type: str
    size: int


@dataclass(frozen=True, slots=True)
class ImportProgressed(Event):
    """An import job wrote progress: ``done`` of ``total`` objects of ``stage`` (per file/entity)."""

    kind: str
    job_id: int
    stage: str
    done: int
    total: int | None


JobOutcome = Literal["completed", "failed", "stale"]


@dataclass(frozen=True, slots=True)
class ImportJobFinished(Event):
    """An import job ended and released its lock."""

    kind: str
    job_id: int
    outcome: JobOutcome
    duration_seconds: float
    # {entity: {outcome: count}} as in ImportReport.counters_dict(): created, updated, unchanged…
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        job: Any,
        outcome: JobOutcome,
        finished_at: dt.datetime,
        counts: Mapping[str, Mapping[str, int]] | None = None,
    ) -> ImportJobFinished:
        """The event for a job row (``kind``, ``pk``, ``started_at``/``created_at``) closed at ``finished_at``."""
        started = job.started_at or job.created_at
        return cls(job.kind, job.pk, outcome, max(0.0, (finished_at - started).total_seconds()), counts or {})


@dataclass(frozen=True, slots=True)
class OrdersExported(Event):
    """``mode=query`` handed ``count`` orders to 1C (``skipped`` were left out with a reason)."""

    count: int
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class OrdersConfirmed(Event):
    """``mode=success``: 1C confirmed it stored ``count`` orders."""

    count: int


CustomerOutcome = Literal["exported", "retried", "failed"]


@dataclass(frozen=True, slots=True)
class CustomerSynced(Event):
    """One attempt to send a customer to 1C ended."""

    outcome: CustomerOutcome
    duration_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class PeriodicTaskFinished(Event):
    """A task run by beat (housekeeping) ended; ``result`` is what it returned, or the error."""

    task: str
    outcome: Literal["success", "failure"]
    duration_seconds: float
    result: Mapping[str, object] = field(default_factory=dict)


E = TypeVar("E", bound=Event)
Listener = Callable[[E], None]

_listeners: dict[type[Event], list[Callable[[Event], None]]] = defaultdict(list)


def listen(event_type: type[E]) -> Callable[[Listener[E]], Listener[E]]:
    """Register the decorated function for events of ``event_type`` (once per function)."""

    def register(function: Listener[E]) -> Listener[E]:
        registered = _listeners[event_type]
        if function not in registered:
            registered.append(function)  # type: ignore[arg-type]
        return function

    return register


def emit(event: Event) -> None:
    """Hand ``event`` to its listeners; never raises."""
    for listener in _listeners.get(type(event), ()):
        try:
            listener(event)
        except Exception:
            logger.exception("listener %s failed on %s", getattr(listener, "__name__", listener), type(event).__name__)
