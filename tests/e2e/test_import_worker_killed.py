"""A worker SIGKILLed in the middle of an import: within minutes 1C's polling mode=import is
answered failure (the worker's heartbeat stopped), the lock is released, and the next exchange
imports the catalog (issue 11 item 2: not the 120-minute stale path)."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest
from django.db import transaction

from benchmarks.generate_catalog import generate_catalog
from catalog.models import Product
from exchange import jobs
from exchange.models import ImportSession
from exchange.tasks import fail_stale_imports, run_import_job
from tests.exchange.conftest import OneC, assert_answer
from tests.services import celery_worker_process, require_redis

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = "killed-worker-test"  # its own queue: the suite's shared worker must not take the task
PRODUCTS = 4000


def _upload(catalog: OneC, folder: Path) -> list[str]:
    names = sorted(p.name for p in folder.glob("*.xml"))
    for name in names:
        assert catalog.post_file(name, (folder / name).read_bytes()).lines[0] == "success"
    return names


def test_1c_hears_failure_within_minutes_after_the_worker_is_killed_and_the_next_import_succeeds(
    catalog: OneC, tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_redis()
    monkeypatch.setattr(
        jobs,
        "job_enqueue",
        lambda *, job: transaction.on_commit(lambda: run_import_job.apply_async(args=[job.pk], queue=QUEUE)),
    )
    settings.EXCHANGE_IMPORT_LOST_SECONDS = 5  # production: 120 s; the same path, sooner
    settings.EXCHANGE_IMPORT_STALE_MINUTES = 120
    generate_catalog(tmp_path / "catalog", products=PRODUCTS, seed=11)
    names = _upload(catalog, tmp_path / "catalog")

    with celery_worker_process(tmp_path / "worker.log", queues=QUEUE) as worker:
        assert catalog.import_file(names[0]).lines[0] == "progress"
        (job,) = ImportSession.objects.all()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status == ImportSession.Status.IN_PROGRESS and job.progress_done > 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the import never started: {(tmp_path / 'worker.log').read_text()[-2000:]}")
        for process in [*psutil.Process(worker.pid).children(recursive=True), psutil.Process(worker.pid)]:
            process.kill()  # SIGKILL: no chance to clean up, like an OOM kill of the whole worker
        killed_at = time.monotonic()

    # Until the heartbeat is overdue 1C keeps polling, and another exchange is refused.
    assert catalog.import_file(names[0]).lines[0] == "progress"

    # What beat does every minute, run here as soon as the threshold has passed.
    while fail_stale_imports() == 0:
        assert time.monotonic() - killed_at < 60, "the lost import was not failed"
        time.sleep(0.5)

    answer = catalog.import_file(names[0])
    assert answer.lines[0] == "failure"
    assert answer.lines[1].startswith("Обработчик импорта остановлен: нет признаков работы с ")
    for name in names[1:]:
        assert catalog.import_file(name).lines[0] == "failure"
    job.refresh_from_db()
    assert job.status == ImportSession.Status.FAILED

    # 1C repeats the exchange: a new upload, imported to the end by a fresh worker.
    assert catalog.init().status_code == 200
    _upload(catalog, tmp_path / "catalog")
    with celery_worker_process(tmp_path / "worker2.log", queues=QUEUE):
        for name in names:
            deadline = time.monotonic() + 120
            while (answer := catalog.import_file(name)).lines[0] == "progress":
                assert time.monotonic() < deadline, f"{name} still in progress"
                time.sleep(0.2)
            assert_answer(answer, "success", "Импорт успешно завершен.")
    assert Product.objects.filter(is_active=True).count() == PRODUCTS
    assert ImportSession.objects.filter(status=ImportSession.Status.COMPLETED).count() == 1
