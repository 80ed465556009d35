"""The product#variant Ид convention and the number/boolean parsing, in one place each."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerceml import CommerceMLValueError, join_offer_id, parse_bool, parse_decimal, split_offer_id


@pytest.mark.parametrize(
    ("offer_id", "expected"),
    [
        ("bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1", ("bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1", None)),
        (
            "bd72d910-55bc-11d9-848a-00112f43529a#90c55447-d3a8-11e4-9423-e0cb4ed5eed4",
            ("bd72d910-55bc-11d9-848a-00112f43529a", "90c55447-d3a8-11e4-9423-e0cb4ed5eed4"),
        ),
        ("b21db898-7f82-46d8-a5ca-7c4f1d200a13#", ("b21db898-7f82-46d8-a5ca-7c4f1d200a13", None)),
        ("a#b#c", ("a", "b#c")),  # splits once: the rest belongs to the variant
        ("Обмен с WEB - сайтом (Товары)00001", ("Обмен с WEB - сайтом (Товары)00001", None)),
        ("00000000123#7", ("00000000123", "7")),
    ],
)
def test_split_offer_id(offer_id: str, expected: tuple[str, str | None]) -> None:
    assert split_offer_id(offer_id) == expected


def test_join_offer_id() -> None:
    assert join_offer_id("p", "v") == "p#v"
    assert join_offer_id("p", None) == "p"
    assert join_offer_id("p", "") == "p"


ids_without_hash = st.text(alphabet=st.characters(blacklist_characters="#", blacklist_categories=["Cs"]), min_size=1)


@settings(max_examples=200)
@given(ids_without_hash)
def test_an_id_without_hash_is_a_product_id(offer_id: str) -> None:
    assert split_offer_id(offer_id) == (offer_id, None)
    assert join_offer_id(*split_offer_id(offer_id)) == offer_id


@settings(max_examples=200)
@given(ids_without_hash, ids_without_hash)
def test_product_and_variant_round_trip(product_id: str, variant_id: str) -> None:
    assert split_offer_id(join_offer_id(product_id, variant_id)) == (product_id, variant_id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100", "100"),
        ("657.8", "657.8"),
        ("1,4", "1.4"),
        ("0,015", "0.015"),
        ("10 500", "10500"),
        (" 1 719 ", "1719"),
        ("1\xa0719,50", "1719.50"),
        ("-5", "-5"),
        ("+3.25", "3.25"),
        (".5", "0.5"),
        ("5.", "5"),
        ("0", "0"),
        ("1.0000", "1.0000"),
    ],
)
def test_parse_decimal_accepts_what_1c_writes(text: str, expected: str) -> None:
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text", [None, "", " ", "abc", "1e5", "NaN", "Infinity", "1_000", "1.2.3", "12 руб", "1,2,3", "--1", "9" * 41]
)
def test_parse_decimal_rejects_garbage(text: str | None) -> None:
    with pytest.raises(CommerceMLValueError, match="not a number"):
        parse_decimal(text)


@settings(max_examples=200)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**12), max_value=10**12))
def test_parse_decimal_reads_back_any_plain_decimal(value: Decimal) -> None:
    text = format(value, "f")

    assert parse_decimal(text) == value
    assert parse_decimal(text.replace(".", ",")) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("false", False), ("TRUE", True), (" False ", False), ("", False), (None, False)],
)
def test_parse_bool(text: str | None, expected: bool) -> None:
    assert parse_bool(text) is expected


def test_parse_bool_default_and_garbage() -> None:
    assert parse_bool(None, default=True) is True
    with pytest.raises(CommerceMLValueError, match="not a boolean"):
        parse_bool("да")
