"""The exchange endpoint behind a real gunicorn (2 worker processes), driven over HTTP by the 1C
emulator and by httpx: what production sees, including the quirks of 1C's client."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import global_settings

from catalog.models import Product
from emulator.client import ExchangeFailure, OneCClient
from exchange.models import ExchangeFile, ExchangeRequestLog, ExchangeSession
from exchange.services.uploads import session_upload_dir
from tests.exchange.conftest import PASSWORD, make_exchange_user
from tests.factories import OrderFactory, OrderItemFactory
from tests.services import ROOT, process_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SAMPLES = ROOT / "tests" / "data" / "cml" / "cml207-dobromyslov"


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def exchange_url(self) -> str:
        return f"{self.base_url}/1c/exchange"

    def worker_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """gunicorn on a free port, on the test database and this test's private folders."""
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = process_env(EXCHANGE_UPLOAD_LOCK_WAIT_SECONDS="60")
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "config.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "120",
            ],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                httpx.get(f"{base_url}/health", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.2)
        yield Server(base_url=base_url, process=process, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def user(db: None, settings) -> str:
    # The suite hashes with MD5 for speed; the server process only knows the real hashers.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    return make_exchange_user().email


def test_the_server_answers_1c_at_every_address_in_plain_text(server: Server, user: str) -> None:
    for address in ("/1c/exchange", "/1c/exchange/", "/bitrix/admin/1c_exchange.php"):
        response = httpx.get(f"{server.base_url}{address}?type=catalog&mode=checkauth", auth=(user, PASSWORD))
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.text.startswith("success\nexchange_session\n")

    refused = httpx.get(f"{server.base_url}/1c/exchange?type=catalog&mode=checkauth", auth=(user, "wrong"))
    assert (refused.status_code, refused.text) == (
        200,
        "failure\nОшибка авторизации. Неверное имя пользователя или пароль.\n",
    )


@pytest.mark.worker
def test_a_sale_exchange_through_the_emulator(
    server: Server, user: str, worker: subprocess.Popen[bytes], worker_shared_dirs: Path, tmp_path: Path
) -> None:
    order = OrderFactory(contact_name="Анна", contact_email="anna-e2e@example.com")
    OrderItemFactory(order=order)
    changes = tmp_path / "documents___1.xml"
    changes.write_bytes(
        b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?>"
        + '<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.10"/>'.encode()
    )

    with OneCClient(server.exchange_url, user, PASSWORD, poll_interval=0.2) as onec:
        result = onec.run_sale_exchange([changes], version="2.08", reply_status_id="confirmed")

    assert result.orders.has_bom
    assert result.orders.root_tag == "КоммерческаяИнформация"
    assert [document.number for document in result.orders.documents] == [order.number]
    # The reply was applied by the worker while 1C polled mode=import.
    assert result.report.imports[-1].message.startswith("Изменения заказов применены.")
    order.refresh_from_db()
    assert (order.sent_to_1c, order.status) == (True, "confirmed")
    session = ExchangeSession.objects.get()
    assert session.query_confirmed_at is not None
    # The server's upload folder is its own (the worker fixture points this process elsewhere).
    assert ExchangeFile.objects.filter(
        session=session, name="documents___1.xml", size=len(changes.read_bytes())
    ).exists()
    assert set(ExchangeRequestLog.objects.values_list("mode", flat=True)) == {
        "checkauth", "init", "query", "success", "file", "import",
    }  # fmt: skip
    # The status email went out from the worker (console backend: into the worker's log).
    log = worker_shared_dirs / "worker.log"
    deadline = time.monotonic() + 30
    while "anna-e2e@example.com" not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert f"Статус вашего заказа № {order.number} изменился" in log.read_text(errors="replace")


def test_a_big_file_arrives_whole_in_parts_through_both_workers(server: Server, user: str, tmp_path: Path) -> None:
    source = tmp_path / "offers.xml"
    with source.open("wb") as sink:
        for _ in range(24):
            sink.write(os.urandom(1024 * 1024))

    with OneCClient(server.exchange_url, user, PASSWORD) as onec:
        onec.checkauth()
        onec.init()
        result = onec.upload("catalog", "offers.xml", source, file_limit=4 * 1024 * 1024)

    assert len(result.part_sizes) == 6
    stored = ExchangeFile.objects.get()
    assert (stored.size, stored.parts) == (source.stat().st_size, 6)
    uploaded = session_upload_dir(ExchangeSession.objects.get()) / "offers.xml"
    assert hashlib.sha256(uploaded.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()


def test_a_chunked_body_is_accepted(server: Server, user: str) -> None:
    with OneCClient(server.exchange_url, user, PASSWORD) as onec:
        auth = onec.checkauth()
        url = onec.build_url("catalog", "file", filename="import.xml")

    def blocks() -> Iterator[bytes]:
        yield b"<import>"
        yield b"x" * 100_000
        yield b"</import>"

    response = httpx.post(url, content=blocks(), headers={"Cookie": auth.cookie_header})

    assert response.text == "success\n"
    assert ExchangeFile.objects.get().size == 100_017


def _slow_part(marker: bytes, size: int) -> Iterator[bytes]:
    block = marker * (64 * 1024 // len(marker))
    sent = 0
    while sent < size:
        yield block
        sent += len(block)
        time.sleep(0.005)  # a slow network, so that both parts are in flight at the same time


def test_two_parts_of_one_file_sent_at_once_never_interleave(server: Server, user: str) -> None:
    with OneCClient(server.exchange_url, user, PASSWORD) as onec:
        auth = onec.checkauth()
        onec.init()
        url = onec.build_url("catalog", "file", filename="offers.xml")
    size = 4 * 1024 * 1024
    answers: dict[bytes, str] = {}

    def send(marker: bytes) -> None:
        response = httpx.post(
            url,
            content=_slow_part(marker, size),
            headers={"Cookie": auth.cookie_header, "Content-Length": str(size)},
            timeout=120,
        )
        answers[marker] = response.text

    threads = [threading.Thread(target=send, args=(marker,)) for marker in (b"A", b"B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert answers == {b"A": "success\n", b"B": "success\n"}
    data = (session_upload_dir(ExchangeSession.objects.get()) / "offers.xml").read_bytes()
    assert data in (b"A" * size + b"B" * size, b"B" * size + b"A" * size)
    assert ExchangeFile.objects.get().parts == 2


def test_an_oversized_upload_is_refused_with_a_readable_answer(server: Server, user: str) -> None:
    with OneCClient(server.exchange_url, user, PASSWORD) as onec:
        onec.checkauth()
        onec.init()
        declared = 3 * 1024**3  # the server's limit is 2 GiB
        block = b"x" * (1024 * 1024)
        with pytest.raises(ExchangeFailure) as refused:
            # Refused on the declared length, before a byte is written: the server answers and
            # closes, and the client reads the answer although it could not send everything.
            onec._text_request(
                "POST",
                "file",
                onec.build_url("catalog", "file", filename="huge.xml"),
                content=(block for _ in range(declared // len(block))),
                content_length=declared,
            )

    assert "больше допустимого размера" in refused.value.text
    assert not ExchangeFile.objects.exists()


@pytest.mark.worker
def test_a_catalog_exchange_through_the_emulator_imports_the_catalog(
    worker, server_with_worker: Server, user: str
) -> None:
    with OneCClient(server_with_worker.exchange_url, user, PASSWORD, poll_interval=0.2) as onec:
        report = onec.run_catalog_exchange([SAMPLES / "import0_1.xml", SAMPLES / "offers0_1.xml"], use_zip=True)

    assert [result.filename for result in report.imports] == ["import0_1.xml", "offers0_1.xml"]
    assert report.imports[0].progress[0] == "Распаковка архива завершена."
    assert Product.objects.exists()
    session = ExchangeSession.objects.get()
    assert session.status == ExchangeSession.Status.COMPLETED
    assert ExchangeFile.objects.get().unpacked_at is not None


@pytest.fixture
def server_with_worker(worker, server: Server) -> Server:
    return server


def test_no_server_process_grows_while_receiving(server: Server, user: str, tmp_path: Path) -> None:
    import psutil

    source = tmp_path / "import.xml"
    with source.open("wb") as sink:
        block = os.urandom(1024 * 1024)
        for _ in range(64):
            sink.write(block)
    with OneCClient(server.exchange_url, user, PASSWORD) as onec:
        onec.checkauth()
        onec.init()
        onec.upload("catalog", "import.xml", source, file_limit=8 * 1024 * 1024)  # warm both workers
        before = {pid: psutil.Process(pid).memory_info().rss for pid in server.worker_pids()}
        onec.init()
        onec.upload("catalog", "import.xml", source, file_limit=64 * 1024 * 1024)
        after = {pid: psutil.Process(pid).memory_info().rss for pid in server.worker_pids()}

    growth = max(after[pid] - before[pid] for pid in before)
    assert growth < 16 * 1024 * 1024, growth
    shutil.rmtree(tmp_path / "exchange", ignore_errors=True)
