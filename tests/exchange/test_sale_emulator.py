"""The order exchange end to end through the endpoint, driven by the 1C emulator (in process).

The emulator talks to Django's WSGI application through httpx's WSGI transport, so these tests
run inside the test transaction; tests/e2e does the same through a real gunicorn.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from catalog.models import ProductVariant
from customers.models import User
from emulator import ExchangeFailure, OneCClient, order_changes_document
from emulator.client import OrderSummary
from exchange import jobs
from exchange.protocol import SALE_IMPORT_DONE, SALE_SUCCESS_REPEATED, SALE_SUCCESS_WITHOUT_QUERY
from orders.models import Order, OrderHistory, OrderStatus, PaymentStatus
from tests.exchange.conftest import PASSWORD
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, ProductVariantFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "http://testserver/1c/exchange"


@pytest.fixture
def onec(exchange_user: User, monkeypatch: pytest.MonkeyPatch) -> Iterator[OneCClient]:
    # As Django's test client does: the handler would close the test transaction's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # The worker's part: jobs 1C's mode=import queued run between two of its requests.
    queued: list[int] = []
    monkeypatch.setattr(jobs, "job_enqueue", lambda *, job: queued.append(job.pk))
    django_app = get_wsgi_application()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = list(django_app(environ, start_response))
        while queued:
            jobs.job_run(job_id=queued.pop(0))
        return body

    try:
        transport = httpx.WSGITransport(app=app)
        with OneCClient(URL, exchange_user.email, PASSWORD, transport=transport) as client:
            yield client
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def place(*, customer: User | None = None, onec_id: str | None = "auto", lines: int = 2) -> Order:
    order = OrderFactory(customer=customer, contact_name="Гость Гостев", contact_email="guest@example.com")
    for index in range(lines):
        variant = ProductVariantFactory(product=ProductFactory())
        if onec_id != "auto":
            ProductVariant.objects.filter(pk=variant.pk).update(onec_id=onec_id)
            variant.refresh_from_db()
        OrderItemFactory(
            order=order,
            variant=variant,
            price=Decimal("99.90"),
            quantity=Decimal(index + 1),
            onec_id=variant.onec_id or "",
        )
    total = sum((item.total for item in order.items.all()), Decimal(0))
    Order.objects.filter(pk=order.pk).update(items_total=total, total=total)
    order.refresh_from_db()
    return order


@pytest.mark.parametrize("encoding", ["utf-8", "windows-1251"])
@pytest.mark.parametrize("zipped", [False, True], ids=["plain", "zipped"])
@pytest.mark.parametrize("version", ["2.08", "2.10", "3.1"])
def test_every_order_arrives_once_with_lines_sums_and_buyer(
    onec: OneCClient, settings, version: str, zipped: bool, encoding: str
) -> None:
    settings.EXCHANGE_ZIP = False
    settings.EXCHANGE_ORDERS_ENCODING = encoding
    guest = place()
    company = place(customer=UserFactory(company=True))

    first = onec.run_sale_exchange(version=version, zip_query=zipped)
    second = onec.run_sale_exchange(version=version, zip_query=zipped)

    assert (first.orders.archive is not None) == zipped
    assert first.orders.encoding == encoding
    got = {document.number: document for document in first.orders.documents}
    assert set(got) == {guest.number, company.number}
    assert got[guest.number].buyer == "Гость Гостев"
    assert got[company.number].buyer == 'ООО "Ромашка"'
    assert got[guest.number].amount == f"{guest.total:.2f}"
    assert list(got[guest.number].lines) == list(guest.items.order_by("id").values_list("onec_id", flat=True))
    assert second.orders.documents == []  # exactly once
    assert Order.objects.filter(sent_to_1c=True).count() == 2


def test_init_agreeing_zip_gets_a_zipped_answer(onec: OneCClient, settings) -> None:
    settings.EXCHANGE_ZIP = True
    order = place()

    result = onec.run_sale_exchange(version="2.10")

    assert result.orders.archive is not None
    assert [document.number for document in result.orders.documents] == [order.number]


def test_orders_not_confirmed_come_again(onec: OneCClient) -> None:
    order = place()

    onec.run_sale_exchange(confirm=False)
    again = onec.run_sale_exchange()

    assert [document.number for document in again.orders.documents] == [order.number]
    assert Order.objects.get(pk=order.pk).sent_to_1c


def test_success_without_query_and_repeated_success_change_nothing(onec: OneCClient) -> None:
    order = place()
    onec.checkauth("sale")
    onec.init("sale", "2.10")

    assert onec.success("sale") == SALE_SUCCESS_WITHOUT_QUERY
    onec.query("sale")
    assert onec.success("sale") == ""
    Order.objects.filter(pk=order.pk).update(sent_to_1c=False)
    assert onec.success("sale") == SALE_SUCCESS_REPEATED

    assert not Order.objects.get(pk=order.pk).sent_to_1c


def test_a_poison_order_is_left_out_and_the_others_go(onec: OneCClient) -> None:
    poison = place(onec_id=None)
    good = place()

    result = onec.run_sale_exchange()

    assert [document.number for document in result.orders.documents] == [good.number]
    poison.refresh_from_db()
    assert poison.export_skipped and not poison.sent_to_1c


@pytest.mark.parametrize("version", ["2.10", None], ids=["new-scheme", "legacy"])
def test_1c_s_reply_changes_status_number_and_payment(onec: OneCClient, version: str | None) -> None:
    order = place(customer=UserFactory())

    onec.run_sale_exchange(version=version, reply_status_text="Согласован", reply_paid=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert order.payment_status == PaymentStatus.PAID
    assert order.onec_number == "ЗК-000001"
    assert OrderHistory.objects.filter(order=order, source="1c", field="status").exists()
    assert not order.sent_to_1c or order.exported_version == order.updated_at  # not sent back to 1C


def test_an_update_for_an_unknown_order_is_reported_not_created(onec: OneCClient, tmp_path: Path) -> None:
    changes = tmp_path / "documents___x.xml"
    unknown = OrderSummary(id="ТД-404", number="ТД-404", amount="10.00", buyer="", lines=())
    changes.write_bytes(order_changes_document([unknown], status_id="cancelled"))

    result = onec.run_sale_exchange([changes], version="2.10")

    assert result.report.imports[-1].message.splitlines() == [
        SALE_IMPORT_DONE,
        "Замечание: documents___x.xml: Заказы Ид=ТД-404: Заказ №ТД-404 на сайте не найден.",
    ]
    assert result.report.progress_texts  # 1C polled while the job ran
    assert not Order.objects.exists()


def test_a_malformed_update_file_applies_nothing_and_1c_hears_failure(onec: OneCClient, tmp_path: Path) -> None:
    order = place()
    summary = OrderSummary(id=order.number, number=order.number, amount="1.00", buyer="", lines=())
    changes = tmp_path / "documents___y.xml"
    changes.write_bytes(order_changes_document([summary], status_id="cancelled")[:-30])

    with pytest.raises(ExchangeFailure) as failure:
        onec.run_sale_exchange([changes], version="2.10")

    assert failure.value.mode == "import"
    assert "не применены" in failure.value.text
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW


def test_info_lists_the_site_s_statuses(onec: OneCClient) -> None:
    result = onec.run_sale_exchange(info=True)

    assert result.info is not None
    assert "Cтатусы".encode("cp1251") in result.info
