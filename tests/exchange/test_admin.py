"""The admin shows sessions, the request log and imports, and changes none of them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import User
from exchange.models import ExchangeRequestLog, ExchangeSession, ImportFile, ImportSession
from tests.exchange.conftest import OneC

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(db: None) -> Client:
    admin = User.objects.create_superuser(email="admin@example.com", password="x")
    client = Client()
    client.force_login(admin)
    return client


def test_sessions_files_and_log_are_listed_and_shown(catalog: OneC, admin_client_logged_in: Client) -> None:
    catalog.post_file("import.xml", b"<import/>")
    session = ExchangeSession.objects.get()
    log_row = ExchangeRequestLog.objects.first()
    assert log_row is not None
    pages = [
        reverse("admin:exchange_exchangesession_changelist"),
        reverse("admin:exchange_exchangesession_change", args=[session.pk]),
        reverse("admin:exchange_exchangerequestlog_changelist") + "?mode=file&outcome=success",
        reverse("admin:exchange_exchangerequestlog_changelist") + "?q=1c-exchange",
        reverse("admin:exchange_exchangerequestlog_change", args=[log_row.pk]),
    ]

    for page in pages:
        response = admin_client_logged_in.get(page)
        assert response.status_code == 200, page

    detail = admin_client_logged_in.get(pages[1]).content.decode()
    assert "import.xml" in detail
    assert session.key not in detail and session.csrf_token not in detail


def test_imports_are_shown_with_their_files(admin_client_logged_in: Client) -> None:
    run = ImportSession.objects.create(
        base_dir="/x", stage="Товары", report="ok", status=ImportSession.Status.COMPLETED
    )
    ImportFile.objects.create(import_session=run, name="import.xml")

    for page in (
        reverse("admin:exchange_importsession_changelist"),
        reverse("admin:exchange_importsession_change", args=[run.pk]),
    ):
        assert admin_client_logged_in.get(page).status_code == 200


def test_nothing_can_be_added_changed_or_deleted(catalog: OneC, admin_client_logged_in: Client) -> None:
    session = ExchangeSession.objects.get()

    assert admin_client_logged_in.get(reverse("admin:exchange_exchangesession_add")).status_code == 403
    assert (
        admin_client_logged_in.get(reverse("admin:exchange_exchangesession_delete", args=[session.pk])).status_code
        == 403
    )
    response = admin_client_logged_in.post(
        reverse("admin:exchange_exchangesession_change", args=[session.pk]), {"status": "completed"}
    )
    assert response.status_code == 403
    assert ExchangeSession.objects.get().status == ExchangeSession.Status.ACTIVE
