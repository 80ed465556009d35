"""A manager adds and edits customers by email; 1C sync state is shown, not edited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import SyncStatus, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def change_data(user: User, **fields: Any) -> dict[str, Any]:
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "customer_type": user.customer_type,
        "company_name": user.company_name,
        "inn": user.inn,
        "kpp": user.kpp,
        "role": user.role,
        "is_active": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
    }
    return data | fields


def test_manager_adds_a_customer_by_email(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:customers_user_add"),
        {"email": "New@Example.com", "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(email="new@example.com").check_password(PASSWORD)


def test_email_taken_in_another_case_is_refused(admin_client: Client) -> None:
    UserFactory(email="ivan@example.com")

    response = admin_client.post(
        reverse("admin:customers_user_add"),
        {"email": "IVAN@example.com", "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors


def test_manager_grants_a_wholesale_role_and_the_phone_is_normalised(admin_client: Client) -> None:
    user = UserFactory(onec_id="c-1", sync_status=SyncStatus.SYNCED)

    response = admin_client.post(
        reverse("admin:customers_user_change", args=[user.pk]),
        change_data(user, role="wholesale_2", phone="8 999 765-43-21", onec_id="x", sync_status="error"),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    # The posted sync fields are ignored; the new phone is waiting to go to 1C.
    assert (user.role, user.phone, user.onec_id, user.sync_status) == (
        "wholesale_2",
        "+79997654321",
        "c-1",
        SyncStatus.PENDING,
    )


def test_company_details_are_checked_when_edited(admin_client: Client) -> None:
    user = UserFactory()

    response = admin_client.post(
        reverse("admin:customers_user_change", args=[user.pk]),
        change_data(user, customer_type="company", company_name="ООО", inn="1234567890", kpp=""),
    )

    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"inn", "kpp"}


def test_customer_list_filters_by_role_and_sync_status(admin_client: Client) -> None:
    UserFactory(wholesale=True, sync_status=SyncStatus.ERROR)
    UserFactory()

    response = admin_client.get(
        reverse("admin:customers_user_changelist"), {"role__exact": "wholesale_1", "sync_status__exact": "error"}
    )

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_customer_found_by_a_phone_written_any_way(admin_client: Client) -> None:
    wanted = UserFactory(phone="+79991112233")
    UserFactory(phone="+79990000000")

    response = admin_client.get(reverse("admin:customers_user_changelist"), {"q": "8 999 111-22-33"})

    assert list(response.context["cl"].result_list) == [wanted]
