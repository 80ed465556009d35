"""One export attempt against the fake 1C service on loopback: outcomes, backoff, dead letter."""

from __future__ import annotations

import json
import random
import threading

import pytest
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from customers.models import SyncStatus, User
from customers.services import customer_update
from emulator.customers_service import CustomersService, ScriptedAnswer
from exchange.conf import customer_sync_settings
from exchange.counterparties.export import backoff_delay, customer_export_attempt, customer_mark_for_export
from exchange.counterparties.models import CustomerSyncLog, CustomerSyncState, SyncOutcome
from tests.customer_sync.conftest import QueuedTasks
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def marked(**fields: object) -> User:
    customer = UserFactory(**fields)
    customer_mark_for_export(customer=customer, created=True)
    customer.refresh_from_db()
    return customer


def attempt(customer: User) -> tuple[str, float | None]:
    result = customer_export_attempt(customer_id=customer.pk)
    customer.refresh_from_db()
    return result.outcome, result.retry_in


def test_success_stores_1c_id_and_clears_the_mark(onec_service: CustomersService) -> None:
    customer = marked(company=True, address="Москва, Тверская, 1")

    assert attempt(customer) == (SyncOutcome.SUCCESS, None)

    sent = onec_service.requests[-1]
    assert sent["site_id"] == str(customer.pk)
    assert sent["onec_id"] is None
    assert (sent["kind"], sent["inn"], sent["kpp"], sent["phone"]) == (
        "company",
        "7707083893",
        "773601001",
        "+79991234567",
    )
    assert sent["address"] == "Москва, Тверская, 1"
    assert onec_service.stats.issued[str(customer.pk)] == [customer.onec_id]
    assert (customer.needs_1c_export, customer.sync_status, customer.sync_error_message) == (
        False,
        SyncStatus.SYNCED,
        "",
    )
    assert customer.last_sync_at is not None
    log = CustomerSyncLog.objects.get(customer=customer)
    assert (log.direction, log.outcome, log.attempt, log.status_code, log.onec_id) == (
        "export",
        "success",
        1,
        201,
        customer.onec_id,
    )
    assert log.latency_ms is not None


def test_an_update_sends_the_known_1c_id(onec_service: CustomersService) -> None:
    customer = marked()
    attempt(customer)
    first_id = customer.onec_id

    customer_update(customer=customer, phone="+79120001122")
    assert attempt(customer)[0] == SyncOutcome.SUCCESS

    assert onec_service.requests[-1]["onec_id"] == first_id
    assert customer.onec_id == first_id
    assert CustomerSyncState.objects.get(pk=customer.pk).unsynced_fields == []


@pytest.mark.parametrize(
    ("answer", "reason_part"),
    [
        (ScriptedAnswer(500, {"error": "база заблокирована"}), "HTTP 500"),
        (ScriptedAnswer(503, "busy"), "HTTP 503"),
        (ScriptedAnswer(429, {}), "HTTP 429"),
        (ScriptedAnswer(408, {}), "HTTP 408"),
        (ScriptedAnswer(200, b"<html>not json</html>"), "без onec_id"),
        (ScriptedAnswer(201, {"onec_id": ""}), "без onec_id"),
        (ScriptedAnswer(200, {"id": "x"}), "без onec_id"),
        (ScriptedAnswer(201, {"onec_id": "late"}, delay=1.5), "не ответил за 1 с"),
    ],
    ids=["500", "503", "429", "408", "garbage", "empty-id", "no-id", "timeout"],
)
def test_transient_failure_is_retried_after_a_backoff(
    onec_service: CustomersService, answer: ScriptedAnswer, reason_part: str
) -> None:
    customer = marked()
    onec_service.script.append(answer)

    outcome, retry_in = attempt(customer)

    assert outcome == SyncOutcome.RETRY
    assert retry_in is not None and 0.025 <= retry_in <= 0.05
    assert (customer.needs_1c_export, customer.sync_status, customer.onec_id) == (True, SyncStatus.ERROR, None)
    assert reason_part in customer.sync_error_message
    state = CustomerSyncState.objects.get(pk=customer.pk)
    assert (state.attempts, state.lease_until) == (1, None)
    assert state.next_attempt_at is not None

    assert attempt(customer)[0] == SyncOutcome.SUCCESS  # the service is fine again
    assert customer.onec_id is not None and customer.sync_status == SyncStatus.SYNCED


