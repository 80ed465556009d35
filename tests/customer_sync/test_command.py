"""``manage.py sync_customers_with_1c``: chunks, both directions, --async, Ctrl-C and resume."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from customers.models import SyncStatus, User
from emulator.customers_service import CustomersService
from exchange import tasks
from exchange.counterparties.export import customer_mark_for_export
from exchange.counterparties.models import CustomerSyncRun
from tests.factories import UserFactory
from tests.services import ROOT, process_env

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("sync_customers_with_1c", *args, "--quiet-progress", stdout=out)
    return out.getvalue()


def test_export_sends_every_customer_1c_lacks_in_chunks(onec_service: CustomersService) -> None:
    # Registered before the sync was set up (never marked), failed earlier, and already in 1C.
    old = [UserFactory() for _ in range(5)]
    failed = UserFactory(needs_1c_export=True, sync_status=SyncStatus.FAILED)
    known = UserFactory(onec_id="1c-known", sync_status=SyncStatus.SYNCED)
    UserFactory(is_staff=True)

    output = run("--direction", "export", "--chunk-size", "2")

    assert "выгрузка: 2/6" in output and "выгрузка: 6/6" in output
    assert "Выгрузка в 1С завершена: обработано 6." in output
    for customer in [*old, failed]:
        customer.refresh_from_db()
        assert (customer.sync_status, bool(customer.onec_id)) == (SyncStatus.SYNCED, True)
    assert str(known.pk) not in onec_service.stats.issued
    assert onec_service.stats.posts == 6
    assert CustomerSyncRun.objects.get().status == CustomerSyncRun.Status.DONE


def test_both_imports_first_so_a_customer_1c_has_is_linked_not_created_twice(onec_service: CustomersService) -> None:
    customer = UserFactory(email="office@romashka.ru")
    customer_mark_for_export(customer=customer, created=True)  # registered, not exported yet
    onec_id = onec_service.add_counterparty(kind="individual", email="office@romashka.ru", first_name="Ольга")

    output = run("--direction", "both")

    customer.refresh_from_db()
    assert customer.onec_id == onec_id
    assert len(onec_service.customers) == 1  # the export updated 1C's counterparty
    assert onec_service.requests[-1]["onec_id"] == onec_id
    assert "Загрузка из 1С завершена: 1." in output


def test_async_hands_the_chunks_to_celery(onec_service: CustomersService, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks: list[list[int]] = []
    monkeypatch.setattr(tasks.export_customers_chunk, "delay", lambda ids: chunks.append(ids))
    customers = [UserFactory() for _ in range(5)]

    output = run("--direction", "export", "--chunk-size", "2", "--async")

    assert chunks == [[c.pk for c in customers[:2]], [c.pk for c in customers[2:4]], [customers[4].pk]]
    assert "поставлено в очередь 5" in output
    assert onec_service.stats.posts == 0


def test_sync_off_is_refused(settings: SettingsWrapper) -> None:
    settings.ONEC_CUSTOMERS_URL = ""
    with pytest.raises(CommandError, match="ONEC_CUSTOMERS_URL"):
        run()


def test_import_failure_says_where_it_stopped_and_a_rerun_continues(
    onec_service: CustomersService, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        onec_service.add_counterparty(kind="individual", email=f"c{n}@example.com")
    original = onec_service.handle_get
    calls = {"n": 0}

    def failing_second_page(query: dict[str, list[str]]) -> tuple[int, Any]:
        calls["n"] += 1
        return (503, {"error": "busy"}) if calls["n"] == 2 else original(query)

    monkeypatch.setattr(onec_service, "handle_get", failing_second_page)
    with pytest.raises(CommandError, match="позиции 2"):
        run("--direction", "import", "--chunk-size", "2")
    assert User.objects.count() == 2

    output = run("--direction", "import", "--chunk-size", "2")

    assert "продолжаю прерванный запуск" in output
    assert User.objects.count() == 5
    assert CustomerSyncRun.objects.get().status == CustomerSyncRun.Status.DONE


def start_command(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "sync_customers_with_1c", *args, "--quiet-progress"],
        cwd=ROOT,
        env=process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 30) -> str:
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError(f"no {marker!r} in:\n{''.join(lines)}")


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_finishes_the_chunk_says_where_and_a_rerun_continues(
    onec_service: CustomersService, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers = [UserFactory() for _ in range(12)]
    onec_service.slow_rate, onec_service.slow_seconds = 1.0, 0.15  # a chunk of 4 takes ~0.6 s
    monkeypatch.setenv("ONEC_CUSTOMERS_URL", onec_service.url)

    proc = start_command("--direction", "export", "--chunk-size", "4")
    read_until(proc, "выгрузка: 4/12")
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=30)

    assert proc.returncode == 0, output
    run_row = CustomerSyncRun.objects.get()
    assert run_row.status == CustomerSyncRun.Status.INTERRUPTED
    stopped_after = run_row.cursor
    assert f"остановлена после покупателя id={stopped_after}" in output
    assert "Повторный запуск продолжит" in output
    done = User.objects.filter(pk__in=[c.pk for c in customers], onec_id__isnull=False).count()
    assert done in (4, 8) and done == run_row.processed  # whole chunks only
    assert onec_service.stats.posts == done

    onec_service.slow_rate = 0.0
    output = run("--direction", "export", "--chunk-size", "4")

    assert f"продолжаю прерванный запуск #{run_row.pk} с позиции {stopped_after}" in output
    assert User.objects.filter(pk__in=[c.pk for c in customers], onec_id__isnull=True).count() == 0
    assert onec_service.stats.posts == 12  # nobody sent twice
    assert all(len(ids) == 1 for ids in onec_service.stats.issued.values())


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_during_import_stops_after_the_page_and_a_rerun_continues(
    onec_service: CustomersService, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(9):
        onec_service.add_counterparty(kind="individual", email=f"c{n}@example.com")
    original = onec_service.handle_get

    def slow_get(query: dict[str, list[str]]) -> tuple[int, Any]:
        time.sleep(0.5)
        return original(query)

    monkeypatch.setattr(onec_service, "handle_get", slow_get)
    monkeypatch.setenv("ONEC_CUSTOMERS_URL", onec_service.url)

    proc = start_command("--direction", "import", "--chunk-size", "3")
    read_until(proc, "загрузка: 3")
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=30)

    assert proc.returncode == 0, output
    position = CustomerSyncRun.objects.get().cursor
    assert position in (3, 6)
    assert f"загрузка остановлена на позиции {position}" in output
    assert User.objects.count() == position

    output = run("--direction", "import", "--chunk-size", "3")

    assert User.objects.count() == 9
    assert CustomerSyncRun.objects.get().status == CustomerSyncRun.Status.DONE


def test_a_second_run_while_one_is_alive_is_refused_and_the_schedule_keeps_its_own(
    onec_service: CustomersService,
) -> None:
    from exchange.tasks import import_customers_from_1c

    CustomerSyncRun.objects.create(direction="export", source="command", status=CustomerSyncRun.Status.RUNNING)
    with pytest.raises(CommandError, match="уже идёт"):
        run("--direction", "export")

    interrupted = CustomerSyncRun.objects.create(
        direction="import", source="command", status=CustomerSyncRun.Status.INTERRUPTED, cursor=7
    )
    onec_service.add_counterparty(kind="individual", email="a@example.com")
    assert import_customers_from_1c.run() == "done: 1"
    interrupted.refresh_from_db()
    assert interrupted.status == CustomerSyncRun.Status.INTERRUPTED  # the command's rerun continues it


def test_a_run_whose_process_died_long_ago_is_continued(onec_service: CustomersService) -> None:
    import datetime as dt

    from django.utils import timezone

    customers = [UserFactory() for _ in range(3)]
    dead = CustomerSyncRun.objects.create(
        direction="export", source="command", status=CustomerSyncRun.Status.RUNNING, cursor=customers[0].pk, processed=1
    )
    CustomerSyncRun.objects.filter(pk=dead.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))

    output = run("--direction", "export")

    assert f"продолжаю прерванный запуск #{dead.pk}" in output
    assert onec_service.stats.posts == 2
