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