def test_refused_connection_is_transient(onec_service: CustomersService, settings: SettingsWrapper) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.ONEC_CUSTOMERS_URL = f"http://127.0.0.1:{port}/customers"
    customer = marked()

    assert attempt(customer)[0] == SyncOutcome.RETRY
    assert "Нет соединения" in customer.sync_error_message


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_4xx_fails_at_once_with_1c_answer_stored(onec_service: CustomersService, status: int) -> None:
    customer = marked()
    onec_service.script.append(ScriptedAnswer(status, {"error": "Контрагент с таким ИНН уже есть"}))

    outcome, retry_in = attempt(customer)

    assert (outcome, retry_in) == (SyncOutcome.FAILED, None)
    assert (customer.sync_status, customer.needs_1c_export) == (SyncStatus.FAILED, True)
    assert f"HTTP {status}" in customer.sync_error_message
    assert "Контрагент с таким ИНН уже есть" in customer.sync_error_message
    log = CustomerSyncLog.objects.get(customer=customer)
    assert "Контрагент с таким ИНН уже есть" in log.answer
    # The dead letter is left alone until someone retries it.
    assert attempt(customer)[0] == "skipped"
    assert onec_service.stats.posts == 1


def test_dead_letter_after_the_last_attempt(onec_service: CustomersService, settings: SettingsWrapper) -> None:
    settings.ONEC_SYNC_MAX_ATTEMPTS = 3
    customer = marked()
    onec_service.script.extend(ScriptedAnswer(502, "bad gateway") for _ in range(3))

    outcomes = [attempt(customer) for _ in range(3)]

    assert [outcome for outcome, _ in outcomes] == [SyncOutcome.RETRY, SyncOutcome.RETRY, SyncOutcome.FAILED]
    assert outcomes[-1][1] is None
    assert (customer.sync_status, customer.onec_id) == (SyncStatus.FAILED, None)
    assert list(CustomerSyncLog.objects.order_by("id").values_list("attempt", flat=True)) == [1, 2, 3]


def test_backoff_doubles_with_jitter_and_is_capped(settings: SettingsWrapper) -> None:
    settings.ONEC_SYNC_BACKOFF_SECONDS = 10
    settings.ONEC_SYNC_BACKOFF_MAX_SECONDS = 60
    conf = customer_sync_settings()
    rng = random.Random(1)

    delays = {n: [backoff_delay(n, conf, rng) for _ in range(200)] for n in (1, 2, 3, 4, 5)}

    assert 5 <= min(delays[1]) <= max(delays[1]) <= 10
    assert 10 <= min(delays[2]) <= max(delays[2]) <= 20
    assert 20 <= min(delays[3]) <= max(delays[3]) <= 40
    assert 30 <= min(delays[5]) <= max(delays[5]) <= 60
    assert len({round(d, 3) for d in delays[3]}) > 100  # jitter: customers do not retry in step


def test_invalid_inn_fails_without_asking_1c(onec_service: CustomersService) -> None:
    customer = marked(company=True, inn="7707083894")

    assert attempt(customer) == (SyncOutcome.FAILED, None)

    assert onec_service.stats.posts == 0
    assert "ИНН 7707083894" in customer.sync_error_message
    assert "контрольное число" in customer.sync_error_message


def test_invalid_kpp_fails_without_asking_1c(onec_service: CustomersService) -> None:
    customer = marked(company=True, kpp="77360100")

    assert attempt(customer)[0] == SyncOutcome.FAILED
    assert onec_service.stats.posts == 0
    assert "КПП 77360100" in customer.sync_error_message


def test_a_different_1c_id_later_does_not_replace_the_first(onec_service: CustomersService) -> None:
    customer = marked()
    attempt(customer)
    first_id = customer.onec_id
    customer_update(customer=customer, first_name="Пётр")
    onec_service.script.append(ScriptedAnswer(200, {"onec_id": "another-one"}))

    assert attempt(customer)[0] == SyncOutcome.SUCCESS

    assert customer.onec_id == first_id
    log = CustomerSyncLog.objects.filter(customer=customer).first()
    assert log is not None and "another-one" in log.conflicts[0]


def test_a_1c_id_that_belongs_to_another_customer_is_not_stored(onec_service: CustomersService) -> None:
    UserFactory(onec_id="taken")
    customer = marked()
    onec_service.script.append(ScriptedAnswer(201, {"onec_id": "taken"}))

    assert attempt(customer)[0] == SyncOutcome.FAILED
    assert customer.onec_id is None
    assert "taken" in customer.sync_error_message


