"""Read a file's records in a separate process, so parsing runs on another core.

Parsing is CPU work under the GIL: in one process it cannot overlap the importer's own Python
work. ``iter_records_in_subprocess`` starts ``python -m commerceml.pipe <file>``, which parses
and writes batches of records to its stdout; the caller reads them as they come, so the two
processes work side by side. Products and offers are sealed in the child (commerceml.digests):
their fingerprints are taken there, on the parser's core, they cross packed with marshal, and
the caller decodes only those it finds changed. A plain subprocess (not ``multiprocessing``)
because Celery's prefork pool runs tasks in daemonic processes, which may not start
multiprocessing children.

Errors raised by the reader in the child (``CommerceMLError`` with file, line and Ид) are
pickled and raised in the caller at the point where they happened, after the records before them.
"""

from __future__ import annotations

import contextlib
import fcntl
import marshal
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from commerceml.digests import (
    CATALOG_ID_LENGTH,
    MARSHAL_VERSION,
    SealedOffer,
    SealedProduct,
    seal_offer,
    seal_product,
    sealed_fields,
)
from commerceml.errors import CommerceMLError
from commerceml.reader import OnInvalid, iter_records
from commerceml.records import Offer, Product, Record, SectionHeader

BATCH = 500
# The pipe between the processes holds this much (Linux; the default is 64 KiB). A batch of 500
# products is about 800 KiB on the wire: with the default pipe the child stops at every batch until
# the caller has read it, and the two processes take turns instead of working side by side
# (reading a 10k-product offers file through the pipe: 3.4-4.0 s with 64 KiB, 2.5-2.6 s with
# 1 MiB, the file parsed in the caller's own process 2.2 s). 1 MiB is the most an unprivileged
# process may ask for (/proc/sys/fs/pipe-max-size).
PIPE_BYTES = 1 << 20
_END = "end"
_RECORDS = "records"
_PRODUCTS = "products"
_OFFERS = "offers"
_ERROR = "error"


def iter_records_in_subprocess(
    path: Path | str, *, on_invalid: OnInvalid = "raise", spool_dir: Path | None = None
) -> ChildRecords:
    """Like ``iter_records(path)``, parsed in a child process; products and offers come sealed
    with their fingerprints (commerceml.digests), opened by the caller when it needs them.

    The child starts at once and parses ahead while the caller does something else first (e.g.
    reads the file's digest); ``close()`` stops it whether or not the records were read. With
    ``spool_dir`` the child writes into an unlinked file there instead of a pipe, so it parses
    the whole file without waiting for the caller: for a file the caller reads later (the next
    file of an import, parsed while the current one is written)."""
    return ChildRecords(path, on_invalid, spool_dir=spool_dir)


class ChildRecords(Iterator[Record | SealedProduct | SealedOffer]):
    def __init__(self, path: Path | str, on_invalid: OnInvalid, *, spool_dir: Path | None = None) -> None:
        self.path = path
        command = [sys.executable, "-m", "commerceml.pipe", str(path), on_invalid]
        self._input: IO[bytes] | _Spool
        if spool_dir is None:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            assert self.process.stdout is not None
            _widen(self.process.stdout)
            self._input = self.process.stdout
        else:
            writer, reader = _spool_file(spool_dir)
            with writer:
                self.process = subprocess.Popen(command, stdout=writer, stderr=subprocess.PIPE)  # noqa: S603
            self._input = _Spool(reader, self.process)
        self._records = self._read()

    def __iter__(self) -> ChildRecords:
        return self

    def __next__(self) -> Record | SealedProduct | SealedOffer:
        return next(self._records)

    def close(self) -> None:
        """Stop the child (if it still runs) and release the pipe; safe to call more than once."""
        with contextlib.suppress(ValueError):  # being read in another thread: it stops on its own
            self._records.close()
        self._stop(finished=False)

    def __enter__(self) -> ChildRecords:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> Generator[Record | SealedProduct | SealedOffer, None, None]:
        stdout = self._input
        finished = False
        try:
            while True:
                try:
                    kind, payload = pickle.load(stdout)  # noqa: S301 - our own child process
                except EOFError:
                    stderr = self.process.stderr.read().decode("utf-8", "replace") if self.process.stderr else ""
                    raise CommerceMLError(
                        f"reader process ended early: {stderr.strip()[-500:]}", file=str(self.path)
                    ) from None
                if kind == _END:
                    finished = True
                    return
                if kind == _ERROR:
                    finished = True
                    raise payload
                if kind == _PRODUCTS:
                    yield from (SealedProduct(*fields) for fields in marshal.loads(payload))  # noqa: S302 - our own child
                elif kind == _OFFERS:
                    yield from (SealedOffer(*fields) for fields in marshal.loads(payload))  # noqa: S302 - our own child
                else:
                    yield from payload
        finally:
            self._stop(finished=finished)

    def _stop(self, *, finished: bool) -> None:
        process = self.process
        if not finished and process.poll() is None:
            process.kill()
        self._input.close()
        if process.stderr:
            process.stderr.close()
        process.wait()


