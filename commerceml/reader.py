"""Streaming CommerceML reader: a file in, typed records out.

``iter_records(path)`` walks the file once with lxml ``iterparse`` and yields records in document
order: each section's ``SectionHeader`` first, then its groups (parents before children),
properties, price types, warehouses, units, products and offers. Importers never see XML.

How it stays fast and small (see ../shared/reference/performance.md):

* One pass of start/end events; an element's depth decides what it is (section, container,
  record, or a field inside a record, which costs only a counter update).
* A record is read when its end tag arrives, by iterating its direct children once and
  dispatching on the local name (namespaces are ignored; ``LocalNames`` caches the mapping).
* Finished records are cleared and removed from their parent, so memory does not grow with the
  file: only the open path of elements and one record at a time are alive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from lxml import etree

from commerceml import versions
from commerceml._parsing import (
    DEFAULT_LIMITS,
    FieldCodes,
    LocalNames,
    ReaderLimits,
    Source,
    drop_element,
    iterparse,
    open_source,
    source_name,
    syntax_error,
    unsafe_doctype_check,
)
from commerceml.errors import CommerceMLError, CommerceMLLimitError, CommerceMLValueError
from commerceml.ids import join_offer_id, split_offer_id
from commerceml.records import (
    Group,
    InvalidElement,
    Offer,
    OfferPrice,
    OfferStock,
    PriceType,
    Product,
    ProductUnit,
    Property,
    PropertyOption,
    PropertyValue,
    Record,
    Section,
    SectionHeader,
    Unit,
    Warehouse,
)
from commerceml.values import parse_bool, parse_decimal

OnInvalid = Literal["raise", "yield"]

_MISSING: Any = object()

_Element = Any  # lxml's _Element; typed loosely because lxml-stubs lacks iterparse generics


def iter_records(
    source: Source,
    *,
    limits: ReaderLimits = DEFAULT_LIMITS,
    on_invalid: OnInvalid = "raise",
) -> Iterator[Record]:
    """Yield the records of a CommerceML file (a path or a binary file object).

    Errors are ``CommerceMLError`` subclasses carrying file, line, element and Ид:

    * broken XML raises ``CommerceMLSyntaxError`` when the parser reaches the break; records
      before it have already been yielded (the importer decides about atomicity);
    * a bad value inside one element (a price that is not a number, a Товар without Ид) raises
      ``CommerceMLValueError``, or, with ``on_invalid="yield"``, is yielded as an
      ``InvalidElement`` so the importer can report it and go on with the next element.

    Sections the catalog reader does not handle (Документ, Контейнер, Контрагенты) are skipped.
    """
    file = source_name(source)
    with open_source(source) as stream:
        yield from _read(stream, file, limits, on_invalid == "raise")


@dataclass(slots=True)
class _Context:
    """What record builders need besides the element."""

    names: LocalNames
    max_text: int
    max_record_elements: int
    schema_version: str | None = None
    product_fields: FieldCodes = field(default_factory=lambda: FieldCodes(_PRODUCT_FIELDS))
    offer_fields: FieldCodes = field(default_factory=lambda: FieldCodes(_OFFER_FIELDS))
    price_fields: FieldCodes = field(default_factory=lambda: FieldCodes(_PRICE_FIELDS))
    pair_fields: FieldCodes = field(default_factory=lambda: FieldCodes(_PAIR_FIELDS))
    property_value_fields: FieldCodes = field(default_factory=lambda: FieldCodes(_PROPERTY_VALUE_FIELDS))
    units: dict[tuple[str | None, ...], ProductUnit | None] = field(default_factory=dict)


@dataclass(slots=True)
class _OpenSection:
    section: Section
    element: _Element
    changes_only_attribute: str | None
    header_done: bool = False


def _read(stream: Any, file: str | None, limits: ReaderLimits, raise_invalid: bool) -> Iterator[Record]:
    names = LocalNames()
    ctx = _Context(names=names, max_text=limits.max_text_length, max_record_elements=limits.max_record_elements)
    max_depth = limits.max_depth
    depth = 0
    section_depth = 2  # 1 when the root element itself is a section (old classifier files)
    current: _OpenSection | None = None
    groups: _GroupTree | None = None
    generated_at: str | None = None
    builders = _RECORD_BUILDERS
    max_elements = limits.max_record_elements
    record_elements = 0  # elements seen inside the open record (see ReaderLimits)
    overflow = False  # the open record passed max_elements: its rest is discarded as it ends
    try:
        for event, element in iterparse(stream, file):
            if event == "start":
                depth += 1
                if depth > max_depth:
                    raise CommerceMLLimitError(
                        f"elements nested deeper than {max_depth} levels",
                        file=file,
                        line=element.sourceline,
                        element=names[element.tag],
                    )
                relative = depth - section_depth
                if relative >= 2:
                    # Inside a record: nothing to do until its end but counting, except in the
                    # group tree, where a nested Группа is the moment to emit its parent
                    # (parents first); each group counts its own elements.
                    record_elements += 1
                    if record_elements > max_elements:
                        overflow = True
                    if groups is not None and names[element.tag] == "Группа":
                        record = groups.open_group(element, file, raise_invalid, overflow)
                        if record is not None:
                            yield record
                        record_elements, overflow = 0, False
                    continue
                local = names[element.tag]
                if depth == 1:
                    unsafe_doctype_check(element, file)
                    ctx.schema_version = element.get("ВерсияСхемы")
                    generated_at = element.get("ДатаФормирования")
                    if local != versions.ROOT:
                        if local not in versions.CATALOG_SECTIONS and (local not in versions.OTHER_SECTIONS):
                            raise CommerceMLValueError(
                                f"<{local}> is not a CommerceML root element (expected {versions.ROOT})",
                                file=file,
                                line=element.sourceline,
                            )
                        section_depth = 1
                    relative = depth - section_depth
                if relative == 0:
                    kind = versions.CATALOG_SECTIONS.get(local)
                    if kind is not None:
                        current = _OpenSection(kind, element, element.get("СодержитТолькоИзменения"))
                elif relative == 1 and current is not None:
                    if not current.header_done and local not in versions.HEADER_FIELDS:
                        yield _header(current, ctx, generated_at, file)
                    if local == "Группы" and current.section is Section.CLASSIFIER:
                        groups = _GroupTree(ctx)
                continue

            # event == "end"
            relative = depth - section_depth
            depth -= 1
            if relative >= 2:
                if groups is not None:
                    if names[element.tag] == "Группа":
                        record = groups.close_group(element, file, raise_invalid, overflow)
                        if record is not None:
                            yield record
                        record_elements, overflow = 0, False
                    elif relative == 2:
                        drop_element(element)  # not a group: nothing to read in it
                    elif overflow:
                        _discard(element, relative, names)
                    continue
                if relative == 2:
                    local = names[element.tag]
                    builder = builders.get(local) if current is not None else None
                    if builder is not None:
                        try:
                            if overflow:
                                raise _too_many_elements(max_elements)
                            record = builder(element, ctx)
                        except CommerceMLError as exc:
                            record = _invalid(exc, element, local, ctx, file, raise_invalid)
                        yield record
                    drop_element(element)
                    record_elements, overflow = 0, False
                elif overflow:
                    _discard(element, relative, names)
                continue
            if relative == 1:
                groups = None
                if current is not None and not current.header_done and names[element.tag] in versions.HEADER_FIELDS:
                    continue  # kept until the header is emitted
                drop_element(element)
            elif relative == 0:
                if current is not None and not current.header_done:
                    yield _header(current, ctx, generated_at, file)
                current = None
                drop_element(element)
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, file) from exc


def _too_many_elements(limit: int) -> CommerceMLLimitError:
    return CommerceMLLimitError(f"more than {limit} elements inside one element; the element was not read")


def _discard(element: _Element, relative: int, names: LocalNames) -> None:
    """Free a finished element inside a record that passed the element limit.

    The record's own Ид (a direct child) is kept so that its element error can name it.
    """
    if relative == 3 and names[element.tag] == "Ид":
        return
    element.clear(keep_tail=False)
    element.getparent().remove(element)


def _invalid(
    exc: CommerceMLError,
    element: _Element,
    local: str,
    ctx: _Context,
    file: str | None,
    raise_invalid: bool,
) -> InvalidElement:
    exc.locate(
        file=file,
        line=element.sourceline,
        element=local,
        element_id=_element_id(element, ctx.names),
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


def _element_id(element: _Element, names: LocalNames) -> str | None:
    for child in element:
        if names[child.tag] == "Ид":
            text = child.text
            return text.strip()[:200] if text else None
    return None


# --------------------------------------------------------------------------- text helpers


def _text(element: _Element, ctx: _Context) -> str | None:
    """Free text, verbatim."""
    text: str | None = element.text
    if text is not None and len(text) > ctx.max_text:
        raise _too_long(element, ctx, len(text))
    return text


def _ident(element: _Element, ctx: _Context) -> str | None:
    """An identifier or code: stripped; None when empty."""
    text: str | None = element.text
    if text is None:
        return None
    if len(text) > ctx.max_text:
        raise _too_long(element, ctx, len(text))
    return text.strip() or None


def _too_long(element: _Element, ctx: _Context, length: int) -> CommerceMLLimitError:
    return CommerceMLLimitError(
        f"text of {length} characters exceeds the limit of {ctx.max_text}",
        line=element.sourceline,
        element=ctx.names[element.tag],
    )


def _decimal(element: _Element) -> Decimal:
    try:
        return parse_decimal(element.text)
    except CommerceMLValueError as exc:
        raise exc.locate(line=element.sourceline) from None


def _optional_decimal(element: _Element) -> Decimal | None:
    text = element.text
    if text is None or not text.strip():
        return None
    try:
        return parse_decimal(text)
    except CommerceMLValueError as exc:
        raise exc.locate(line=element.sourceline) from None


def _attribute_decimal(element: _Element, name: str) -> Decimal:
    try:
        return parse_decimal(element.get(name))
    except CommerceMLValueError as exc:
        raise exc.locate(line=element.sourceline) from None


def _bool(element: _Element) -> bool:
    try:
        return parse_bool(element.text)
    except CommerceMLValueError as exc:
        raise exc.locate(line=element.sourceline) from None


def _required(value: str | None, what: str) -> str:
    if value is None:
        raise CommerceMLValueError(f"{what} has no Ид")
    return value


# --------------------------------------------------------------------------- section header


def _header(current: _OpenSection, ctx: _Context, generated_at: str | None, file: str | None) -> SectionHeader:
    current.header_done = True
    names = ctx.names
    section_id = name = catalog_id = classifier_id = None
    flag = current.changes_only_attribute
    for child in current.element:
        local = names[child.tag]
        if local == "Ид":
            section_id = _ident(child, ctx)
        elif local == "Наименование":
            name = _text(child, ctx)
        elif local == "ИдКаталога":
            catalog_id = _ident(child, ctx)
        elif local == "ИдКлассификатора":
            classifier_id = _ident(child, ctx)
        elif local == "СодержитТолькоИзменения" and flag is None:
            flag = child.text  # old files write the flag as an element (protocol.md §4.16)
    section = current.section
    if section is Section.CATALOG and catalog_id is None:
        catalog_id = section_id
    if section is Section.CLASSIFIER and classifier_id is None:
        classifier_id = section_id
    explicit = flag is not None and bool(flag.strip())
    default = versions.default_changes_only(section)
    try:
        changes_only = parse_bool(flag, default=default)
    except CommerceMLValueError as exc:
        raise exc.locate(file=file, line=current.element.sourceline) from None
    return SectionHeader(
        section=section,
        id=section_id,
        name=name,
        catalog_id=catalog_id,
        classifier_id=classifier_id,
        changes_only=changes_only,
        changes_only_explicit=explicit,
        schema_version=ctx.schema_version,
        generated_at=generated_at,
    )


# --------------------------------------------------------------------------- groups


class _GroupTree:
    """Streams the recursive Группы tree, yielding each group before its children.

    A group is emitted when its first child group starts (its own Ид and Наименование precede
    the nested Группы, so they are complete by then) or when it ends, whichever comes first.
    """

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        # (element, group Ид once emitted or None, emitted?)
        self.stack: list[list[Any]] = []

    def open_group(self, element: _Element, file: str | None, raise_invalid: bool, overflow: bool) -> Record | None:
        record = None
        if self.stack and not self.stack[-1][2]:
            record = self._emit(self.stack[-1], file, raise_invalid, overflow)
        self.stack.append([element, None, False])
        return record

    def close_group(self, element: _Element, file: str | None, raise_invalid: bool, overflow: bool) -> Record | None:
        entry = self.stack[-1]
        record = None if entry[2] else self._emit(entry, file, raise_invalid, overflow)
        self.stack.pop()
        drop_element(element)
        return record

    def _emit(self, entry: list[Any], file: str | None, raise_invalid: bool, overflow: bool) -> Record:
        entry[2] = True
        element = entry[0]
        parent_id = self.stack[-2][1] if len(self.stack) > 1 else None
        try:
            if overflow:
                raise _too_many_elements(self.ctx.max_record_elements)
            group = _group(element, self.ctx, parent_id)
        except CommerceMLError as exc:
            return _invalid(exc, element, "Группа", self.ctx, file, raise_invalid)
        entry[1] = group.id
        return group


def _group(element: _Element, ctx: _Context, parent_id: str | None) -> Group:
    names = ctx.names
    group_id = name = version = None
    deleted = False
    for child in element:
        local = names[child.tag]
        if local == "Ид":
            group_id = _ident(child, ctx)
        elif local == "Наименование":
            name = _text(child, ctx)
        elif local == "ПометкаУдаления":
            deleted = _bool(child) or deleted
        elif local == "Статус":
            deleted = (_ident(child, ctx) == versions.DELETED_STATUS) or deleted
        elif local == "НомерВерсии":
            version = _ident(child, ctx)
    return Group(
        id=_required(group_id, "Группа"),
        name=name or "",
        parent_id=parent_id,
        deleted=deleted,
        version=version,
    )


# --------------------------------------------------------------------------- classifier records


def _property(element: _Element, ctx: _Context) -> Property:
    names = ctx.names
    property_id = name = type_text = version = None
    for_products: bool | None = None
    for_offers: bool | None = None
    deleted = False
    options: list[PropertyOption] = []
    for child in element:
        local = names[child.tag]
        if local == "Ид":
            property_id = _ident(child, ctx)
        elif local == "Наименование":
            name = _text(child, ctx)
        elif local == "ТипЗначений":
            type_text = child.text
        elif local == "ВариантыЗначений":
            _property_options(child, ctx, options)
        elif local == "ДляТоваров":
            for_products = _bool(child)
        elif local == "ДляПредложений":
            for_offers = _bool(child)
        elif local == "ПометкаУдаления":
            deleted = _bool(child) or deleted
        elif local == "Статус":
            deleted = (_ident(child, ctx) == versions.DELETED_STATUS) or deleted
        elif local == "НомерВерсии":
            version = _ident(child, ctx)
    if for_products is None:
        for_products = not for_offers
    return Property(
        id=_required(property_id, "Свойство"),
        name=name or "",
        value_type=versions.value_type(type_text, has_options=bool(options)),
        for_products=for_products,
        for_offers=bool(for_offers),
        deleted=deleted,
        values=tuple(options),
        version=version,
    )


def _property_options(container: _Element, ctx: _Context, options: list[PropertyOption]) -> None:
    names = ctx.names
    for option in container:
        local = names[option.tag]
        if local == "Справочник":
            option_id = value = None
            for part in option:
                local = names[part.tag]
                if local == "ИдЗначения":
                    option_id = _ident(part, ctx)
                elif local == "Значение":
                    value = _text(part, ctx)
            if option_id is None:
                if value is None or not value.strip():
                    # 1C (2.09 exports) writes empty options, <Справочник><ИдЗначения/><Значение/>
                    # </Справочник>: nothing to keep, and no reason to lose the property.
                    continue
                raise CommerceMLValueError("Справочник option has no ИдЗначения", line=option.sourceline)
            options.append(PropertyOption(id=option_id, value=value or ""))
        elif local == "Значение":
            # XSD allows plain values without ids; the value doubles as its id.
            value = _text(option, ctx)
            if value:
                options.append(PropertyOption(id=value.strip(), value=value))


def _price_type(element: _Element, ctx: _Context) -> PriceType:
    names = ctx.names
    price_type_id = name = currency = None
    for child in element:
        local = names[child.tag]
        if local == "Ид":
            price_type_id = _ident(child, ctx)
        elif local == "Наименование":
            name = _text(child, ctx)
        elif local == "Валюта":
            currency = _ident(child, ctx)
    return PriceType(id=_required(price_type_id, "ТипЦены"), name=name or "", currency=currency)


def _warehouse(element: _Element, ctx: _Context) -> Warehouse:
    names = ctx.names
    warehouse_id = name = None
    deleted = False
    for child in element:
        local = names[child.tag]
        if local == "Ид":
            warehouse_id = _ident(child, ctx)
        elif local == "Наименование":
            name = _text(child, ctx)
        elif local == "ПометкаУдаления":
            deleted = _bool(child) or deleted
    return Warehouse(id=_required(warehouse_id, "Склад"), name=name or "", deleted=deleted)


def _unit_record(element: _Element, ctx: _Context) -> Unit:
    names = ctx.names
    unit_id = code = name = full_name = intl_abbr = None
    for child in element:
        local = names[child.tag]
        if local == "Код":
            code = _ident(child, ctx)
        elif local == "Ид":
            unit_id = _ident(child, ctx)
        elif local == "НаименованиеКраткое":
            name = _ident(child, ctx)
        elif local == "НаименованиеПолное":
            full_name = _ident(child, ctx)
        elif local == "МеждународноеСокращение":
            intl_abbr = _ident(child, ctx)
    code = code or unit_id
    if code is None:
        raise CommerceMLValueError("ЕдиницаИзмерения has neither Код nor Ид")
    return Unit(code=code, name=name, full_name=full_name, intl_abbr=intl_abbr, id=unit_id)


# --------------------------------------------------------------------------- product parts


_UNIT_CACHE_SIZE = 1024


def _base_unit(element: _Element, ctx: _Context) -> ProductUnit | None:
    code = element.get("Код")
    full_name = element.get("НаименованиеПолное")
    intl_abbr = element.get("МеждународноеСокращение")
    short_name = element.get("НаименованиеКраткое")
    text = element.text
    # Every product repeats one of a few units: reuse the (immutable) record.
    key = (code, full_name, intl_abbr, short_name, text)
    unit = ctx.units.get(key, _MISSING)
    if unit is _MISSING:
        unit = _read_base_unit(element, ctx, code, full_name, intl_abbr, short_name, text)
        if len(ctx.units) < _UNIT_CACHE_SIZE:
            ctx.units[key] = unit
    return unit


def _read_base_unit(
    element: _Element,
    ctx: _Context,
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
    _check_lengths([code, full_name, intl_abbr, short_name, text], element, ctx)
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
_PV_ID, _PV_VALUE, _PV_ITEM = 1, 2, 3
_PROPERTY_VALUE_FIELDS: dict[str, int] = {
    "Ид": _PV_ID,
    "Значение": _PV_VALUE,
    "ИдЗначения": _PV_VALUE,
    "ЗначенияСвойства": _PV_ITEM,
}


def _check_lengths(texts: list[str | None], element: _Element, ctx: _Context) -> None:
    longest = max(map(len, filter(None, texts)), default=0)  # C-level loop: hot path
    if longest > ctx.max_text:
        raise CommerceMLLimitError(
            f"text of {longest} characters exceeds the limit of {ctx.max_text}",
            line=element.sourceline,
        )


def _strip(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip() or None


def _property_values(container: _Element, ctx: _Context) -> tuple[PropertyValue, ...]:
    codes = ctx.property_value_fields
    result = []
    for item in container:
        if codes[item.tag] != _PV_ITEM:
            continue
        property_id = None
        values: list[str] = []
        for part in item:
            code = codes[part.tag]
            if code == _PV_VALUE:
                value = part.text
                if value:
                    values.append(value)
            elif code == _PV_ID:
                property_id = part.text
        _check_lengths([property_id, *values], item, ctx)
        property_id = _strip(property_id)
        if property_id is None:
            raise CommerceMLValueError("ЗначенияСвойства has no Ид", line=item.sourceline)
        result.append(PropertyValue(property_id=property_id, values=tuple(values)))
    return tuple(result)


def _name_value_pairs(container: _Element, ctx: _Context) -> tuple[tuple[str, str], ...]:
    """ЗначенияРеквизитов / ХарактеристикиТовара: (Наименование, Значение) pairs."""
    codes = ctx.pair_fields
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
                _check_lengths([name, value], item, ctx)
            result.append((name or "", value or ""))
    return tuple(result)


def _ids(container: _Element, ctx: _Context) -> tuple[str, ...]:
    names = ctx.names
    result = []
    for child in container:
        if names[child.tag] == "Ид":
            value = _ident(child, ctx)
            if value is not None:
                result.append(value)
    return tuple(result)


def _first_name(container: _Element, ctx: _Context) -> str | None:
    names = ctx.names
    for child in container:
        if names[child.tag] == "Наименование":
            return _text(child, ctx)
    return None


_P_ID, _P_NAME, _P_ARTICLE, _P_BARCODE, _P_DESCRIPTION = 1, 2, 3, 4, 5
_P_COUNTRY, _P_VERSION, _P_DELETION_MARK, _P_STATUS = 6, 7, 8, 9
_P_SIMPLE = 10  # codes below are plain text fields
_P_UNIT, _P_GROUPS, _P_IMAGE, _P_PROPERTY_VALUES = 10, 11, 12, 13
_P_REQUISITES, _P_CHARACTERISTICS, _P_MANUFACTURER = 14, 15, 16
_PRODUCT_FIELDS: dict[str, int] = {
    "Ид": _P_ID,
    "Наименование": _P_NAME,
    "Артикул": _P_ARTICLE,
    "Штрихкод": _P_BARCODE,
    "Описание": _P_DESCRIPTION,
    "Страна": _P_COUNTRY,
    "НомерВерсии": _P_VERSION,
    "ПометкаУдаления": _P_DELETION_MARK,
    "Статус": _P_STATUS,
    "БазоваяЕдиница": _P_UNIT,
    "Группы": _P_GROUPS,
    "Картинка": _P_IMAGE,
    "ЗначенияСвойств": _P_PROPERTY_VALUES,
    "ЗначенияРеквизитов": _P_REQUISITES,
    "ХарактеристикиТовара": _P_CHARACTERISTICS,
    "Изготовитель": _P_MANUFACTURER,
}


def _deleted(element: _Element, mark: str | None, status: str | None) -> bool:
    """Статус="Удален" as attribute or element, or ПометкаУдаления=true (protocol.md §5.3)."""
    if element.get("Статус") == versions.DELETED_STATUS:
        return True
    if status is not None and status.strip() == versions.DELETED_STATUS:
        return True
    try:
        return parse_bool(mark)
    except CommerceMLValueError as exc:
        raise exc.locate(line=element.sourceline, element="ПометкаУдаления") from None


def _product(element: _Element, ctx: _Context) -> Product:
    codes = ctx.product_fields
    texts: list[str | None] = [None] * _P_SIMPLE
    unit = None
    group_ids: tuple[str, ...] = ()
    images: list[str] = []
    property_values: tuple[PropertyValue, ...] = ()
    requisites: tuple[tuple[str, str], ...] = ()
    characteristics: tuple[tuple[str, str], ...] = ()
    manufacturer = None
    for child in element:
        code = codes[child.tag]
        if code < _P_SIMPLE:
            texts[code] = child.text
        elif code == _P_PROPERTY_VALUES:
            property_values = _property_values(child, ctx)
        elif code == _P_REQUISITES:
            requisites = _name_value_pairs(child, ctx)
        elif code == _P_UNIT:
            unit = _base_unit(child, ctx)
        elif code == _P_GROUPS:
            group_ids = _ids(child, ctx)
        elif code == _P_IMAGE:
            image = _ident(child, ctx)
            if image is not None:
                images.append(image)
        elif code == _P_CHARACTERISTICS:
            characteristics = _name_value_pairs(child, ctx)
        elif code == _P_MANUFACTURER:
            manufacturer = _first_name(child, ctx)
    _check_lengths(texts, element, ctx)
    return Product(
        id=_required(_strip(texts[_P_ID]), "Товар"),
        name=texts[_P_NAME] or "",
        article=_strip(texts[_P_ARTICLE]),
        barcode=_strip(texts[_P_BARCODE]),
        description=texts[_P_DESCRIPTION],
        group_ids=group_ids,
        unit=unit,
        images=tuple(images),
        property_values=property_values,
        requisites=requisites,
        characteristics=characteristics,
        manufacturer=manufacturer,
        country=_strip(texts[_P_COUNTRY]),
        deleted=_deleted(element, texts[_P_DELETION_MARK], texts[_P_STATUS]),
        version=_strip(texts[_P_VERSION]),
    )


# --------------------------------------------------------------------------- offer parts

_PRICE_ITEM, _PRICE_TYPE, _PRICE_VALUE, _PRICE_CURRENCY, _PRICE_UNIT, _PRICE_COEFFICIENT = (
    6,
    1,
    2,
    3,
    4,
    5,
)
_PRICE_FIELDS: dict[str, int] = {
    "Цена": _PRICE_ITEM,
    "ИдТипаЦены": _PRICE_TYPE,
    "ЦенаЗаЕдиницу": _PRICE_VALUE,
    "Валюта": _PRICE_CURRENCY,
    "Единица": _PRICE_UNIT,
    "Коэффициент": _PRICE_COEFFICIENT,
}


def _prices(container: _Element, ctx: _Context) -> tuple[OfferPrice, ...]:
    codes = ctx.price_fields
    result = []
    for price in container:
        if codes[price.tag] != _PRICE_ITEM:
            continue
        texts: list[str | None] = [None] * 7
        for part in price:
            texts[codes[part.tag]] = part.text
        _check_lengths(texts, price, ctx)
        price_type_id = _strip(texts[_PRICE_TYPE])
        value_text = texts[_PRICE_VALUE]
        if price_type_id is None or value_text is None:
            raise CommerceMLValueError("Цена needs ИдТипаЦены and ЦенаЗаЕдиницу", line=price.sourceline)
        coefficient_text = texts[_PRICE_COEFFICIENT]
        try:
            value = parse_decimal(value_text)
            coefficient = (
                parse_decimal(coefficient_text) if coefficient_text is not None and coefficient_text.strip() else None
            )
        except CommerceMLValueError as exc:
            raise exc.locate(line=price.sourceline, element="Цена") from None
        result.append(
            OfferPrice(
                price_type_id,
                value,
                _strip(texts[_PRICE_CURRENCY]),
                _strip(texts[_PRICE_UNIT]),
                coefficient,
            )
        )
    return tuple(result)


def _warehouse_stock(element: _Element, ctx: _Context) -> OfferStock:
    """``<Склад ИдСклада="…" КоличествоНаСкладе="…"/>`` (2.x), also as child elements."""
    warehouse_id = element.get("ИдСклада")
    if warehouse_id is not None:
        warehouse_id = warehouse_id.strip() or None
        quantity = _attribute_decimal(element, "КоличествоНаСкладе")
    else:
        quantity = None
        names = ctx.names
        for part in element:
            local = names[part.tag]
            if local == "Ид" or local == "ИдСклада":
                warehouse_id = _ident(part, ctx)
            elif local == "Количество" or local == "КоличествоНаСкладе":
                quantity = _decimal(part)
    if warehouse_id is None or quantity is None:
        raise CommerceMLValueError("warehouse stock needs a warehouse Ид and a quantity", line=element.sourceline)
    return OfferStock(warehouse_id, quantity)


def _rests(container: _Element, ctx: _Context, stocks: list[OfferStock]) -> Decimal | None:
    """3.1 ``Остатки/Остаток/Склад{Ид, Количество}`` or ``Остаток/Количество`` (a total)."""
    names = ctx.names
    total = None
    for rest in container:
        if names[rest.tag] != "Остаток":
            continue
        for part in rest:
            local = names[part.tag]
            if local == "Склад":
                stocks.append(_warehouse_stock(part, ctx))
            elif local == "Количество":
                quantity = _decimal(part)
                total = quantity if total is None else total + quantity
    return total


_O_ID, _O_NAME, _O_ARTICLE, _O_BARCODE, _O_VERSION = 1, 2, 3, 4, 5
_O_DELETION_MARK, _O_STATUS, _O_CHARACTERISTIC_ID = 6, 7, 8
_O_SIMPLE = 9  # codes below are plain text fields
_O_PRICES, _O_STOCK, _O_QUANTITY, _O_UNIT = 9, 10, 11, 12
_O_CHARACTERISTICS, _O_PROPERTY_VALUES, _O_RESTS = 13, 14, 15
_OFFER_FIELDS: dict[str, int] = {
    "Ид": _O_ID,
    "Наименование": _O_NAME,
    "Артикул": _O_ARTICLE,
    "Штрихкод": _O_BARCODE,
    "НомерВерсии": _O_VERSION,
    "ПометкаУдаления": _O_DELETION_MARK,
    "Статус": _O_STATUS,
    versions.OFFER_CHARACTERISTIC_ELEMENT: _O_CHARACTERISTIC_ID,
    "Цены": _O_PRICES,
    **dict.fromkeys(versions.OFFER_STOCK_ELEMENTS, _O_STOCK),
    "Количество": _O_QUANTITY,
    "БазоваяЕдиница": _O_UNIT,
    "ХарактеристикиТовара": _O_CHARACTERISTICS,
    "ЗначенияСвойств": _O_PROPERTY_VALUES,
    versions.OFFER_RESTS_ELEMENT: _O_RESTS,
}


def _offer(element: _Element, ctx: _Context) -> Offer:
    codes = ctx.offer_fields
    texts: list[str | None] = [None] * _O_SIMPLE
    unit = None
    quantity: Decimal | None = None
    characteristics: tuple[tuple[str, str], ...] = ()
    property_values: tuple[PropertyValue, ...] = ()
    prices: tuple[OfferPrice, ...] = ()
    stocks: list[OfferStock] = []
    has_prices = has_stock = has_characteristics = has_property_values = False
    for child in element:
        code = codes[child.tag]
        if code < _O_SIMPLE:
            texts[code] = child.text or ""  # "" = present but empty: an offer's name may be absent
        elif code == _O_PRICES:
            prices = _prices(child, ctx)
            has_prices = True
        elif code == _O_STOCK:
            stocks.append(_warehouse_stock(child, ctx))
            has_stock = True
        elif code == _O_QUANTITY:
            total = _optional_decimal(child)
            if total is not None:
                quantity = total if quantity is None else quantity + total
            has_stock = True
        elif code == _O_UNIT:
            unit = _base_unit(child, ctx)
        elif code == _O_CHARACTERISTICS:
            characteristics = _name_value_pairs(child, ctx)
            has_characteristics = True
        elif code == _O_PROPERTY_VALUES:
            property_values = _property_values(child, ctx)
            has_property_values = True
        elif code == _O_RESTS:
            total = _rests(child, ctx, stocks)
            if total is not None:
                quantity = total if quantity is None else quantity + total
            has_stock = True
    _check_lengths(texts, element, ctx)
    offer_id = _required(_strip(texts[_O_ID]), "Предложение")
    product_id, variant_id = split_offer_id(offer_id)
    characteristic_id = _strip(texts[_O_CHARACTERISTIC_ID])
    if characteristic_id is not None and variant_id is None:
        variant_id = characteristic_id
        offer_id = join_offer_id(product_id, variant_id)
    return Offer(
        id=offer_id,
        product_id=product_id,
        variant_id=variant_id,
        name=texts[_O_NAME],
        article=_strip(texts[_O_ARTICLE]),
        barcode=_strip(texts[_O_BARCODE]),
        unit=unit,
        characteristics=characteristics,
        property_values=property_values,
        prices=prices,
        quantity=quantity,
        stocks=tuple(stocks),
        deleted=_deleted(element, texts[_O_DELETION_MARK], texts[_O_STATUS]),
        version=_strip(texts[_O_VERSION]),
        has_prices=has_prices,
        has_stock=has_stock,
        has_characteristics=has_characteristics,
        has_property_values=has_property_values,
    )


# Builders for the elements two levels below a section (section/container/record), by local
# name. Groups are not here: their tree is streamed by _GroupTree.
_RECORD_BUILDERS: dict[str, Any] = {
    "Товар": _product,
    "Предложение": _offer,
    "Свойство": _property,
    "ТипЦены": _price_type,
    "Склад": _warehouse,
    "ЕдиницаИзмерения": _unit_record,
}
