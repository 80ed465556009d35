"""CommerceML 2.x / 3.1 for 1C exchanges: typed records from streamed files. No Django here.

    from commerceml import iter_records, sort_for_import, Product, Offer

    for path, kind in sort_for_import(uploaded_files):
        for record in iter_records(path):
            ...

Modules: ``records`` (dataclasses), ``reader`` (``iter_records``), ``detect`` (file kinds and
import order), ``ids`` (the ``product#variant`` convention), ``values`` (numbers, booleans),
``versions`` (schema differences), ``errors``, and ``writer`` (``open_writer``,
``write_counterparty``: documents and counterparties the site sends 1C, streamed).
"""

from commerceml._parsing import DEFAULT_LIMITS, ReaderLimits
from commerceml.detect import (
    FileInfo,
    FileKind,
    detect_file_kind,
    import_rank,
    inspect_file,
    sort_for_import,
)
from commerceml.errors import (
    CommerceMLError,
    CommerceMLLimitError,
    CommerceMLSyntaxError,
    CommerceMLUnsafeXMLError,
    CommerceMLValueError,
)
from commerceml.ids import join_offer_id, split_offer_id
from commerceml.reader import iter_records
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
    ValueType,
    Warehouse,
)
from commerceml.values import parse_bool, parse_decimal

__all__ = [
    "DEFAULT_LIMITS",
    "CommerceMLError",
    "CommerceMLLimitError",
    "CommerceMLSyntaxError",
    "CommerceMLUnsafeXMLError",
    "CommerceMLValueError",
    "FileInfo",
    "FileKind",
    "Group",
    "InvalidElement",
    "Offer",
    "OfferPrice",
    "OfferStock",
    "PriceType",
    "Product",
    "ProductUnit",
    "Property",
    "PropertyOption",
    "PropertyValue",
    "ReaderLimits",
    "Record",
    "Section",
    "SectionHeader",
    "Unit",
    "ValueType",
    "Warehouse",
    "detect_file_kind",
    "import_rank",
    "inspect_file",
    "iter_records",
    "join_offer_id",
    "parse_bool",
    "parse_decimal",
    "sort_for_import",
    "split_offer_id",
]