def _spool_file(folder: Path) -> tuple[IO[bytes], IO[bytes]]:
    """A file to write and one to read, the same, unlinked at once: gone when both are closed,
    whatever happens to either process. In ``folder`` if it can be written, else in the
    system's temporary folder."""
    try:
        fd, name = tempfile.mkstemp(prefix=".records-", dir=folder)
    except OSError:
        fd, name = tempfile.mkstemp(prefix="shop1c-records-")
    try:
        return os.fdopen(fd, "wb"), open(name, "rb", buffering=0)
    finally:
        os.unlink(name)  # noqa: PTH108


class _Spool:
    """A file the child still writes: a read waits for the bytes until the child has ended."""

    POLL_SECONDS = 0.005

    def __init__(self, file: IO[bytes], process: subprocess.Popen[bytes]) -> None:
        self.file = file
        self.process = process

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            self.process.wait()
            return self.file.read()
        parts = []
        while size > 0:
            ended = self.process.poll() is not None  # looked at first: then no byte can follow
            data = self.file.read(size)
            if data:
                parts.append(data)
                size -= len(data)
            elif ended:
                break
            else:
                time.sleep(self.POLL_SECONDS)
        return b"".join(parts)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self) -> bytes:
        line = bytearray()
        while not line.endswith(b"\n"):
            byte = self.read(1)
            if not byte:
                break
            line += byte
        return bytes(line)

    def close(self) -> None:
        self.file.close()


def _widen(stream: IO[bytes]) -> None:
    """Let the pipe behind ``stream`` hold PIPE_BYTES where the system allows it (not Linux, or
    a lower limit: the default pipe works, only slower)."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


class _Batches:
    """What the child writes: runs of records, each run one message. Plain records are pickled;
    sealed products and offers go as their fields packed with marshal (no object graph to walk,
    about ten times cheaper both ways than pickling the records)."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.kind = _RECORDS
        self.items: list[Any] = []

    def add(self, kind: str, item: Any) -> None:
        if kind != self.kind:
            self.flush()
            self.kind = kind
        self.items.append(item)
        if len(self.items) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.items:
            return
        payload = self.items if self.kind == _RECORDS else marshal.dumps(self.items, MARSHAL_VERSION)
        pickle.dump((self.kind, payload), self.out, protocol=pickle.HIGHEST_PROTOCOL)
        self.items = []

    def end(self, kind: str, payload: object) -> None:
        self.flush()
        pickle.dump((kind, payload), self.out, protocol=pickle.HIGHEST_PROTOCOL)


def _serve(path: str, on_invalid: OnInvalid, out: BinaryIO) -> None:
    batches = _Batches(out)
    catalog_id = ""
    try:
        for record in iter_records(path, on_invalid=on_invalid):
            kind = type(record)
            if kind is Product:
                batches.add(_PRODUCTS, sealed_fields(seal_product(record, catalog_id, packed=True)))  # type: ignore[arg-type]
            elif kind is Offer:
                batches.add(_OFFERS, sealed_fields(seal_offer(record, packed=True)))  # type: ignore[arg-type]
            else:
                if kind is SectionHeader:
                    catalog_id = (record.catalog_id or "")[:CATALOG_ID_LENGTH]  # type: ignore[union-attr]
                batches.add(_RECORDS, record)
    except CommerceMLError as exc:
        batches.end(_ERROR, exc)
        return
    batches.end(_END, None)


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
