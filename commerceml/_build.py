"""What every record builder shares: the per-run context and the field readers.

A builder is a function ``(element, ctx) -> record`` that turns one finished element (a Товар,
a Документ, ...) into a record by iterating its direct children once and dispatching on their
local names. Builders know CommerceML's fields and nothing about where the element sat in the
file: the walker in ``commerceml.reader`` decides that, and clears what was read.

Value problems raise ``CommerceMLError`` subclasses located by line; ``invalid_record`` adds the
element and its Ид and turns them into ``InvalidElement`` values when the caller asked for that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from commerceml import versions
from commerceml._parsing import FieldCodes, LocalNames
from commerceml.errors import CommerceMLError, CommerceMLLimitError, CommerceMLValueError
from commerceml.records import InvalidElement, ProductUnit
from commerceml.values import parse_bool, parse_decimal

Element = Any  # lxml's _Element; typed loosely because lxml-stubs lacks iterparse generics

_MISSING: Any = object()


# Builders' tables of local name -> field code, registered at import; every reader run gets its
# own FieldCodes per table (tag -> code caches bounded by the tags of one file).
_FIELD_TABLES: list[dict[str, int]] = []


def field_table(codes: dict[str, int]) -> int:
    """Register a builder's table; returns its slot in ``BuildContext.field_codes``."""
    _FIELD_TABLES.append(codes)
    return len(_FIELD_TABLES) - 1


@dataclass(slots=True)
class BuildContext:
    """What builders need besides the element; one per reader run.

    ``field_codes[slot]`` is the run's tag -> field-code map for a table registered with
    ``field_table`` (see ``FieldCodes``): a list index, the cheapest lookup on the hot path.
    ``section_fields`` holds the few fields of the open section a builder needs (the Ид of a
    3.1 Контейнер), filled by the walker.
    """

    names: LocalNames
    max_text: int
    max_record_elements: int
    schema_version: str | None = None
    units: dict[tuple[str | None, ...], ProductUnit | None] = field(default_factory=dict)
    section_fields: dict[str, str] = field(default_factory=dict)
    field_codes: list[FieldCodes] = field(default_factory=lambda: [FieldCodes(table) for table in _FIELD_TABLES])


def too_many_elements(limit: int) -> CommerceMLLimitError:
    return CommerceMLLimitError(f"more than {limit} elements inside one element; the element was not read")


def invalid_record(
    exc: CommerceMLError,
    element: Element,
    local: str,
    ctx: BuildContext,
    file: str | None,
    raise_invalid: bool,
) -> InvalidElement:
    exc.locate(
        file=file,
        line=element.sourceline,
        element=local,
        element_id=element_id(element, ctx.names),
    )
    if raise_invalid:
        raise exc
    return InvalidElement(
        element=exc.element or local,
        id=exc.element_id,
        file=exc.file,
        line=exc.line,
        reason=exc.reason,
    )


def element_id(element: Element, names: LocalNames) -> str | None:
    for child in element:
        if names[child.tag] == "Ид":
            text = child.text
            return text.strip()[:200] if text else None
    return None


# --------------------------------------------------------------------------- text helpers


def text_of(element: Element, ctx: BuildContext) -> str | None:
    """Free text, verbatim."""
    text: str | None = element.text
    if text is not None and len(text) > ctx.max_text:
        raise too_long(element, ctx, len(text))
    return text


def ident_of(element: Element, ctx: BuildContext) -> str | None:
    """An identifier or code: stripped; None when empty."""
    text: str | None = element.text
    if text is None:
        return None
    if len(text) > ctx.max_text:
        raise too_long(element, ctx, len(text))
    return text.strip() or None


def too_long(element: Element, ctx: BuildContext, length: int) -> CommerceMLLimitError:
    return CommerceMLLimitError(
        f"text of {length} characters exceeds the limit of {ctx.max_text}",
        line=element.sourceline,
        element=ctx.names[element.tag],
    )


def decimal_of(element: Element) -> Decimal:
    try:
        return parse_decimal(element.text)
    except CommerceMLValueError as exc:
        raise exc.locate(line=element.sourceline) from None


def optional_decimal_of(element: Element) -> Decimal | None:
    text = element.text
    if text is None or not text.strip():
        return None
    try:
        return parse_decimal(text)
    except CommerceMLValueError as exc:
        raise exc.locate(line=element.sourceline) from None


def attribute_decimal_of(element: Element, name: str) -> Decimal:
    try:
        return parse_decimal(element.get(name))
    except CommerceMLValueError as exc:
        raise exc.locate(line=element.sourceline) from None


def bool_of(element: Element) -> bool:
    try:
        return parse_bool(element.text)
    except CommerceMLValueError as exc:
        raise exc.locate(line=element.sourceline) from None


def required_id(value: str | None, what: str) -> str:
    if value is None:
        raise CommerceMLValueError(f"{what} has no Ид")
    return value


