"""Upload benchmark: a large file sent to the exchange endpoint through a real gunicorn in parts of
file_limit, against the floor of a plain Python loop writing the same bytes to the same disk.

    python -m benchmarks upload [--size-mib 1024] [--part-mib N] [--runs 5] [--workers 2]
                                [--dir PATH] [--database-url postgres://…/bench_upload]

Each run measures, in this order and from the same state (no dirty pages pending, the previous
run's files deleted):

* floor    - a plain Python loop reading the source and writing the target in 1 MiB blocks;
* ceiling  - the same parts POSTed by the same client to a bare WSGI app under the same gunicorn
             that only receives and writes (no Django, no database): what HTTP itself costs here;
* endpoint - the parts POSTed to /1c/exchange (checkauth and init done before).

Rates are given to the page cache and "durable" (with an fsync of the result at the end, the
same for all three). Also reported: the peak RSS growth of the gunicorn workers during the
endpoint's upload, their CPU use, the fixed cost of one part (1-byte parts), and what copying the
received bytes into the audit log would add instead of the hard link the endpoint makes. Goal:
endpoint >= 0.8 of the floor, RSS growth < 32 MB. It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
BLOCK = MiB  # exchange.services.uploads.BLOCK_SIZE, and the floor's block size
USER, PASSWORD = "bench-1c", "bench-password-1c"
CEILING_TARGET_ENV = "BENCH_UPLOAD_CEILING_TARGET"


def ceiling_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The HTTP ceiling: receive the body with recv_into one buffer and append it to a file,
    as the endpoint's fast path does, and nothing else."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    reader = environ["wsgi.input"].reader
    prefix = reader.unreader.take_buffered()[:length]
    sock = environ["gunicorn.socket"]
    view = memoryview(bytearray(BLOCK))
    fd = os.open(os.environ[CEILING_TARGET_ENV], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, prefix)
        received = len(prefix)
        while received < length:
            filled = 0
            wanted = min(BLOCK, length - received)
            while filled < wanted:
                count = sock.recv_into(view[filled:wanted], wanted - filled)
                if not count:
                    break
                filled += count
            if not filled:
                break
            os.write(fd, view[:filled])
            received += filled
        reader.length = 0
    finally:
        os.close(fd)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"success\n"]


@dataclass
class Run:
    floor_s: float
    floor_fsync_s: float
    ceiling_s: float
    ceiling_fsync_s: float
    upload_s: float
    upload_fsync_s: float
    copy_s: float
    rss_growth: int
    server_cpu: float  # CPU seconds the gunicorn workers spent during the endpoint's upload


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(var_dir: Path, part: int | None, size: int, database_url: str | None) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        VAR_DIR=str(var_dir),
        DATABASE_URL=database_url or f"sqlite:///{var_dir / 'db.sqlite3'}",
        CELERY_BROKER_URL=f"sqla+sqlite:///{var_dir / 'broker.sqlite3'}",
        EXCHANGE_DATA_DIR=str(var_dir / "exchange"),
        DJANGO_MEDIA_ROOT=str(var_dir / "media"),
        EXCHANGE_MAX_FILE_SIZE=str(max(size, 2 * 1024**3)),
        EXCHANGE_MAX_SESSION_SIZE=str(max(size, 8 * 1024**3)),
        DJANGO_DEBUG="0",
        LOG_LEVEL="WARNING",
    )
    env[CEILING_TARGET_ENV] = str(var_dir / "ceiling.bin")
    if part is not None:
        env["EXCHANGE_FILE_LIMIT"] = str(part)
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def _recreate_postgres(url: str, *, drop_only: bool = False) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def _source_file(folder: Path, size: int) -> Path:
    path = folder / f"source-{size // MiB}MiB.bin"
    if not path.exists() or path.stat().st_size != size:
        with path.open("wb") as sink:
            block = os.urandom(BLOCK)
            for index in range(size // BLOCK):
                # Vary every block a little so nothing below could deduplicate or compress it.
                sink.write(index.to_bytes(8, "little") + block[8:])
    return path


def _settle() -> None:
    os.sync()  # every phase starts without another phase's writeback pending


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RssSampler:
    """Peak RSS of the gunicorn workers, sampled every 20 ms in a thread."""

    def __init__(self, pids: list[int]) -> None:
        self.processes = [psutil.Process(pid) for pid in pids]
        self.baseline = {p.pid: p.memory_info().rss for p in self.processes}
        self.peak = dict(self.baseline)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for process in self.processes:
                try:
                    self.peak[process.pid] = max(self.peak[process.pid], process.memory_info().rss)
                except psutil.NoSuchProcess:
                    continue
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return max(self.peak[pid] - self.baseline[pid] for pid in self.baseline)


def _part(path: Path, offset: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as source:
        source.seek(offset)
        left = length
        while left:
            block = source.read(min(BLOCK, left))
            if not block:
                return
            left -= len(block)
            yield block


class Client:
    """The 1C side: checkauth, init, then parts of file_limit streamed from disk."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(timeout=600)
        self.base_url = base_url
        self.url = f"{base_url}/1c/exchange"
        self.cookie = ""
        self.suffix = ""

    def checkauth(self) -> None:
        lines = self.http.get(f"{self.url}?type=catalog&mode=checkauth", auth=(USER, PASSWORD)).text.split("\n")
        if lines[0] != "success":
            raise RuntimeError(f"checkauth failed: {lines}")
        self.cookie, self.suffix = f"{lines[1]}={lines[2]}", "&" + lines[3]

    def init(self) -> int:
        """``mode=init``; returns file_limit, the part size 1C then uses."""
        answer = dict(line.split("=", 1) for line in self.get("init").split("\n") if "=" in line)
        return int(answer["file_limit"])

    def get(self, mode: str) -> str:
        return self.http.get(f"{self.url}?type=catalog&mode={mode}{self.suffix}", headers={"Cookie": self.cookie}).text

    def post(self, url: str, content: Iterable[bytes] | bytes, length: int) -> str:
        headers = {"Cookie": self.cookie, "Content-Length": str(length)}
        return self.http.post(url, content=content, headers=headers).text

    def upload(self, source: Path, name: str, part: int, url: str | None = None) -> None:
        size = source.stat().st_size
        url = url or f"{self.url}?type=catalog&mode=file&filename={name}{self.suffix}"
        for offset in range(0, size, part):
            length = min(part, size - offset)
            answer = self.post(url, _part(source, offset, length), length)
            if answer != "success\n":
                raise RuntimeError(f"upload failed at {offset}: {answer!r}")


