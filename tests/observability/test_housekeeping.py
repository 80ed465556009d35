"""Housekeeping run by beat: each periodic task's last run and result is kept and shown."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from config.celery import clear_expired_sessions
from exchange.models import ExchangeSession
from exchange.tasks import expire_sessions, prune_exchange_logs
from observability.models import HousekeepingRun
from tests.factories import UserFactory


@pytest.mark.django_db
def test_every_beat_task_is_listed_on_the_dashboard_until_and_after_it_ran(client: Client, settings) -> None:
    client.force_login(UserFactory(staff=True))
    listed = client.get("/admin/").context["housekeeping"]
    assert {row["task"] for row in listed} == {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert all(row["run"] is None for row in listed)

    prune_exchange_logs.apply()
    prune_exchange_logs.apply()

    html = client.get("/admin/").content.decode()
    run = HousekeepingRun.objects.get(task="exchange.prune_exchange_logs")
    assert (run.outcome, run.runs, run.failures) == ("success", 2, 0)
    assert run.result == {
        "days_removed": 0,
        "files_removed": 0,
        "bytes_left": 0,
        "requests_removed": 0,
        "login_counters_removed": 0,
    }
    for key in run.result:
        assert f"{key}: 0" in html
    assert "каждый час" in html
    assert "ещё не запускалась" in html  # the others


@pytest.mark.django_db
def test_a_failing_task_is_recorded_as_failed_with_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> int:
        raise OSError("disk gone")

    monkeypatch.setattr("exchange.tasks.sessions_expire_idle", broken)

    expire_sessions.apply()

    run = HousekeepingRun.objects.get(task="exchange.expire_sessions")
    assert (run.outcome, run.failures) == ("failure", 1)
    assert run.result == {"error": "OSError: disk gone"}


@pytest.mark.django_db
def test_tasks_beat_does_not_run_are_not_recorded() -> None:
    from config.celery import ping

    ping.apply()
    assert not HousekeepingRun.objects.exists()


@pytest.mark.django_db
def test_expired_login_sessions_are_cleared() -> None:
    live, stale = SessionStore(), SessionStore()
    live.create()
    stale.create()
    Session.objects.filter(session_key=stale.session_key).update(expire_date=timezone.now())

    assert clear_expired_sessions.apply().get() == {"deleted": 1}
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_in_the_real_worker_is_recorded(worker, exchange_user) -> None:
    idle = ExchangeSession.objects.create(
        key="c" * 64, csrf_token="d" * 32, user=exchange_user, exchange_type="catalog",
        last_seen_at=timezone.now() - timezone.timedelta(days=1),
    )  # fmt: skip

    expire_sessions.delay()

    deadline = time.monotonic() + 60
    while not HousekeepingRun.objects.filter(task="exchange.expire_sessions").exists():
        assert time.monotonic() < deadline, "the worker did not record the run"
        time.sleep(0.2)
    run = HousekeepingRun.objects.get(task="exchange.expire_sessions")
    assert run.outcome == "success"
    assert run.result["expired"] == 1
    idle.refresh_from_db()
    assert idle.status == ExchangeSession.Status.EXPIRED
