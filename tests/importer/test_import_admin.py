"""A shop manager follows an import in the admin: its progress, counters, report and problems."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import User
from exchange.models import ImportSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client):
    User.objects.create_superuser(email="boss@example.com", password="x")
    client.login(email="boss@example.com", password="x")
    return client


def test_a_running_import_shows_a_progress_bar_in_the_list(manager_client) -> None:
    ImportSession.objects.create(
        base_dir="/x",
        status="in_progress",
        stage="offers.xml: Предложения: 500 из 2000",
        progress_done=500,
        progress_total=2000,
    )

    page = manager_client.get(reverse("admin:exchange_importsession_changelist")).content.decode()

    assert '<progress value="25" max="100"' in page
    assert "Предложения: 500 из 2000" in page


def test_the_import_page_shows_counters_report_and_problems_with_their_ids(manager_client) -> None:
    item = ImportSession.objects.create(
        base_dir="/x",
        status="completed",
        counters={
            "products": {"created": 120, "updated": 3, "unchanged": 0, "deactivated": 2, "skipped": 1, "errors": 0}
        },
        report="import.xml: обработан\nТовары: создано 120",
        errors=[
            {
                "level": "warning",
                "entity": "offers",
                "id": "ghost#1",
                "reason": "предложение для неизвестного товара",
                "file": "offers.xml",
                "line": None,
            }
        ],
    )

    page = manager_client.get(reverse("admin:exchange_importsession_change", args=[item.pk])).content.decode()

    assert "<th>Товары</th><td>120</td><td>3</td>" in page
    assert "import.xml: обработан" in page
    assert "ghost#1" in page and "предложение для неизвестного товара" in page
