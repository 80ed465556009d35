"""Login throttles shared by every password check: the 1C exchange's checkauth, the API's token
login and the admin login.

Failures are counted per (address, login) and per address, never per login alone: a stranger who
guesses a login's password from elsewhere cannot lock its real owner out (1C, whose address has not
failed, is never refused). The login is normalised (stripped, casefolded) before it is counted, so
``eX1c`` and ``EX1c`` share one counter.

Atomic under concurrency: an attempt first takes a slot in both counters with one upsert each
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``, atomic on PostgreSQL and SQLite ≥ 3.35), and only
an attempt whose slot is within the limit gets its password checked. A failed check keeps its
slot (it is the failure count); a successful one, or one refused without a check, gives its slot
back. So N parallel tries get at most ``limit`` password checks, however they interleave. The
counters live in the database (customers.LoginThrottle), shared by every process of the site.

A window starts with the first counted attempt and lasts ``window_seconds``; when it has passed the
next attempt starts a new window at 1.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import F

from customers.models import LoginThrottle

logger = logging.getLogger(__name__)

# One address may fail this many times more than one (address, login) pair: an office behind one
# NAT address has several people who mistype, while a spray over many logins is still stopped.
ADDRESS_FACTOR = 4

# What a person sees when refused (API 429 detail, admin login form).
LOGIN_THROTTLED = "Слишком много неудачных попыток входа. Повторите попытку позже."


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


def _take_slot(key: str, now: int, window_seconds: int) -> tuple[int, int]:
    """Count one attempt on ``key``; its count after that and the window it fell in."""
    table = connection.ops.quote_name(LoginThrottle._meta.db_table)
    key_col, count_col, start_col = (connection.ops.quote_name(name) for name in ("key", "count", "window_start"))
    expired = now - window_seconds
    sql = (
        f"INSERT INTO {table} ({key_col}, {count_col}, {start_col}) VALUES (%s, 1, %s) "  # noqa: S608
        f"ON CONFLICT ({key_col}) DO UPDATE SET "
        f"{count_col} = CASE WHEN {table}.{start_col} <= %s THEN 1 ELSE {table}.{count_col} + 1 END, "
        f"{start_col} = CASE WHEN {table}.{start_col} <= %s THEN %s ELSE {table}.{start_col} END "
        f"RETURNING {count_col}, {start_col}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, now, expired, expired, now])
        row = cursor.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _give_back(key: str, window_start: int) -> None:
    # Only within the same window: a new window has already started from zero.
    LoginThrottle.objects.filter(key=key, window_start=window_start, count__gt=0).update(count=F("count") - 1)


@dataclass
class LoginAttempt:
    """A slot in the counters, held while the password is checked."""

    slots: list[tuple[str, int]] = field(default_factory=list)
    settled: bool = False

    def succeeded(self) -> None:
        """The password was right: the attempt is not a failure."""
        self._release()

    def _release(self) -> None:
        if not self.settled:
            self.settled = True
            for key, window_start in self.slots:
                _give_back(key, window_start)

    def failed(self) -> None:
        """The password was wrong: the slot stays taken until the window passes."""
        self.settled = True


def login_attempt_start(*, policy: ThrottlePolicy, address: str | None, login: str) -> LoginAttempt:
    """Take a slot for one password check, or raise LoginThrottled (nothing counted then)."""
    attempt = LoginAttempt()
    if policy.max_failures <= 0:
        return attempt
    now = int(time.time())
    pair_key, address_key = _keys(policy, address, login)
    for key, limit in ((pair_key, policy.max_failures), (address_key, policy.max_failures_per_address)):
        count, window_start = _take_slot(key, now, policy.window_seconds)
        attempt.slots.append((key, window_start))
        if count > limit:
            # Refused without a check, so it gives every slot back: waiting out the window is
            # enough, retries while throttled never extend it.
            attempt._release()
            logger.warning("%s login throttled for %s (%s)", policy.scope, address, key.split(":")[1])
            raise LoginThrottled(retry_after=max(1, window_start + policy.window_seconds - now))
    return attempt


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
