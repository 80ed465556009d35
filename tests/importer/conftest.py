from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from exchange import jobs
from exchange.catalog.service import import_session_create, import_session_run
from exchange.models import ImportSession

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "cml"

Runner = Callable[..., ImportSession]


@pytest.fixture
def run_import() -> Runner:
    """Import files (relative to ``folder``) the way the worker does, without Celery."""

    def run(folder: Path, *names: str) -> ImportSession:
        files = list(names) or sorted(p.name for p in folder.glob("*.xml"))
        created = import_session_create(base_dir=folder, files=files, source=ImportSession.Source.MANUAL)
        result = import_session_run(import_session_id=created.pk)
        assert result is not None
        return result

    return run


def run_queued(ids: list[int]) -> None:
    """Run the queued import jobs (any kind) in this process, as the worker would."""
    while ids:
        jobs.job_run(job_id=ids.pop(0))


# The in-process 1C client of the endpoint's tests, for tests that go through mode=import.
from tests.exchange.conftest import catalog, exchange_user, onec  # noqa: E402, F401
