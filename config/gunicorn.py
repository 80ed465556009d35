"""gunicorn's configuration for the site (``gunicorn -c python:config.gunicorn``), shared by what
`make run` (config.run) starts and deploy/systemd/shop1c-web.service: the address, port and number
of workers come on the command line (options given there win), everything else is here.

Threaded workers: with sync workers, three clients sending a POST body one byte at a time held all
three workers and /health timed out for minutes. Each worker now serves WEB_THREADS requests at
once, a connection that sends nothing is parked in gunicorn's poller instead of holding a thread,
and a read that waits WEB_READ_TIMEOUT seconds for a single byte ends the request. In production a
buffering proxy in front (nginx, README) still does the real job: it reads slow bodies itself and
hands gunicorn whole requests.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

from config.env import env_int
from config.log_masking import SecretsFilter

# A client silent this long in the middle of its request headers or body is given up: 1C's
# uploads and every API client send continuously; a proxy in front buffers anyway.
READ_TIMEOUT_SECONDS = float(
    env_int("WEB_READ_TIMEOUT", 60, "Seconds the web server waits for the next byte of a request before giving up.")
)


class MaskingLogger(Logger):
    """gunicorn's logger with secrets masked in the access log and the error log: 1C appends
    ``sessid=…`` to every URL, Set-Cookie carries the exchange session, and gunicorn logs the raw
    request line when a request fails."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, SecretsFilter) for existing in log.filters):
                log.addFilter(SecretsFilter())


class ReadTimeoutThreadWorker(ThreadWorker):
    """gunicorn's threaded worker with a timeout on every read from the client. gunicorn makes
    the socket blocking (no timeout) each time a request is picked up; the timeout is set right
    after that, before the headers and the body are read."""

    def handle(self, conn: Any) -> Any:
        if not getattr(conn, "_read_timeout_installed", False):
            init = conn.init

            def init_with_read_timeout() -> None:
                init()
                conn.sock.settimeout(READ_TIMEOUT_SECONDS)

            conn.init = init_with_read_timeout
            conn._read_timeout_installed = True
        return super().handle(conn)


logger_class = "config.gunicorn.MaskingLogger"
worker_class = "config.gunicorn.ReadTimeoutThreadWorker"
threads = env_int(
    "WEB_THREADS", 8, "Threads per gunicorn worker started by `make run` (requests served at once per worker)."
)
# gunicorn's runtime control socket is one path per user (~/.gunicorn/gunicorn.ctl): a second
# instance on the machine (a test server, another checkout) would take it over. Nothing uses it.
control_socket_disable = True

# 1C's uploads are 64 MiB parts and mode=import answers within ~20 s; a worker that is silent for
# five minutes is stuck, not busy.
timeout = 300
# The request log of the exchange is in the database; gunicorn's access log (masked) goes to stdout.
accesslog = "-"


def child_exit(server: Any, worker: Any) -> None:
    """A worker that exits (recycled, killed, timed out) has its live metric gauges dropped from the
    shared Prometheus folder; its counters stay part of the totals (observability.multiproc)."""
    from observability.multiproc import mark_process_dead

    mark_process_dead(worker.pid)