def _floor(source: Path, target: Path) -> tuple[float, float]:
    """A plain Python loop: read the source and write the target in BLOCK-sized blocks."""
    started = time.perf_counter()
    with source.open("rb") as src, target.open("wb") as dst:
        while block := src.read(BLOCK):
            dst.write(block)
    written = time.perf_counter()
    _fsync(target)
    return written - started, time.perf_counter() - started


def _copy_cost(received: Path, target: Path) -> float:
    """What copying the received bytes into the log costs (the alternative to the hard link the
    endpoint makes): the same in-kernel copy as exchange.services.audit._copy_range, + fsync."""
    started = time.perf_counter()
    size = received.stat().st_size
    src, dst = os.open(received, os.O_RDONLY), os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        offset = 0
        while offset < size:
            copied = os.copy_file_range(src, dst, size - offset, offset, offset)
            if not copied:
                break
            offset += copied
        os.fsync(dst)
    finally:
        os.close(src)
        os.close(dst)
    return time.perf_counter() - started


def _start_server(env: dict[str, str], app: str, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", app,
                "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "600",
            ],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-2000:]}")
        try:
            httpx.get(f"{base_url}/health", timeout=2)
            return process, base_url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _received_file(data_dir: Path, name: str) -> Path:
    candidates = [p for p in data_dir.glob(f"*/{name}") if re.fullmatch(r"[0-9a-f-]{36}(\.\d+)?", p.parent.name)]
    return max(candidates, key=lambda p: p.stat().st_mtime)


