"""What a CommerceML file contains, decided by its content, and the order to import files in.

1C's file names say little (``import.xml``, ``import0_1.xml``, ``import___<guid>.xml`` may each
hold a classifier, goods or both; protocol.md §2.6), so, like Bitrix, we look inside: the root's
sections and, for offer packages, what the first Предложение carries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

from lxml import etree

from commerceml import versions
from commerceml._parsing import (
    LocalNames,
    Source,
    drop_element,
    iterparse,
    open_source,
    source_name,
    syntax_error,
    unsafe_doctype_check,
)


class FileKind(StrEnum):
    CLASSIFIER = "classifier"  # only Классификатор data: groups, properties, price types, ...
    CATALOG = "catalog"  # Каталог with Товары (2.x import.xml also has its Классификатор)
    OFFERS = "offers"  # offers with names/characteristics (2.x: with prices and stock too)
    PRICES = "prices"  # offers with prices but no names (3.1 prices___)
    RESTS = "rests"  # offers with stock only (3.1 rests___)
    DOCUMENTS = "documents"  # Документ / Контейнер: orders and their payments, shipments
    CONTRAGENTS = "contragents"  # Контрагенты (3.x contragents___)
    EMPTY = "empty"  # a CommerceML root with nothing in it (an empty orders answer)
    UNKNOWN = "unknown"  # not CommerceML, or nothing recognisable in it


# Dependency order: referenced data must be loaded first (protocol.md §2.6, "Ordering rules":
# classifier -> properties -> goods -> offers -> prices -> rests).
_RANKS = {
    FileKind.CLASSIFIER: 0,
    FileKind.CATALOG: 1,
    FileKind.OFFERS: 2,
    FileKind.PRICES: 3,
    FileKind.RESTS: 4,
    FileKind.DOCUMENTS: 5,
    FileKind.CONTRAGENTS: 5,
    FileKind.EMPTY: 6,
    FileKind.UNKNOWN: 6,
}

_OFFER_DETAILS = frozenset(
    {
        "Наименование",
        "ХарактеристикиТовара",
        "ЗначенияСвойств",
        "Артикул",
        "Штрихкод",
        "БазоваяЕдиница",
        "Картинка",
        "Группы",
        "Описание",
    }
)
_OFFER_STOCK = frozenset({versions.OFFER_RESTS_ELEMENT, "Количество", *versions.OFFER_STOCK_ELEMENTS})
# Offers looked at before deciding: an ИзмененияПакетаПредложений may start with stock-only
# offers and carry prices further on.
_OFFERS_SAMPLED = 16


@dataclass(frozen=True, slots=True)
class FileInfo:
    kind: FileKind
    sections: tuple[str, ...]  # local names of the root's sections, in order (as far as read)
    schema_version: str | None


def import_rank(kind: FileKind) -> int:
    """Lower ranks import first: classifier < catalog < offers < prices < rests < the rest."""
    return _RANKS[kind]


def detect_file_kind(source: Source) -> FileKind:
    """Classify a file by reading only as much of it as needed (see ``inspect_file``)."""
    return inspect_file(source).kind


def sort_for_import(paths: Iterable[str | Path]) -> list[tuple[Path, FileKind]]:
    """Files with their kinds, in import order; ties keep a stable, name-based order."""
    detected = [(Path(path), detect_file_kind(path)) for path in paths]
    detected.sort(key=lambda item: (import_rank(item[1]), item[0].name, str(item[0])))
    return detected


def inspect_file(source: Source) -> FileInfo:
    """Read the start of a file and say what it holds.

    Stops as soon as the answer is known: at a Каталог, after the first Предложение with names
    or characteristics (else after 16 offers), or at an orders document. A classifier-only file is read to its end (it could
    still contain a Каталог); that is cheap, since elements are cleared as they are passed.
    Raises ``CommerceMLSyntaxError`` only if the file breaks before the answer is known.
    """
    file = source_name(source)
    with open_source(source) as stream:
        return _inspect(stream, file)


def _inspect(stream: IO[bytes], file: str | None) -> FileInfo:
    names = LocalNames()
    sections: list[str] = []
    schema_version: str | None = None
    section_depth = 2
    depth = 0
    has_classifier_data = False
    offers_section = False
    offer_depth: int | None = None
    offer_parts: set[str] = set()
    offers_seen = 0
    root_is_commerceml = False
    current_section: str | None = None

    def result(kind: FileKind) -> FileInfo:
        return FileInfo(kind=kind, sections=tuple(sections), schema_version=schema_version)

    try:
        for event, element in iterparse(stream, file):
            if event == "start":
                depth += 1
                local = names[element.tag]
                if depth == 1:
                    unsafe_doctype_check(element, file)
                    schema_version = element.get("ВерсияСхемы")
                    if local == versions.ROOT:
                        root_is_commerceml = True
                        continue
                    if local not in versions.CATALOG_SECTIONS and local not in (versions.OTHER_SECTIONS):
                        return result(FileKind.UNKNOWN)
                    root_is_commerceml = True
                    section_depth = 1
                relative = depth - section_depth
                if relative == 0:
                    sections.append(local)
                    current_section = local
                    if local in ("Документ", "Контейнер"):
                        return result(FileKind.DOCUMENTS)
                    if local == "Контрагенты":
                        return result(FileKind.CONTRAGENTS)
                    if local == "Каталог":
                        return result(FileKind.CATALOG)
                    offers_section = local in ("ПакетПредложений", "ИзмененияПакетаПредложений")
                elif relative == 1:
                    if current_section == "Классификатор":
                        has_classifier_data |= local not in versions.HEADER_FIELDS
                    elif offers_section and local in ("ТипыЦен", "Склады"):
                        has_classifier_data = True
                elif relative == 2 and offers_section and local == "Предложение":
                    offer_depth = depth
                continue
            # end
            if offer_depth is not None and depth == offer_depth + 1:
                offer_parts.add(names[element.tag])
            elif offer_depth is not None and depth == offer_depth:
                offers_seen += 1
                if offer_parts & _OFFER_DETAILS or offers_seen >= _OFFERS_SAMPLED:
                    return result(_offer_kind(offer_parts))
                offer_depth = None
            elif offers_section and depth == section_depth and offer_parts:
                return result(_offer_kind(offer_parts))  # the package ended within the sample
            depth -= 1
            if depth - section_depth >= 0:
                drop_element(element)
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, file) from exc
    if not root_is_commerceml:
        return result(FileKind.UNKNOWN)
    if has_classifier_data:
        return result(FileKind.CLASSIFIER)
    if any(name in ("ПакетПредложений", "ИзмененияПакетаПредложений") for name in sections):
        return result(FileKind.OFFERS)  # a package with no offers in it: nothing to depend on
    if not sections:
        return result(FileKind.EMPTY)
    return result(FileKind.CLASSIFIER if "Классификатор" in sections else FileKind.UNKNOWN)


def _offer_kind(parts: set[str]) -> FileKind:
    """Classify an offers package by what its first offers carry (their union)."""
    if parts & _OFFER_DETAILS:
        return FileKind.OFFERS
    if "Цены" in parts:
        return FileKind.PRICES
    if parts & _OFFER_STOCK:
        return FileKind.RESTS
    return FileKind.OFFERS