# --------------------------------------------------------------------------- units


_UNIT_CACHE_SIZE = 1024


def base_unit_of(element: Element, ctx: BuildContext) -> ProductUnit | None:
    """БазоваяЕдиница of products and offers, Единица / БазоваяЕдиница of document lines.

    Attributes (``<БазоваяЕдиница Код="796" …>шт</…>``) or child elements (``<Единица><Код>796
    </Код><НаименованиеКраткое>шт</…>``, 2.10+ documents): both forms give the same record.
    """
    code = element.get("Код")
    full_name = element.get("НаименованиеПолное")
    intl_abbr = element.get("МеждународноеСокращение")
    short_name = element.get("НаименованиеКраткое")
    text = element.text
    if len(element):
        # The child-element form has no attributes to key a cache on.
        return _read_base_unit(element, ctx, code, full_name, intl_abbr, short_name, text)
    # Every product repeats one of a few units: reuse the (immutable) record.
    key = (code, full_name, intl_abbr, short_name, text)
    unit = ctx.units.get(key, _MISSING)
    if unit is _MISSING:
        unit = _read_base_unit(element, ctx, code, full_name, intl_abbr, short_name, text)
        if len(ctx.units) < _UNIT_CACHE_SIZE:
            ctx.units[key] = unit
    return unit


def _read_base_unit(
    element: Element,
    ctx: BuildContext,
    code: str | None,
    full_name: str | None,
    intl_abbr: str | None,
    short_name: str | None,
    text: str | None,
) -> ProductUnit | None:
    if code is None and len(element):
        # Some producers write the unit as child elements instead of attributes.
        names = ctx.names
        for child in element:
            local = names[child.tag]
            if local == "Код":
                code = child.text
            elif local == "НаименованиеПолное":
                full_name = child.text
            elif local == "МеждународноеСокращение":
                intl_abbr = child.text
            elif local == "НаименованиеКраткое":
                short_name = child.text
    check_lengths([code, full_name, intl_abbr, short_name, text], element, ctx)
    return versions.base_unit(
        code=code,
        text=text,
        full_name=full_name.strip() or None if full_name else None,
        intl_abbr=intl_abbr.strip() or None if intl_abbr else None,
        short_name=short_name,
        schema_version=ctx.schema_version,
    )


# Field codes: builders store simple text fields in a list slot by code and handle the few
# structured children by branch; 0 means "not read".
_PAIR_NAME, _PAIR_VALUE = 1, 2
_PAIR_FIELDS: dict[str, int] = {"Наименование": _PAIR_NAME, "Значение": _PAIR_VALUE}
_PAIR_TABLE = field_table(_PAIR_FIELDS)


def check_lengths(texts: list[str | None], element: Element, ctx: BuildContext) -> None:
    longest = max(map(len, filter(None, texts)), default=0)  # C-level loop: hot path
    if longest > ctx.max_text:
        raise CommerceMLLimitError(
            f"text of {longest} characters exceeds the limit of {ctx.max_text}",
            line=element.sourceline,
        )


def strip_or_none(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip() or None


def name_value_pairs(container: Element, ctx: BuildContext) -> tuple[tuple[str, str], ...]:
    """ЗначенияРеквизитов / ХарактеристикиТовара: (Наименование, Значение) pairs."""
    codes = ctx.field_codes[_PAIR_TABLE]
    limit = ctx.max_text
    result = []
    for item in container:
        name = value = None
        for part in item:
            code = codes[part.tag]
            if code == _PAIR_NAME:
                name = part.text
            elif code == _PAIR_VALUE and value is None:
                value = part.text
        if name is not None or value is not None:
            if (name is not None and len(name) > limit) or (value is not None and len(value) > limit):
                check_lengths([name, value], item, ctx)
            result.append((name or "", value or ""))
    return tuple(result)


def ids_of(container: Element, ctx: BuildContext) -> tuple[str, ...]:
    names = ctx.names
    result = []
    for child in container:
        if names[child.tag] == "Ид":
            value = ident_of(child, ctx)
            if value is not None:
                result.append(value)
    return tuple(result)


def first_name_of(container: Element, ctx: BuildContext) -> str | None:
    names = ctx.names
    for child in container:
        if names[child.tag] == "Наименование":
            return text_of(child, ctx)
    return None


def deleted_flag(element: Element, mark: str | None, status: str | None) -> bool:
    """Статус="Удален" as attribute or element, or ПометкаУдаления=true (protocol.md §5.3)."""
    if element.get("Статус") == versions.DELETED_STATUS:
        return True
    if status is not None and status.strip() == versions.DELETED_STATUS:
        return True
    try:
        return parse_bool(mark)
    except CommerceMLValueError as exc:
        raise exc.locate(line=element.sourceline, element="ПометкаУдаления") from None
