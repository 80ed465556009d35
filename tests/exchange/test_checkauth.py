"""mode=checkauth: HTTP Basic against a user with the exchange permission, a session in the
database, and the answer lines 1C reads (protocol.md §2.1, §3.1)."""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from customers import login_throttle
from customers.login_throttle import LoginAttempt, login_attempt_start
from customers.models import LoginThrottle, User
from exchange.auth import exchange_throttle_policy
from exchange.models import ExchangeRequestLog, ExchangeSession
from exchange.protocol import AUTH_FAILED, AUTH_THROTTLED
from tests.exchange.conftest import PASSWORD, OneC, Response, assert_answer, basic, make_exchange_user

pytestmark = pytest.mark.django_db


def checkauth(exchange_type: str = "catalog", client: Client | None = None, **meta: Any) -> Response:
    return Response((client or Client()).get(f"/1c/exchange?type={exchange_type}&mode=checkauth", **meta))


def test_catalog_checkauth_answers_cookie_sessid_and_timestamp(exchange_user: User) -> None:
    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD))

    session = ExchangeSession.objects.get()
    assert_answer(
        response,
        "success",
        "exchange_session",
        session.key,
        f"sessid={session.csrf_token}",
        f"timestamp={session.started_timestamp}",
    )
    assert abs(session.started_timestamp - timezone.now().timestamp()) < 5


def test_sale_checkauth_answers_four_lines(exchange_user: User) -> None:
    response = checkauth("sale", HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD))

    session = ExchangeSession.objects.get()
    assert_answer(response, "success", "exchange_session", session.key, f"sessid={session.csrf_token}")


def test_checkauth_also_sets_the_cookie(exchange_user: User) -> None:
    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD))

    cookie = response.raw.cookies["exchange_session"]
    assert cookie.value == ExchangeSession.objects.get().key
    assert cookie["httponly"]


def test_the_session_records_who_what_and_when(exchange_user: User) -> None:
    checkauth("sale", HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.7")

    session = ExchangeSession.objects.get()
    assert session.user == exchange_user
    assert session.exchange_type == "sale"
    assert session.status == ExchangeSession.Status.ACTIVE
    assert session.remote_addr == "10.0.0.7"
    assert timezone.now() - session.last_seen_at < timedelta(seconds=5)


def test_cookie_name_is_configurable(exchange_user: User, settings) -> None:
    settings.EXCHANGE_COOKIE_NAME = "PHPSESSID"

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD))

    assert response.lines[1] == "PHPSESSID"


def test_login_is_case_insensitive_as_stored(exchange_user: User) -> None:
    assert checkauth(HTTP_AUTHORIZATION=basic("1C-Exchange", PASSWORD)).lines[0] == "success"


@pytest.mark.parametrize(
    "meta",
    [
        pytest.param({}, id="no-credentials"),
        pytest.param({"HTTP_AUTHORIZATION": basic("1c-exchange", "wrong")}, id="wrong-password"),
        pytest.param({"HTTP_AUTHORIZATION": basic("nobody", PASSWORD)}, id="unknown-user"),
        pytest.param({"HTTP_AUTHORIZATION": "Basic !!!not-base64"}, id="garbage"),
        pytest.param({"HTTP_AUTHORIZATION": "Bearer abc"}, id="other-scheme"),
        pytest.param({"REMOTE_USER": "1c-exchange"}, id="bare-remote-user"),
    ],
)
def test_refused_credentials_get_the_bitrix_failure_and_no_session(exchange_user: User, meta: dict[str, Any]) -> None:
    response = checkauth(**meta)

    assert_answer(response, "failure", AUTH_FAILED)
    assert "exchange_session" not in response.raw.cookies
    assert not ExchangeSession.objects.exists()
    assert ExchangeRequestLog.objects.get().auth_failed


def test_staff_without_the_exchange_permission_is_refused_like_a_wrong_password(db: None) -> None:
    User.objects.create_user(email="manager", password=PASSWORD, is_staff=True)

    response = checkauth(HTTP_AUTHORIZATION=basic("manager", PASSWORD))

    assert_answer(response, "failure", AUTH_FAILED)
    assert not ExchangeSession.objects.exists()


def test_inactive_exchange_user_is_refused(db: None) -> None:
    make_exchange_user(is_active=False)

    assert_answer(checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD)), "failure", AUTH_FAILED)


