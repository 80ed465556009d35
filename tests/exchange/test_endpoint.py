"""The endpoint as 1C reaches it: addresses, methods, the form of every answer."""

from __future__ import annotations

import pytest
from django.test import Client

from exchange.models import ExchangeRequestLog
from exchange.protocol import UNKNOWN_MODE, UNKNOWN_TYPE
from tests.exchange.conftest import PASSWORD, OneC, Response, assert_answer, basic

pytestmark = pytest.mark.django_db

ADDRESSES = ["/1c/exchange", "/1c/exchange/", "/bitrix/admin/1c_exchange.php"]


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("exchange_type", ["catalog", "sale"])
def test_checkauth_answers_at_every_address_without_redirect(address: str, exchange_type: str, exchange_user) -> None:
    response = Response(
        Client().get(
            f"{address}?type={exchange_type}&mode=checkauth", HTTP_AUTHORIZATION=basic(exchange_user.email, PASSWORD)
        )
    )

    assert response.status_code == 200
    assert response.lines[0] == "success"


@pytest.mark.parametrize("address", ADDRESSES)
def test_post_is_not_rejected_for_csrf(address: str, exchange_user) -> None:
    client = Client(enforce_csrf_checks=True)
    response = Response(
        client.post(f"{address}?type=catalog&mode=checkauth", HTTP_AUTHORIZATION=basic(exchange_user.email, PASSWORD))
    )

    assert response.status_code == 200
    assert response.lines[0] == "success"


@pytest.mark.parametrize("address", ADDRESSES)
def test_unknown_type_is_answered_as_bitrix_does(address: str) -> None:
    response = Response(Client().get(f"{address}?type=get_catalog&mode=init"))

    assert_answer(response, "failure", UNKNOWN_TYPE)


def test_a_bare_request_gets_a_plain_text_failure_not_a_page() -> None:
    response = Response(Client().get("/1c/exchange"))

    assert_answer(response, "failure", UNKNOWN_TYPE)


def test_unknown_mode_in_a_session_is_an_unknown_command(catalog: OneC) -> None:
    assert_answer(catalog.get("query"), "failure", UNKNOWN_MODE)


def test_sale_modes_are_not_catalog_modes(onec: OneC) -> None:
    onec.checkauth()

    assert_answer(onec.get("listen"), "failure", UNKNOWN_MODE)


def test_other_methods_get_a_failure_answer() -> None:
    response = Response(Client().put("/1c/exchange?type=catalog&mode=init"))

    assert_answer(response, "failure", "Метод запроса PUT не поддерживается.")


def test_answers_are_never_cached(onec: OneC) -> None:
    response = onec.checkauth()

    assert response.raw["Cache-Control"] == "no-store"


def test_every_request_is_logged_with_what_1c_sent_and_got(catalog: OneC) -> None:
    catalog.get("import", filename="import.xml")

    row = ExchangeRequestLog.objects.filter(mode="import").get()
    assert row.exchange_type == "catalog"
    assert row.method == "GET"
    assert row.remote_addr == "127.0.0.1"
    assert row.username == "1c-exchange"
    assert row.params == {"type": "catalog", "mode": "import", "filename": "import.xml", "sessid": "***"}
    assert row.outcome == "failure"
    assert row.answer == "failure\nОшибка открытия файла импорта: файл import.xml не загружен.\n"
    assert row.session_id is not None
    assert row.bytes_out == len(row.answer.encode())


def test_secrets_never_reach_the_request_log(onec: OneC) -> None:
    onec.checkauth()
    onec.init(version="2.08")
    cookie_value, sessid = onec.session_key, onec.suffix.split("=", 1)[1]

    for row in ExchangeRequestLog.objects.all():
        assert cookie_value not in repr(row.params) + row.answer
        assert sessid not in repr(row.params) + row.answer
