"""Read records in a background thread while the caller writes the previous batch.

The database connection (and the caller's transaction) stays in the calling thread; only the
parser runs in the helper thread. While PostgreSQL merges a batch the calling thread waits in
psycopg without the GIL, so the parser keeps going: on two cores parsing and database work
overlap instead of adding up.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def read_ahead(items: Iterable[T], *, chunk: int = 500, depth: int = 8) -> Iterator[T]:
    """Iterate ``items`` in a helper thread, ``depth`` chunks ahead; errors surface in order."""
    channel: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        buffer: list[T] = []
        try:
            for item in items:
                buffer.append(item)
                if len(buffer) >= chunk:
                    if not _put(channel, buffer, stop):
                        return
                    buffer = []
            if buffer and not _put(channel, buffer, stop):
                return
            _put(channel, _DONE, stop)
        except BaseException as exc:  # handed to the consumer, raised where the item would be
            if buffer:
                _put(channel, buffer, stop)
            _put(channel, exc, stop)

    thread = threading.Thread(target=produce, name="commerceml-reader", daemon=True)
    thread.start()
    try:
        while True:
            got = channel.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield from got  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=30)


def _put(channel: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            channel.put(item, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False
