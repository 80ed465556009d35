"""type=sale: query hands out the orders document (kept in the audit log), success confirms it,
order files from 1C are stored like catalog files and handed to the order exchange."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from exchange.conf import exchange_settings
from exchange.models import ExchangeRequestLog, ExchangeSession
from exchange.protocol import Answer, success
from exchange.services.uploads import session_upload_dir
from tests.exchange.conftest import OneC, assert_answer

pytestmark = pytest.mark.django_db


def test_query_sends_an_orders_document_with_a_bom(sale_onec: OneC, settings) -> None:
    settings.EXCHANGE_ZIP = False  # init agreed no zip
    response = sale_onec.get("query")

    assert response.status_code == 200
    assert response.content_type == "application/xml; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf<?xml")
    root = etree.fromstring(response.content[3:])
    assert root.tag == "{urn:1C.ru:commerceml_2}КоммерческаяИнформация"
    assert root.get("ВерсияСхемы") == "2.08"
    assert root.get("ДатаФормирования")
    assert int(response.raw["Content-Length"]) == len(response.content)


def test_query_sent_is_kept_in_the_log_folder(sale_onec: OneC, settings) -> None:
    settings.EXCHANGE_ZIP = False
    response = sale_onec.get("query")

    copies = list(exchange_settings().logs_dir.rglob("*query.xml"))
    assert len(copies) == 1
    assert copies[0].read_bytes() == response.content
    row = ExchangeRequestLog.objects.filter(mode="query").get()
    assert (row.outcome, row.bytes_out) == ("success", len(response.content))


def test_success_confirms_the_query(sale_onec: OneC) -> None:
    sale_onec.get("query")

    assert_answer(sale_onec.get("success"), "success")

    assert ExchangeSession.objects.get().query_confirmed_at is not None


def test_a_zipped_query_is_kept_in_the_log_folder_as_sent(sale_onec: OneC) -> None:
    response = sale_onec.get("query")

    assert response.content_type == "application/zip"
    (copy,) = exchange_settings().logs_dir.rglob("*query.zip")
    assert copy.read_bytes() == response.content


def test_order_files_are_stored_and_handed_to_the_order_exchange(sale_onec: OneC, monkeypatch) -> None:
    received: list[dict[str, Any]] = []

    def received_file(**kwargs: Any) -> Answer:
        received.append(kwargs)
        return success("принято")

    monkeypatch.setattr("exchange.sale.service.sale_file_received", received_file)

    response = sale_onec.post_file("C:\\v8_8789_c.xml", b"<orders/>")

    assert_answer(response, "success", "принято")
    session = ExchangeSession.objects.get()
    assert (session_upload_dir(session) / "v8_8789_c.xml").read_bytes() == b"<orders/>"
    assert received == [{"session": session, "filename": "v8_8789_c.xml"}]


def test_sale_import_reaches_the_order_exchange(sale_onec: OneC, monkeypatch) -> None:
    steps: list[str] = []

    def step(*, session: ExchangeSession, filename: str) -> Answer:
        steps.append(filename)
        return success()

    monkeypatch.setattr("exchange.sale.service.sale_import_step", step)
    sale_onec.post_file("documents___1.xml", b"<orders/>")

    assert_answer(sale_onec.import_file("documents___1.xml"), "success")
    assert steps == ["documents___1.xml"]


def test_the_catalog_modes_are_not_sale_modes(sale_onec: OneC) -> None:
    assert sale_onec.get("complete").lines[0] == "failure"


def test_info_lists_statuses_payment_systems_and_delivery_in_windows_1251(sale_onec: OneC) -> None:
    response = sale_onec.get("info")

    assert response.content_type == "application/xml; charset=windows-1251"
    assert response.content.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    root = etree.fromstring(response.content)
    assert root.tag == "Справочник"
    statuses = root.find("Cтатусы")  # Latin C, as 1C-Bitrix spells it
    assert statuses is not None
    assert ("new", "Новый") in [(e.findtext("Ид"), e.findtext("Название")) for e in statuses]
    payment = root.find("ПлатежныеСистемы/Элемент")
    assert payment is not None
    assert payment.findtext("ТипОплаты") == "Выплата наличных денег"
    assert root.findtext("СлужбыДоставки/Элемент/Ид") == "ORDER_DELIVERY"
