"""Streaming CommerceML reader: a file in, typed records out.

``iter_records(path)`` walks the file once with lxml ``iterparse`` and yields records in document
order: each section's ``SectionHeader`` first, then its records: groups (parents before
children), properties, price types, warehouses, units, products and offers of the catalog
sections; ``Document`` records of orders (root-level Документ, 3.1 Контейнер); ``Counterparty``
records of a 3.1 Контрагенты file. Importers never see XML.

The reader is two parts:

* the **walker** (this module) knows the file's shape: which root-level element is which
  section (``SECTIONS``), at which depth a section's records sit, when a section header is
  due, and when a finished element is cleared;
* the **builders** (``commerceml._catalog``, ``commerceml._documents``, sharing
  ``commerceml._build``) turn one finished element into one record and know CommerceML's fields.

How it stays fast and small (see ../shared/reference/performance.md):

* One pass of start/end events; an element's depth decides what it is (section, container,
  record, or a field inside a record, which costs only a counter update).
* A record is read when its end tag arrives, by iterating its direct children once and
  dispatching on the local name (namespaces are ignored; ``LocalNames`` caches the mapping).
* Finished records are cleared and removed from their parent, so memory does not grow with the
  file: only the open path of elements and one record at a time are alive, and one record is
  bounded too (``ReaderLimits.max_record_elements``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lxml import etree

from commerceml import versions
from commerceml._build import (
    BuildContext,
    Element,
    ident_of,
    invalid_record,
    text_of,
    too_many_elements,
)
from commerceml._catalog import CATALOG_BUILDERS, GroupTree
from commerceml._documents import CONTAINER_BUILDERS, COUNTERPARTY_BUILDERS, DOCUMENT_BUILDERS
from commerceml._parsing import (
    DEFAULT_LIMITS,
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
from commerceml.records import Record, Section, SectionHeader
from commerceml.values import parse_bool

OnInvalid = Literal["raise", "yield"]

Builder = Callable[[Element, BuildContext], Record]


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """How the walker reads one kind of root-level section.

    ``record_depth``: levels from the section element down to its records: 2 for
    Каталог/Товары/Товар, 1 for Контрагенты/Контрагент, 0 when the section element is itself
    the record (a root-level Документ). ``builders``: record builders by the record's local name.
    ``header_from_element``: the header is read from the section's own attributes and first
    children (catalog sections); otherwise one header is written for a run of such sections
    (Документ, Документ, Контейнер, ...) when the first one starts. ``kept_fields``: children
    of the section at record depth that are not records but that builders need
    (``BuildContext.section_fields``).
    """

    section: Section
    record_depth: int
    builders: Mapping[str, Builder]
    header_from_element: bool = True
    group_tree: bool = False
    kept_fields: frozenset[str] = frozenset()


SECTIONS: dict[str, SectionSpec] = {
    **{
        name: SectionSpec(section, 2, CATALOG_BUILDERS, group_tree=section is Section.CLASSIFIER)
        for name, section in versions.CATALOG_SECTIONS.items()
    },
    # 2.x orders: Документ elements at the root, each one a record (protocol.md §5.6, §5.7).
    "Документ": SectionSpec(Section.DOCUMENTS, 0, DOCUMENT_BUILDERS, header_from_element=False),
    # 3.1: each order in a Контейнер with its payment and shipment documents (protocol.md §5.6).
    "Контейнер": SectionSpec(
        Section.DOCUMENTS, 1, CONTAINER_BUILDERS, header_from_element=False, kept_fields=frozenset({"Ид"})
    ),
    # 3.1 contragents___ file: Контрагенты СодержитТолькоИзменения="…"/Контрагент (protocol.md §5.8).
    "Контрагенты": SectionSpec(Section.COUNTERPARTIES, 1, COUNTERPARTY_BUILDERS),
}


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

    Root-level elements that are not a known section are skipped.
    """
    file = source_name(source)
    with open_source(source) as stream:
        yield from _read(stream, file, limits, on_invalid == "raise")


@dataclass(slots=True)
class _OpenSection:
    """A section whose header is read from its own element, until the header is written."""

    section: Section
    element: Element
    changes_only_attribute: str | None
    header_done: bool = False


_NO_BUILDERS: Mapping[str, Builder] = {}


