"""Which real services this test run has, and how to start a real Celery worker against them.

Without PostgreSQL/Redis the suite runs on SQLite and skips only the tests that need them, with
a reason saying so. With REQUIRE_SERVICES=1 (set by .ci/run) a missing service fails the run
instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"


def uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def redis_url() -> str | None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return None
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return None
    return url


def need(condition: bool, reason: str) -> None:
    """Skip (or, in CI, fail) when a real service the test needs is not there."""
    if condition:
        return
    if REQUIRED:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def require_postgres() -> None:
    need(uses_postgres(), "needs PostgreSQL: set DATABASE_URL=postgres://…")


def require_redis() -> str:
    url = redis_url()
    need(url is not None, "needs Redis: set CELERY_BROKER_URL=redis://… to a running server")
    assert url is not None
    return url


def worker_database_url() -> str:
    """A URL for the database the tests run on, for processes the tests start."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        DATABASE_URL=worker_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_RESULT_BACKEND=settings.CELERY_RESULT_BACKEND,
        VAR_DIR=str(settings.VAR_DIR),
        EXCHANGE_DATA_DIR=str(settings.EXCHANGE_DATA_DIR),
        DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        CACHE_KEY_PREFIX=str(settings.CACHES["default"].get("KEY_PREFIX", "")),
        # Session-wide processes start before any test's settings: never the production 1 GiB.
        EXCHANGE_MIN_FREE_BYTES=str(min(int(settings.EXCHANGE_MIN_FREE_BYTES), 64 * 1024 * 1024)),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    """Terminate a process the tests started, killing it when it does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _purge_queues(app: Any) -> None:
    """Empty the broker's queues; after a broker restart (a fault test) this process's pooled
    connections are dead, so they are dropped and the purge is tried again."""
    for attempt in range(3):
        try:
            app.control.purge()
            return
        except Exception:
            if attempt == 2:
                raise
            drop_broker_connections(app)
            time.sleep(0.5)


def drop_broker_connections(app: Any) -> None:
    """Forget this process's pooled broker connections (a new pool is made on next use)."""
    from kombu import pools

    pools.reset()  # closes kombu's shared pools and forgets them
    app._pool = None
    app.amqp._producer_pool = None  # what control commands (ping, purge) publish through


@contextmanager
def celery_worker_process(
    log_path: Path, *, queues: str | None = None, name: str | None = None, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery worker` in its own process, consuming from the configured broker. Workers
    running side by side need a ``name`` each (the job engine tells workers apart by name); the
    node name is ``<name>@<host>``."""
    from config.celery import app

    _purge_queues(app)
    queue_args = ["-Q", queues] if queues else []
    node = name or f"test-{os.getpid()}-{queues or 'default'}"
    name = f"{node}@{socket.gethostname()}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                *queue_args,
                "-n",
                name,
            ],
            cwd=ROOT,
            env=process_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{log_path.read_text()[-4000:]}")
            if app.control.ping(destination=[name], timeout=0.5):
                break
        else:
            raise RuntimeError(f"worker did not answer ping:\n{log_path.read_text()[-4000:]}")
        yield proc
    finally:
        stop_process(proc)


class DueAtStartScheduler(PersistentScheduler):
    """Beat as it starts after a long stop: every entry of CELERY_BEAT_SCHEDULE is due at once,
    then runs on its own interval. A fresh beat would first wait a whole interval (a minute and
    more), which a test cannot afford."""

    def setup_schedule(self) -> None:
        super().setup_schedule()
        for entry in self.schedule.values():
            entry.last_run_at = entry.default_now() - dt.timedelta(days=1)


@contextmanager
def celery_beat_process(log_path: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery beat` in its own process (as deploy/ and `make run` start it, with its
    schedule file beside the log), sending the periodic tasks to the configured broker."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info",
                "--schedule", str(log_path.with_suffix(".schedule")),
                "--scheduler", "tests.services:DueAtStartScheduler",
            ],
            cwd=ROOT, env=process_env(**env), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield proc
    finally:
        stop_process(proc)
