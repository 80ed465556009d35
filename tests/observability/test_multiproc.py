"""The Prometheus folder at start: samples of dead processes go, a live process's stay."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from observability.multiproc import multiproc_dir_prepare


def test_samples_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    live = tmp_path / f"counter_{os.getpid()}.db"
    gone = tmp_path / f"counter_{dead_pid}.db"
    gone_gauge = tmp_path / f"gauge_livesum_{dead_pid}.db"
    other = tmp_path / "README"
    for path in (live, gone, gone_gauge, other):
        path.write_bytes(b"x")

    assert multiproc_dir_prepare(tmp_path) == 2

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])


def test_at_a_fresh_start_every_sample_goes(tmp_path: Path) -> None:
    (tmp_path / f"counter_{os.getpid()}.db").write_bytes(b"x")

    assert multiproc_dir_prepare(tmp_path / ".", keep_live=False) == 1
    assert list(tmp_path.iterdir()) == []
