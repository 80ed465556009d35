"""The web server exactly as `make run` starts it (config.run's command line): what its logs hold
and how it copes with slow clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import global_settings

import config.run
from exchange.models import ExchangeSession
from tests.e2e.servers import free_port, running
from tests.exchange.conftest import PASSWORD, make_exchange_user
from tests.services import process_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@dataclass
class Web:
    base_url: str
    log: Path


@pytest.fixture
def web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    port = free_port()
    monkeypatch.setenv("PORT", str(port))
    monkeypatch.setenv("HOST", "127.0.0.1")
    argv = config.run.commands()["web"]
    log = tmp_path / "web.log"
    with running(argv, env=process_env(PORT=str(port), HOST="127.0.0.1"), port=port, log=log) as base_url:
        yield Web(base_url=base_url, log=log)


@pytest.fixture
def user(db: None, settings) -> str:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # what the server verifies with
    return make_exchange_user().email


def test_the_access_log_holds_no_session_secret(web: Web, user: str) -> None:
    url = f"{web.base_url}/1c/exchange"
    checkauth = httpx.get(f"{url}?type=catalog&mode=checkauth", auth=(user, PASSWORD), timeout=30)
    _, cookie_name, cookie_value, sessid_line, *_ = checkauth.text.split("\n")
    cookies = {cookie_name: cookie_value}
    init = httpx.get(f"{url}?type=catalog&mode=init&{sessid_line}", cookies=cookies, timeout=30)
    upload = httpx.post(
        f"{url}?type=catalog&mode=file&filename=import.xml&{sessid_line}", content=b"<x/>", cookies=cookies, timeout=30
    )
    assert (init.text.split("\n")[0], upload.text.split("\n")[0]) == ("zip=yes", "success")
    bad = httpx.get(f"{web.base_url}/1c/exchange?type=catalog&mode=init&sessid=0123456789abcdef0123", timeout=10)
    assert bad.text.startswith("failure")

    session = ExchangeSession.objects.get()
    log = web.log.read_text(errors="replace")
    assert log.count("sessid=***") >= 3  # the access log has the lines, without the value
    for secret in (session.key, session.csrf_token, "0123456789abcdef0123"):
        assert secret not in log
