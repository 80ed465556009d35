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

import dataclasses
import datetime as dt
import operator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Section(StrEnum):
    """The top-level part of a CommerceML file a record came from."""

    CLASSIFIER = "classifier"  # Классификатор
    CATALOG = "catalog"  # Каталог
    OFFERS = "offers"  # ПакетПредложений
    OFFER_CHANGES = "offer_changes"  # ИзмененияПакетаПредложений (update-only offers)
    DOCUMENTS = "documents"  # Документ elements (orders), bare or wrapped in Контейнер (3.1)
    COUNTERPARTIES = "counterparties"  # Контрагенты (3.1 contragents___ file)


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


# --- Documents (orders) and counterparties: read from 1C's files, written for mode=query ---------
#
# The same records serve both directions (protocol.md §5.6 site -> 1C, §5.7 1C -> site), so that
# what the writer writes the reader reads back field for field. Dates are typed (the reader parses
# 1C's formats, an empty "T" is None); free-form requisite values stay strings, formatted with
# ``commerceml.values.format_*`` when the site writes them.


@dataclass(frozen=True, slots=True)
class Address:
    """АдресРегистрации / ЮридическийАдрес / Адрес / АдресДоставки: a presentation and typed fields."""

    presentation: str | None  # Представление: the whole address as one line
    fields: tuple[tuple[str, str], ...] = ()  # АдресноеПоле: (Тип, Значение), e.g. ("Почтовый индекс", "101000")


@dataclass(frozen=True, slots=True)
class Contact:
    """Контакт: ``kind`` is Тип as written ("Почта", "Электронная почта", "ТелефонРабочий", "Телефон мобильный")."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Counterparty:
    """Контрагент: inside a Документ's Контрагенты, or one element of a 3.1 Контрагенты file.

    ``id`` is 1C's Ид when 1C sent it or the site knows it; the site writes its own stable Ид for
    a customer or guest 1C does not know yet. A company has ``official_name`` (and usually
    ``inn``/``kpp``); an individual has ``full_name`` and the name parts.
    """

    id: str | None
    name: str  # Наименование
    role: str | None = None  # Роль: Покупатель, Плательщик, Получатель, ...
    full_name: str | None = None  # ПолноеНаименование
    official_name: str | None = None  # ОфициальноеНаименование (companies)
    last_name: str | None = None  # Фамилия
    first_name: str | None = None  # Имя
    middle_name: str | None = None  # Отчество
    inn: str | None = None  # ИНН
    kpp: str | None = None  # КПП
    okpo: str | None = None  # КодПоОКПО / ОКПО
    address: Address | None = None  # АдресРегистрации (individual) / ЮридическийАдрес (company) / Адрес
    contacts: tuple[Contact, ...] = ()
    requisites: tuple[tuple[str, str], ...] = ()  # ЗначенияРеквизитов: (Наименование, Значение)
    deleted: bool = False  # ПометкаУдаления
    version: str | None = None  # НомерВерсии


@dataclass(frozen=True, slots=True)
class Discount:
    """Скидка of a document or a line."""

    name: str
    amount: Decimal  # Сумма
    included: bool = True  # УчтеноВСумме
    percent: Decimal | None = None  # Процент


@dataclass(frozen=True, slots=True)
class DocumentItem:
    """Товар of a Документ: a product, a variant (``product#characteristic`` Ид) or a service.

    1C -> site documents write the unit price as ``Цена``, site -> 1C as ``ЦенаЗаЕдиницу``
    (protocol.md §5.7); both arrive here as ``price``. Delivery is a service line whose Ид is
    ``DELIVERY_ITEM_ID`` and whose requisites say ВидНоменклатуры/ТипНоменклатуры = Услуга.
    """

    id: str
    name: str
    quantity: Decimal
    price: Decimal | None
    amount: Decimal | None  # Сумма
    unit: ProductUnit | None = None
    catalog_id: str | None = None  # ИдКаталога
    discounts: tuple[Discount, ...] = ()
    requisites: tuple[tuple[str, str], ...] = ()


DELIVERY_ITEM_ID = "ORDER_DELIVERY"  # Bitrix's Ид of the delivery line, what 1C's modules expect


@dataclass(frozen=True, slots=True)
class Document:
    """Документ: an order (ХозОперация «Заказ товара») or another document 1C sends with it.

    ``id`` is the site's order Ид (1C echoes it back); ``number`` the site's number; 1C's own
    number and date arrive as ``onec_number``/``onec_date`` (Номер1С/Дата1С) or as requisites
    ("Номер по 1С", "Дата по 1С"). ``container_id`` is the Ид of the 3.1 Контейнер it came in.
    """

    id: str
    number: str | None
    date: dt.date | None  # Дата
    time: dt.time | None  # Время
    operation: str | None  # ХозОперация, e.g. "Заказ товара"
    role: str | None  # Роль, e.g. "Продавец"
    currency: str | None  # Валюта
    rate: Decimal | None  # Курс
    amount: Decimal | None  # Сумма
    counterparties: tuple[Counterparty, ...] = ()
    comment: str | None = None  # Комментарий
    items: tuple[DocumentItem, ...] = ()
    requisites: tuple[tuple[str, str], ...] = ()  # ЗначенияРеквизитов: (Наименование, Значение)
    discounts: tuple[Discount, ...] = ()
    delivery_address: Address | None = None  # АдресДоставки (written by the site, read if present)
    onec_number: str | None = None  # Номер1С
    onec_date: dt.date | None = None  # Дата1С
    deleted: bool = False  # ПометкаУдаления
    version: str | None = None  # НомерВерсии
    container_id: str | None = None  # Ид of the enclosing Контейнер (3.1)
    base_id: str | None = None  # Основание: the order a payment/shipment document belongs to


Record = (
    SectionHeader
    | Group
    | Property
    | PriceType
    | Warehouse
    | Unit
    | Product
    | Offer
    | Document
    | Counterparty
    | InvalidElement
)


# --- Pickling -------------------------------------------------------------------------------------
# Big files are parsed in a child process and records cross a pipe pickled (commerceml.pipe).
# The default pickling of frozen slots dataclasses goes through __getstate__/__setstate__ in
# Python, field by field; pickling each record as "call the class with its field values" is about
# 40% cheaper both ways (20k offers with prices and stock: dumps 1.08 -> 0.62 s, loads 0.80 ->
# 0.50 s on the development machine), and the pipe's pickling was ~30% of the parse time of a
# re-export (issue 10 profile).


def _pickle_by_fields(cls: type) -> None:
    names = tuple(field.name for field in dataclasses.fields(cls))
    get = operator.attrgetter(*names)
    if len(names) == 1:

        def reduce(self: object) -> tuple[type, tuple[object, ...]]:
            return cls, (get(self),)

    else:

        def reduce(self: object) -> tuple[type, tuple[object, ...]]:
            return cls, get(self)

    cls.__reduce__ = reduce  # type: ignore[assignment,method-assign]


for _record_type in (
    SectionHeader,
    Group,
    PropertyOption,
    Property,
    PriceType,
    Warehouse,
    Unit,
    ProductUnit,
    PropertyValue,
    Product,
    OfferPrice,
    OfferStock,
    Offer,
    InvalidElement,
    Address,
    Contact,
    Counterparty,
    Discount,
    DocumentItem,
    Document,
):
    _pickle_by_fields(_record_type)
