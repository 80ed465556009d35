"""Login throttles shared by every password check: the 1C exchange's checkauth, the API's token
login and the admin login.

Failures are counted per (address, login) and per address, never per login alone: a stranger who
guesses a login's password from elsewhere cannot lock its real owner out (1C, whose address has not
failed, is never refused). The login is normalised (stripped, casefolded) before it is counted, so
``eX1c`` and ``EX1c`` share one counter.

Atomic under concurrency: each counter holds the failures and the attempts in flight (being
checked right now). An attempt first takes a slot in both counters with one upsert each
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``, atomic on PostgreSQL and SQLite ≥ 3.35), and only
an attempt for which failures plus attempts in flight stay within the limit gets its password
checked. A failed check turns its slot into a failure; a successful one gives it back. So N
parallel tries get at most ``limit`` password checks, however they interleave. When the failures
alone reach the limit the attempt is refused at once; when it is over the limit only because of
attempts still in flight it gives its slots back, waits briefly for them to settle and tries again
(up to ``IN_FLIGHT_WAIT_SECONDS``), so right passwords that merely arrive together (1C, two
exchanges at once) are not refused. The counters live in the database (customers.LoginThrottle),
shared by every process of the site.

A window starts with the first counted attempt and lasts ``window_seconds``; when it has passed the
next attempt starts a new window at 1.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.db.models.expressions import CombinedExpression

from customers.models import LoginThrottle

logger = logging.getLogger(__name__)

# One address may fail this many times more than one (address, login) pair: an office behind one
# NAT address has several people who mistype, while a spray over many logins is still stopped.
ADDRESS_FACTOR = 4

# What a person sees when refused (API 429 detail, admin login form).
LOGIN_THROTTLED = "Слишком много неудачных попыток входа. Повторите попытку позже."

# How long an attempt waits for the attempts in flight ahead of it before it is refused. A password
# check takes well under a second, so parallel right passwords (1C, a pool of clients) all get in.
IN_FLIGHT_WAIT_SECONDS = 5.0


class LoginThrottled(Exception):
    """Too many failed attempts: the password was not checked."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"login throttled, retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    scope: str
    max_failures: int  # per (address, login); 0 or less turns the throttle off
    window_seconds: int

    @property
    def max_failures_per_address(self) -> int:
        return self.max_failures * ADDRESS_FACTOR


def normalise_login(login: str) -> str:
    return login.strip().casefold()


def _keys(policy: ThrottlePolicy, address: str | None, login: str) -> tuple[str, str]:
    addr = address or "-"
    # Hashed: a key of bounded length whatever was typed, and no login stored in clear.
    digest = hashlib.sha256(f"{addr}\x00{normalise_login(login)}".encode()).hexdigest()[:40]
    return f"{policy.scope}:pair:{digest}", f"{policy.scope}:addr:{addr}"[:96]


