"""Secrets never reach a log line: sessid, the exchange cookie, passwords, tokens, Basic
credentials — in the Django loggers and in what gunicorn writes."""

from __future__ import annotations

import io
import logging

import pytest

from config.log_masking import mask_secrets

SESSION_KEY = "ab" * 32
SESSID = "cd" * 16


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f'"GET /1c/exchange?type=catalog&mode=init&sessid={SESSID} HTTP/1.1" 200', SESSID),
        (f"/1c/exchange?type=catalog&mode=file&filename=a.xml&SESSID={SESSID}", SESSID),
        (f"Cookie: exchange_session={SESSION_KEY}; csrftoken=zz9", SESSION_KEY),
        (f"Set-Cookie: exchange_session={SESSION_KEY}; HttpOnly; Path=/", SESSION_KEY),
        ('{"email": "a@example.com", "password": "Hunter-2-secret"}', "Hunter-2-secret"),
        ("Authorization: Basic MWMtZXhjaGFuZ2U6c2VjcmV0", "MWMtZXhjaGFuZ2U6c2VjcmV0"),
        ("Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"),
        ("GET /api/orders/000002/?key=Zq81-access-key HTTP/1.1", "Zq81-access-key"),
        (f"mode=init&sessid%3D{SESSID}", SESSID),
    ],
)
def test_secret_values_are_masked(line: str, secret: str) -> None:
    masked = mask_secrets(line)

    assert secret not in masked
    assert "***" in masked


def test_the_rest_of_the_line_is_kept() -> None:
    line = f'127.0.0.1 "GET /1c/exchange?type=catalog&mode=import&filename=import.xml&sessid={SESSID} HTTP/1.1" 200'

    assert mask_secrets(line) == line.replace(SESSID, "***")


def test_the_configured_exchange_cookie_name_is_masked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import config.log_masking

    monkeypatch.setenv("EXCHANGE_COOKIE_NAME", "PHPSESSID")
    reloaded = importlib.reload(config.log_masking)
    try:
        assert reloaded.mask_secrets(f"Cookie: PHPSESSID={SESSION_KEY}") == "Cookie: PHPSESSID=***"
    finally:
        monkeypatch.delenv("EXCHANGE_COOKIE_NAME")
        importlib.reload(config.log_masking)


def test_the_project_loggers_write_no_secret() -> None:
    logger = logging.getLogger("exchange.views")
    # The console handler of LOGGING (pytest adds capture handlers of its own beside it).
    (handler,) = [h for h in logging.getLogger("exchange").handlers if type(h) is logging.StreamHandler]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        logger.warning("request failed: /1c/exchange?mode=init&sessid=%s", SESSID)
        try:
            raise ValueError(f"bad cookie exchange_session={SESSION_KEY}")
        except ValueError:
            logger.exception("with a traceback")
    finally:
        handler.setStream(previous)

    written = stream.getvalue()
    assert "sessid=***" in written
    assert SESSID not in written
    assert SESSION_KEY not in written
