"""Records read in a child process are the same records, errors included, in the same order."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import psutil
import pytest

from commerceml.digests import SealedOffer, SealedProduct, seal_offer
from commerceml.errors import CommerceMLSyntaxError
from commerceml.pipe import iter_records_in_subprocess
from commerceml.reader import iter_records

DATA = Path(__file__).resolve().parents[1] / "data" / "cml"


def _opened(records: Iterable[object]) -> list[object]:
    return [r.open() if isinstance(r, SealedProduct | SealedOffer) else r for r in records]


@pytest.mark.parametrize("name", ["import0_1.xml", "offers0_1.xml"])
def test_the_child_process_yields_exactly_what_the_reader_yields(name: str) -> None:
    path = DATA / "cml207-dobromyslov" / name

    assert _opened(iter_records_in_subprocess(path)) == list(iter_records(path))


def test_products_and_offers_come_sealed_with_the_fingerprints_the_caller_would_take() -> None:
    path = DATA / "cml207-dobromyslov" / "offers0_1.xml"
    sealed = [r for r in iter_records_in_subprocess(path) if isinstance(r, SealedOffer)]

    assert sealed and all(r.record is None and r.blob for r in sealed)  # crossed as bytes
    for item in sealed:
        assert item == dataclasses.replace(seal_offer(item.open(), packed=False), blob=item.blob, record=None)


def test_a_broken_file_raises_the_readers_error_after_the_records_before_it(tmp_path: Path) -> None:
    source = (DATA / "cml207-dobromyslov" / "import0_1.xml").read_bytes()
    broken = tmp_path / "import.xml"
    broken.write_bytes(source[: len(source) // 2])
    expected = []
    with pytest.raises(CommerceMLSyntaxError) as direct:
        for record in iter_records(broken):
            expected.append(record)

    got = []
    with pytest.raises(CommerceMLSyntaxError) as piped:
        for item in iter_records_in_subprocess(broken):
            got.append(item)

    assert _opened(got) == expected and len(got) > 0
    assert piped.value.line == direct.value.line


def _pipe_children() -> list[psutil.Process]:
    return [c for c in psutil.Process().children() if "commerceml.pipe" in " ".join(c.cmdline())]


def test_stopping_early_ends_the_child_process() -> None:
    records = iter_records_in_subprocess(DATA / "cml207-dobromyslov" / "import0_1.xml")
    next(records)
    assert len(_pipe_children()) == 1

    records.close()  # must not hang or leave a process behind

    assert _pipe_children() == []


def test_every_record_type_pickles_by_its_fields_and_comes_back_equal() -> None:
    import dataclasses
    import pickle

    from commerceml import records

    record_types = [
        value for value in vars(records).values() if isinstance(value, type) and dataclasses.is_dataclass(value)
    ]
    read = [
        *iter_records(DATA / "cml207-dobromyslov" / "import0_1.xml"),
        *iter_records(DATA / "cml207-dobromyslov" / "offers0_1.xml"),
        *iter_records(DATA / "cml207-dobromyslov" / "bitrix-query-response-full.xml"),
    ]

    # A record type added later without the cheap pickling would silently slow the pipe down.
    assert [t.__name__ for t in record_types if t.__reduce__ is object.__reduce__] == []
    assert pickle.loads(pickle.dumps(read, protocol=pickle.HIGHEST_PROTOCOL)) == read
    assert {type(record).__name__ for record in read} >= {"Product", "Offer", "Document", "SectionHeader"}
