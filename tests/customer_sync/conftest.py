from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from exchange import tasks


@dataclass
class QueuedTasks:
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def customer_ids(self) -> list[int]:
        return [call["args"][0] for call in self.calls]


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> QueuedTasks:
    """Export tasks queued, recorded instead of sent to the broker (tests without a worker)."""
    record = QueuedTasks()

    def apply_async(args: tuple[Any, ...], **options: Any) -> None:
        record.calls.append({"args": args, **options})

    monkeypatch.setattr(tasks.export_customer_to_1c, "apply_async", apply_async)
    return record


# The in-process 1C client of the endpoint's tests, for the Контрагенты files sent in an exchange.
from tests.exchange.conftest import catalog, exchange_user, onec, sale_onec  # noqa: E402, F401
