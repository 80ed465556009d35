"""A failed import is never reported to 1C as a success, for any of its files.

With changes-only exchanges 1C never resends what it was told was imported, so a ``success`` for
a file whose import failed loses those changes for good (issue 11 item 1)."""

from __future__ import annotations

import pytest

from catalog.models import Product, ProductVariant
from exchange.catalog.importer import CatalogImporter
from exchange.models import ImportFile, ImportSession
from exchange.protocol import IMPORT_INTERNAL_ERROR
from tests.exchange.conftest import OneC, assert_answer
from tests.importer.cml import Offer, Prod, import_xml, offers_xml
from tests.importer.conftest import run_queued

pytestmark = pytest.mark.django_db


def test_a_product_repeated_in_one_changes_only_file_keeps_its_last_copy(catalog: OneC, queued: list[int]) -> None:
    products = [Prod("a", name="Первая копия"), Prod("b"), Prod("a", name="Последняя копия")]
    catalog.post_file("import.xml", import_xml(products, changes_only=True).encode())
    catalog.post_file("offers.xml", offers_xml([Offer("a"), Offer("b")], changes_only=True).encode())
    catalog.import_file("import.xml")
    run_queued(queued)

    assert_answer(catalog.import_file("import.xml"), "success", "Импорт успешно завершен.")
    assert_answer(catalog.import_file("offers.xml"), "success", "Импорт успешно завершен.")
    assert Product.objects.get(onec_id="a").name == "Последняя копия"
    assert ProductVariant.objects.get(onec_id="a").prices.count() == 2
    assert ImportSession.objects.get().counters["products"]["created"] == 2


def test_an_unexpected_error_in_the_worker_fails_every_file_of_the_import(
    catalog: OneC, queued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(self: CatalogImporter, offers: list[object]) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(CatalogImporter, "_write_offers", explode)
    catalog.post_file("import.xml", import_xml([Prod("a")], changes_only=True).encode())
    catalog.post_file("offers.xml", offers_xml([Offer("a")], changes_only=True).encode())
    catalog.post_file("offers2.xml", offers_xml([Offer("a")], changes_only=True).encode())
    catalog.import_file("import.xml")

    with pytest.raises(RuntimeError):  # the task fails too, so the worker logs the traceback
        run_queued(queued)

    reason = IMPORT_INTERNAL_ERROR.format(error="RuntimeError")
    # The file imported before the error, the one it happened in, and the one never reached.
    for name in ("import.xml", "offers.xml", "offers2.xml"):
        assert_answer(catalog.import_file(name), "failure", reason)
    assert ImportSession.objects.get().status == ImportSession.Status.FAILED


def test_in_a_failed_import_the_files_it_never_reached_are_answered_failure(catalog: OneC, queued: list[int]) -> None:
    broken = import_xml([Prod(str(n)) for n in range(20)]).encode()[:-200]  # cut off inside Товары
    catalog.post_file("import.xml", broken)
    catalog.post_file("offers.xml", offers_xml([Offer("1")]).encode())
    catalog.import_file("import.xml")
    run_queued(queued)

    import_answer = catalog.import_file("import.xml")
    assert import_answer.lines[0] == "failure"
    assert import_answer.lines[1].startswith("import.xml:")
    assert ImportFile.objects.get(name="offers.xml").status == ImportFile.Status.FAILED  # never reached
    assert_answer(catalog.import_file("offers.xml"), *import_answer.lines[:2])


def test_in_background_behaviour_a_repeated_import_of_a_failed_file_answers_failure(
    catalog: OneC, queued: list[int], settings
) -> None:
    settings.EXCHANGE_IMPORT_MODE = "background"
    catalog.post_file("import.xml", b"<broken")
    catalog.post_file("offers.xml", offers_xml([Offer("1")]).encode())
    assert_answer(catalog.import_file("import.xml"), "success", "Импорт поставлен в очередь.")
    run_queued(queued)

    answer = catalog.import_file("import.xml")
    assert answer.lines[0] == "failure"
    assert answer.lines[1].startswith("import.xml:1: <broken> is not a CommerceML root element")
    assert catalog.import_file("offers.xml").lines[0] == "failure"  # imported, but its import failed
    assert not queued  # answered from the failed import, not queued again


def test_a_second_exchange_is_refused_while_another_imports(catalog: OneC, queued: list[int], tmp_path) -> None:
    ImportSession.objects.create(base_dir=str(tmp_path), status=ImportSession.Status.IN_PROGRESS)
    catalog.post_file("import.xml", import_xml([Prod("a")]).encode())

    assert_answer(catalog.import_file("import.xml"), "failure", "Import already in progress")
    assert not queued and ImportSession.objects.count() == 1
