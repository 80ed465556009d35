"""Typed records the reader yields: plain frozen dataclasses with English field names.

Each CommerceML element is mapped to these names once, in ``commerceml.reader``; importers only
ever see these records, never XML. Records carry no lxml objects, so they can be pickled,
compared and kept after the file is closed.

Conventions shared by all records:

* Identifiers (Ид, codes) are stripped of surrounding whitespace and otherwise opaque strings.
* Free text (names, descriptions, property and requisite values) is kept exactly as in the file.
* ``None`` means "the element was absent or empty"; an empty tuple means "no items".
* Quantities and money are ``Decimal``; commas and thousands spaces are already resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Section(StrEnum):
    """The top-level part of a CommerceML file a record came from."""

    CLASSIFIER = "classifier"  # Классификатор
    CATALOG = "catalog"  # Каталог
    OFFERS = "offers"  # ПакетПредложений
    OFFER_CHANGES = "offer_changes"  # ИзмененияПакетаПредложений (update-only offers)


class ValueType(StrEnum):
    """Property value types (ТипЗначений); members compare equal to their string values."""

    STRING = "string"  # Строка
    NUMBER = "number"  # Число
    TIME = "time"  # Время
    REFERENCE = "reference"  # Справочник: values are ИдЗначения of the property's options


@dataclass(frozen=True, slots=True)
class SectionHeader:
    """Yielded once per section, before any record of that section.

    ``changes_only`` comes from ``СодержитТолькоИзменения`` (attribute, or a child element in old
    files). When the file does not say, it defaults to False for Классификатор, Каталог and
    ПакетПредложений (a classic exchange without the flag is a full upload, see protocol.md
    §5.3) and to True for ИзмененияПакетаПредложений (update-only by definition);
    ``changes_only_explicit`` tells whether the file said it, so an importer can refuse to
    deactivate missing items on a guess.
    """

    section: Section
    id: str | None
    name: str | None
    catalog_id: str | None  # ИдКаталога, or the Каталог's own Ид
    classifier_id: str | None  # ИдКлассификатора, or the Классификатор's own Ид
    changes_only: bool
    changes_only_explicit: bool
    schema_version: str | None  # ВерсияСхемы of the root element
    generated_at: str | None  # ДатаФормирования as written (formats vary, see protocol.md §5.1)


@dataclass(frozen=True, slots=True)
class Group:
    """A catalog group (Группа); ``parent_id`` comes from the nesting of Группы.

    Groups are yielded parents first, so an importer can resolve ``parent_id`` as it goes.
    """

    id: str
    name: str
    parent_id: str | None
    deleted: bool = False
    version: str | None = None


@dataclass(frozen=True, slots=True)
class PropertyOption:
    """One option of a Справочник property: ИдЗначения and Значение."""

    id: str
    value: str


@dataclass(frozen=True, slots=True)
class Property:
    """A property (Свойство) definition.

    ``for_products`` defaults to True when ДляТоваров is absent, unless the property is declared
    ДляПредложений only; ``for_offers`` defaults to False.
    """

    id: str
    name: str
    value_type: ValueType
    for_products: bool
    for_offers: bool
    deleted: bool
    values: tuple[PropertyOption, ...]
    version: str | None = None


@dataclass(frozen=True, slots=True)
class PriceType:
    id: str
    name: str
    currency: str | None


@dataclass(frozen=True, slots=True)
class Warehouse:
    id: str
    name: str
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of measure from ЕдиницыИзмерения (3.1 classifier): ``code`` is the OKEI code."""

    code: str
    name: str | None  # НаименованиеКраткое, e.g. "шт"
    full_name: str | None  # НаименованиеПолное, e.g. "Штука"
    intl_abbr: str | None  # МеждународноеСокращение, e.g. "PCE"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ProductUnit:
    """БазоваяЕдиница of a product or offer.

    In 2.x the code is an attribute (``Код="796 "``, trimmed here) and the text is the short
    name; in 3.x the text is the code and the rest lives in the classifier's ``Unit`` records.
    """

    code: str | None
    name: str | None
    full_name: str | None
    intl_abbr: str | None = None


@dataclass(frozen=True, slots=True)
class PropertyValue:
    """ЗначенияСвойства: a property Ид and its values (ИдЗначения for Справочник properties).

    An empty ``values`` tuple means the file sent the property with an empty value.
    """

    property_id: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    name: str
    article: str | None
    barcode: str | None
    description: str | None
    group_ids: tuple[str, ...]
    unit: ProductUnit | None
    images: tuple[str, ...]  # Картинка paths relative to the exchange folder
    property_values: tuple[PropertyValue, ...]
    requisites: tuple[tuple[str, str], ...]  # ЗначенияРеквизитов: (Наименование, Значение)
    characteristics: tuple[tuple[str, str], ...]  # ХарактеристикиТовара: (Наименование, Значение)
    manufacturer: str | None  # Изготовитель/Наименование
    country: str | None  # Страна
    deleted: bool  # Статус="Удален" (attribute or element) or ПометкаУдаления=true
    version: str | None  # НомерВерсии


@dataclass(frozen=True, slots=True)
class OfferPrice:
    price_type_id: str
    value: Decimal  # ЦенаЗаЕдиницу
    currency: str | None
    unit: str | None  # Единица as written: "шт", "PCE" or a code
    coefficient: Decimal | None


@dataclass(frozen=True, slots=True)
class OfferStock:
    warehouse_id: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Offer:
    """An offer (Предложение): a product or one of its variants (``product#variant`` Ид).

    A file carries only some parts of an offer (3.1 ``prices___`` files only prices, ``rests___``
    only stock, ``offers___`` only names and characteristics). The ``has_*`` flags say which parts
    this file carried, so that "no Цены element" is never taken for "no prices":

    * ``has_prices``: a Цены element was present (``prices`` may still be empty).
    * ``has_stock``: Количество, Склад, Склады or Остатки was present; ``quantity`` is the total
      (Количество, or Остаток/Количество without a warehouse), ``stocks`` the per-warehouse part.
    * ``has_characteristics`` / ``has_property_values``: the container element was present.

    ``name`` is None when the file has no Наименование for the offer, "" when it is empty.
    """

    id: str
    product_id: str
    variant_id: str | None
    name: str | None
    article: str | None
    barcode: str | None
    unit: ProductUnit | None
    characteristics: tuple[tuple[str, str], ...]
    property_values: tuple[PropertyValue, ...]
    prices: tuple[OfferPrice, ...]
    quantity: Decimal | None
    stocks: tuple[OfferStock, ...]
    deleted: bool
    version: str | None
    has_prices: bool
    has_stock: bool
    has_characteristics: bool
    has_property_values: bool


@dataclass(frozen=True, slots=True)
class InvalidElement:
    """Yielded instead of raising when ``iter_records(..., on_invalid="yield")`` is used.

    Only value problems inside one element become an InvalidElement; broken XML always raises.
    """

    element: str  # local name: "Товар", "Предложение", ...
    id: str | None
    file: str | None
    line: int | None
    reason: str


Record = SectionHeader | Group | Property | PriceType | Warehouse | Unit | Product | Offer | InvalidElement