def test_an_export_in_progress_keeps_a_second_task_out(onec_service: CustomersService) -> None:
    customer = marked()
    CustomerSyncState.objects.filter(pk=customer.pk).update(lease_until=customer.date_joined.replace(year=2100))

    assert attempt(customer)[0] == "skipped"
    assert onec_service.stats.posts == 0


def test_sync_off_sends_nothing_and_keeps_the_mark(onec_service: CustomersService, settings: SettingsWrapper) -> None:
    settings.ONEC_CUSTOMERS_URL = ""
    customer = marked()

    assert attempt(customer)[0] == "skipped"
    assert customer.needs_1c_export is True
    assert onec_service.stats.posts == 0


def test_extra_fields_are_sent_under_their_1c_names(onec_service: CustomersService, settings: SettingsWrapper) -> None:
    settings.ONEC_EXTRA_FIELDS = ["customer_type:ВидКонтрагента", "date_joined:registered_at"]
    customer = marked()

    attempt(customer)

    sent = onec_service.requests[-1]
    assert sent["ВидКонтрагента"] == "individual"
    assert sent["registered_at"].startswith(str(customer.date_joined.year))


def test_basic_auth_is_sent(onec_service: CustomersService, settings: SettingsWrapper) -> None:
    onec_service.user, onec_service.password = "site", "s3cret"
    try:
        customer = marked()
        assert attempt(customer)[0] == SyncOutcome.FAILED  # 401 without credentials: permanent
        settings.ONEC_HTTP_USER, settings.ONEC_HTTP_PASSWORD = "site", "s3cret"
        customer = marked()
        assert attempt(customer)[0] == SyncOutcome.SUCCESS
    finally:
        onec_service.user = onec_service.password = ""


@pytest.mark.django_db(transaction=True)
def test_two_tasks_for_one_customer_at_once_send_it_once(onec_service: CustomersService, queued: QueuedTasks) -> None:
    customer = marked()
    onec_service.script.append(ScriptedAnswer(201, {"onec_id": "slow-1"}, delay=0.5, store=False))
    outcomes: list[str] = []

    def run() -> None:
        try:
            outcomes.append(customer_export_attempt(customer_id=customer.pk).outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["skipped", "success"]
    assert onec_service.stats.posts == 1
    customer.refresh_from_db()
    assert customer.onec_id == "slow-1"


def test_json_body_is_utf8_json(onec_service: CustomersService) -> None:
    customer = marked(first_name="Ёжик")
    attempt(customer)
    assert onec_service.requests[-1]["first_name"] == "Ёжик"
    assert json.dumps(onec_service.requests[-1], ensure_ascii=False)


def test_commerceml_format_sends_one_kontragent(onec_service: CustomersService, settings: SettingsWrapper) -> None:
    settings.ONEC_CUSTOMERS_FORMAT = "commerceml"
    customer = marked(company=True)

    assert attempt(customer)[0] == SyncOutcome.SUCCESS

    sent = onec_service.requests[-1]
    assert (sent["site_id"], sent["onec_id"], sent["inn"], sent["kpp"]) == (
        str(customer.pk),
        None,
        "7707083893",
        "773601001",
    )
    assert customer.onec_id == onec_service.stats.issued[str(customer.pk)][0]
    customer_update(customer=customer, address="Москва")
    attempt(customer)
    assert onec_service.requests[-1]["onec_id"] == customer.onec_id


@pytest.mark.parametrize("field", ["password", "is_superuser", "role", "onec_id"])
def test_extra_fields_cannot_exchange_rights_secrets_or_sync_bookkeeping(settings: SettingsWrapper, field: str) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.ONEC_EXTRA_FIELDS = [f"{field}:X"]
    with pytest.raises(ImproperlyConfigured, match=field):
        customer_sync_settings()


def test_attempts_are_counted_at_metrics_as_exported_retried_and_failed(
    onec_service: CustomersService, settings: SettingsWrapper
) -> None:
    from django.test import Client

    from tests.observability.conftest import scrape, value

    settings.ONEC_SYNC_MAX_ATTEMPTS = 2
    client = Client()
    before = scrape(client)
    onec_service.script.extend(ScriptedAnswer(502, "bad gateway") for _ in range(2))
    failing = marked()
    attempt(failing)  # retried
    attempt(failing)  # the last attempt: failed
    attempt(marked())  # exported

    after = scrape(client)
    for outcome in ("exported", "retried", "failed"):
        counted = value(after, "customers_export_attempts_total", outcome=outcome)
        assert counted - value(before, "customers_export_attempts_total", outcome=outcome) == 1, outcome
