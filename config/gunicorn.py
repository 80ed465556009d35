"""gunicorn settings shared by `make run` and deploy/shop1c-web.service (``-c python:config.gunicorn``);
command-line options given next to it win.

A worker that exits (recycled, killed, timed out) has its live metric gauges dropped from the
shared Prometheus folder; its counters stay part of the totals (observability.multiproc).
"""

from __future__ import annotations

from typing import Any

# 1C's uploads are 64 MiB parts and mode=import answers within ~20 s; a worker that is silent for
# five minutes is stuck, not busy.
timeout = 300
# The request log of the exchange is in the database; gunicorn's access log goes to stdout.
accesslog = "-"


def child_exit(server: Any, worker: Any) -> None:
    from observability.multiproc import mark_process_dead

    mark_process_dead(worker.pid)
