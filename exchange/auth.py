"""Who may exchange: HTTP Basic credentials of ``mode=checkauth``, the exchange permission, and a
throttle on repeated failures per (address, login) and per address (customers.login_throttle).

Only checkauth carries credentials; every later request is authenticated by the session cookie
(protocol.md §1.2, §1.3 — widely used servers do the same and it works with real 1C).
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import authenticate
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.http import HttpRequest

from customers.login_throttle import LoginThrottled, ThrottlePolicy, login_attempt_start
from exchange.conf import exchange_settings
from exchange.protocol import AUTH_FAILED, AUTH_THROTTLED, ExchangeError

if TYPE_CHECKING:
    from customers.models import User

logger = logging.getLogger(__name__)

# The permission that lets a user exchange with 1C (ExchangeSession.Meta.permissions). Active
# superusers have it implicitly, as Django's has_perm says for every permission: an administrator
# may run an exchange with their own account, which helps when setting a node up. Staff users
# without it are refused like a wrong password.
EXCHANGE_PERMISSION = "exchange.exchange_1c"

# Where the Basic header may arrive. Behind PHP-CGI/FastCGI-style front ends the header is
# stripped and a rewrite rule passes it on in one of these variables (protocol.md §1.2):
# `RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]` and its REMOTE_USER variants.
_AUTHORIZATION_SOURCES = (
    "HTTP_AUTHORIZATION",
    "REDIRECT_HTTP_AUTHORIZATION",
    "REMOTE_USER",
    "REDIRECT_REMOTE_USER",
)


class AuthFailed(ExchangeError):
    reason = AUTH_FAILED


class AuthThrottled(ExchangeError):
    reason = AUTH_THROTTLED


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = ""

    def __repr__(self) -> str:  # never print a password, even in a traceback
        return f"Credentials(username={self.username!r})"


def _decode(raw: bytes) -> str:
    # 1C sends UTF-8; an old client with a Cyrillic login may send windows-1251.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1251")


def basic_credentials(meta: dict[str, Any]) -> Credentials | None:
    """The Basic credentials of a request, from the header or the CGI fallbacks.

    REMOTE_USER counts only when it holds a whole ``Basic …`` value (what the rewrite rule puts
    there); a bare user name in it would be a claim without a password, and is ignored.
    """
    for key in _AUTHORIZATION_SOURCES:
        value = str(meta.get(key) or "").strip()
        scheme, _, token = value.partition(" ")
        token = "".join(token.split())  # a wrapped base64 line is still one token
        if scheme.lower() != "basic" or not token:
            continue
        try:
            decoded = _decode(base64.b64decode(token, validate=True))
        except (binascii.Error, ValueError):
            continue
        username, _, password = decoded.partition(":")
        if "\x00" in decoded:  # no login has one; it would only break the database lookups
            return Credentials(username="")
        return Credentials(username=username.strip(), password=password)
    return None


def user_can_exchange(user: Any) -> bool:
    """``user.has_perm(EXCHANGE_PERMISSION)`` for the model backend, in one small query instead
    of two: it runs on every request of an exchange (a permission revoked mid-exchange stops it).
    Measured: cheaper than an Exists() annotation on the session lookup, whose compilation alone
    costs more than this query."""
    if user is None or not user.is_active:
        return False
    if user.is_superuser:
        return True
    app_label, codename = EXCHANGE_PERMISSION.split(".")
    return Permission.objects.filter(
        Q(user=user) | Q(group__user=user), content_type__app_label=app_label, codename=codename
    ).exists()


def exchange_throttle_policy() -> ThrottlePolicy:
    conf = exchange_settings()
    return ThrottlePolicy(
        scope="exchange", max_failures=conf.auth_max_failures, window_seconds=conf.auth_window_seconds
    )


def exchange_authenticate(*, request: HttpRequest, credentials: Credentials | None, remote_addr: str | None) -> User:
    """The user that may exchange, or AuthFailed with the same text whatever went wrong;
    AuthThrottled, without checking the password, after too many failures from this address
    (customers.login_throttle)."""
    try:
        attempt = login_attempt_start(
            policy=exchange_throttle_policy(),
            address=remote_addr,
            login=credentials.username if credentials else "",
        )
    except LoginThrottled:
        raise AuthThrottled() from None
    try:
        user = _check_credentials(request=request, credentials=credentials, remote_addr=remote_addr)
    except AuthFailed:
        attempt.failed()
        raise
    attempt.succeeded()
    return user


def _check_credentials(*, request: HttpRequest, credentials: Credentials | None, remote_addr: str | None) -> User:
    if credentials is None or not credentials.username:
        logger.info("checkauth without credentials from %s", remote_addr)
        raise AuthFailed()
    # Logins are stored lower-cased by the user manager; 1C keeps what the operator typed.
    user = authenticate(request, username=credentials.username.lower(), password=credentials.password)
    if user is None:
        logger.info("checkauth refused for %r: wrong credentials or inactive user", credentials.username)
        raise AuthFailed()
    if not user_can_exchange(user):
        logger.warning("checkauth refused for %r: no %s permission", credentials.username, EXCHANGE_PERMISSION)
        raise AuthFailed()
    return cast("User", user)
