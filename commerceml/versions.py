"""Differences between CommerceML versions and producers, kept in one place.

The reader matches local names only, so the namespace (none in 2.03–2.05, ``urn:1C.ru:
commerceml_2`` in 2.07–2.10, ``urn:1C.ru:commerceml_210`` from some 2.08 producers,
``urn:1C.ru:commerceml_3`` in 3.1) never matters (protocol.md §5.1). What does differ is
decided by the functions below; each cites the evidence in ../shared/reference/protocol.md.
"""

from __future__ import annotations

from commerceml.records import ProductUnit, Section, ValueType

KNOWN_NAMESPACES = frozenset({"urn:1C.ru:commerceml_2", "urn:1C.ru:commerceml_210", "urn:1C.ru:commerceml_3"})

ROOT = "КоммерческаяИнформация"

# Root children that hold catalog data the reader turns into records.
CATALOG_SECTIONS: dict[str, Section] = {
    "Классификатор": Section.CLASSIFIER,
    "Каталог": Section.CATALOG,
    "ПакетПредложений": Section.OFFERS,
    "ИзмененияПакетаПредложений": Section.OFFER_CHANGES,
}
# Root children that are CommerceML but not catalog data: orders (Документ at the root in 2.x,
# wrapped in Контейнер in 3.1, protocol.md §5.6) and the 3.1 contragents file (Контрагенты,
# §5.8). Detection files them as FileKind.DOCUMENTS / CONTRAGENTS; the reader's section table
# (commerceml.reader.SECTIONS) reads them.
OTHER_SECTIONS = frozenset({"Документ", "Контейнер", "Контрагенты"})

# Children of a section that form its header; the first other child starts its content.
HEADER_FIELDS = frozenset(
    {
        "Ид",
        "Наименование",
        "ИдКаталога",
        "ИдКлассификатора",
        "Владелец",
        "СодержитТолькоИзменения",
        "НомерВерсии",
        "ПометкаУдаления",
    }
)

VALUE_TYPES: dict[str, ValueType] = {
    "Строка": ValueType.STRING,
    "Число": ValueType.NUMBER,
    "Время": ValueType.TIME,
    "Справочник": ValueType.REFERENCE,
}

# Per-warehouse stock inside an offer: ``<Склад ИдСклада КоличествоНаСкладе/>`` in
# ПакетПредложений but ``<Склады …/>`` in ИзмененияПакетаПредложений (XSD 2.08/2.10, protocol.md
# §5.5); 3.1 rests___ files use ``Остатки/Остаток/Склад{Ид, Количество}`` instead, a 1C-Bitrix
# module extension absent from the XSD.
OFFER_STOCK_ELEMENTS = ("Склад", "Склады")
OFFER_RESTS_ELEMENT = "Остатки"
# ИзмененияПакетаПредложений may name the characteristic separately from the product Ид.
OFFER_CHARACTERISTIC_ELEMENT = "ИдХарактеристики"

DELETED_STATUS = "Удален"  # Товар/@Статус or <Статус> (XSD enum Новый, Изменен, Удален)


def schema_major(schema_version: str | None) -> int | None:
    """``"2.10"`` -> 2, ``"3.1"`` -> 3; None when absent or unreadable."""
    if not schema_version:
        return None
    head = schema_version.strip().split(".", 1)[0]
    return int(head) if head.isdigit() else None


def default_changes_only(section: Section) -> bool:
    """What a section without ``СодержитТолькоИзменения`` means.

    A Каталог or ПакетПредложений without the flag is a full upload in classic exchanges
    (protocol.md §5.3: "false" = full catalog, and 2.03–2.05 files often omit it); an
    ИзмененияПакетаПредложений is update-only by definition (Bitrix imports it with
    ``bUpdateOnly``, protocol.md §5.5).
    """
    return section is Section.OFFER_CHANGES


def value_type(type_text: str | None, *, has_options: bool) -> ValueType:
    """ТипЗначений -> ValueType. Unknown or absent types fall back to what the data shows:
    a property with ВариантыЗначений is a reference, anything else a string."""
    if type_text is not None:
        known = VALUE_TYPES.get(type_text.strip())
        if known is not None:
            return known
    return ValueType.REFERENCE if has_options else ValueType.STRING


def base_unit(
    *,
    code: str | None,
    text: str | None,
    full_name: str | None,
    intl_abbr: str | None,
    short_name: str | None,
    schema_version: str | None,
) -> ProductUnit | None:
    """Read БазоваяЕдиница.

    2.x: ``<БазоваяЕдиница Код="796 " НаименованиеПолное="Штука" МеждународноеСокращение="PCE">
    шт</БазоваяЕдиница>`` — the code is an attribute, sometimes with a trailing space
    (protocol.md §4.12), and the text is the short name. 3.x: ``<БазоваяЕдиница>796
    </БазоваяЕдиница>`` — the text is the code of a unit from ЕдиницыИзмерения (protocol.md §5.3).
    A 2.x file without ``Код`` whose text is all digits is read the 3.x way too.
    """
    code = code.strip() or None if code is not None else None
    text = text.strip() or None if text is not None else None
    name = short_name.strip() or None if short_name is not None else None
    if code is None and text is not None:
        major = schema_major(schema_version)
        if (major is not None and major >= 3) or text.isdigit():
            code, text = text, None
    name = name or text
    if code is None and name is None and full_name is None and intl_abbr is None:
        return None
    return ProductUnit(code=code, name=name, full_name=full_name, intl_abbr=intl_abbr)


# --- What the site writes (commerceml.writer) ------------------------------------------------

# The namespace of a document the site writes, by major version. 2.07–2.10 declare the official
# target namespace of XSD 2.08/2.10; 2.03–2.05 documents (and every Bitrix order export) have
# none; 3.1 uses commerceml_3 (protocol.md §5.1).
WRITE_NAMESPACE_3 = "urn:1C.ru:commerceml_3"
WRITE_NAMESPACE_2 = "urn:1C.ru:commerceml_2"
FIRST_NAMESPACED_2X = (2, 7)


def _version_tuple(schema_version: str) -> tuple[int, int]:
    head, _, tail = schema_version.strip().partition(".")
    try:
        return int(head), int(tail or 0)
    except ValueError:
        return 2, 10


def write_namespace(schema_version: str) -> str | None:
    major, minor = _version_tuple(schema_version)
    if major >= 3:
        return WRITE_NAMESPACE_3
    return WRITE_NAMESPACE_2 if (major, minor) >= FIRST_NAMESPACED_2X else None


def orders_in_containers(schema_version: str) -> bool:
    """3.1: each order is wrapped in ``Контейнер`` — 1C-Bitrix modules from 6.5 see nothing
    otherwise (protocol.md §3.2, PR-MAVSAN); 2.x documents are bare root children (XSD)."""
    return _version_tuple(schema_version)[0] >= 3


def line_unit_as_block(schema_version: str) -> bool:
    """How a document line names its unit.

    2.x (XSD 2.05–2.10 alike): ``<БазоваяЕдиница Код="796" НаименованиеПолное="Штука"
    МеждународноеСокращение="PCE">шт</БазоваяЕдиница>`` — required by the XSD, which allows no
    other unit element in a document line. 3.1: ``<Единица><Ид/><НаименованиеКраткое/><Код/>
    <НаименованиеПолное/></Единица><Коэффициент>1</Коэффициент>``, as 1C's module writes order
    documents (ArgentCrusade documents-example.xml) and as Bitrix's newer exporter writes them for
    schemas after 2.05 (protocol.md §5.6, §5.7).
    """
    return _version_tuple(schema_version)[0] >= 3
