"""A dead worker does not hold the exchange: its import is failed within minutes, 1C is told so,
and the next exchange may import (issue 11 item 2). The real SIGKILL is in tests/e2e."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from billiard.exceptions import WorkerLostError
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product
from customers.models import User
from exchange.catalog.service import import_session_create, import_session_run
from exchange.jobs import Heartbeat, job_claim, job_fail, jobs_check
from exchange.models import ImportFile, ImportSession
from exchange.protocol import IMPORT_STOPPED_BY_ADMIN
from exchange.tasks import on_import_process_lost, on_worker_ready
from tests.exchange.conftest import OneC, assert_answer
from tests.importer.cml import Prod, import_xml, write
from tests.importer.conftest import run_queued
from tests.services import require_postgres

pytestmark = pytest.mark.django_db


def _running(catalog: OneC, queued: list[int], *, heartbeat_age: dt.timedelta, worker: str = "") -> ImportSession:
    """An import 1C started, claimed by a worker whose last heartbeat is ``heartbeat_age`` old."""
    catalog.post_file("import.xml", import_xml([Prod("a")]).encode())
    assert catalog.import_file("import.xml").lines[0] == "progress"
    job = ImportSession.objects.get(pk=queued.pop())
    ImportSession.objects.filter(pk=job.pk).update(
        status=ImportSession.Status.IN_PROGRESS,
        heartbeat_at=timezone.now() - heartbeat_age,
        task_id="task-1",
        worker=worker,
        stage="import.xml: Товары: 17000 из 60000",
    )
    ImportFile.objects.filter(import_session=job).update(status=ImportFile.Status.IN_PROGRESS)
    return job


def _assert_1c_is_told_the_worker_stopped(catalog: OneC) -> None:
    answer = catalog.import_file("import.xml")
    assert answer.lines[0] == "failure"
    assert answer.lines[1].startswith("Обработчик импорта остановлен")


def test_an_import_without_heartbeat_for_two_minutes_fails_and_1c_is_told(
    catalog: OneC, queued: list[int], tmp_path: Path
) -> None:
    job = _running(catalog, queued, heartbeat_age=dt.timedelta(seconds=121))

    assert jobs_check() == 1  # the beat task's check, every minute

    job.refresh_from_db()
    assert job.status == ImportSession.Status.FAILED
    _assert_1c_is_told_the_worker_stopped(catalog)
    import_session_create(base_dir=tmp_path, files=[])  # the lock is free again


def test_an_import_with_a_recent_heartbeat_is_left_running(catalog: OneC, queued: list[int]) -> None:
    job = _running(catalog, queued, heartbeat_age=dt.timedelta(seconds=30))

    assert jobs_check() == 0

    job.refresh_from_db()
    assert job.status == ImportSession.Status.IN_PROGRESS
    assert catalog.import_file("import.xml").lines[0] == "progress"


def test_a_pending_import_no_worker_ever_started_fails_after_the_stale_minutes(tmp_path: Path, settings) -> None:
    settings.EXCHANGE_IMPORT_STALE_MINUTES = 120
    waiting = import_session_create(base_dir=tmp_path, files=[])

    assert jobs_check(now=timezone.now() + dt.timedelta(minutes=119)) == 0
    assert jobs_check(now=timezone.now() + dt.timedelta(minutes=121)) == 1

    waiting.refresh_from_db()
    assert waiting.status == ImportSession.Status.FAILED
    assert waiting.error_message.startswith("Импорт не выполнялся с ")


def test_a_worker_restarting_under_the_same_name_fails_what_it_was_running(catalog: OneC, queued: list[int]) -> None:
    job = _running(catalog, queued, heartbeat_age=dt.timedelta(seconds=3), worker="celery@shop")

    on_worker_ready(sender=SimpleNamespace(hostname="celery@other"))
    job.refresh_from_db()
    assert job.status == ImportSession.Status.IN_PROGRESS  # another worker's import is alive

    on_worker_ready(sender=SimpleNamespace(hostname="celery@shop"))
    job.refresh_from_db()
    assert job.status == ImportSession.Status.FAILED
    _assert_1c_is_told_the_worker_stopped(catalog)


def test_a_lost_pool_process_fails_its_import_at_once(catalog: OneC, queued: list[int]) -> None:
    job = _running(catalog, queued, heartbeat_age=dt.timedelta(seconds=1))

    on_import_process_lost(task_id="another-task", exception=WorkerLostError("Worker exited prematurely: signal 9"))
    job.refresh_from_db()
    assert job.status == ImportSession.Status.IN_PROGRESS

    on_import_process_lost(task_id="task-1", exception=WorkerLostError("Worker exited prematurely: signal 9"))
    job.refresh_from_db()
    assert job.status == ImportSession.Status.FAILED
    _assert_1c_is_told_the_worker_stopped(catalog)


def test_a_redelivered_task_takes_over_only_an_import_whose_worker_is_silent(
    catalog: OneC, queued: list[int], settings
) -> None:
    settings.EXCHANGE_IMPORT_LOST_SECONDS = 120
    job = _running(catalog, queued, heartbeat_age=dt.timedelta(seconds=30))
    assert job_claim(job_id=job.pk, task_id="task-2") is None  # its worker is alive

    ImportSession.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=121))
    result = import_session_run(import_session_id=job.pk, task_id="task-2")

    assert result is not None and result.status == ImportSession.Status.COMPLETED
    assert result.task_id == "task-2"
    assert_answer(catalog.import_file("import.xml"), "success", "Импорт успешно завершен.")
    assert Product.objects.filter(onec_id="a").exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_failed_while_its_worker_runs_stops_and_stays_failed(tmp_path: Path) -> None:
    # Needs two writers at once: on SQLite the admin's write waits for the batch's transaction
    # (database is locked), so the import can only be failed between batches there.
    require_postgres()
    write(tmp_path, "import.xml", import_xml([Prod(str(n)) for n in range(30)]))
    created = import_session_create(base_dir=tmp_path, files=["import.xml"])

    def fail_it(**kwargs: object) -> None:
        try:
            job_fail(job_id=created.pk, reason=IMPORT_STOPPED_BY_ADMIN)
        finally:
            connections.close_all()

    def fail_it_from_outside(stage: str, done: int, total: int | None) -> None:
        admin = threading.Thread(target=fail_it)  # another connection, as the admin's request is
        admin.start()
        admin.join(timeout=30)

    result = import_session_run(import_session_id=created.pk, on_progress=fail_it_from_outside)

    assert result is not None
    assert result.status == ImportSession.Status.FAILED
    assert result.error_message == IMPORT_STOPPED_BY_ADMIN
    assert result.files.get().status == ImportFile.Status.FAILED
    assert not Product.objects.exists()  # the batch it was writing was rolled back


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_ticks_while_the_import_is_busy_with_one_long_step(tmp_path: Path) -> None:
    job = import_session_create(base_dir=tmp_path, files=[])
    long_ago = timezone.now() - dt.timedelta(hours=1)
    ImportSession.objects.filter(pk=job.pk).update(status="in_progress", heartbeat_at=long_ago, task_id="t")
    job.refresh_from_db()

    with Heartbeat(job, interval=0.05):
        time.sleep(0.5)  # no progress call meanwhile, as in a long parse or a deactivation

    job.refresh_from_db()
    assert job.heartbeat_at is not None
    assert timezone.now() - job.heartbeat_at < dt.timedelta(seconds=5)


def test_the_admin_fails_a_stuck_import_and_1c_is_told(catalog: OneC, queued: list[int], client) -> None:
    job = _running(catalog, queued, heartbeat_age=dt.timedelta(seconds=50))
    User.objects.create_superuser(email="boss@example.com", password="x")
    client.login(email="boss@example.com", password="x")

    response = client.post(
        reverse("admin:exchange_importsession_changelist"),
        {"action": "fail_stuck_imports", "_selected_action": [job.pk]},
        follow=True,
    )

    assert "Прервано импортов: 1." in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportSession.Status.FAILED
    assert_answer(catalog.import_file("import.xml"), "failure", IMPORT_STOPPED_BY_ADMIN)
    run_queued(queued)  # nothing was queued again
