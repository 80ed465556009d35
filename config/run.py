"""Start the web server, a Celery worker and Celery beat together; Ctrl-C stops all of them.

Used by `make run`. If any of the three exits, the others are stopped too, so a half-running
shop (a web server without its worker) never stays up unnoticed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config.env import env_int, env_str
from observability.multiproc import multiproc_dir_prepare

BIN = Path(sys.executable).parent


def commands() -> dict[str, list[str]]:
    port = env_int("PORT", 8000, "Port of the web server started by `make run`.")
    host = env_str("HOST", "127.0.0.1", "Address the web server started by `make run` listens on.")
    web_workers = env_int("WEB_WORKERS", 3, "gunicorn worker processes started by `make run`.")
    concurrency = env_int("WORKER_CONCURRENCY", 2, "Celery worker processes started by `make run`.")
    return {
        "web": [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "--config",
            "python:config.gunicorn",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(web_workers),
        ],
        "worker": [str(BIN / "celery"), "-A", "config", "worker", "-l", "info", "--concurrency", str(concurrency)],
        "beat": [str(BIN / "celery"), "-A", "config", "beat", "-l", "info"],
    }


def metrics_dir() -> Path:
    """The Prometheus folder the children will share: the settings decide it (and export it)."""
    from config import settings

    return settings.PROMETHEUS_MULTIPROC_DIR


def main() -> int:
    processes: dict[str, subprocess.Popen[bytes]] = {}
    # Nothing of ours runs yet: the samples of a previous run are stale, start the counts afresh.
    multiproc_dir_prepare(metrics_dir(), keep_live=False)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, argv in commands().items():
        # Each child gets its own process group so that our Ctrl-C handling decides the order.
        processes[name] = subprocess.Popen(argv, env=os.environ.copy(), start_new_session=True)  # noqa: S603
    exit_code = 0
    try:
        while not stopping:
            for name, proc in processes.items():
                code = proc.poll()
                if code is not None:
                    print(f"[run] {name} exited with {code}; stopping the rest", file=sys.stderr)
                    exit_code = code or 1
                    stopping = True
                    break
            time.sleep(0.5)
    finally:
        for proc in processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