def _read(stream: Any, file: str | None, limits: ReaderLimits, raise_invalid: bool) -> Iterator[Record]:
    names = LocalNames()
    ctx = BuildContext(names=names, max_text=limits.max_text_length, max_record_elements=limits.max_record_elements)
    max_depth = limits.max_depth
    max_elements = limits.max_record_elements
    depth = 0
    section_depth = 2  # 1 when the root element itself is a section (old classifier files)
    record_depth = section_depth + 2  # absolute depth of the open section's records
    spec: SectionSpec | None = None
    builders = _NO_BUILDERS
    current: _OpenSection | None = None  # header still to be read from the section element
    last_header: Section | None = None  # the section of the last header written
    groups: GroupTree | None = None
    generated_at: str | None = None
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
                if depth > record_depth:
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
                        if local not in SECTIONS and local not in versions.OTHER_SECTIONS:
                            raise CommerceMLValueError(
                                f"<{local}> is not a CommerceML root element (expected {versions.ROOT})",
                                file=file,
                                line=element.sourceline,
                            )
                        section_depth = 1
                if depth == section_depth:
                    spec = SECTIONS.get(local)
                    if spec is None:
                        builders, record_depth = _NO_BUILDERS, depth + 2
                    else:
                        builders, record_depth = spec.builders, depth + spec.record_depth
                        ctx.section_fields.clear()
                        if spec.header_from_element:
                            current = _OpenSection(spec.section, element, element.get("СодержитТолькоИзменения"))
                        elif last_header is not spec.section:
                            last_header = spec.section
                            yield _run_header(spec.section, ctx, generated_at)
                elif depth == section_depth + 1 and current is not None:
                    if not current.header_done and local not in versions.HEADER_FIELDS:
                        last_header = current.section
                        yield _header(current, ctx, generated_at, file)
                    if local == "Группы" and spec is not None and spec.group_tree:
                        groups = GroupTree(ctx)
                elif groups is not None and depth == record_depth and local == "Группа":
                    record = groups.open_group(element, file, raise_invalid, False)
                    if record is not None:
                        yield record
                    record_elements, overflow = 0, False
                continue

            # event == "end"
            if depth >= record_depth:
                if groups is not None:
                    if names[element.tag] == "Группа":
                        record = groups.close_group(element, file, raise_invalid, overflow)
                        if record is not None:
                            yield record
                        record_elements, overflow = 0, False
                    elif depth == record_depth:
                        drop_element(element)  # not a group: nothing to read in it
                    elif overflow:
                        _discard(element, depth - record_depth, names)
                    depth -= 1
                    continue
                if depth > record_depth:
                    if overflow:
                        _discard(element, depth - record_depth, names)
                    depth -= 1
                    continue
                # A record of the open section, or another element at its depth.
                local = names[element.tag]
                builder = builders.get(local)
                if builder is not None:
                    try:
                        if overflow:
                            raise too_many_elements(max_elements)
                        record = builder(element, ctx)
                    except CommerceMLError as exc:
                        record = invalid_record(exc, element, local, ctx, file, raise_invalid)
                    yield record
                    record_elements, overflow = 0, False
                    if depth > section_depth:
                        drop_element(element)
                        depth -= 1
                        continue
                    # else the section element was the record: end the section below
                else:
                    record_elements, overflow = 0, False
                    if spec is not None and local in spec.kept_fields and depth > section_depth:
                        _keep_field(element, local, ctx)
            relative = depth - section_depth
            depth -= 1
            if relative >= 2:
                drop_element(element)  # at record depth but not a record: nothing to read in it
            elif relative == 1:
                groups = None
                if current is not None and not current.header_done and names[element.tag] in versions.HEADER_FIELDS:
                    continue  # kept until the header is emitted
                drop_element(element)
            elif relative == 0:
                if current is not None and not current.header_done:
                    last_header = current.section
                    yield _header(current, ctx, generated_at, file)
                current = spec = None
                builders, record_depth = _NO_BUILDERS, section_depth + 2
                drop_element(element)
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, file) from exc


def _keep_field(element: Element, local: str, ctx: BuildContext) -> None:
    text = element.text
    if text is not None and len(text) <= ctx.max_text and text.strip():
        ctx.section_fields[local] = text.strip()


def _discard(element: Element, level: int, names: LocalNames) -> None:
    """Free a finished element ``level`` levels inside a record that passed the element limit.

    The record's own Ид (a direct child) is kept so that its element error can name it.
    """
    if level == 1 and names[element.tag] == "Ид":
        return
    element.clear(keep_tail=False)
    element.getparent().remove(element)


# --------------------------------------------------------------------------- section headers


def _run_header(section: Section, ctx: BuildContext, generated_at: str | None) -> SectionHeader:
    """The one header of a run of sections that carry no header of their own (Документ, Контейнер)."""
    return SectionHeader(
        section=section,
        id=None,
        name=None,
        catalog_id=None,
        classifier_id=None,
        changes_only=versions.default_changes_only(section),
        changes_only_explicit=False,
        schema_version=ctx.schema_version,
        generated_at=generated_at,
    )


def _header(current: _OpenSection, ctx: BuildContext, generated_at: str | None, file: str | None) -> SectionHeader:
    """The header of a section that has one: its Ид, Наименование, catalog and classifier ids, flag."""
    current.header_done = True
    names = ctx.names
    section_id = name = catalog_id = classifier_id = None
    flag = current.changes_only_attribute
    for child in current.element:
        local = names[child.tag]
        if local == "Ид":
            section_id = ident_of(child, ctx)
        elif local == "Наименование":
            name = text_of(child, ctx)
        elif local == "ИдКаталога":
            catalog_id = ident_of(child, ctx)
        elif local == "ИдКлассификатора":
            classifier_id = ident_of(child, ctx)
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
