"""The admin's front page: the exchange dashboard, with real rows behind every number and link."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import SyncStatus
from exchange.conf import exchange_settings
from exchange.models import ExchangeFile, ExchangeRequestLog, ExchangeSession, ImportSession
from tests.exchange.conftest import make_exchange_user
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(UserFactory(staff=True))
    return client


@pytest.fixture
def failed_upload() -> tuple[ExchangeSession, ExchangeRequestLog, Path]:
    """A catalog exchange an hour ago whose import.xml was refused, with the logged copy on disk."""
    user = make_exchange_user()
    now = timezone.now()
    session = ExchangeSession.objects.create(
        key="a" * 64,
        csrf_token="b" * 32,
        user=user,
        exchange_type="catalog",
        status=ExchangeSession.Status.COMPLETED,
        last_seen_at=now,
        finished_at=now,
    )
    ExchangeSession.objects.filter(pk=session.pk).update(started_at=now - dt.timedelta(minutes=3))
    log_name = f"{timezone.localdate():%Y-%m-%d}/{session.pk}/in/import.xml"
    copy = exchange_settings().logs_dir / log_name
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"<broken")
    ExchangeFile.objects.create(session=session, name="import.xml", size=7, parts=1, log_name=log_name)
    ExchangeRequestLog.objects.create(session=session, exchange_type="catalog", mode="checkauth", outcome="success")
    failed = ExchangeRequestLog.objects.create(
        session=session,
        exchange_type="catalog",
        mode="import",
        params={"filename": "import.xml"},
        outcome="failure",
        answer="failure\nimport.xml:1: неожиданный конец файла",
    )
    old = ExchangeRequestLog.objects.create(exchange_type="catalog", mode="checkauth", outcome="failure", answer="x")
    ExchangeRequestLog.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=2))
    return ExchangeSession.objects.get(pk=session.pk), failed, copy


def test_the_front_page_is_the_shops_dashboard_with_queue_numbers(staff_client: Client, settings) -> None:
    settings.SHOP_NAME = "Лавка «Ромашка»"
    OrderFactory.create_batch(2)
    OrderFactory(sent_to_1c=True)
    OrderFactory(export_skipped=True, export_skip_reason="товар без Ид")
    UserFactory.create_batch(3, needs_1c_export=True, sync_status=SyncStatus.PENDING)
    UserFactory(sync_status=SyncStatus.ERROR, sync_error_message="1С недоступна")

    page = staff_client.get("/admin/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "<title>Обмен с 1С | Лавка «Ромашка»</title>" in html
    assert "Администрирование Django" not in html
    queues = page.context["queues"]
    assert (queues.orders_waiting, queues.orders_skipped) == (2, 1)
    assert (queues.customers_pending, queues.customers_failed) == (3, 1)
    orders = reverse("admin:orders_order_changelist")
    assert f'id="orders-waiting" href="{orders}?sent_to_1c__exact=0&amp;export_skipped__exact=0">2<' in html
    assert f'id="orders-skipped" href="{orders}?export_skipped__exact=1" class="bad">1<' in html
    customers = reverse("admin:customers_user_changelist")
    assert f'id="customers-pending" href="{customers}?needs_1c_export__exact=1">3<' in html
    assert f'id="customers-failed" href="{customers}?sync_status__exact=error" class="bad">1<' in html
    # The links lead to lists with exactly those rows.
    waiting = staff_client.get(f"{orders}?sent_to_1c__exact=0&export_skipped__exact=0")
    assert waiting.context["cl"].result_count == 2
    failed = staff_client.get(f"{customers}?sync_status__exact=error")
    assert failed.context["cl"].result_count == 1


def test_exchanges_and_errors_link_to_their_detail_and_logged_file(staff_client: Client, failed_upload) -> None:
    session, failed, copy = failed_upload

    html = staff_client.get("/admin/").content.decode()

    session_url = reverse("admin:exchange_exchangesession_change", args=[session.pk])
    file_url = reverse("admin:exchange_logged_file", args=[copy.relative_to(exchange_settings().logs_dir).as_posix()])
    assert f'<a href="{session_url}">' in html
    assert "ошибок: 1" in html
    assert "<td>3 мин 00 с</td>" in html  # the exchange's duration
    assert f'<a href="{file_url}">import.xml</a>' in html
    assert "Ошибки за 24 часа: запросов 1, импортов 0" in html
    assert f'<a href="{reverse("admin:exchange_exchangerequestlog_change", args=[failed.pk])}">' in html
    assert "import.xml:1: неожиданный конец файла" in html
    assert f'<a href="{file_url}">копия файла</a>' in html
    download = staff_client.get(file_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"<broken"
    assert staff_client.get(session_url).status_code == 200


def test_a_logged_file_outside_the_log_folder_is_never_served(staff_client: Client, failed_upload) -> None:
    secret = exchange_settings().data_dir / "secret.txt"
    secret.write_text("private")
    for name in ("../secret.txt", "..%2Fsecret.txt", "/etc/passwd", ""):
        response = staff_client.get(f"/admin/exchange-log/{name}")
        assert response.status_code == 404, name


def test_logged_files_need_the_permission_to_view_exchanges(client: Client, failed_upload) -> None:
    _session, _failed, copy = failed_upload
    client.force_login(UserFactory(is_staff=True))
    url = reverse("admin:exchange_logged_file", args=[copy.relative_to(exchange_settings().logs_dir).as_posix()])
    assert client.get(url).status_code == 403


def test_the_running_import_shows_its_stage_and_the_poll_follows_it(staff_client: Client) -> None:
    item = ImportSession.objects.create(
        base_dir="/x", status=ImportSession.Status.IN_PROGRESS, stage="import.xml: Товары: 50 из 200",
        progress_done=50, progress_total=200,
    )  # fmt: skip

    html = staff_client.get("/admin/").content.decode()
    assert '<progress max="100" value="25" data-field="bar">' in html
    assert "import.xml: Товары: 50 из 200" in html
    assert reverse("admin:exchange_importsession_change", args=[item.pk]) in html
    assert reverse("admin:dashboard_json") in html  # the page polls it

    ImportSession.objects.filter(pk=item.pk).update(progress_done=150, stage="import.xml: Товары: 150 из 200")
    polled = staff_client.get(reverse("admin:dashboard_json")).json()
    assert polled["import"]["percent"] == 75
    assert polled["import"]["stage"] == "import.xml: Товары: 150 из 200"

    ImportSession.objects.filter(pk=item.pk).update(status=ImportSession.Status.COMPLETED)
    assert staff_client.get(reverse("admin:dashboard_json")).json() == {"import": None}


def test_a_failed_import_links_to_the_copy_of_the_file_it_failed_on(staff_client: Client, failed_upload) -> None:
    session, _failed, copy = failed_upload
    item = ImportSession.objects.create(
        base_dir="/x", status=ImportSession.Status.FAILED, finished_at=timezone.now(), exchange_session=session,
        error_message="import.xml:1: неожиданный конец файла",
    )  # fmt: skip
    item.files.create(name="import.xml", status="failed")

    html = staff_client.get("/admin/").content.decode()

    file_url = reverse("admin:exchange_logged_file", args=[copy.relative_to(exchange_settings().logs_dir).as_posix()])
    row = html[html.index(reverse("admin:exchange_importsession_change", args=[item.pk])) :]
    assert f'<a href="{file_url}">копия файла</a>' in row[: row.index("</tr>")]


def test_failed_imports_of_the_day_are_listed(staff_client: Client) -> None:
    item = ImportSession.objects.create(
        base_dir="/x",
        status=ImportSession.Status.FAILED,
        finished_at=timezone.now(),
        error_message="offers.xml:9: обрыв",
    )
    html = staff_client.get("/admin/").content.decode()
    assert "импортов 1" in html
    assert "offers.xml:9: обрыв" in html
    assert reverse("admin:exchange_importsession_change", args=[item.pk]) in html


def test_visitors_who_are_not_staff_get_the_login_page(client: Client) -> None:
    client.force_login(UserFactory())
    assert client.get("/admin/").status_code == 302
    assert client.get(reverse("admin:dashboard_json")).status_code == 302
