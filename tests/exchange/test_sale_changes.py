"""1C's changes to orders (sale mode=file, then mode=import) reach the site's orders and their history."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from commerceml.records import DELIVERY_ITEM_ID, Document, DocumentItem
from commerceml.writer import open_writer
from customers.models import User
from exchange.protocol import SALE_FILE_MALFORMED, SALE_FILE_NOT_ORDERS, SALE_IMPORT_DONE, SALE_LEGACY_ARCHIVE
from exchange.sale.applier import document_apply, documents_apply
from orders.models import Order, OrderHistory, OrderStatus, OrderStatusMapping, PaymentStatus, ShipmentStatus
from orders.services import order_status_email_send
from tests.exchange.conftest import PASSWORD, OneC, assert_answer
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, ProductVariantFactory, UserFactory
from tests.importer.conftest import run_queued

pytestmark = pytest.mark.django_db


def placed(*, lines: int = 2, **fields: object) -> Order:
    order = OrderFactory(**fields)
    for index in range(lines):
        variant = ProductVariantFactory(product=ProductFactory(), onec_id=f"{order.number}-v{index}")
        OrderItemFactory(order=order, variant=variant, price=Decimal(100), quantity=Decimal(1))
    Order.objects.filter(pk=order.pk).update(items_total=Decimal(100) * lines, total=Decimal(100) * lines)
    order.refresh_from_db()
    return order


def from_1c(order: Order | str, *requisites: tuple[str, str], **fields: object) -> Document:
    number = order if isinstance(order, str) else order.number
    values: dict[str, object] = {
        "id": number,
        "number": number,
        "date": dt.date(2026, 3, 2),
        "time": dt.time(10, 0),
        "operation": "Заказ товара",
        "role": "Продавец",
        "currency": "RUB",
        "rate": Decimal(1),
        "amount": None,
        "requisites": requisites,
    }
    values.update(fields)
    return Document(**values)


def history(order: Order) -> list[tuple[str, str, str, str]]:
    return list(OrderHistory.objects.filter(order=order).values_list("source", "field", "old_value", "new_value"))


def test_a_status_1c_sends_as_a_site_status_id_is_applied_and_kept_in_the_history(
    django_capture_on_commit_callbacks,
) -> None:
    order = placed()

    with django_capture_on_commit_callbacks() as callbacks:
        documents_apply(
            documents=[from_1c(order, ("Статуса заказа ИД", "processing"), ("Статус заказа", "К выполнению"))]
        )

    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert order.onec_status == "К выполнению"
    assert ("1c", "status", "new", "processing") in history(order)
    assert len(callbacks) == 1  # the status email, queued for after the commit


def test_a_status_text_goes_through_the_admin_s_status_map() -> None:
    order = placed()
    OrderStatusMapping.objects.update_or_create(onec_value="Готов к выдаче", defaults={"status": OrderStatus.SHIPPED})

    document_apply(document=from_1c(order, ("Статус заказа", "  готов к выдаче ")))

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_an_unmapped_status_text_is_kept_but_changes_no_site_status() -> None:
    order = placed()

    document_apply(document=from_1c(order, ("Статус заказа", "Какой-то свой статус")))

    order.refresh_from_db()
    assert (order.status, order.onec_status) == (OrderStatus.NEW, "Какой-то свой статус")


def test_1c_number_date_payment_and_shipment_are_applied() -> None:
    order = placed()

    document_apply(
        document=from_1c(
            order,
            ("Номер по 1С", "ТДЦУ-000001"),
            ("Дата по 1С", "2015-06-29T15:39:10"),
            ("Оплачен", "true"),
            ("Номер оплаты по 1С", "ТДЦУ-000002"),
            ("Дата оплаты по 1С", "2015-06-29 16:00:00"),
            ("Номер отгрузки по 1С", "ТДЦУ-000003"),
            ("Дата отгрузки по 1С", "30.06.2015 17:32:27"),
            ("Идентификатор отправления", "RA123456789RU"),
        )
    )

    order.refresh_from_db()
    local = timezone.localtime
    assert order.onec_number == "ТДЦУ-000001"
    assert local(order.onec_date).replace(tzinfo=None) == dt.datetime(2015, 6, 29, 15, 39, 10)
    assert (order.payment_status, order.payment_document) == (PaymentStatus.PAID, "ТДЦУ-000002")
    assert local(order.paid_at).replace(tzinfo=None) == dt.datetime(2015, 6, 29, 16, 0)
    assert (order.shipment_status, order.shipment_document) == (ShipmentStatus.SHIPPED, "ТДЦУ-000003")
    assert local(order.shipped_at).replace(tzinfo=None) == dt.datetime(2015, 6, 30, 17, 32, 27)
    assert order.tracking_number == "RA123456789RU"
    fields = {field for _, field, _, _ in history(order)}
    assert {"onec_number", "payment_status", "paid_at", "shipment_status", "tracking_number"} <= fields


@pytest.mark.parametrize(
    "document",
    [
        lambda order: from_1c(order, ("Отменен", "true")),
        lambda order: from_1c(order, deleted=True),
    ],
    ids=["cancelled", "deletion-mark"],
)
def test_cancelled_and_deletion_marked_orders_are_cancelled(document) -> None:
    order = placed()

    document_apply(document=document(order))

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_changed_lines_and_sums_replace_the_order_s_lines() -> None:
    order = placed(lines=2)
    kept, dropped = order.items.order_by("id")
    added = ProductVariantFactory(product=ProductFactory(), onec_id="new-variant")

    document_apply(
        document=from_1c(
            order,
            amount=Decimal("650.00"),
            items=(
                DocumentItem(
                    id=kept.onec_id, name=kept.name, quantity=Decimal(3), price=Decimal(100), amount=Decimal(300)
                ),
                DocumentItem(
                    id="new-variant", name="Новый", quantity=Decimal(1), price=Decimal(200), amount=Decimal(200)
                ),
                DocumentItem(
                    id=DELIVERY_ITEM_ID,
                    name="Доставка",
                    quantity=Decimal(1),
                    price=Decimal(150),
                    amount=Decimal(150),
                    requisites=(("ТипНоменклатуры", "Услуга"),),
                ),
            ),
        )
    )

    order.refresh_from_db()
    lines = {item.onec_id: (item.quantity, item.total) for item in order.items.all()}
    assert lines == {kept.onec_id: (Decimal(3), Decimal(300)), "new-variant": (Decimal(1), Decimal(200))}
    assert order.items.get(onec_id="new-variant").variant_id == added.pk
    assert (order.items_total, order.delivery_total, order.total) == (Decimal(500), Decimal(150), Decimal(650))
    assert dropped.onec_id not in lines
    assert sum(1 for _, field, _, _ in history(order) if field == "items") == 3


def test_an_unknown_order_is_reported_by_number_and_never_created() -> None:
    report = documents_apply(documents=[from_1c("ТД-404", ("Статус заказа", "Согласован"))])

    assert report.unknown == ["ТД-404"]
    assert report.messages == ["Заказ №ТД-404 на сайте не найден."]
    assert not Order.objects.exists()


def test_a_document_is_matched_by_number_when_1c_sends_its_own_id() -> None:
    order = placed()

    document_apply(document=from_1c(order, ("Отменен", "true"), id="1c-guid-of-the-order"))

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_a_payment_document_of_3_1_marks_its_order_paid() -> None:
    order = placed()

    document_apply(document=from_1c("ПЛ-1", operation="Выплата безналичных денег", base_id=order.number, number="ПЛ-1"))

    order.refresh_from_db()
    assert (order.payment_status, order.payment_document) == (PaymentStatus.PAID, "ПЛ-1")


def test_1c_s_own_change_does_not_send_the_order_back_to_1c() -> None:
    order = placed()
    Order.objects.filter(pk=order.pk).update(sent_to_1c=True, exported_version=order.updated_at)

    document_apply(document=from_1c(order, ("Статуса заказа ИД", "confirmed")))

    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert order.exported_version == order.updated_at


def test_a_file_that_breaks_half_way_applies_nothing(django_capture_on_commit_callbacks) -> None:
    first, second = placed(), placed()

    def broken() -> Iterator[Document]:
        yield from_1c(first, ("Статуса заказа ИД", "cancelled"))
        raise ValueError("the file ended here")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValueError):
        documents_apply(documents=broken())

    assert Order.objects.get(pk=first.pk).status == OrderStatus.NEW
    assert Order.objects.get(pk=second.pk).status == OrderStatus.NEW
    assert not OrderHistory.objects.exists()
    assert mail.outbox == []


def test_the_status_email_tells_the_customer_the_new_status() -> None:
    order = placed(contact_email="anna@example.com", contact_name="Анна")

    assert order_status_email_send(order_id=order.pk, old_status="new", new_status="shipped")

    (message,) = mail.outbox
    assert message.to == ["anna@example.com"]
    assert order.number in message.subject
    assert "Новый → Отгружен" in message.body


def test_the_customer_sees_1c_s_changes_in_the_order_detail() -> None:
    customer = UserFactory()
    order = placed(customer=customer)
    document_apply(document=from_1c(order, ("Статуса заказа ИД", "shipped")))
    client = APIClient()
    client.force_authenticate(customer)

    body = client.get(f"/api/orders/{order.number}/").json()

    assert body["status"] == "shipped"
    assert [(h["source"], h["field"], h["old_value"], h["new_value"]) for h in body["history"]] == [
        ("1c", "status", "new", "shipped")
    ]


# --- through the endpoint ---------------------------------------------------------------------


def orders_file(*documents: Document, version: str = "2.10", encoding: str = "utf-8") -> bytes:
    stream = io.BytesIO()
    with open_writer(stream, version=version, encoding=encoding) as writer:
        for document in documents:
            writer.write_document(document)
    return stream.getvalue()


@pytest.fixture
def legacy_onec(exchange_user: User) -> OneC:
    client = OneC(Client(), username=exchange_user.email, password=PASSWORD, exchange_type="sale")
    assert client.checkauth().lines[0] == "success"
    assert client.init().status_code == 200  # no version: the legacy scheme
    return client


def test_new_scheme_file_then_import_applies_the_changes(sale_onec: OneC, queued: list[int]) -> None:
    order = placed()
    data = orders_file(from_1c(order, ("Статуса заказа ИД", "confirmed"), ("Номер по 1С", "ЗК-1")))

    assert_answer(sale_onec.post_file("documents___1.xml", data), "success")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW  # stored only
    assert_answer(sale_onec.import_file("documents___1.xml"), "progress", "Ожидает запуска")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW  # queued for the worker
    run_queued(queued)

    assert_answer(sale_onec.import_file("documents___1.xml"), "success", SALE_IMPORT_DONE)

    order.refresh_from_db()
    assert (order.status, order.onec_number) == (OrderStatus.CONFIRMED, "ЗК-1")


def test_a_zipped_order_file_is_unpacked_and_applied(sale_onec: OneC, queued: list[int]) -> None:
    order = placed()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("documents___1.xml", orders_file(from_1c(order, ("Отменен", "true")), version="3.1"))
    sale_onec.post_file("orders.zip", archive.getvalue())

    answers = []
    for _ in range(10):  # unpacking, then the queued job, as 1C keeps polling
        answers.append(sale_onec.import_file("documents___1.xml"))
        if answers[-1].lines[0] != "progress":
            break
        run_queued(queued)

    assert answers[-1].lines[0] == "success"
    assert answers[0].lines[0] == "progress"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_an_update_for_an_unknown_order_answers_success_with_the_number(sale_onec: OneC, queued: list[int]) -> None:
    sale_onec.post_file("documents___2.xml", orders_file(from_1c("ТД-404", ("Отменен", "true"))))
    sale_onec.import_file("documents___2.xml")
    run_queued(queued)

    assert_answer(
        sale_onec.import_file("documents___2.xml"),
        "success",
        SALE_IMPORT_DONE,
        "Замечание: documents___2.xml: Заказы Ид=ТД-404: Заказ №ТД-404 на сайте не найден.",
    )
    assert not Order.objects.exists()


def test_a_malformed_update_file_applies_nothing_and_answers_failure(sale_onec: OneC, queued: list[int]) -> None:
    first, second = placed(), placed()
    data = orders_file(
        from_1c(first, ("Статуса заказа ИД", "cancelled")), from_1c(second, ("Статуса заказа ИД", "cancelled"))
    )
    sale_onec.post_file("documents___3.xml", data[: len(data) - 40])  # cut inside the second order
    sale_onec.import_file("documents___3.xml")
    run_queued(queued)

    response = sale_onec.import_file("documents___3.xml")

    assert response.lines[0] == "failure"
    assert response.lines[1].startswith(SALE_FILE_MALFORMED.split("{reason}")[0].format(name="documents___3.xml"))
    assert [Order.objects.get(pk=order.pk).status for order in (first, second)] == [OrderStatus.NEW] * 2
    assert not OrderHistory.objects.exists()


def test_a_file_that_is_not_commerceml_answers_failure(sale_onec: OneC, queued: list[int]) -> None:
    sale_onec.post_file("documents___4.xml", b"<html><body>oops</body></html>")
    sale_onec.import_file("documents___4.xml")
    run_queued(queued)

    assert_answer(
        sale_onec.import_file("documents___4.xml"), "failure", SALE_FILE_NOT_ORDERS.format(name="documents___4.xml")
    )


def test_legacy_scheme_applies_the_file_on_upload(legacy_onec: OneC) -> None:
    order = placed()

    response = legacy_onec.post_file(
        "C:\\v8_8789_c.xml", orders_file(from_1c(order, ("Статуса заказа ИД", "completed")), encoding="windows-1251")
    )

    assert_answer(response, "success")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED


def test_legacy_scheme_refuses_an_archive_it_cannot_apply_on_upload(legacy_onec: OneC) -> None:
    order = placed()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("documents.xml", orders_file(from_1c(order, ("Отменен", "true"))))

    response = legacy_onec.post_file("orders.zip", archive.getvalue())

    assert_answer(response, "failure", SALE_LEGACY_ARCHIVE.format(name="orders.zip"))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW


def test_legacy_scheme_answers_failure_for_a_broken_file_and_applies_nothing(legacy_onec: OneC) -> None:
    order = placed()
    data = orders_file(from_1c(order, ("Статуса заказа ИД", "completed")))

    response = legacy_onec.post_file("orders.xml", data[:-50])

    assert response.lines[0] == "failure"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW
