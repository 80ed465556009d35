"""Secrets never reach a log: the one place that knows what a secret looks like in a log line.

Used by the Django loggers (``SecretsFilter`` on every handler), by gunicorn's access log
(``config.gunicorn.MaskingLogger``) and by the exchange's request log rows
(exchange.services.audit). Pure Python: the gunicorn master uses it without Django.

What is masked: the value of a query or form parameter (or cookie) named like a secret —
``sessid=…`` that 1C appends to every URL, the exchange cookie, passwords, tokens, a guest
order's ``key=`` — and the credentials of ``Authorization`` values (``Basic …``, ``Token …``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

MASK = "***"

# Parameter, field and cookie names whose values are secrets. The exchange cookie's configured
# name is added by ``secret_names()``.
SECRET_NAMES = frozenset(
    {
        "sessid",
        "password",
        "passwd",
        "token",
        "key",
        "access_key",
        "secret",
        "sessionid",
        "csrftoken",
        "csrfmiddlewaretoken",
        "exchange_session",
    }
)

_CREDENTIALS = re.compile(r"(?i)\b(Basic|Bearer|Token)(\s+|%20|\+)[A-Za-z0-9+/=._~%-]+")


def secret_names() -> frozenset[str]:
    # Read straight from the environment: the gunicorn master has no Django settings. The
    # variable is registered and documented by config/settings.py (EXCHANGE_COOKIE_NAME).
    cookie = os.environ.get("EXCHANGE_COOKIE_NAME", "").strip()
    return SECRET_NAMES | {cookie.lower()} if cookie else SECRET_NAMES


def _parameter_pattern(names: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    # name=value in a query string, a form body or a Cookie header; the name may be
    # percent-encoded or quoted as JSON ("password": "…").
    return re.compile(rf"""(?i)(?<![A-Za-z0-9_])((?:{alternatives})(?:=|%3D|"\s*:\s*"|'\s*:\s*'))([^&\s;,"']*)""")


_PATTERN = _parameter_pattern(secret_names())


def mask_secrets(text: str) -> str:
    """``text`` with every secret value replaced by ``***``."""
    if not text:
        return text
    text = _PATTERN.sub(lambda match: match.group(1) + (MASK if match.group(2) else ""), text)
    return _CREDENTIALS.sub(lambda match: f"{match.group(1)}{match.group(2)}{MASK}", text)


def is_secret_name(name: str) -> bool:
    return name.strip().lower() in secret_names()


class SecretsFilter(logging.Filter):
    """Masks secrets in a record's message (and its formatted traceback) before any handler
    writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True
