"""Read a file's records in a separate process, so parsing runs on another core.

Parsing is CPU work under the GIL: in one process it cannot overlap the importer's own Python
work. ``iter_records_in_subprocess`` starts ``python -m commerceml.pipe <file>``, which parses
and writes pickled batches of records to its stdout; the caller unpickles them as they come, so
the two processes work side by side. A plain subprocess (not ``multiprocessing``) because Celery's
prefork pool runs tasks in daemonic processes, which may not start multiprocessing children.

Errors raised by the reader in the child (``CommerceMLError`` with file, line and Ид) are
pickled and raised in the caller at the point where they happened, after the records before them.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from commerceml.errors import CommerceMLError
from commerceml.reader import OnInvalid, iter_records
from commerceml.records import Record

BATCH = 500
_END = "end"
_ERROR = "error"


def iter_records_in_subprocess(path: Path | str, *, on_invalid: OnInvalid = "raise") -> Iterator[Record]:
    """Like ``iter_records(path)``, parsed in a child process."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
        [sys.executable, "-m", "commerceml.pipe", str(path), on_invalid],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    finished = False
    try:
        while True:
            try:
                kind, payload = pickle.load(process.stdout)  # noqa: S301 - our own child process
            except EOFError:
                stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
                raise CommerceMLError(f"reader process ended early: {stderr.strip()[-500:]}", file=str(path)) from None
            if kind == _END:
                finished = True
                return
            if kind == _ERROR:
                finished = True
                raise payload
            yield from payload
    finally:
        if not finished and process.poll() is None:
            process.kill()
        process.stdout.close()
        if process.stderr:
            process.stderr.close()
        process.wait()


def _serve(path: str, on_invalid: OnInvalid, out: BinaryIO) -> None:
    batch: list[Record] = []
    try:
        for record in iter_records(path, on_invalid=on_invalid):
            batch.append(record)
            if len(batch) >= BATCH:
                pickle.dump(("records", batch), out, protocol=pickle.HIGHEST_PROTOCOL)
                batch = []
    except CommerceMLError as exc:
        if batch:
            pickle.dump(("records", batch), out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump((_ERROR, exc), out, protocol=pickle.HIGHEST_PROTOCOL)
        return
    if batch:
        pickle.dump(("records", batch), out, protocol=pickle.HIGHEST_PROTOCOL)
    pickle.dump((_END, None), out, protocol=pickle.HIGHEST_PROTOCOL)


def main() -> None:
    path, on_invalid = sys.argv[1], sys.argv[2]
    if on_invalid not in ("raise", "yield"):
        raise SystemExit(f"on_invalid must be raise or yield, got {on_invalid!r}")
    out = sys.stdout.buffer
    try:
        _serve(path, on_invalid, out)  # type: ignore[arg-type]
        out.flush()
    except BrokenPipeError:  # the caller stopped reading: nothing left to do
        pass


if __name__ == "__main__":
    main()
