"""1C hears about the elements a file could not load: ``success`` alone on line 1, then the
element problems on the following lines (protocol.md §1.4), bounded; reports name files as 1C
named them, never by the server's path (issue 11 item 3)."""

from __future__ import annotations

import pytest

from exchange.models import ExchangeSession, ImportSession
from exchange.services.uploads import session_upload_dir
from tests.exchange.conftest import OneC, assert_answer
from tests.importer.cml import Offer, Prod, import_xml, offers_xml
from tests.importer.conftest import run_queued

pytestmark = pytest.mark.django_db


def _import(catalog: OneC, queued: list[int], files: dict[str, str]) -> None:
    for name, text in files.items():
        catalog.post_file(name, text.encode())
    catalog.import_file(next(iter(files)))
    run_queued(queued)


def test_element_problems_follow_success_on_their_own_lines(catalog: OneC, queued: list[int]) -> None:
    offers = offers_xml([Offer("a"), Offer("ghost"), Offer("bad", prices={"pt-retail": "дорого"})])
    _import(catalog, queued, {"import.xml": import_xml([Prod("a"), Prod("bad")]), "offers.xml": offers})

    assert_answer(catalog.import_file("import.xml"), "success", "Импорт успешно завершен.")
    lines = catalog.import_file("offers.xml").text.splitlines()
    assert lines[:2] == ["success", "Импорт успешно завершен."]
    assert "Замечание: offers.xml: Предложения Ид=ghost: предложение для неизвестного товара" in lines
    (bad,) = [line for line in lines if "Ид=bad" in line]
    assert bad.startswith("Ошибка: offers.xml:")  # with the line of the element


def test_the_list_of_problems_1c_is_told_is_bounded(catalog: OneC, queued: list[int]) -> None:
    offers = offers_xml([Offer(f"ghost-{n}") for n in range(50)])
    _import(catalog, queued, {"import.xml": import_xml([Prod("a")]), "offers.xml": offers})

    lines = catalog.import_file("offers.xml").text.splitlines()

    assert len(lines) == 2 + 20 + 1
    assert lines[-1] == "И ещё замечаний: 30. Полный список в отчёте импорта на сайте."
    assert len(ImportSession.objects.get().errors) == 50  # the site's report keeps them all


def test_reports_and_answers_name_the_file_relative_to_the_exchange_folder(catalog: OneC, queued: list[int]) -> None:
    offers = offers_xml([Offer("bad", prices={"pt-retail": "дорого"})])
    _import(catalog, queued, {"import.xml": import_xml([Prod("bad")]), "goods/1/offers.xml": offers})

    folder = str(session_upload_dir(ExchangeSession.objects.get()))
    answer = catalog.import_file("goods/1/offers.xml").text
    imported = ImportSession.objects.get()
    assert "Ошибка: goods/1/offers.xml:" in answer
    assert [issue["file"] for issue in imported.errors] == ["goods/1/offers.xml"]
    for text in (answer, imported.report, str(imported.errors)):
        assert folder not in text