def test_superuser_may_exchange(db: None) -> None:
    User.objects.create_superuser(email="admin", password=PASSWORD)

    assert checkauth(HTTP_AUTHORIZATION=basic("admin", PASSWORD)).lines[0] == "success"


@pytest.mark.parametrize("variable", ["REDIRECT_HTTP_AUTHORIZATION", "REMOTE_USER", "REDIRECT_REMOTE_USER"])
def test_credentials_passed_on_by_a_cgi_rewrite_rule_are_accepted(exchange_user: User, variable: str) -> None:
    meta: dict[str, Any] = {variable: basic("1c-exchange", PASSWORD)}

    assert checkauth(**meta).lines[0] == "success"


def test_windows_1251_login_is_understood(db: None) -> None:
    make_exchange_user(email="обмен")
    token = base64.b64encode(f"обмен:{PASSWORD}".encode("cp1251")).decode()

    assert checkauth(HTTP_AUTHORIZATION=f"Basic {token}").lines[0] == "success"


def test_the_password_is_never_logged(exchange_user: User) -> None:
    checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", "wrong-and-secret"))

    row = ExchangeRequestLog.objects.get()
    assert "wrong-and-secret" not in repr(row.params) + row.answer + row.username
    assert row.username == "1c-exchange"


# --- throttling -------------------------------------------------------------------------------


def fail(times: int, username: str = "1c-exchange", addr: str = "10.0.0.1") -> None:
    for _ in range(times):
        response = checkauth(HTTP_AUTHORIZATION=basic(username, "wrong"), REMOTE_ADDR=addr)
        assert response.lines[1] == AUTH_FAILED


def test_repeated_failures_for_one_login_from_one_address_are_throttled_even_with_the_right_password(
    exchange_user: User,
) -> None:
    fail(5)

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert_answer(response, "failure", AUTH_THROTTLED)
    assert not ExchangeSession.objects.exists()


def test_failures_for_one_login_from_another_address_never_lock_the_real_1c_out(exchange_user: User) -> None:
    for _ in range(30):  # well past the limit: the guesser is throttled, then keeps trying
        checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", "wrong"), REMOTE_ADDR="10.6.6.6")

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.2.1")

    assert response.lines[0] == "success"


@pytest.mark.parametrize("spelling", ["1C-EXCHANGE", " 1c-Exchange ", "1c-exchange\t"])
def test_other_spellings_of_the_login_share_its_failure_count(exchange_user: User, spelling: str) -> None:
    fail(5, username=spelling)

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert_answer(response, "failure", AUTH_THROTTLED)


def test_one_address_guessing_many_logins_is_throttled_for_every_login(exchange_user: User) -> None:
    for number in range(20):  # 4 per login: each pair stays under its own limit of 5
        fail(1, username=f"guess{number % 5}")

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert_answer(response, "failure", AUTH_THROTTLED)
    assert checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.2").lines[0] == "success"


def test_fewer_failures_than_the_limit_do_not_throttle(exchange_user: User) -> None:
    fail(4)

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert response.lines[0] == "success"


def test_throttling_ends_when_the_window_has_passed(exchange_user: User) -> None:
    fail(5)
    LoginThrottle.objects.update(window_start=F("window_start") - 901)

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert response.lines[0] == "success"


def test_throttled_attempts_do_not_extend_the_lockout(exchange_user: User) -> None:
    fail(5)
    for _ in range(3):
        assert_answer(
            checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", "wrong"), REMOTE_ADDR="10.0.0.1"),
            "failure",
            AUTH_THROTTLED,
        )

    assert ExchangeRequestLog.objects.filter(auth_failed=True).count() == 5
    assert sorted(LoginThrottle.objects.values_list("count", flat=True)) == [5, 5]


def test_a_success_does_not_count_as_a_failure(exchange_user: User) -> None:
    fail(4)
    for _ in range(3):
        assert (
            checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1").lines[0] == "success"
        )

    assert checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1").lines[0] == "success"


def in_flight(times: int, addr: str = "10.0.0.1") -> list[LoginAttempt]:
    """Attempts whose password is being checked right now (by other requests)."""
    return [
        login_attempt_start(policy=exchange_throttle_policy(), address=addr, login="1c-exchange") for _ in range(times)
    ]


