"""Parts of one file never interleave: the per-file lock holds across processes (several
gunicorn workers) and threads. The live-server version of this is in tests/e2e."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from exchange.conf import exchange_settings
from exchange.models import ExchangeFile, ExchangeSession
from exchange.protocol import FILE_BUSY
from exchange.services.uploads import file_lock, session_upload_dir
from tests.exchange.conftest import OneC, assert_answer

pytestmark = pytest.mark.django_db


def _hold_and_write(target: str, journal: str, tag: str) -> None:
    with file_lock(Path(target), wait_seconds=30) as locked:
        assert locked
        with open(journal, "a") as log:
            log.write(f"{tag}-in\n")
            log.flush()
            time.sleep(0.2)
            log.write(f"{tag}-out\n")


def test_the_lock_serialises_processes(tmp_path: Path) -> None:
    target, journal = tmp_path / "offers.xml", tmp_path / "journal"
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_hold_and_write, args=(str(target), str(journal), f"p{i}")) for i in range(3)]

    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=30)

    assert [p.exitcode for p in processes] == [0, 0, 0]
    lines = journal.read_text().split()
    assert len(lines) == 6
    for index in range(0, 6, 2):  # every "in" is followed by the same holder's "out"
        assert lines[index].replace("-in", "") == lines[index + 1].replace("-out", "")


def test_the_lock_file_is_removed_after_use(tmp_path: Path) -> None:
    with file_lock(tmp_path / "x", wait_seconds=1) as locked:
        assert locked
        assert len(list(exchange_settings().locks_dir.iterdir())) == 1

    assert list(exchange_settings().locks_dir.iterdir()) == []


def test_a_part_waiting_too_long_for_the_lock_is_refused_untouched(catalog: OneC, settings) -> None:
    settings.EXCHANGE_UPLOAD_LOCK_WAIT_SECONDS = 0.2
    catalog.post_file("offers.xml", b"part-one;")
    folder = session_upload_dir(ExchangeSession.objects.get())

    with file_lock(folder / "offers.xml", wait_seconds=1):
        response = catalog.post_file("offers.xml", b"part-two;")

    assert_answer(response, "failure", FILE_BUSY.format(name="offers.xml"))
    assert (folder / "offers.xml").read_bytes() == b"part-one;"
    assert ExchangeFile.objects.get().parts == 1
