"""A whole catalog exchange as 1C runs it: the emulator drives the endpoint, a real Celery worker
process imports, and 1C's repeated mode=import calls see progress until the real outcome."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.core.wsgi import get_wsgi_application
from django.utils import timezone

from catalog.models import Product, ProductVariant
from emulator.client import ExchangeFailure, OneCClient
from exchange.models import ExchangeSession, ImportSession
from exchange.protocol import IMPORT_ALREADY_RUNNING
from tests.exchange.conftest import PASSWORD, make_exchange_user
from tests.services import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SAMPLES = ROOT / "tests" / "data" / "cml"


@pytest.fixture
def onec() -> Iterator[OneCClient]:
    """The 1C-like client talking to the Django application in this process over WSGI."""
    make_exchange_user(email="1c")
    transport = httpx.WSGITransport(app=get_wsgi_application())
    with OneCClient("http://testserver/1c/exchange", "1c", PASSWORD, transport=transport, poll_interval=0.2) as client:
        yield client


def _wait_for_imports(timeout: float = 60) -> list[ImportSession]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        imports = list(ImportSession.objects.order_by("id"))
        if imports and not any(i.is_active for i in imports):
            return imports
        time.sleep(0.2)
    raise AssertionError("imports did not finish")


def test_a_2_07_exchange_waits_for_the_import_and_ends_with_the_catalog_in_place(worker, onec: OneCClient) -> None:
    report = onec.run_catalog_exchange(SAMPLES / "cml207-dobromyslov", use_zip=False)

    # 1C was kept polling while the worker imported, then told the outcome.
    assert any(text for text in report.progress_texts)
    (imported,) = ImportSession.objects.all()
    assert imported.status == ImportSession.Status.COMPLETED
    assert imported.exchange_session == ExchangeSession.objects.get()
    mat = Product.objects.get(onec_id="bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1")
    assert mat.article == "PM-421-WP" and mat.is_active
    assert mat.variants.get().prices.get().value == 100


def test_a_zipped_exchange_is_unpacked_then_imported(worker, onec: OneCClient) -> None:
    onec.run_catalog_exchange(SAMPLES / "cml208-bigperson", use_zip=True)

    assert ImportSession.objects.get().status == ImportSession.Status.COMPLETED
    assert ProductVariant.objects.filter(
        onec_id="ffce323d-c133-11e8-8111-0050569b2b72#8a4e5ea9-d129-11e8-8112-0050569b2b72", is_active=True
    ).exists()


def test_in_background_behaviour_1c_gets_success_at_once_and_the_worker_finishes(
    worker, onec: OneCClient, settings
) -> None:
    settings.EXCHANGE_IMPORT_MODE = "background"

    report = onec.run_catalog_exchange(SAMPLES / "cml207-dobromyslov", use_zip=False)

    assert all(result.polls == 1 for result in report.imports)  # no progress loop
    (imported,) = _wait_for_imports()
    assert imported.status == ImportSession.Status.COMPLETED
    assert sorted(imported.files.values_list("name", "status")) == [
        # Orders answers of a Bitrix server, in the same sample folder: recognised, not imported.
        ("bitrix-query-response-empty.xml", "skipped"),
        ("bitrix-query-response-full.xml", "skipped"),
        ("import0_1.xml", "done"),
        ("import0_1_with_nested_groups.xml", "done"),
        ("offers0_1.xml", "done"),
    ]
    assert Product.objects.get(onec_id="bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1").variants.get().stock_total == 377


def test_a_broken_file_reaches_1c_as_a_failure_naming_file_and_line(worker, onec: OneCClient, tmp_path: Path) -> None:
    source = (SAMPLES / "cml207-dobromyslov" / "offers0_1.xml").read_bytes()
    (tmp_path / "offers0_1.xml").write_bytes(source[: len(source) // 2])
    (tmp_path / "import0_1.xml").write_bytes((SAMPLES / "cml207-dobromyslov" / "import0_1.xml").read_bytes())

    with pytest.raises(ExchangeFailure) as failure:
        onec.run_catalog_exchange(tmp_path, use_zip=False)

    assert failure.value.text.startswith("offers0_1.xml:")
    assert ImportSession.objects.get().status == ImportSession.Status.FAILED
    assert Product.objects.count() == 35  # the good file's products are whole


def test_a_second_exchange_is_refused_while_another_imports(worker, onec: OneCClient, tmp_path: Path) -> None:
    ImportSession.objects.create(
        base_dir=str(tmp_path), status=ImportSession.Status.IN_PROGRESS, heartbeat_at=timezone.now()
    )

    onec.max_progress_polls = 3  # refused at once, not kept polling until a timeout

    with pytest.raises(ExchangeFailure) as failure:
        onec.run_catalog_exchange(SAMPLES / "cml208-bigperson", use_zip=False)

    assert failure.value.text == IMPORT_ALREADY_RUNNING
    assert not Product.objects.exists()


def test_deactivate_after_a_full_3_1_exchange_hides_what_it_did_not_send(
    worker, onec: OneCClient, tmp_path: Path
) -> None:
    from benchmarks.generate_catalog import generate_catalog

    generate_catalog(tmp_path / "first", products=30, layout="3.1", seed=4)
    onec.run_catalog_exchange(tmp_path / "first", use_zip=False, deactivate=True)
    assert Product.objects.filter(is_active=True).count() == 30
    stranger = Product.objects.create(onec_id="not-in-any-exchange", name="Старый товар")

    onec.run_catalog_exchange(tmp_path / "first", use_zip=False, deactivate=True)

    stranger.refresh_from_db()
    assert not stranger.is_active
    assert Product.objects.filter(is_active=True).count() == 30
