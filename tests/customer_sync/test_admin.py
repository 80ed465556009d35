"""The sync in the admin: the failed customers with their retry, the log, the numbers page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks

from customers.models import SyncStatus
from emulator.customers_service import CustomersService, ScriptedAnswer
from exchange.counterparties.export import customer_export_attempt, customer_mark_for_export
from exchange.counterparties.models import CustomerSyncLog, CustomerSyncState
from tests.customer_sync.conftest import QueuedTasks
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_failed_customers_are_listed_with_1c_answer_and_retried_from_the_admin(
    admin_client: Client,
    onec_service: CustomersService,
    queued: QueuedTasks,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    failed = UserFactory(email="failed@example.com")
    customer_mark_for_export(customer=failed, created=True)
    onec_service.script.append(ScriptedAnswer(400, {"error": "Неверный формат телефона"}))
    customer_export_attempt(customer_id=failed.pk)
    UserFactory(email="fine@example.com", sync_status=SyncStatus.SYNCED)

    page = admin_client.get(reverse("admin:exchange_failedcustomer_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "failed@example.com" in html and "fine@example.com" not in html
    assert "Неверный формат телефона" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:exchange_failedcustomer_changelist"),
            {"action": "retry_export", "_selected_action": [failed.pk]},
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.sync_status, failed.needs_1c_export, failed.sync_error_message) == (SyncStatus.PENDING, True, "")
    assert queued.customer_ids == [failed.pk]
    assert CustomerSyncState.objects.get(pk=failed.pk).attempts == 0

    customer_export_attempt(customer_id=failed.pk)  # what the queued task does
    failed.refresh_from_db()
    assert failed.sync_status == SyncStatus.SYNCED and failed.onec_id


def test_sync_log_lists_every_operation(admin_client: Client, onec_service: CustomersService) -> None:
    customer = UserFactory(email="logged@example.com")
    customer_mark_for_export(customer=customer, created=True)
    onec_service.script.append(ScriptedAnswer(500, "Внутренняя ошибка 1С"))
    customer_export_attempt(customer_id=customer.pk)
    customer_export_attempt(customer_id=customer.pk)

    page = admin_client.get(reverse("admin:exchange_customersynclog_changelist"))

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("logged@example.com") >= 2
    assert "Внутренняя ошибка 1С" in html
    log = CustomerSyncLog.objects.filter(outcome="retry").get()
    detail = admin_client.get(reverse("admin:exchange_customersynclog_change", args=[log.pk]))
    assert detail.status_code == 200 and "Внутренняя ошибка 1С" in detail.content.decode()


def number(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}">') + len(f'id="{element_id}">')
    return html[start : html.index("</td>", start)].strip()


def test_numbers_page_shows_today_rate_pending_failed_and_time_to_1c(admin_client: Client) -> None:
    now = timezone.now()
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    UserFactory(needs_1c_export=True, sync_status=SyncStatus.PENDING)
    UserFactory(needs_1c_export=True, sync_status=SyncStatus.ERROR)
    UserFactory(needs_1c_export=True, sync_status=SyncStatus.FAILED)
    rows = [
        (a, "success", 2000),
        (b, "retry", None),
        (b, "success", 4000),
        (c, "failed", None),
    ]
    for customer, outcome, latency in rows:
        CustomerSyncLog.objects.create(direction="export", customer=customer, outcome=outcome, latency_ms=latency)
    old = CustomerSyncLog.objects.create(direction="export", customer=c, outcome="success", latency_ms=60_000)
    CustomerSyncLog.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=2))
    CustomerSyncLog.objects.create(direction="import", customer=c, outcome="updated", conflicts=["email: ..."])

    page = admin_client.get(reverse("admin:exchange_customersynclog_numbers"))

    assert page.status_code == 200
    html = page.content.decode()
    assert number(html, "exported-today") == "2"
    assert number(html, "success-rate").startswith("50,0 % (2 из 4)")
    assert number(html, "pending") == "2"
    assert ">1</a>" in number(html, "failed")
    assert number(html, "average-time") == "3,0 с"
    assert number(html, "imported-today") == "1"
    assert number(html, "conflicts-today") == "1"
    assert (
        "Показатели синхронизации"
        in admin_client.get(reverse("admin:exchange_customersynclog_changelist")).content.decode()
    )
