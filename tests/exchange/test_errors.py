"""Nothing unexpected ever reaches 1C as a 500 page or a traceback: it answers
``failure\\nInternal error, ref <id>`` and the traceback is logged under that id."""

from __future__ import annotations

import logging
import re

import pytest

from exchange.models import ExchangeFile, ExchangeRequestLog
from tests.exchange.conftest import OneC

pytestmark = pytest.mark.django_db

REF = re.compile(r"^failure\nInternal error, ref ([0-9a-f]{12})\n$")


def boom(**_: object) -> None:
    raise RuntimeError("secret detail at /srv/shop/exchange/catalog/service.py")


def test_an_unexpected_exception_answers_a_reference_and_logs_the_traceback(catalog: OneC, monkeypatch, caplog) -> None:
    catalog.post_file("import.xml", b"<import/>")
    monkeypatch.setattr("exchange.catalog.service.catalog_import_step", boom)

    with caplog.at_level(logging.ERROR, logger="exchange"):
        response = catalog.import_file("import.xml")

    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    match = REF.match(response.text)
    assert match, response.text
    assert "secret" not in response.text and "/srv" not in response.text
    ref = match.group(1)
    record = next(r for r in caplog.records if ref in r.getMessage())
    assert record.exc_info and "secret detail" in str(record.exc_info[1])
    row = ExchangeRequestLog.objects.filter(mode="import").get()
    assert (row.outcome, row.error_ref) == ("failure", ref)
    assert ExchangeFile.objects.get().size == len(b"<import/>")  # the upload is untouched


def test_each_error_gets_its_own_reference(catalog: OneC, monkeypatch) -> None:
    catalog.post_file("import.xml", b"<import/>")
    monkeypatch.setattr("exchange.catalog.service.catalog_import_step", boom)

    first = REF.match(catalog.import_file("import.xml").text)
    second = REF.match(catalog.import_file("import.xml").text)

    assert first and second and first.group(1) != second.group(1)


def test_an_error_while_writing_an_upload_removes_the_new_file(catalog: OneC, monkeypatch) -> None:
    def broken_write(fd: int, data: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("exchange.services.uploads._write_all", broken_write)

    response = catalog.post_file("import.xml", b"<import/>")

    assert REF.match(response.text)
    assert not ExchangeFile.objects.exists()
    assert ExchangeRequestLog.objects.filter(mode="file").get().error_ref


def test_a_full_disk_is_told_as_bitrix_does(catalog: OneC, monkeypatch) -> None:
    catalog.post_file("offers.xml", b"part-one;")

    def full(fd: int, data: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("exchange.services.uploads._write_all", full)

    response = catalog.post_file("offers.xml", b"part-two;")

    assert response.text == "failure\nОшибка записи в файл offers.xml.\n"
    assert ExchangeFile.objects.get().size == len(b"part-one;")


def test_an_error_in_the_session_lookup_still_answers_and_is_logged(onec: OneC, monkeypatch) -> None:
    onec.checkauth()
    monkeypatch.setattr("exchange.services.sessions.session_resolve", boom)

    assert REF.match(onec.init().text)
    assert ExchangeRequestLog.objects.filter(mode="init").get().error_ref


def test_a_failing_request_log_does_not_change_the_answer(catalog: OneC, monkeypatch, caplog) -> None:
    def broken_create(**_: object) -> None:
        raise RuntimeError("database is gone")

    monkeypatch.setattr("exchange.models.ExchangeRequestLog.objects.create", broken_create)

    assert catalog.post_file("import.xml", b"<import/>").text == "success\n"
