"""What 1C's repeated mode=import calls answer, with the real orchestration behind the endpoint.

The worker's part (import_session_run) is run in-process here where a test needs it done; the
e2e tests run it in a real worker."""

from __future__ import annotations

import time

import pytest

from catalog.models import Product
from exchange.models import ImportSession
from tests.exchange.conftest import OneC, assert_answer
from tests.importer.cml import Prod, import_xml
from tests.importer.conftest import run_queued

pytestmark = pytest.mark.django_db


def test_1c_is_kept_polling_until_the_file_is_imported_then_told_success(catalog: OneC, queued: list[int]) -> None:
    catalog.post_file("import.xml", import_xml([Prod("a")]).encode())

    assert_answer(catalog.import_file("import.xml"), "progress", "Ожидает запуска")
    run_queued(queued)

    assert_answer(catalog.import_file("import.xml"), "success", "Импорт успешно завершен.")
    assert Product.objects.filter(onec_id="a").exists()


def test_a_broken_file_is_answered_with_its_name_line_and_reason(catalog: OneC, queued: list[int]) -> None:
    catalog.post_file("import.xml", import_xml([Prod("a")]).encode()[:300])
    catalog.import_file("import.xml")
    run_queued(queued)

    response = catalog.import_file("import.xml")

    assert response.lines[0] == "failure"
    assert response.lines[1].startswith("import.xml:1:")


def test_a_file_uploaded_again_after_a_new_init_is_imported_again(catalog: OneC, queued: list[int]) -> None:
    catalog.post_file("import.xml", import_xml([Prod("a", name="Первая выгрузка")]).encode())
    catalog.import_file("import.xml")
    run_queued(queued)
    assert_answer(catalog.import_file("import.xml"), "success", "Импорт успешно завершен.")

    time.sleep(0.01)  # a later upload has a later modification time
    catalog.init()
    catalog.post_file("import.xml", import_xml([Prod("a", name="Вторая выгрузка")]).encode())
    assert catalog.import_file("import.xml").lines[0] == "progress"  # a new import, not the old answer
    run_queued(queued)

    assert_answer(catalog.import_file("import.xml"), "success", "Импорт успешно завершен.")
    assert Product.objects.get(onec_id="a").name == "Вторая выгрузка"
    assert ImportSession.objects.count() == 2


def test_files_1c_asks_for_while_an_import_runs_join_it(catalog: OneC, queued: list[int]) -> None:
    catalog.post_file("import.xml", import_xml([Prod("a")]).encode())
    catalog.import_file("import.xml")
    catalog.post_file("import2.xml", import_xml([Prod("b")], changes_only=True).encode())

    assert catalog.import_file("import2.xml").lines[0] == "progress"
    run_queued(queued)

    assert ImportSession.objects.count() == 1
    assert_answer(catalog.import_file("import2.xml"), "success", "Импорт успешно завершен.")
    assert set(Product.objects.values_list("onec_id", flat=True)) == {"a", "b"}


def test_in_background_behaviour_the_call_answers_success_once_queued(
    catalog: OneC, queued: list[int], settings
) -> None:
    settings.EXCHANGE_IMPORT_MODE = "background"
    catalog.post_file("import.xml", import_xml([Prod("a")]).encode())

    assert_answer(catalog.import_file("import.xml"), "success", "Импорт поставлен в очередь.")
    assert len(queued) == 1 and not Product.objects.exists()


def test_deactivate_while_the_import_still_runs_is_done_by_the_import_when_it_ends(
    catalog: OneC, queued: list[int], monkeypatch
) -> None:
    from exchange.catalog import service as catalog_import

    monkeypatch.setattr(catalog_import, "DEACTIVATE_WAIT_SECONDS", 0.5)
    stray = Product.objects.create(onec_id="stray", name="Не из этой выгрузки")
    catalog.post_file("import.xml", import_xml([Prod("a")], changes_only=True).encode())
    catalog.import_file("import.xml")

    # 1C is not known to repeat mode=deactivate on progress: it hears success, the job remembers.
    assert_answer(catalog.get("deactivate"), "success", "Деактивация будет выполнена после завершения импорта.")
    stray.refresh_from_db()
    assert stray.is_active
    run_queued(queued)

    stray.refresh_from_db()
    assert not stray.is_active
    assert Product.objects.get(onec_id="a").is_active


def test_in_background_deactivate_is_done_by_the_import_when_it_ends(
    catalog: OneC, queued: list[int], settings
) -> None:
    settings.EXCHANGE_IMPORT_MODE = "background"
    stray = Product.objects.create(onec_id="stray", name="Не из этой выгрузки")
    catalog.post_file("import.xml", import_xml([Prod("a")], changes_only=True).encode())
    catalog.import_file("import.xml")

    assert_answer(catalog.get("deactivate"), "success", "Деактивация будет выполнена после завершения импорта.")
    assert stray.is_active
    run_queued(queued)

    stray.refresh_from_db()
    assert not stray.is_active


def test_deactivate_is_refused_after_a_failed_import(catalog: OneC, queued: list[int]) -> None:
    Product.objects.create(onec_id="kept", name="Товар")
    catalog.post_file("import.xml", b"<broken")
    catalog.import_file("import.xml")
    run_queued(queued)

    assert catalog.get("deactivate").lines[0] == "failure"
    assert Product.objects.get(onec_id="kept").is_active
