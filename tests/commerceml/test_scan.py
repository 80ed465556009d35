"""The pre-import scan: element counts for progress lines and the file's digest, in one pass."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from commerceml.scan import scan_file

PRODUCT = "<Товар><Ид>{i}</Ид><Наименование>Товар {i}</Наименование></Товар>"


def _catalog(count: int, encoding: str = "utf-8") -> bytes:
    body = "".join(PRODUCT.format(i=i) for i in range(count))
    body += '<Товар Статус="Удален"><Ид>x</Ид></Товар>'  # a start tag with attributes counts too
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><КоммерческаяИнформация><Каталог><Товары>{body}'
        "</Товары></Каталог></КоммерческаяИнформация>"
    ).encode(encoding)


@pytest.mark.parametrize("block", [7, 13, 64, 4096], ids=lambda b: f"block-{b}")
def test_tags_split_between_blocks_are_counted_exactly_once(tmp_path: Path, block: int) -> None:
    path = tmp_path / "import.xml"
    path.write_bytes(_catalog(50))

    assert scan_file(path, "catalog", block=block).counts == {"products": 51}


def test_windows_1251_files_are_counted_in_their_own_encoding(tmp_path: Path) -> None:
    path = tmp_path / "import.xml"
    path.write_bytes(_catalog(5, "windows-1251"))

    assert scan_file(path, "catalog").counts == {"products": 6}


def test_the_digest_is_blake2b_of_the_bytes_and_kinds_without_counts_still_get_one(tmp_path: Path) -> None:
    path = tmp_path / "classifier.xml"
    data = _catalog(3)
    path.write_bytes(data)

    scan = scan_file(path, "classifier")

    assert scan.counts == {}
    assert scan.digest == hashlib.blake2b(data, digest_size=32).hexdigest()


def _stamped(stamp: str, body: str = "<Каталог/>", root_extra: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- 1C > export -->\n'
        f'<КоммерческаяИнформация ВерсияСхемы="2.10" ДатаФормирования="{stamp}"{root_extra}>{body}'
        "</КоммерческаяИнформация>"
    ).encode()


@pytest.mark.parametrize("block", [7, 4096], ids=lambda b: f"block-{b}")
def test_files_differing_only_in_the_root_stamp_have_one_digest(tmp_path: Path, block: int) -> None:
    (tmp_path / "a.xml").write_bytes(_stamped("2024-03-01T10:00:00"))
    (tmp_path / "b.xml").write_bytes(_stamped("2024-03-02T09:30:17"))

    assert scan_file(tmp_path / "a.xml", block=block).digest == scan_file(tmp_path / "b.xml", block=4096).digest


T1, T2 = "2024-03-01T10:00:00", "2024-03-02T09:30:17"
NESTED = '<Каталог ДатаФормирования="{}"/>'


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (_stamped(T1), _stamped(T1, body="<Каталог><Ид>2</Ид></Каталог>")),
        (_stamped(T1), _stamped(T1, root_extra=' Ид="1"')),
        # a ДатаФормирования elsewhere than the root's start tag is content like any other
        (_stamped(T1, body=NESTED.format(T1)), _stamped(T1, body=NESTED.format(T2))),
    ],
    ids=["body", "root-attribute", "nested-stamp"],
)
def test_any_other_difference_changes_the_digest(tmp_path: Path, first: bytes, second: bytes) -> None:
    (tmp_path / "a.xml").write_bytes(first)
    (tmp_path / "b.xml").write_bytes(second)

    assert scan_file(tmp_path / "a.xml").digest != scan_file(tmp_path / "b.xml").digest
