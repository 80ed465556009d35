"""The folder where every process of one machine keeps its Prometheus samples (multiprocess mode).

prometheus-client writes each process's counters into ``<dir>/<type>_<pid>.db`` files that the
``/metrics`` view adds up, so every gunicorn worker and every Celery process counts. Files of
processes that are gone stay (their counts are part of the totals) until the next start, when
``multiproc_dir_prepare`` removes the files of processes no longer alive — a restart resets the
counters, which Prometheus' ``rate()`` handles as a counter reset. No Django here: `config.run`
calls it before it starts anything.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

_SAMPLE_FILE = re.compile(r"^[a-z_]+_(\d+)\.db$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def multiproc_dir_prepare(path: Path, *, keep_live: bool = True) -> int:
    """Create ``path`` and remove the sample files of dead processes (of all processes with
    ``keep_live=False``); returns how many files were removed."""
    path.mkdir(parents=True, exist_ok=True)
    removed = 0
    for child in path.iterdir():
        match = _SAMPLE_FILE.match(child.name)
        if match is None or (keep_live and _alive(int(match.group(1)))):
            continue
        with contextlib.suppress(FileNotFoundError):
            child.unlink()
            removed += 1
    return removed


def mark_process_dead(pid: int) -> None:
    """Drop the live gauges of a process that exited (gunicorn's child_exit, Celery's worker
    shutdown); its counters stay in the totals."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def main() -> int:
    """``python -m observability.multiproc``: what a service runs before it starts (systemd's
    ExecStartPre): drop the samples of processes that no longer run."""
    from config import settings  # the folder as the processes about to start will see it

    multiproc_dir_prepare(settings.PROMETHEUS_MULTIPROC_DIR)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