def _part_cost(client: Client, parts: int = 200, url: str | None = None) -> float:
    """Milliseconds one part costs besides its bytes: 1-byte parts, end to end."""
    url = url or f"{client.url}?type=catalog&mode=file&filename=tiny.xml{client.suffix}"
    client.post(url, b"x", 1)
    started = time.perf_counter()
    for _ in range(parts):
        client.post(url, b"x", 1)
    return (time.perf_counter() - started) / parts * 1000


def bench(
    size: int, part_wanted: int | None, runs: int, workers: int, folder: Path, database_url: str | None
) -> tuple[list[Run], float, float, int]:
    var_dir = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=folder))
    env = _env(var_dir, part_wanted, size, database_url)
    if database_url:
        _recreate_postgres(database_url)
    _manage(env, "migrate", "--noinput")
    _manage(env, "create_exchange_user", USER, "--password", PASSWORD, "--skip-validation")
    source = _source_file(folder, size)
    log = var_dir / "gunicorn.log"
    server, base_url = _start_server(env, "config.wsgi:application", workers, log)
    ceiling_server, ceiling_url = _start_server(env, "benchmarks.bench_upload:ceiling_app", workers, log)
    results: list[Run] = []
    try:
        pids = [child.pid for child in psutil.Process(server.pid).children()]
        client = Client(base_url)
        client.checkauth()
        part = client.init()  # parts of file_limit, as 1C sends them
        print(f"parts of file_limit = {part / MiB:g} MiB (from init)", flush=True)
        for _ in range(workers * 4):  # every worker has served requests, uploads included
            client.get("init")
            client.upload(_source_file(folder, 4 * MiB), "warm.xml", part)
        part_ms = _part_cost(client)
        ceiling_client = Client(ceiling_url)
        ceiling_target = Path(env[CEILING_TARGET_ENV])
        for _ in range(workers * 4):
            ceiling_client.upload(_source_file(folder, 4 * MiB), "", part, url=f"{ceiling_url}/upload")
        ceiling_part_ms = _part_cost(ceiling_client, url=f"{ceiling_url}/upload")
        ceiling_target.unlink()
        for run in range(runs):
            floor_target = var_dir / "floor.bin"
            _settle()
            floor_s, floor_fsync_s = _floor(source, floor_target)
            floor_target.unlink()

            _settle()
            started = time.perf_counter()
            ceiling_client.upload(source, "", part, url=f"{ceiling_url}/upload")
            ceiling_s = time.perf_counter() - started
            _fsync(ceiling_target)
            ceiling_fsync_s = time.perf_counter() - started
            ceiling_target.unlink()

            client.get("init")  # an empty folder, as in a real exchange
            _settle()
            workers_now = [psutil.Process(pid) for pid in pids]
            cpu_before = sum(sum(p.cpu_times()[:2]) for p in workers_now)
            with RssSampler(pids) as rss:
                started = time.perf_counter()
                client.upload(source, "offers.xml", part)
                upload_s = time.perf_counter() - started
            server_cpu = sum(sum(p.cpu_times()[:2]) for p in workers_now) - cpu_before
            received = _received_file(var_dir / "exchange", "offers.xml")
            _fsync(received)
            upload_fsync_s = time.perf_counter() - started
            if received.stat().st_size != size:
                raise RuntimeError("the received file has the wrong size")

            _settle()
            copy_target = var_dir / "copy.bin"
            copy_s = _copy_cost(received, copy_target)
            copy_target.unlink()
            # Delete what the run wrote, its audit link included, so that every run starts from
            # the same state: on the benchmark VM, keeping gigabytes of freshly written pages made
            # later writes several times slower, which measured the VM rather than this code.
            client.get("init")
            for name in (".trash", "logs"):
                shutil.rmtree(var_dir / "exchange" / name, ignore_errors=True)

            results.append(
                Run(
                    floor_s=floor_s,
                    floor_fsync_s=floor_fsync_s,
                    ceiling_s=ceiling_s,
                    ceiling_fsync_s=ceiling_fsync_s,
                    upload_s=upload_s,
                    upload_fsync_s=upload_fsync_s,
                    copy_s=copy_s,
                    rss_growth=rss.growth,
                    server_cpu=server_cpu,
                )
            )
            _print_run(run, size, results[-1])
    finally:
        _stop(server)
        _stop(ceiling_server)
        shutil.rmtree(var_dir, ignore_errors=True)
        if database_url:
            _recreate_postgres(database_url, drop_only=True)
    return results, part_ms, ceiling_part_ms, part


