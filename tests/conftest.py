from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from emulator.customers_service import CustomersService
from tests.services import celery_worker_process, require_redis

# The customer sync in tests: short timeouts and backoff, so that retries take milliseconds. The
# worker process gets the same values through its environment (its settings are read at start).
ONEC_TEST_SETTINGS = {
    "ONEC_HTTP_TIMEOUT": 1.0,
    "ONEC_SYNC_BACKOFF_SECONDS": 0.05,
    "ONEC_SYNC_BACKOFF_MAX_SECONDS": 0.5,
    "ONEC_SYNC_MAX_ATTEMPTS": 5,
}


TEST_MIN_FREE_BYTES = 64 * 1024 * 1024


@pytest.fixture(autouse=True)
def _test_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """Each test gets its own media and exchange folders, so files never leak between tests.

    Pure-Python tests (the CommerceML reader, the emulator) also run without the Django plugin.
    """
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    django_settings = request.getfixturevalue("settings")
    # Real password hashing costs ~0.4 s per user; tests check behaviour, not the hasher.
    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    django_settings.MEDIA_ROOT = tmp_path / "media"
    django_settings.EXCHANGE_DATA_DIR = tmp_path / "exchange"
    # The production reserve (1 GiB) would make the suite fail on a nearly full disk; the tests
    # of the reserve set their own value.
    django_settings.EXCHANGE_MIN_FREE_BYTES = TEST_MIN_FREE_BYTES
    # A namespace of its own in the shared cache (Redis or the file cache): no rate limit counted
    # by one test is seen by another, and nothing is flushed (the Redis db may hold the broker).
    caches = {name: dict(conf) for name, conf in django_settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    django_settings.CACHES = caches
    yield
    shutil.rmtree(tmp_path / "exchange", ignore_errors=True)


@pytest.fixture(scope="session")
def worker_shared_dirs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker-shared")


@pytest.fixture(scope="session")
def onec_service_session() -> Iterator[CustomersService]:
    """The fake of 1C's customers HTTP service (emulator.customers_service) on a loopback port."""
    service = CustomersService(seed=20261201)
    service.serve("127.0.0.1", 0)
    yield service
    service.stop()


@pytest.fixture
def onec_service(onec_service_session: CustomersService, settings: SettingsWrapper) -> CustomersService:
    """A fresh fake 1C service, and the site's customer sync pointed at it."""
    onec_service_session.reset()
    settings.ONEC_CUSTOMERS_URL = onec_service_session.url
    for name, value in ONEC_TEST_SETTINGS.items():
        setattr(settings, name, value)
    return onec_service_session


@pytest.fixture(scope="session")
def celery_worker_proc(
    django_db_setup: None, django_db_blocker: object, worker_shared_dirs: Path, onec_service_session: CustomersService
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process against Redis and the test database (session-wide); its
    customer sync talks to the fake 1C service."""
    require_redis()
    exchange_dir = worker_shared_dirs / "exchange"
    media_dir = worker_shared_dirs / "media"
    with celery_worker_process(
        worker_shared_dirs / "worker.log",
        EXCHANGE_DATA_DIR=str(exchange_dir),
        DJANGO_MEDIA_ROOT=str(media_dir),
        ONEC_CUSTOMERS_URL=onec_service_session.url,
        **{name: str(value) for name, value in ONEC_TEST_SETTINGS.items()},
    ) as proc:
        yield proc


@pytest.fixture
def worker(
    celery_worker_proc: subprocess.Popen[bytes], worker_shared_dirs: Path, settings: SettingsWrapper
) -> subprocess.Popen[bytes]:
    """Use in a test that needs a real worker; the test process shares the worker's folders."""
    settings.EXCHANGE_DATA_DIR = worker_shared_dirs / "exchange"
    settings.MEDIA_ROOT = worker_shared_dirs / "media"
    return celery_worker_proc


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Import jobs 1C starts through mode=import (any kind) are queued but not run until the test
    says so (tests.importer.conftest.run_queued runs them as the worker would)."""
    from exchange import jobs

    ids: list[int] = []
    monkeypatch.setattr(jobs, "job_enqueue", lambda *, job: ids.append(job.pk))
    return ids