def _take_slot(key: str, now: int, window_seconds: int) -> tuple[int, int, int]:
    """Count one attempt in flight on ``key``: the failures and the attempts in flight (this one
    included) after that, and the window it fell in."""
    table = connection.ops.quote_name(LoginThrottle._meta.db_table)
    key_col, count_col, pending_col, start_col = (
        connection.ops.quote_name(name) for name in ("key", "count", "pending", "window_start")
    )
    expired = now - window_seconds
    # Every SET expression reads the row as it was (PostgreSQL and SQLite alike).
    sql = (
        f"INSERT INTO {table} ({key_col}, {count_col}, {pending_col}, {start_col}) "  # noqa: S608
        f"VALUES (%s, 0, 1, %s) "
        f"ON CONFLICT ({key_col}) DO UPDATE SET "
        f"{count_col} = CASE WHEN {table}.{start_col} <= %s THEN 0 ELSE {table}.{count_col} END, "
        f"{pending_col} = CASE WHEN {table}.{start_col} <= %s THEN 1 ELSE {table}.{pending_col} + 1 END, "
        f"{start_col} = CASE WHEN {table}.{start_col} <= %s THEN %s ELSE {table}.{start_col} END "
        f"RETURNING {count_col}, {pending_col}, {start_col}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, now, expired, expired, expired, now])
        row = cursor.fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _settle(key: str, window_start: int, *, failed: bool) -> None:
    # Only within the same window: a new window has already started from zero.
    changes: dict[str, CombinedExpression] = {"pending": F("pending") - 1}
    if failed:
        changes["count"] = F("count") + 1
    LoginThrottle.objects.filter(key=key, window_start=window_start, pending__gt=0).update(**changes)


@dataclass
class LoginAttempt:
    """Slots in the counters, held while the password is checked."""

    slots: list[tuple[str, int]] = field(default_factory=list)
    settled: bool = False

    def succeeded(self) -> None:
        """The password was right: the attempt is not a failure."""
        self._settle(failed=False)

    def failed(self) -> None:
        """The password was wrong: it counts as a failure until the window passes."""
        self._settle(failed=True)

    def _settle(self, *, failed: bool) -> None:
        if not self.settled:
            self.settled = True
            for key, window_start in self.slots:
                _settle(key, window_start, failed=failed)


class _InFlight(Exception):
    """Over the limit only because of attempts still being checked: worth waiting for."""


def _wait_for_in_flight(seconds: float) -> None:
    time.sleep(seconds)


def _attempt_take(policy: ThrottlePolicy, address: str | None, login: str) -> LoginAttempt:
    """Slots in both counters, or LoginThrottled / _InFlight with every slot given back."""
    now = int(time.time())
    pair_key, address_key = _keys(policy, address, login)
    attempt = LoginAttempt()
    refused_key, in_flight = None, False
    window_end = now
    for key, limit in ((pair_key, policy.max_failures), (address_key, policy.max_failures_per_address)):
        failures, pending, window_start = _take_slot(key, now, policy.window_seconds)
        attempt.slots.append((key, window_start))
        if failures >= limit:
            refused_key, window_end = key, max(window_end, window_start + policy.window_seconds)
        elif failures + pending > limit:
            in_flight = True
    if refused_key is None and not in_flight:
        return attempt
    # Refused or deferred without a check, so it gives every slot back: waiting out the window is
    # enough, retries while throttled never extend it.
    attempt._settle(failed=False)
    if refused_key is not None:
        logger.warning("%s login throttled for %s (%s)", policy.scope, address, refused_key.split(":")[1])
        raise LoginThrottled(retry_after=max(1, window_end - now))
    raise _InFlight()


def login_attempt_start(*, policy: ThrottlePolicy, address: str | None, login: str) -> LoginAttempt:
    """Take a slot for one password check, or raise LoginThrottled (nothing counted then).

    Refused at once when the failures alone reach a limit; when only attempts still being checked
    push it over, waits for them (up to IN_FLIGHT_WAIT_SECONDS) and tries again."""
    if policy.max_failures <= 0:
        return LoginAttempt()
    deadline = time.monotonic() + IN_FLIGHT_WAIT_SECONDS
    delay = 0.02
    while True:
        try:
            return _attempt_take(policy, address, login)
        except _InFlight:
            if time.monotonic() >= deadline:
                logger.warning("%s login: too many attempts in flight from %s", policy.scope, address)
                raise LoginThrottled(retry_after=1) from None
        # Jittered and growing: many waiters do not poll the counters in step.
        _wait_for_in_flight(delay * random.uniform(0.5, 1.5))
        delay = min(delay * 2, 0.2)


def login_throttle_prune(*, now: float | None = None, older_than_seconds: int) -> int:
    """Delete counters whose window ended long ago (run by the periodic log pruning)."""
    cutoff = int(now if now is not None else time.time()) - older_than_seconds
    deleted, _ = LoginThrottle.objects.filter(window_start__lt=cutoff).delete()
    return deleted


def site_login_policy(scope: str) -> ThrottlePolicy:
    """The policy of the shop's own logins (API token, admin): LOGIN_MAX_FAILURES and
    LOGIN_FAILURE_WINDOW_SECONDS; each scope counts separately."""
    return ThrottlePolicy(
        scope=scope,
        max_failures=int(settings.LOGIN_MAX_FAILURES),
        window_seconds=int(settings.LOGIN_FAILURE_WINDOW_SECONDS),
    )
