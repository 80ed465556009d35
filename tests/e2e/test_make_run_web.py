"""The web server exactly as `make run` starts it (config.run's command line): what its logs hold
and how it copes with slow clients."""

from __future__ import annotations

import socket
import threading
import time
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


def _slow_post(base_url: str, stop: threading.Event, sent: list[int]) -> None:
    """A POST whose 1000-byte body arrives one byte at a time."""
    port = int(base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /api/orders/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n"
        )
        while not stop.is_set() and sent[0] < 1000:
            sock.sendall(b" ")
            sent[0] += 1
            stop.wait(0.2)


def test_three_slow_clients_do_not_stop_health_answering(web: Web) -> None:
    stop = threading.Event()
    counters = [[0] for _ in range(3)]
    slow = [threading.Thread(target=_slow_post, args=(web.base_url, stop, sent)) for sent in counters]
    for thread in slow:
        thread.start()
    try:
        time.sleep(1)  # every slow client is inside its body now
        timings = []
        for _ in range(10):
            started = time.monotonic()
            response = httpx.get(f"{web.base_url}/health", timeout=10)
            timings.append(time.monotonic() - started)
            assert response.status_code == 200
            time.sleep(0.3)
        still_sending = all(sent[0] > 10 and sent[0] < 1000 for sent in counters)
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=30)

    assert still_sending  # the slow clients were really being served all along
    assert max(timings) < 2.0, timings


@pytest.fixture
def impatient_web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    monkeypatch.setenv("WEB_READ_TIMEOUT", "2")
    port = free_port()
    monkeypatch.setenv("PORT", str(port))
    argv = config.run.commands()["web"]
    log = tmp_path / "web.log"
    with running(argv, env=process_env(PORT=str(port), WEB_READ_TIMEOUT="2"), port=port, log=log) as base_url:
        yield Web(base_url=base_url, log=log)


def test_a_client_that_goes_silent_mid_body_is_let_go(impatient_web: Web) -> None:
    port = int(impatient_web.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /api/orders/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        started = time.monotonic()
        while sock.recv(65536):  # whatever answer comes, the server closes the connection
            pass
        waited = time.monotonic() - started

    assert 1.5 < waited < 15