def _rate(size: int, seconds: float) -> float:
    return size / MiB / seconds


def _print_run(index: int, size: int, run: Run) -> None:
    print(
        f"run {index + 1}: floor {_rate(size, run.floor_s):5.0f} MB/s (durable {_rate(size, run.floor_fsync_s):5.0f})"
        f" | ceiling {_rate(size, run.ceiling_s):5.0f} ({_rate(size, run.ceiling_fsync_s):5.0f})"
        f" | endpoint {_rate(size, run.upload_s):5.0f} ({_rate(size, run.upload_fsync_s):5.0f})"
        f" | RSS +{run.rss_growth / MiB:4.1f} MiB | server CPU {run.server_cpu / run.upload_s:4.0%}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks upload", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the uploaded file (MiB)")
    parser.add_argument(
        "--part-mib", type=int, help="file_limit the server announces (MiB); default: EXCHANGE_FILE_LIMIT's default"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--dir", type=Path, default=ROOT / "var", help="where the servers and the floor write")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to (re)create for the server, e.g. postgres://postgres@127.0.0.1:5432/bench_upload;"
        " default: a SQLite file in a temporary VAR_DIR",
    )
    args = parser.parse_args(argv)
    size = args.size_mib * MiB
    args.dir.mkdir(parents=True, exist_ok=True)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"upload benchmark: {args.size_mib} MiB, {args.workers} gunicorn workers, block {BLOCK // 1024} KiB,"
          f" {database}, folder {args.dir}")  # fmt: skip
    results, part_ms, ceiling_part_ms, part = bench(
        size, args.part_mib * MiB if args.part_mib else None, args.runs, args.workers, args.dir, args.database_url
    )

    def median(values: Iterable[float]) -> float:
        return statistics.median(list(values))

    # The floor, the ceiling and the endpoint of one run are measured back to back, so each run's
    # ratios compare like with like; the goal is judged on the medians of the per-run ratios.
    print(
        f"median of {len(results)} runs (MB/s; ratios are per run, then the median):\n"
        f"  page cache: floor {median(_rate(size, r.floor_s) for r in results):.0f},"
        f" ceiling {median(_rate(size, r.ceiling_s) for r in results):.0f},"
        f" endpoint {median(_rate(size, r.upload_s) for r in results):.0f};"
        f" endpoint/floor {median(r.floor_s / r.upload_s for r in results):.2f},"
        f" endpoint/ceiling {median(r.ceiling_s / r.upload_s for r in results):.2f},"
        f" ceiling/floor {median(r.floor_s / r.ceiling_s for r in results):.2f}\n"
        f"  durable:    floor {median(_rate(size, r.floor_fsync_s) for r in results):.0f},"
        f" ceiling {median(_rate(size, r.ceiling_fsync_s) for r in results):.0f},"
        f" endpoint {median(_rate(size, r.upload_fsync_s) for r in results):.0f};"
        f" endpoint/floor {median(r.floor_fsync_s / r.upload_fsync_s for r in results):.2f} (goal >= 0.80),"
        f" endpoint/ceiling {median(r.ceiling_fsync_s / r.upload_fsync_s for r in results):.2f}\n"
        f"  one part's fixed cost (1-byte parts, end to end): {part_ms:.1f} ms"
        f" = {part_ms * size / part / 1000:.2f} s per {args.size_mib} MiB in parts of {part / MiB:g} MiB;"
        f" of which HTTP itself (the ceiling's): {ceiling_part_ms:.1f} ms\n"
        f"  worker RSS growth: max {max(r.rss_growth for r in results) / MiB:.1f} MiB (goal < 32 MB)\n"
        f"  copying into the audit log instead of linking would make the durable endpoint/floor"
        f" {median(r.floor_fsync_s / (r.upload_fsync_s + r.copy_s) for r in results):.2f}"
    )


if __name__ == "__main__":
    main()
