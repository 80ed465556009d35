"""A worker killed in the middle of an import leaves an in-progress session; the stale cleanup
fails it and releases the lock, so the next exchange can import."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import psutil
import pytest
from django.utils import timezone

from benchmarks.generate_catalog import generate_catalog
from exchange.models import ImportSession
from exchange.services.catalog_import import import_session_create, imports_fail_stale
from exchange.tasks import run_catalog_import
from tests.services import celery_worker_process, require_redis

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = "killed-worker-test"  # its own queue: the suite's shared worker must not take the task


def test_a_worker_killed_mid_import_leaves_a_session_that_the_stale_cleanup_releases(tmp_path: Path) -> None:
    require_redis()
    generated = generate_catalog(tmp_path / "catalog", products=4000, seed=11)
    created = import_session_create(base_dir=tmp_path / "catalog", files=[p.name for p in generated.files])

    with celery_worker_process(tmp_path / "worker.log", queues=QUEUE) as worker:
        run_catalog_import.apply_async(args=[created.pk], queue=QUEUE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            created.refresh_from_db()
            if created.status == ImportSession.Status.IN_PROGRESS and created.progress_done > 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the import never started: {(tmp_path / 'worker.log').read_text()[-2000:]}")
        for process in [*psutil.Process(worker.pid).children(recursive=True), psutil.Process(worker.pid)]:
            process.kill()  # SIGKILL: no chance to clean up, like an OOM kill

    created.refresh_from_db()
    assert created.status == ImportSession.Status.IN_PROGRESS  # left behind, holding the lock

    assert imports_fail_stale(now=timezone.now() + dt.timedelta(hours=3)) == 1

    created.refresh_from_db()
    assert created.status == ImportSession.Status.FAILED
    assert created.error_message.startswith("stale: no progress since ")
    next_one = import_session_create(base_dir=tmp_path / "catalog", files=["import.xml"])  # the lock is free
    assert next_one.status == ImportSession.Status.PENDING
