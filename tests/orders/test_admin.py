"""A manager finds and works through orders; what 1C reports stays as 1C said."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, PaymentStatus
from tests.factories import OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db


def test_order_list_and_page_show_the_lines_as_bought(admin_client: Client) -> None:
    order = OrderFactory(total=Decimal("250.00"))
    OrderItemFactory(order=order, name="Чайник", price=Decimal("250.00"))

    listing = admin_client.get(reverse("admin:orders_order_changelist"))
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert listing.status_code == page.status_code == 200
    assert order.number in listing.content.decode()
    assert "Чайник" in page.content.decode()


def test_orders_are_not_added_in_the_admin(admin_client: Client) -> None:
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403


@pytest.mark.parametrize("query", ["8 (999) 123-45-67", "+79991234567", "anna@example.com", "T-"])
def test_orders_are_found_by_number_email_or_a_phone_written_any_way(admin_client: Client, query: str) -> None:
    order = OrderFactory(contact_phone="+79991234567", contact_email="anna@example.com")
    OrderFactory(contact_phone="+79990000000", contact_email="boris@example.com", number="X-1")

    response = admin_client.get(reverse("admin:orders_order_changelist"), {"q": query})

    assert list(response.context["cl"].result_list) == [order]


def test_manager_edits_the_status_but_not_what_1c_reported(admin_client: Client) -> None:
    order = OrderFactory(onec_number="ЗК-1", payment_status=PaymentStatus.PAID, sent_to_1c=True)
    data = {
        "status": "confirmed",
        "contact_name": "Анна",
        "contact_email": "anna@example.com",
        "contact_phone": "+79991234567",
        "delivery_address": "",
        "comment": "",
        "onec_number": "changed",
        "payment_status": "unpaid",
        "sent_to_1c": "",
        "items-TOTAL_FORMS": 0,
        "items-INITIAL_FORMS": 0,
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
        "history-TOTAL_FORMS": 0,
        "history-INITIAL_FORMS": 0,
        "history-MIN_NUM_FORMS": 0,
        "history-MAX_NUM_FORMS": 1000,
    }

    response = admin_client.post(reverse("admin:orders_order_change", args=[order.pk]), data)

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.onec_number, order.payment_status, order.sent_to_1c) == (
        "confirmed",
        "ЗК-1",
        PaymentStatus.PAID,
        True,
    )
    changes = order.history.values_list("source", "field", "old_value", "new_value")
    assert ("admin", "status", "new", "confirmed") in list(changes)


def test_orders_sent_to_1c_cannot_be_deleted(admin_client: Client) -> None:
    order = OrderFactory(sent_to_1c=True)

    assert admin_client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403


def test_retry_action_puts_sent_and_skipped_orders_back_in_the_export_queue(admin_client: Client) -> None:
    sent = OrderFactory(sent_to_1c=True, sent_to_1c_at=timezone.now())
    skipped = OrderFactory(export_skipped=True, export_skip_reason="нет Ид")
    waiting = OrderFactory()

    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "retry_export", "_selected_action": [sent.pk, skipped.pk, waiting.pk]},
    )

    assert response.status_code == 302
    assert (
        list(
            Order.objects.order_by("id").values_list(
                "sent_to_1c", "sent_to_1c_at", "export_skipped", "export_skip_reason"
            )
        )
        == [(False, None, False, "")] * 3
    )
