"""Every mode after checkauth needs the session cookie (the sessid 1C appends is checked in
addition, never instead); refused when missing, unknown, expired, finished, of another type or of
another user. Sessions live in the database, so flushing caches loses nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from exchange.models import ExchangeRequestLog, ExchangeSession
from exchange.protocol import (
    AUTH_FAILED,
    SESSION_EXPIRED,
    SESSION_FINISHED,
    SESSION_MISSING,
    SESSION_SOURCE_CHECK,
    SESSION_WRONG_TYPE,
)
from exchange.services.sessions import sessions_expire_idle
from exchange.tasks import expire_sessions
from tests.exchange.conftest import PASSWORD, OneC, Response, assert_answer, basic, make_exchange_user

pytestmark = pytest.mark.django_db

INIT_OK = ("zip=yes", "file_limit=67108864")


def test_later_modes_are_refused_without_a_session(db: None) -> None:
    response = Response(Client().get("/1c/exchange?type=catalog&mode=init"))

    assert_answer(response, "failure", SESSION_MISSING)
    assert ExchangeRequestLog.objects.get().session is None


def test_an_unknown_cookie_is_refused(onec: OneC) -> None:
    onec.checkauth()
    onec.cookie = ("exchange_session", "0" * 64)

    assert_answer(onec.init(), "failure", SESSION_MISSING)


def test_the_cookie_alone_is_enough(onec: OneC) -> None:
    onec.checkauth()
    onec.suffix = ""  # an older 1C that ignores line 4

    assert_answer(onec.init(), *INIT_OK)


@pytest.mark.parametrize("mode", ["init", "file", "import"])
def test_a_valid_sessid_without_the_cookie_is_refused(onec: OneC, mode: str) -> None:
    onec.checkauth()
    onec.cookie = None

    if mode == "file":
        response = onec.post_file("import.xml", b"<x/>")
    else:
        response = onec.get(mode, **({"filename": "import.xml"} if mode == "import" else {}))

    assert_answer(response, "failure", SESSION_MISSING)
    assert ExchangeRequestLog.objects.filter(mode=mode).get().session is None


def test_a_sessid_of_another_session_is_refused(onec: OneC, exchange_user) -> None:
    onec.checkauth()
    other = OneC(Client(), username=exchange_user.email, password=PASSWORD)
    other.checkauth()
    onec.suffix = other.suffix

    assert_answer(onec.init(), "failure", SESSION_SOURCE_CHECK)


def test_an_unknown_sessid_without_cookie_is_refused(onec: OneC) -> None:
    onec.checkauth()
    onec.cookie = None
    onec.suffix = "&sessid=" + "f" * 32

    assert_answer(onec.init(), "failure", SESSION_MISSING)


def test_basic_credentials_of_another_user_with_the_cookie_are_refused(onec: OneC) -> None:
    onec.checkauth()
    make_exchange_user(email="other-node")
    onec._cookies()

    response = Response(onec.client.get(onec.url("init"), HTTP_AUTHORIZATION=basic("other-node", PASSWORD)))

    assert_answer(response, "failure", SESSION_SOURCE_CHECK)


def test_basic_credentials_of_the_same_user_may_come_again(onec: OneC) -> None:
    onec.checkauth()
    onec._cookies()

    response = Response(onec.client.get(onec.url("init"), HTTP_AUTHORIZATION=basic(onec.username, PASSWORD)))

    assert_answer(response, *INIT_OK)


def test_a_catalog_session_cannot_be_used_for_orders(onec: OneC) -> None:
    onec.checkauth()
    onec.exchange_type = "sale"

    assert_answer(onec.get("query"), "failure", SESSION_WRONG_TYPE.format(expected="catalog", got="sale"))


def test_an_idle_session_expires(onec: OneC) -> None:
    onec.checkauth()
    ExchangeSession.objects.update(last_seen_at=timezone.now() - timedelta(minutes=121))

    assert_answer(onec.init(), "failure", SESSION_EXPIRED)
    assert ExchangeSession.objects.get().status == ExchangeSession.Status.EXPIRED


def test_idle_time_is_configurable(onec: OneC, settings) -> None:
    settings.EXCHANGE_SESSION_IDLE_MINUTES = 5
    onec.checkauth()
    ExchangeSession.objects.update(last_seen_at=timezone.now() - timedelta(minutes=6))

    assert_answer(onec.init(), "failure", SESSION_EXPIRED)


def test_each_request_keeps_the_session_alive(onec: OneC) -> None:
    onec.checkauth()
    ExchangeSession.objects.update(last_seen_at=timezone.now() - timedelta(minutes=119))

    onec.init()

    assert timezone.now() - ExchangeSession.objects.get().last_seen_at < timedelta(seconds=5)
    assert_answer(onec.init(), *INIT_OK)


def test_a_completed_session_is_finished(catalog: OneC) -> None:
    catalog.get("complete")

    assert_answer(catalog.init(), "failure", SESSION_FINISHED)


def test_a_user_deactivated_during_the_exchange_is_stopped(onec: OneC, exchange_user) -> None:
    onec.checkauth()
    exchange_user.is_active = False
    exchange_user.save()

    assert_answer(onec.init(), "failure", AUTH_FAILED)


def test_a_permission_revoked_during_the_exchange_stops_it(onec: OneC, exchange_user) -> None:
    onec.checkauth()
    exchange_user.user_permissions.remove(Permission.objects.get(codename="exchange_1c"))

    assert_answer(onec.init(), "failure", AUTH_FAILED)


def test_a_cache_flush_loses_no_session(onec: OneC, settings) -> None:
    onec.checkauth()
    # What a flush looks like to the site: nothing it cached is found any more (a real flush of the
    # Redis db would take the test broker's queue with it).
    settings.CACHES = {"default": settings.CACHES["default"] | {"KEY_PREFIX": "flushed"}}
    assert cache.get("anything", "gone") == "gone"

    assert_answer(onec.init(), *INIT_OK)


def test_the_beat_task_expires_idle_sessions_only(onec: OneC, exchange_user) -> None:
    onec.checkauth()
    fresh = OneC(Client(), username=exchange_user.email, password=PASSWORD)
    fresh.checkauth()
    idle = ExchangeSession.objects.get(key=onec.session_key)
    ExchangeSession.objects.filter(pk=idle.pk).update(last_seen_at=timezone.now() - timedelta(hours=3))

    result = expire_sessions.run()

    assert result["expired"] == 1
    assert ExchangeSession.objects.get(pk=idle.pk).status == ExchangeSession.Status.EXPIRED
    assert ExchangeSession.objects.get(key=fresh.session_key).status == ExchangeSession.Status.ACTIVE
    assert sessions_expire_idle() == 0


@pytest.mark.parametrize("cookie", ["abc\x00def", "x" * 64, "", "../../etc"])
def test_malformed_cookies_are_refused_without_a_lookup(onec: OneC, cookie: str) -> None:
    onec.checkauth()
    onec.suffix = ""
    onec.cookie = ("exchange_session", cookie)

    assert_answer(onec.init(), "failure", SESSION_MISSING)


@pytest.mark.parametrize("sessid", ["abc%00def", "%27%20OR%201=1", "z" * 32])
def test_malformed_sessids_are_refused(onec: OneC, sessid: str) -> None:
    onec.checkauth()
    onec.cookie = None
    onec.suffix = "&sessid=" + sessid

    assert_answer(onec.init(), "failure", SESSION_MISSING)
