"""Parsing of CommerceML scalar values: numbers, booleans, dates and times.

1C writes numbers with a dot in prices (``657.8``) but with a comma in property values (``1,4``),
and presentations use spaces as thousands separators (``10 500``) (protocol.md §4.13); all of
them go through ``parse_decimal``. Raises ``CommerceMLValueError`` without a location; the
reader adds file, line and Ид.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from commerceml.errors import CommerceMLValueError

# Plain decimals only: no exponent, NaN, Infinity or underscores, which Decimal() would accept.
# The digit limits keep a hostile value from turning into a huge Decimal.
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:\d{1,40}(?:\.\d{0,40})?|\.\d{1,40})").fullmatch
_DIGITS_AND_DOT = "0123456789."
_THOUSANDS_SEPARATORS = str.maketrans({" ": None, "\xa0": None, "\u202f": None, "\t": None})

_BOOLEANS = {"true": True, "false": False}

# Quantities and coefficients repeat endlessly ("0", "1", "15"); Decimal is immutable, so these
# are shared instead of parsed again (a dict hit instead of a parse: offers files are ~25% faster).
_SMALL_INTEGERS = {str(number): Decimal(number) for number in range(1000)}


def parse_decimal(text: str | None) -> Decimal:
    """``"1,4"`` -> 1.4, ``"10 500"`` -> 10500, ``" 657.80 "`` -> 657.80; garbage raises."""
    if text is not None:
        known = _SMALL_INTEGERS.get(text)
        if known is not None:
            return known
        # Fast path for what 1C writes almost always ("1719", "657.8"): cheaper than the regex.
        if len(text) <= 40 and text.isascii() and not text.strip(_DIGITS_AND_DOT):
            try:
                return Decimal(text)
            except InvalidOperation:
                pass  # "", "1.2.3": not a number
        normalized = text.strip().translate(_THOUSANDS_SEPARATORS).replace(",", ".")
        if _PLAIN_DECIMAL(normalized):
            return Decimal(normalized)
    raise CommerceMLValueError(f"not a number: {_preview(text)}")


def parse_bool(text: str | None, *, default: bool = False) -> bool:
    """``true``/``false`` in any case; an absent or empty value gives ``default``."""
    if text is None:
        return default
    stripped = text.strip()
    if not stripped:
        return default
    value = _BOOLEANS.get(stripped.lower())
    if value is None:
        raise CommerceMLValueError(f"not a boolean (true/false): {_preview(text)}")
    return value


# 2015-06-29, 2015-06-29T15:39:10, 2021-02-12T9:03:19 (Bitrix: hour without a leading zero),
# 2007-10-30 15:19:27, 2024-01-08T15:47:02.082+03:00 (protocol.md §5.1, §5.6, §5.7).
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?").fullmatch
# 11.02.2021 and 11.02.2021 18:45:21 (Bitrix 2021 requisites, protocol.md §5.6).
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[T ].*)?").fullmatch
_TIME = re.compile(r"(?:.*[T ])?(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?").fullmatch


def parse_date(text: str | None) -> date | None:
    """``2015-06-29``, ``2015-06-29T15:39:10``, ``11.02.2021`` -> a date; garbage raises.

    An absent or empty value, the bare separator ``T`` 1C writes for an empty date-time
    (protocol.md §4.14) and 1C's empty date ``0001-01-01`` give None.
    """
    stripped = _empty_date_time(text)
    if stripped is None:
        return None
    match = _ISO_DATE(stripped)
    if match is not None:
        year, month, day = match.groups()
    else:
        match = _DOTTED_DATE(stripped)
        if match is None:
            raise CommerceMLValueError(f"not a date: {_preview(text)}")
        day, month, year = match.groups()
    if year == "0001":
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise CommerceMLValueError(f"not a date: {_preview(text)}") from None


def parse_time(text: str | None) -> time | None:
    """``15:39:10``, ``9:03:19``, ``2015-06-29T15:39:10`` -> a time; empty or ``T`` -> None."""
    stripped = _empty_date_time(text)
    if stripped is None:
        return None
    match = _TIME(stripped)
    if match is None:
        raise CommerceMLValueError(f"not a time: {_preview(text)}")
    hour, minute, second = match.groups()
    try:
        return time(int(hour), int(minute), int(second or 0))
    except ValueError:
        raise CommerceMLValueError(f"not a time: {_preview(text)}") from None


def _empty_date_time(text: str | None) -> str | None:
    if text is None:
        return None
    stripped = text.strip()
    if not stripped or stripped == "T":
        return None
    return stripped


def _preview(text: str | None, limit: int = 60) -> str:
    if text is None:
        return "missing value"
    return repr(text if len(text) <= limit else text[:limit] + "…")


# --- Formatting what the site writes (mode=query documents, counterparties) ---------------------
# One place for how the site spells values 1C reads back: booleans as Bitrix writes them, money and
# quantities with a dot and fixed places, requisite dates as "2007-10-30 15:19:27" (protocol.md §5.6).


def format_bool(value: bool) -> str:
    return "true" if value else "false"


def format_decimal(value: Decimal, places: int = 2) -> str:
    """``Decimal("231.7")`` -> ``"231.70"``; never an exponent, whatever the Decimal's form."""
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum):f}"


def format_requisite_datetime(value: datetime) -> str:
    """Dates inside ЗначенияРеквизитов: ``2007-10-30 15:19:27`` (local time, no zone)."""
    return value.strftime("%Y-%m-%d %H:%M:%S")
