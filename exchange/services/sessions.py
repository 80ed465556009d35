"""Exchange sessions: started by checkauth, found again on every later request, expired when idle.

Everything lives in the database (ExchangeSession), so a cache flush or a restart of every process
loses no exchange in progress.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from exchange.auth import AuthFailed, user_can_exchange
from exchange.conf import exchange_settings
from exchange.models import ExchangeSession, ExchangeType
from exchange.protocol import (
    SESSION_EXPIRED,
    SESSION_FINISHED,
    SESSION_MISSING,
    SESSION_SOURCE_CHECK,
    SESSION_WRONG_TYPE,
    Answer,
    ExchangeError,
    ParametersAnswer,
    parameters,
    success,
)
from exchange.services import uploads

if TYPE_CHECKING:
    from customers.models import User

logger = logging.getLogger(__name__)

# CommerceML versions the site reads and writes. init echoes the version 1C asked for when it is
# one of these, so 1C keeps the schema it chose; for anything else it answers the newest 2.x schema
# (2.10, the version of the newest official XSD and of Bitrix's newer order exporter) — what 1C does
# with this line is UNCERTAIN (protocol.md §2.2, §8.4), and a version it asked for is the safest.
SUPPORTED_VERSIONS = ("2.03", "2.04", "2.05", "2.06", "2.07", "2.08", "2.09", "2.10", "3.1")
FALLBACK_VERSION = "2.10"


# Session keys and sessid tokens are hex (secrets.token_hex); anything else is refused before it
# reaches a query (PostgreSQL rejects a NUL in a parameter, and no lookup is needed to say no).
_TOKEN = re.compile(r"[0-9a-f]{16,64}")


def _token(value: str | None) -> str | None:
    return value if value and _TOKEN.fullmatch(value) else None


class SessionRefused(ExchangeError):
    """The request names no usable session: 1C must start again with checkauth."""


def session_start(*, user: User, exchange_type: str, remote_addr: str | None) -> ExchangeSession:
    now = timezone.now()
    return ExchangeSession.objects.create(
        key=secrets.token_hex(32),
        csrf_token=secrets.token_hex(16),
        user=user,
        exchange_type=exchange_type,
        remote_addr=remote_addr,
        last_seen_at=now,
        started_timestamp=int(time.time()),
    )


def checkauth_answer(*, session: ExchangeSession) -> Answer:
    """``success``, cookie name and value, then the lines Bitrix adds (protocol.md §2.1, §3.1).

    Line 4 is ``sessid=<token>``: 1C appends it verbatim to every later URL, so it must be a
    ``key=value`` pair. Line 5, catalog only, is the server time that ``mode=deactivate`` gets back.
    """
    lines = [exchange_settings().cookie_name, session.key, f"sessid={session.csrf_token}"]
    if session.exchange_type == ExchangeType.CATALOG:
        lines.append(f"timestamp={session.started_timestamp}")
    return success(*lines)


def _is_idle(session: ExchangeSession, now: datetime) -> bool:
    return session.last_seen_at < now - timedelta(minutes=exchange_settings().session_idle_minutes)


def session_resolve(
    *,
    exchange_type: str,
    cookie_value: str | None,
    sessid: str | None,
    claimed_username: str | None = None,
    touch: bool = True,
) -> ExchangeSession:
    """The session a later request belongs to, touched; SessionRefused when there is none to use.

    ``touch=False`` leaves ``last_seen_at`` to the caller, which writes it together with what it
    writes anyway (an upload part: one UPDATE per part instead of two).

    The cookie from checkauth is the session: 1C always sends it (protocol.md §1.3), so a request
    without it is refused even when it carries a valid ``sessid``, which is only line 4 of the
    checkauth answer appended to URLs and so ends up in logs and proxies. The ``sessid`` 1C also
    appends is checked in addition when present (Bitrix's source check).
    """
    session: ExchangeSession | None
    if not cookie_value:
        raise SessionRefused(SESSION_MISSING)
    session = ExchangeSession.objects.select_related("user").filter(key=_token(cookie_value) or "").first()
    if session is None:
        raise SessionRefused(SESSION_MISSING)
    if sessid and not constant_time_compare(sessid, session.csrf_token):
        raise SessionRefused(SESSION_SOURCE_CHECK)

    # 1C may send Basic credentials again on later requests (UNCERTAIN, protocol.md §1.2); they are
    # not re-checked (the cookie is the credential), but they must not name someone else.
    if claimed_username and claimed_username.lower() != session.user.get_username().lower():
        raise SessionRefused(SESSION_SOURCE_CHECK)
    if session.exchange_type != exchange_type:
        raise SessionRefused(SESSION_WRONG_TYPE.format(expected=session.exchange_type, got=exchange_type))
    if session.status == ExchangeSession.Status.COMPLETED:
        raise SessionRefused(SESSION_FINISHED)
    now = timezone.now()
    if session.status == ExchangeSession.Status.EXPIRED or _is_idle(session, now):
        if session.status != ExchangeSession.Status.EXPIRED:
            ExchangeSession.objects.filter(pk=session.pk).update(status=ExchangeSession.Status.EXPIRED)
        raise SessionRefused(SESSION_EXPIRED)
    if not user_can_exchange(session.user):  # deactivated or permission revoked since checkauth
        raise AuthFailed()
    if touch:
        ExchangeSession.objects.filter(pk=session.pk).update(last_seen_at=now)
        session.last_seen_at = now
    return session


def negotiate_version(requested: str) -> str:
    return requested if requested in SUPPORTED_VERSIONS else FALLBACK_VERSION


def session_init(*, session: ExchangeSession, version: str | None) -> ParametersAnswer:
    """``mode=init``: a fresh upload folder and the upload parameters (protocol.md §2.2, §3.1).

    The ``sessid``/``version`` lines are added only when 1C sent ``version``, as Bitrix does; an
    older 1C reads exactly two lines.
    """
    conf = exchange_settings()
    uploads.upload_dir_reset(session=session)
    update: dict[str, object] = {"init_count": F("init_count") + 1}
    lines = [f"zip={'yes' if conf.zip else 'no'}", f"file_limit={conf.file_limit}"]
    if version:
        agreed = negotiate_version(version)
        update["protocol_version"] = session.protocol_version = agreed
        lines += [f"sessid={session.csrf_token}", f"version={agreed}"]
    ExchangeSession.objects.filter(pk=session.pk).update(**update)
    return parameters(*lines)


def session_complete(*, session: ExchangeSession) -> None:
    now = timezone.now()
    ExchangeSession.objects.filter(pk=session.pk).update(status=ExchangeSession.Status.COMPLETED, finished_at=now)
    session.status = ExchangeSession.Status.COMPLETED
    session.finished_at = now


def sessions_expire_idle(*, now: datetime | None = None) -> int:
    """Mark active sessions idle longer than EXCHANGE_SESSION_IDLE_MINUTES as expired."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=exchange_settings().session_idle_minutes)
    expired = ExchangeSession.objects.filter(status=ExchangeSession.Status.ACTIVE, last_seen_at__lt=cutoff).update(
        status=ExchangeSession.Status.EXPIRED, finished_at=now
    )
    if expired:
        logger.info("expired %d idle exchange sessions", expired)
    return expired
