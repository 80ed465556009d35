"""Cheap pre-counts of elements, so an import can report "Товары: 500 из 1200".

A byte scan for ``<Товар>`` / ``<Товар `` (and ``<Предложение…``) over the raw file runs at
several hundred MB/s, far faster than parsing, and needs no DOM. It is an estimate for progress
only: a namespace prefix (``<cml:Товар>``) or the text ``<Товар>`` inside a CDATA section would
make it off, which costs nothing but a less exact progress line.
"""

from __future__ import annotations

from pathlib import Path

BLOCK = 4 * 1024 * 1024

COUNTED = {"products": "Товар", "offers": "Предложение"}
# Which element is worth counting in a file of each kind (commerceml.detect.FileKind values):
# one pattern pair per file instead of every pair keeps the scan at a fraction of a second.
COUNTED_BY_KIND = {"catalog": ("products",), "offers": ("offers",), "prices": ("offers",), "rests": ("offers",)}


def _encoding_of(head: bytes) -> str:
    prolog = head[:200].lower()
    if b"windows-1251" in prolog or b"cp1251" in prolog:
        return "cp1251"
    return "utf-8"


def count_elements(path: Path | str, kind: str | None = None) -> dict[str, int | None]:
    """Occurrences of counted elements' start tags, per entity name of ``COUNTED``; with a file
    ``kind``, only the elements such a file is made of."""
    entities = COUNTED_BY_KIND.get(kind, ()) if kind is not None else tuple(COUNTED)
    if not entities:
        return {}
    with Path(path).open("rb") as stream:
        head = stream.read(BLOCK)
        encoding = _encoding_of(head)
        patterns = {
            entity: (f"<{COUNTED[entity]}>".encode(encoding), f"<{COUNTED[entity]} ".encode(encoding))
            for entity in entities
        }
        overlap = max(len(p) for pair in patterns.values() for p in pair) - 1
        counts = dict.fromkeys(entities, 0)
        chunk, tail = head, b""
        while chunk:
            data = tail + chunk
            for entity, (closed, with_attributes) in patterns.items():
                counts[entity] += data.count(closed) + data.count(with_attributes)
            # Keep the last bytes so a tag split between two blocks is counted once: only the
            # part that cannot hold a whole pattern is carried over.
            tail = data[-overlap:]
            chunk = stream.read(BLOCK)
            if chunk:
                for entity, (closed, with_attributes) in patterns.items():
                    counts[entity] -= tail.count(closed) + tail.count(with_attributes)
    return {entity: (count or None) for entity, count in counts.items()}