def test_a_right_password_waits_for_attempts_in_flight_instead_of_being_refused(
    exchange_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    others = in_flight(5)  # the limit, all still being checked
    waits: list[float] = []

    def others_finish(seconds: float) -> None:
        waits.append(seconds)
        for attempt in others:
            attempt.succeeded()

    monkeypatch.setattr(login_throttle, "_wait_for_in_flight", others_finish)

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert response.lines[0] == "success"
    assert len(waits) == 1
    assert sorted(LoginThrottle.objects.values_list("count", "pending")) == [(0, 0), (0, 0)]


def test_an_attempt_in_flight_that_fails_at_the_limit_gets_the_waiting_one_refused(
    exchange_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail(4)
    (other,) = in_flight(1)
    monkeypatch.setattr(login_throttle, "_wait_for_in_flight", lambda seconds: other.failed())

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert_answer(response, "failure", AUTH_THROTTLED)
    assert sorted(LoginThrottle.objects.values_list("count", "pending")) == [(5, 0), (5, 0)]


def test_attempts_in_flight_that_never_finish_refuse_after_a_bounded_wait(
    exchange_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_flight(5)
    monkeypatch.setattr(login_throttle, "IN_FLIGHT_WAIT_SECONDS", 0.3)
    started = time.monotonic()

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert_answer(response, "failure", AUTH_THROTTLED)
    assert 0.3 <= time.monotonic() - started < 3
    assert not ExchangeRequestLog.objects.filter(auth_failed=True).exists()  # the password was not checked
    assert sorted(LoginThrottle.objects.values_list("count", "pending")) == [(0, 5), (0, 5)]


def test_failures_at_the_limit_refuse_at_once_even_with_attempts_in_flight(
    exchange_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail(5)
    LoginThrottle.objects.update(pending=3)  # attempts still being checked besides

    def no_waiting(seconds: float) -> None:
        raise AssertionError("waited although the failures alone reach the limit")

    monkeypatch.setattr(login_throttle, "_wait_for_in_flight", no_waiting)

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert_answer(response, "failure", AUTH_THROTTLED)


def test_a_window_that_has_passed_forgets_attempts_in_flight_too(exchange_user: User) -> None:
    fail(4)
    in_flight(1)
    LoginThrottle.objects.update(window_start=F("window_start") - 901)

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert response.lines[0] == "success"
    assert sorted(LoginThrottle.objects.values_list("count", "pending")) == [(0, 0), (0, 0)]


def test_limits_are_configurable(exchange_user: User, settings) -> None:
    settings.EXCHANGE_AUTH_MAX_FAILURES = 2
    fail(2)

    response = checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1")

    assert_answer(response, "failure", AUTH_THROTTLED)


def test_a_spoofed_forwarded_for_does_not_give_a_fresh_address(exchange_user: User) -> None:
    for number in range(5):
        response = checkauth(
            HTTP_AUTHORIZATION=basic("1c-exchange", "wrong"),
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}",
        )
        assert response.lines[1] == AUTH_FAILED

    response = checkauth(
        HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.99"
    )

    assert_answer(response, "failure", AUTH_THROTTLED)


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(exchange_user: User, settings) -> None:
    settings.TRUSTED_PROXIES = 1
    proxy = "10.0.0.254"
    for _ in range(5):
        checkauth(HTTP_AUTHORIZATION=basic("1c-exchange", "wrong"), REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.1")
    # What the client put left of the proxy's entry is ignored: still 192.0.2.1, still throttled.
    spoofed = checkauth(
        HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.1"
    )
    other_client = checkauth(
        HTTP_AUTHORIZATION=basic("1c-exchange", PASSWORD), REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.2"
    )

    assert_answer(spoofed, "failure", AUTH_THROTTLED)
    assert other_client.lines[0] == "success"
    assert ExchangeSession.objects.get().remote_addr == "192.0.2.2"


def test_a_successful_exchange_client_is_not_locked_out_by_other_addresses_guessing_other_users(
    exchange_user: User,
) -> None:
    for number in range(5):
        fail(1, username=f"guess{number}", addr=f"10.9.9.{number}")

    assert OneC(Client(), username="1c-exchange", password=PASSWORD).checkauth().lines[0] == "success"


def test_a_nul_in_the_credentials_is_a_plain_refusal(exchange_user: User) -> None:
    token = base64.b64encode(b"1c-exchange\x00:" + PASSWORD.encode()).decode()

    assert_answer(checkauth(HTTP_AUTHORIZATION=f"Basic {token}"), "failure", AUTH_FAILED)
