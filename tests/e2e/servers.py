"""Real server processes for e2e tests: gunicorn started the way `make run` and deploy/ start it,
nginx in front of it. Each on a free loopback port, on the test database and the test's folders."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.services import ROOT, process_env, stop_process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, what: str = "server", *, timeout: float = 60
) -> None:
    """Wait until ``url`` answers at all; fail with the log's tail when ``process`` exits or never answers."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}") from None
            time.sleep(0.2)


@contextmanager
def running(argv: Sequence[str], *, env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """Start ``argv`` (a server listening on ``port``), yield its base URL once /health answers."""
    with log.open("ab") as sink:
        process = subprocess.Popen(list(argv), cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base_url}/health", process, log)
        yield base_url
    finally:
        stop_process(process)


@dataclass
class Gunicorn:
    base_url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children()]


@contextmanager
def gunicorn(log: Path, *, workers: int = 2, **env: str) -> Iterator[Gunicorn]:
    """gunicorn as deployed (``-c python:config.gunicorn``), ``workers`` processes."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "config.wsgi:application", "--config", "python:config.gunicorn",
                "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "120",
            ],
            cwd=ROOT, env=process_env(**env), stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base_url}/health", process, log, "gunicorn")
        yield Gunicorn(base_url=base_url, port=port, process=process, log=log)
    finally:
        stop_process(process)


@contextmanager
def onec_customers_service(log: Path, *, port: int | None = None) -> Iterator[str]:
    """`python -m emulator customers-service`, the fake of 1C's customers HTTP service, in its own
    process on ``port`` (a free one by default); yields the URL for ONEC_CUSTOMERS_URL. Its
    customers live in that process: stopping it loses them, as 1C would not."""
    port = port or free_port()
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "customers-service", "--port", str(port), "--seed", "1"],
            cwd=ROOT, env=process_env(), stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/customers"
    try:
        wait_until_up(url, process, log, "customers service")
        yield url
    finally:
        stop_process(process)


class RoundRobinTransport(httpx.BaseTransport):
    """Sends each request to the next of ``ports`` on loopback, as a load balancer in front of
    several web processes would: one 1C session spread over all of them."""

    def __init__(self, ports: Sequence[int]) -> None:
        self._ports = itertools.cycle(ports)
        self._transport = httpx.HTTPTransport()
        self.sent: dict[int, int] = dict.fromkeys(ports, 0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        port = next(self._ports)
        self.sent[port] += 1
        request.url = request.url.copy_with(port=port)
        return self._transport.handle_request(request)

    def close(self) -> None:
        self._transport.close()


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of its own (initdb into a temporary folder, a free port): a test may
    restart it without touching the machine's cluster, which other test runs share."""

    url: str
    data_dir: Path
    pg_ctl: Path

    def _ctl(self, *args: str) -> None:
        # The server's output goes to its log (-l), never to our pipes, which it would hold open.
        log = ["-l", str(self.data_dir.parent / "server.log")] if args[-1] in ("start", "restart") else []
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.pg_ctl), "-D", str(self.data_dir), "-w", *log, *args],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, as by a restart in production."""
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")


def postgres_binaries() -> Path | None:
    """The bin folder of the newest PostgreSQL installed from Debian's packages, if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found and shutil.which("runuser") and os.geteuid() == 0 else None


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """Initialise and start a throwaway cluster (as the postgres user; needs root), migrated for the
    site; yields its ``postgres`` database's URL. Durability is off: it lives for one test."""
    binaries = postgres_binaries()
    assert binaries is not None
    root = Path(tempfile.mkdtemp(prefix="shop1c-pg-"))
    shutil.chown(root, user="postgres")
    data_dir, port = root / "data", free_port()
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(binaries / "initdb"), "-D", str(data_dir), "-A", "trust", "-U", "postgres"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    server = PrivatePostgres(
        url=f"postgres://postgres@127.0.0.1:{port}/postgres", data_dir=data_dir, pg_ctl=binaries / "pg_ctl"
    )
    server._ctl("-o", options, "start")
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT, env=process_env(DATABASE_URL=server.url), check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
