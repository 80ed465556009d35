"""The background work really happens in a separate worker process, against the real broker."""

from __future__ import annotations

import os

import psutil
import pytest

from config.celery import ping

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_task_runs_in_a_separate_worker_process(worker) -> None:
    result = ping.delay().get(timeout=30)

    task_process = psutil.Process(result["pid"])
    assert result["pid"] != os.getpid()
    # The prefork pool runs the task in a child of the worker process the fixture started.
    assert worker.pid in {task_process.pid, task_process.ppid()}
