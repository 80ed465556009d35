"""The query string as 1C builds it (protocol.md §1.1, §1.3): "&" + checkauth line 4 appended to
every URL, so empty pieces and bare keys occur; file names may be windows-1251."""

from __future__ import annotations

import pytest

from exchange.views import parse_query_string


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=catalog&mode=init", {"type": "catalog", "mode": "init"}),
        ("type=catalog&mode=init&&version=2.08", {"type": "catalog", "mode": "init", "version": "2.08"}),
        ("type=catalog&mode=file&filename=import.xml&", {"type": "catalog", "mode": "file", "filename": "import.xml"}),
        ("&type=sale&&&mode=query&", {"type": "sale", "mode": "query"}),
        ("type=catalog&mode=init&5a562c8331776182", {"type": "catalog", "mode": "init", "5a562c8331776182": ""}),
        ("mode=init&mode=file", {"mode": "file"}),
        ("", {}),
        ("=x&&=", {}),
    ],
)
def test_lenient_parsing(query: str, expected: dict[str, str]) -> None:
    assert parse_query_string(query) == expected


def test_utf8_percent_encoding() -> None:
    query = "filename=%D0%A4%D0%BE%D1%82%D0%BE.jpg"

    assert parse_query_string(query) == {"filename": "Фото.jpg"}


def test_windows_1251_percent_encoding_of_old_1c() -> None:
    query = "filename=" + "".join(f"%{b:02X}" for b in "Фото.jpg".encode("cp1251"))

    assert parse_query_string(query) == {"filename": "Фото.jpg"}


def test_raw_utf8_bytes_as_wsgi_hands_them_over() -> None:
    # WSGI passes the raw bytes of the URL as latin-1 characters.
    query = "filename=Фото.jpg".encode().decode("latin-1")

    assert parse_query_string(query) == {"filename": "Фото.jpg"}


def test_plus_is_a_space_as_in_php() -> None:
    assert parse_query_string("filename=a+b.xml") == {"filename": "a b.xml"}
