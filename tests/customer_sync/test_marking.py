"""What marks a customer for export to 1C, and when the export task is queued."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from customers.models import SyncStatus, User
from customers.services import customer_changes_announce, customer_register, customer_update
from emulator.customers_service import CustomersService
from exchange.counterparties.export import PRIORITY_NEW, PRIORITY_UPDATE, customers_requeue_due
from exchange.counterparties.models import CustomerSyncState
from tests.api.helpers import logged_in
from tests.customer_sync.conftest import QueuedTasks
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def register(email: str = "anna@example.com", **extra: str) -> User:
    return customer_register(email=email, password=PASSWORD, first_name="Анна", phone="8 999 123-45-67", **extra)


def test_registration_marks_the_customer_for_export(settings: SettingsWrapper) -> None:
    settings.ONEC_CUSTOMERS_URL = ""  # marked even while the sync is off: the backlog waits

    customer = register()

    customer.refresh_from_db()
    assert (customer.needs_1c_export, customer.sync_status) == (True, SyncStatus.PENDING)
    assert CustomerSyncState.objects.get(pk=customer.pk).requested_at is not None


def test_a_customer_created_from_1c_is_not_marked() -> None:
    customer = UserFactory(created_in_1c=True, onec_id="1c-7")

    customer_changes_announce(customer=customer, fields={"email"}, created=True)

    customer.refresh_from_db()
    assert customer.needs_1c_export is False
    assert not CustomerSyncState.objects.filter(pk=customer.pk).exists()


def test_export_is_queued_only_after_the_registration_commits(
    onec_service: CustomersService,
    queued: QueuedTasks,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        customer = register()
        assert queued.calls == []

    for callback in callbacks:
        callback()
    assert queued.customer_ids == [customer.pk]
    assert queued.calls[0]["priority"] == PRIORITY_NEW


def test_a_significant_profile_change_marks_a_synced_customer_again(
    onec_service: CustomersService,
    queued: QueuedTasks,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    customer = UserFactory(onec_id="1c-1", sync_status=SyncStatus.SYNCED)

    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(customer).patch("/api/customers/me/", {"phone": "+7 912 000-11-22"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "+79120001122"
    customer.refresh_from_db()
    assert (customer.needs_1c_export, customer.sync_status) == (True, SyncStatus.PENDING)
    assert CustomerSyncState.objects.get(pk=customer.pk).unsynced_fields == ["phone"]
    # An update of a customer 1C knows waits behind new registrations.
    assert [call["priority"] for call in queued.calls] == [PRIORITY_UPDATE]


def test_every_default_significant_field_marks(settings: SettingsWrapper) -> None:
    changes = {
        "first_name": "Мария",
        "last_name": "Иванова",
        "email": "maria@example.com",
        "phone": "+79120001122",
        "address": "Москва, Тверская, 1",
    }
    for name, value in changes.items():
        customer = UserFactory(sync_status=SyncStatus.SYNCED)
        customer_update(customer=customer, **{name: value})
        customer.refresh_from_db()
        assert customer.needs_1c_export, name
    company = UserFactory(company=True, sync_status=SyncStatus.SYNCED)
    customer_update(customer=company, company_name='ООО "Лютик"', inn="500100732259", kpp="")
    company.refresh_from_db()
    assert company.needs_1c_export


def test_a_change_outside_the_configured_list_does_not_mark(settings: SettingsWrapper) -> None:
    settings.ONEC_SYNC_FIELDS = ["email", "inn", "kpp"]
    customer = UserFactory(sync_status=SyncStatus.SYNCED)

    customer_update(customer=customer, address="Москва", first_name="Пётр")

    customer.refresh_from_db()
    assert (customer.needs_1c_export, customer.sync_status, customer.address) == (False, SyncStatus.SYNCED, "Москва")


def test_sending_the_same_profile_again_is_not_a_change() -> None:
    customer = UserFactory(sync_status=SyncStatus.SYNCED)

    customer_update(customer=customer, phone=customer.phone, first_name=customer.first_name)

    customer.refresh_from_db()
    assert customer.needs_1c_export is False


def test_a_role_change_by_a_manager_does_not_mark(admin_client: object) -> None:
    from django.test import Client

    assert isinstance(admin_client, Client)
    customer = UserFactory(sync_status=SyncStatus.SYNCED)
    data = {
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "address": "",
        "customer_type": customer.customer_type,
        "company_name": "",
        "inn": "",
        "kpp": "",
        "role": "wholesale_2",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
    }
    response = admin_client.post(f"/admin/customers/user/{customer.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert (customer.role, customer.needs_1c_export) == ("wholesale_2", False)

    data["phone"] = "8 912 000-11-22"
    admin_client.post(f"/admin/customers/user/{customer.pk}/change/", data)
    customer.refresh_from_db()
    assert customer.needs_1c_export is True


def test_profile_edit_with_a_wrong_inn_is_refused_and_changes_nothing(api: APIClient | None = None) -> None:
    customer = UserFactory(company=True, sync_status=SyncStatus.SYNCED)

    response = logged_in(customer).patch(
        "/api/customers/me/", {"inn": "7707083894", "phone": "+79120001122"}, format="json"
    )

    assert response.status_code == 400
    assert "inn" in response.json()
    customer.refresh_from_db()
    assert (customer.inn, customer.phone, customer.needs_1c_export) == ("7707083893", "+79991234567", False)


def test_profile_edit_cannot_change_the_role() -> None:
    customer = UserFactory()

    response = logged_in(customer).patch("/api/customers/me/", {"role": "wholesale_3"}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.role == "retail"


def test_requeue_queues_overdue_customers_new_ones_first(onec_service: CustomersService, queued: QueuedTasks) -> None:
    long_ago = timezone.now() - dt.timedelta(minutes=30)
    update = UserFactory(onec_id="1c-1", needs_1c_export=True, sync_status=SyncStatus.PENDING)
    new = UserFactory(needs_1c_export=True, sync_status=SyncStatus.PENDING)
    not_due = UserFactory(needs_1c_export=True, sync_status=SyncStatus.ERROR)
    failed = UserFactory(needs_1c_export=True, sync_status=SyncStatus.FAILED)
    CustomerSyncState.objects.create(customer=update, requested_at=long_ago, next_attempt_at=long_ago)
    CustomerSyncState.objects.create(customer=new, requested_at=long_ago, next_attempt_at=long_ago)
    CustomerSyncState.objects.create(customer=not_due, next_attempt_at=timezone.now())
    CustomerSyncState.objects.create(customer=failed, next_attempt_at=long_ago)

    assert customers_requeue_due() == 2

    assert queued.customer_ids == [new.pk, update.pk]
    assert [call["priority"] for call in queued.calls] == [PRIORITY_NEW, PRIORITY_UPDATE]
