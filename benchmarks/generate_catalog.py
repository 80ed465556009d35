"""Generate realistic CommerceML catalogs the way 1C exports them (2.x or 3.1 layout).

    python -m benchmarks.generate_catalog --products 100000 --layout 2.x --out DIR

Layouts (see ../shared/reference/protocol.md §2.6, §5):

* ``2.x``: ``import.xml`` (Классификатор + Каталог) and ``offers.xml`` (ПакетПредложений with
  ТипыЦен, Склады and Предложения carrying prices, total quantity and per-warehouse stock),
  namespace ``urn:1C.ru:commerceml_2``, ВерсияСхемы="2.10".
* ``3.1``: the 1C-Bitrix module split: three ``import___<guid>.xml`` (classifier; properties;
  goods), ``offers___<guid>.xml`` (names, characteristics), ``prices___<guid>.xml`` and
  ``rests___<guid>.xml``; namespace ``urn:1C.ru:commerceml_3``, root attribute ``Ид="1"``.

Everything is a pure function of the arguments: product ``i`` is generated from its own random
stream seeded by ``(seed, i)``, so the same seed gives byte-identical files, and the offers pass
regenerates products instead of keeping them. Files are written with ``lxml.etree.xmlfile``
one record at a time, so memory stays constant whatever the catalog size.

``changed_share`` gives a second catalog with the same ids and names where that share of offers
has different prices (+7%) and stock (+1 per warehouse): what a re-import of changes looks like.
Sizes: 100k products make ~450 MB import.xml + ~390 MB offers.xml in 2.x (~40 s to write).

The writer functions (``write_import_2x`` and friends) take explicit ``GenProduct`` objects, so
tests can write hand-picked products (odd names, deletion marks) and read them back.
"""

from __future__ import annotations

import argparse
import base64
import random
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from lxml import etree

Layout = Literal["2.x", "3.1"]

NS_2 = "urn:1C.ru:commerceml_2"
NS_3 = "urn:1C.ru:commerceml_3"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
GENERATED_AT = "2024-03-01T10:00:00"  # fixed: the same seed must give byte-identical files
UTF8_BOM = b"\xef\xbb\xbf"

# A 1x1 baseline JPEG; enough for code that only stores or hashes image files.
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////"
    "////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgB"
    "AQABPxA="
)

_NOUNS = (
    "Коврик",
    "Стол",
    "Стул",
    "Лампа",
    "Куртка",
    "Ботинки",
    "Рюкзак",
    "Чайник",
    "Подушка",
    "Плед",
    "Кружка",
    "Сковорода",
    "Полка",
    "Зеркало",
    "Часы",
    "Наушники",
    "Кабель",
    "Фонарь",
    "Термос",
    "Зонт",
    "Палатка",
    "Перчатки",
    "Шапка",
    "Кресло",
    "Ночник",
    "Конструктор",
)
_ADJECTIVES = (
    "детский",
    "складной",
    "портативный",
    "деревянный",
    "кожаный",
    "зимний",
    "летний",
    "универсальный",
    "компактный",
    "классический",
    "мягкий",
    "прочный",
    "лёгкий",
    "большой",
)
_WORDS = (
    "качество",
    "материал",
    "удобный",
    "надёжный",
    "гарантия",
    "производство",
    "дизайн",
    "размер",
    "цвет",
    "упаковка",
    "доставка",
    "подходит",
    "для",
    "дома",
    "и",
    "офиса",
    "с",
    "прочной",
    "основой",
    "легко",
    "моется",
    "не",
    "выцветает",
    "экологичный",
    "сертификат",
)
_GROUP_NAMES = (
    "Товары для дома",
    "Детские товары",
    "Одежда",
    "Обувь",
    "Электроника",
    "Посуда",
    "Туризм",
    "Мебель",
    "Освещение",
    "Текстиль",
    "Аксессуары",
    "Инструменты",
)
_SIZES = ("XS", "S", "M", "L", "XL", "XXL", "38", "40", "42", "44", "46")
_COLORS = ("Черный", "Белый", "Красный", "Синий", "Зеленый", "Бежевый", "Серый", "Желтый")
_PROPERTY_NAMES = (
    "Материал",
    "Страна производства",
    "Вес",
    "Длина",
    "Ширина",
    "Высота",
    "Линейка",
    "Код ОЗОН",
    "Сезон",
    "Возраст",
    "Бренд",
    "Гарантия",
    "Объем",
    "Мощность",
    "Состав",
)
_PRICE_TYPE_NAMES = ("Розничная", "Оптовая", "Закупочная", "Интернет", "Дилерская")
_WAREHOUSE_NAMES = ("Москва", "Санкт-Петербург", "Новосибирск", "Владивосток", "Казань")
_COUNTRIES = ("РОССИЯ", "КИТАЙ", "КОРЕЯ, РЕСПУБЛИКА", "ТУРЦИЯ", "ГЕРМАНИЯ")
_MANUFACTURERS = ("Crazy Boom", "Рога и Копыта", "Северный завод", "Uniq Home", "ТД Восток")


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True, slots=True)
class GenUnit:
    code: str
    name: str
    full_name: str
    intl_abbr: str


PIECE = GenUnit("796", "шт", "Штука", "PCE")
UNITS = (PIECE, GenUnit("166", "кг", "Килограмм", "KGM"), GenUnit("006", "м", "Метр", "MTR"))


@dataclass(frozen=True, slots=True)
class GenGroup:
    id: str
    name: str
    parent_id: str | None


@dataclass(frozen=True, slots=True)
class GenProperty:
    id: str
    name: str
    value_type: Literal["Справочник", "Строка", "Число"]
    options: tuple[tuple[str, str], ...]  # (ИдЗначения, Значение)
    for_offers: bool = False


@dataclass(frozen=True, slots=True)
class GenNamed:
    """A price type (with currency) or a warehouse (currency None)."""

    id: str
    name: str
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """Classifier-level data shared by every product; small enough to keep in memory."""

    catalog_id: str
    owner_id: str
    groups: tuple[GenGroup, ...]
    properties: tuple[GenProperty, ...]
    price_types: tuple[GenNamed, ...]
    warehouses: tuple[GenNamed, ...]
    units: tuple[GenUnit, ...] = UNITS


@dataclass(frozen=True, slots=True)
class GenOffer:
    id: str  # product Ид, or "product#variant"
    name: str
    characteristics: tuple[tuple[str, str], ...]
    prices: tuple[tuple[str, Decimal], ...]  # (price type Ид, price per unit)
    quantity: Decimal
    stocks: tuple[tuple[str, Decimal], ...]  # (warehouse Ид, quantity)
    version: str | None = None


@dataclass(frozen=True, slots=True)
class GenProduct:
    id: str
    name: str
    article: str | None
    barcode: str | None
    description: str | None
    group_ids: tuple[str, ...]
    unit: GenUnit
    images: tuple[str, ...]
    property_values: tuple[tuple[str, tuple[str, ...]], ...]
    requisites: tuple[tuple[str, str], ...]
    manufacturer: str | None
    country: str | None
    deleted: bool
    version: str | None
    offers: tuple[GenOffer, ...] = ()


@dataclass(frozen=True, slots=True)
class CatalogParams:
    products: int = 1000
    variant_share: float = 0.2
    variants_per_product: int = 3
    properties: int = 20
    values_per_property: int = 10
    price_types: int = 3
    warehouses: int = 5
    groups: int = 50
    seed: int = 0
    changed_share: float = 0.0
    deleted_share: float = 0.0


@dataclass(frozen=True, slots=True)
class GeneratedCatalog:
    out_dir: Path
    layout: Layout
    files: tuple[Path, ...]
    products: int
    offers: int
    images: tuple[Path, ...] = field(default=())


# --------------------------------------------------------------------------- random content


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _version_stamp(rng: random.Random) -> str:
    """A НомерВерсии the way 1C writes it: base64 of an 8-byte data version."""
    return base64.b64encode(rng.getrandbits(64).to_bytes(8, "big")).decode("ascii")


def _ean13(rng: random.Random) -> str:
    digits = [2, 0] + [rng.randrange(10) for _ in range(10)]
    checksum = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(checksum)


def _comma_number(rng: random.Random) -> str:
    """Numbers as 1C writes them in property values: a comma as the decimal separator."""
    return f"{rng.randrange(1, 2000) / 10:g}".replace(".", ",")


def build_reference(params: CatalogParams) -> Reference:
    rng = random.Random(f"reference-{params.seed}")
    groups: list[GenGroup] = []
    depth: dict[str, int] = {}
    roots = max(1, params.groups // 10)
    for index in range(params.groups):
        group_id = _guid(rng)
        parent: str | None = None
        if index >= roots:
            candidates = [g.id for g in groups if depth[g.id] < 3]
            parent = rng.choice(candidates)
        depth[group_id] = 0 if parent is None else depth[parent] + 1
        name = f"{rng.choice(_GROUP_NAMES)} {index + 1}"
        groups.append(GenGroup(group_id, name, parent))
    properties: list[GenProperty] = []
    kinds: tuple[Literal["Справочник", "Строка", "Число"], ...] = (
        "Справочник",
        "Справочник",
        "Строка",
        "Число",
    )
    for index in range(params.properties):
        kind = kinds[index % len(kinds)]
        options: tuple[tuple[str, str], ...] = ()
        if kind == "Справочник":
            options = tuple(
                (_guid(rng), f"{rng.choice(_COLORS)} {value + 1}") for value in range(params.values_per_property)
            )
        name = f"{_PROPERTY_NAMES[index % len(_PROPERTY_NAMES)]} {index + 1}"
        properties.append(GenProperty(_guid(rng), name, kind, options))
    price_types = tuple(
        GenNamed(_guid(rng), f"{_PRICE_TYPE_NAMES[i % len(_PRICE_TYPE_NAMES)]} {i + 1}", "RUB")
        for i in range(params.price_types)
    )
    warehouses = tuple(
        GenNamed(_guid(rng), f"{_WAREHOUSE_NAMES[i % len(_WAREHOUSE_NAMES)]} склад {i + 1}")
        for i in range(params.warehouses)
    )
    return Reference(
        catalog_id=_guid(rng),
        owner_id=_guid(rng),
        groups=tuple(groups),
        properties=tuple(properties),
        price_types=price_types,
        warehouses=warehouses,
    )


def make_product(params: CatalogParams, reference: Reference, index: int) -> GenProduct:
    """Product ``index`` of the catalog; depends only on (params, reference, index)."""
    rng = random.Random(params.seed * 1_000_003 + index)
    product_id = _guid(rng)
    name = (
        f"{rng.choice(_NOUNS)} {rng.choice(_ADJECTIVES)} {rng.choice(_COLORS).lower()} "
        f"{rng.randrange(10, 300)}x{rng.randrange(10, 300)} см, арт. {index + 1}"
    )
    description = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(15, 45))).capitalize()
    images = tuple(f"import_files/{product_id[:2]}/{product_id}_{_guid(rng)}.jpg" for _ in range(rng.randrange(1, 3)))
    property_values: list[tuple[str, tuple[str, ...]]] = []
    for prop in reference.properties:
        if rng.random() >= 0.3:
            continue
        if prop.value_type == "Справочник":
            value = rng.choice(prop.options)[0]
        elif prop.value_type == "Число":
            value = _comma_number(rng)
        else:
            value = f"{rng.choice(_ADJECTIVES)} {rng.choice(_WORDS)}"
        property_values.append((prop.id, (value,)))
    requisites = (
        ("ВидНоменклатуры", "Товар"),
        ("ТипНоменклатуры", "Запас"),
        ("Полное наименование", name),
        *((("ОписаниеФайла", f"{image}#Фото {n + 1}") for n, image in enumerate(images))),
    )
    price_base = Decimal(rng.randrange(5_000, 5_000_000)) / 100
    has_variants = rng.random() < params.variant_share
    changes = random.Random(f"changes-{params.seed}-{index}") if params.changed_share else None
    offers: list[GenOffer] = []
    variant_count = params.variants_per_product if has_variants else 1
    for variant in range(variant_count):
        if has_variants:
            size, color = rng.choice(_SIZES), rng.choice(_COLORS)
            offer_id = f"{product_id}#{_guid(rng)}"
            offer_name = f"{name} ({size}, {color})"
            characteristics: tuple[tuple[str, str], ...] = (("Размер", size), ("Цвет", color))
        else:
            offer_id, offer_name, characteristics = product_id, name, ()
        base = price_base + variant * 10
        stocks = [(w.id, Decimal(rng.randrange(0, 300))) for w in reference.warehouses]
        if changes is not None and changes.random() < params.changed_share:
            base = (base * Decimal("1.07")).quantize(Decimal("0.01"))
            stocks = [(w, q + 1) for w, q in stocks]
        prices = tuple(
            (pt.id, (base * (1 - Decimal(k) / 10)).quantize(Decimal("0.01")))
            for k, pt in enumerate(reference.price_types)
        )
        offers.append(
            GenOffer(
                id=offer_id,
                name=offer_name,
                characteristics=characteristics,
                prices=prices,
                quantity=sum((q for _, q in stocks), Decimal(0)),
                stocks=tuple(stocks),
                version=_version_stamp(rng),
            )
        )
    return GenProduct(
        id=product_id,
        name=name,
        article=f"ART-{index + 1:07d}",
        barcode=_ean13(rng),
        description=description,
        group_ids=(rng.choice(reference.groups).id,) if reference.groups else (),
        unit=PIECE,
        images=images,
        property_values=tuple(property_values),
        requisites=requisites,
        manufacturer=rng.choice(_MANUFACTURERS),
        country=rng.choice(_COUNTRIES),
        deleted=rng.random() < params.deleted_share,
        version=_version_stamp(rng),
        offers=tuple(offers),
    )


def iter_products(params: CatalogParams, reference: Reference) -> Iterator[GenProduct]:
    for index in range(params.products):
        yield make_product(params, reference, index)


# --------------------------------------------------------------------------- XML writing


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _money(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class _Document:
    """One CommerceML file: prolog, root element and helpers to stream indented records.

    Records are built as namespace-less subtrees and serialised inside the namespaced root: each
    ``xmlfile.write(element)`` is serialised on its own, so a namespaced subtree would redeclare
    ``xmlns`` on every record, which 1C never does; a plain subtree inherits the default
    namespace from the root when parsed, exactly like 1C's output.
    """

    def __init__(self, xf: Any) -> None:
        self.xf = xf

    def text(self, level: int) -> None:
        self.xf.write("\n" + "\t" * level)

    def block(self, element: etree._Element, level: int) -> None:
        etree.indent(element, space="\t", level=level)
        element.tail = None
        self.text(level)
        self.xf.write(element)

    @contextmanager
    def container(self, tag: str, level: int, attrib: dict[str, str] | None = None) -> Iterator[None]:
        self.text(level)
        with self.xf.element(tag, attrib or {}):
            yield
            self.text(level)


@contextmanager
def _open_document(
    path: Path,
    *,
    namespace: str,
    schema_version: str,
    encoding: str,
    bom: bool,
    root_attrib: dict[str, str] | None = None,
) -> Iterator[_Document]:
    is_utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    declared = "UTF-8" if is_utf8 else encoding
    with open(path, "wb") as raw:
        if bom and is_utf8:
            raw.write(UTF8_BOM)
        raw.write(f'<?xml version="1.0" encoding="{declared}"?>\n'.encode("ascii"))
        with etree.xmlfile(raw, encoding=encoding) as xf:
            qname = f"{{{namespace}}}КоммерческаяИнформация" if namespace else "КоммерческаяИнформация"
            nsmap: dict[str | None, str] = {"xs": XS, "xsi": XSI}
            if namespace:
                nsmap[None] = namespace
            attrib = {"ВерсияСхемы": schema_version, "ДатаФормирования": GENERATED_AT}
            attrib.update(root_attrib or {})
            with xf.element(qname, attrib, nsmap=nsmap):
                document = _Document(xf)
                yield document
                document.text(0)


def _owner(reference: Reference) -> etree._Element:
    owner = etree.Element("Владелец")
    _sub(owner, "Ид", reference.owner_id)
    _sub(owner, "Наименование", "Рога и Копыта ООО")
    _sub(owner, "ОфициальноеНаименование", "ООО «Рога и Копыта»")
    _sub(owner, "ИНН", "2500000000")
    _sub(owner, "КПП", "250001001")
    return owner


def _section_head(doc: _Document, reference: Reference, kind: str, *, owner: bool = True) -> None:
    catalog = reference.catalog_id
    if kind == "Классификатор":
        fields = [("Ид", catalog), ("Наименование", "Классификатор (Основной каталог товаров)")]
    elif kind == "Каталог":
        fields = [
            ("Ид", catalog),
            ("ИдКлассификатора", catalog),
            ("Наименование", "Основной каталог товаров"),
        ]
    else:
        fields = [
            ("Ид", f"{catalog}#"),
            ("Наименование", "Пакет предложений (Основной каталог товаров)"),
            ("ИдКаталога", catalog),
            ("ИдКлассификатора", catalog),
        ]
    for tag, text in fields:
        element = etree.Element(tag)
        element.text = text
        doc.block(element, 2)
    if owner:
        doc.block(_owner(reference), 2)


def _groups_element(groups: Sequence[GenGroup], layout: Layout) -> etree._Element:
    root = etree.Element("Группы")
    containers: dict[str | None, etree._Element] = {None: root}
    elements: dict[str, etree._Element] = {}
    for group in groups:  # parents always come before their children
        parent_container = containers.get(group.parent_id)
        if parent_container is None:
            assert group.parent_id is not None
            parent_container = _sub(elements[group.parent_id], "Группы")
            containers[group.parent_id] = parent_container
        element = _sub(parent_container, "Группа")
        _sub(element, "Ид", group.id)
        if layout == "3.1":
            _sub(element, "НомерВерсии", "AAAAAQAAAAA=")
            _sub(element, "ПометкаУдаления", "false")
        _sub(element, "Наименование", group.name)
        elements[group.id] = element
    # A nested Группы must follow the group's own fields, as 1C writes them.
    for group_id, container in containers.items():
        if group_id is not None:
            owner = elements[group_id]
            owner.remove(container)
            owner.append(container)
    return root


def _property_element(prop: GenProperty, layout: Layout) -> etree._Element:
    element = etree.Element("Свойство")
    _sub(element, "Ид", prop.id)
    if layout == "3.1":
        _sub(element, "НомерВерсии", "AAAAAgAAAAA=")
        _sub(element, "ПометкаУдаления", "false")
    _sub(element, "Наименование", prop.name)
    _sub(element, "ТипЗначений", prop.value_type)
    if prop.options:
        options = _sub(element, "ВариантыЗначений")
        for option_id, value in prop.options:
            option = _sub(options, "Справочник")
            _sub(option, "ИдЗначения", option_id)
            _sub(option, "Значение", value)
    _sub(element, "ДляТоваров", "false" if prop.for_offers else "true")
    if prop.for_offers:
        _sub(element, "ДляПредложений", "true")
    return element


def _price_types_element(reference: Reference) -> etree._Element:
    element = etree.Element("ТипыЦен")
    for price_type in reference.price_types:
        item = _sub(element, "ТипЦены")
        _sub(item, "Ид", price_type.id)
        _sub(item, "Наименование", price_type.name)
        _sub(item, "Валюта", price_type.currency)
        tax = _sub(item, "Налог")
        _sub(tax, "Наименование", "НДС")
        _sub(tax, "УчтеноВСумме", "true")
    return element


def _warehouses_element(reference: Reference, layout: Layout) -> etree._Element:
    element = etree.Element("Склады")
    for warehouse in reference.warehouses:
        item = _sub(element, "Склад")
        _sub(item, "Ид", warehouse.id)
        if layout == "3.1":
            _sub(item, "ПометкаУдаления", "false")
        _sub(item, "Наименование", warehouse.name)
    return element


def _units_element(reference: Reference) -> etree._Element:
    element = etree.Element("ЕдиницыИзмерения")
    for unit in reference.units:
        item = _sub(element, "ЕдиницаИзмерения")
        _sub(item, "Ид", unit.code)
        _sub(item, "ПометкаУдаления", "false")
        _sub(item, "НаименованиеКраткое", unit.name)
        _sub(item, "Код", unit.code)
        _sub(item, "НаименованиеПолное", unit.full_name)
        _sub(item, "МеждународноеСокращение", unit.intl_abbr)
    return element


def _unit_2x(parent: etree._Element, unit: GenUnit) -> None:
    element = _sub(parent, "БазоваяЕдиница", unit.name)
    element.set("Код", unit.code)
    element.set("НаименованиеПолное", unit.full_name)
    element.set("МеждународноеСокращение", unit.intl_abbr)
    recount = _sub(element, "Пересчет")
    _sub(recount, "Единица", unit.code)
    _sub(recount, "Коэффициент", "1")


def _product_element(product: GenProduct, layout: Layout) -> etree._Element:
    element = etree.Element("Товар")
    if product.deleted and layout == "2.x":
        element.set("Статус", "Удален")
    _sub(element, "Ид", product.id)
    if layout == "3.1":
        _sub(element, "НомерВерсии", product.version)
        _sub(element, "ПометкаУдаления", "true" if product.deleted else "false")
    _sub(element, "Штрихкод", product.barcode)
    _sub(element, "Артикул", product.article)
    _sub(element, "Наименование", product.name)
    if layout == "2.x":
        _unit_2x(element, product.unit)
    else:
        _sub(element, "БазоваяЕдиница", product.unit.code)
    if product.group_ids:
        groups = _sub(element, "Группы")
        for group_id in product.group_ids:
            _sub(groups, "Ид", group_id)
    _sub(element, "Описание", product.description)
    for image in product.images:
        _sub(element, "Картинка", image)
    if product.country is not None:
        _sub(element, "Страна", product.country)
    if product.manufacturer is not None:
        manufacturer = _sub(element, "Изготовитель")
        _sub(manufacturer, "Ид", product.id[:8] + "-0000-4000-8000-000000000000")
        _sub(manufacturer, "Наименование", product.manufacturer)
    if product.property_values:
        values = _sub(element, "ЗначенияСвойств")
        for property_id, property_values in product.property_values:
            item = _sub(values, "ЗначенияСвойства")
            _sub(item, "Ид", property_id)
            for value in property_values or ("",):
                _sub(item, "Значение", value or None)
    taxes = _sub(_sub(element, "СтавкиНалогов"), "СтавкаНалога")
    _sub(taxes, "Наименование", "НДС")
    _sub(taxes, "Ставка", "20")
    if product.requisites:
        requisites = _sub(element, "ЗначенияРеквизитов")
        for name, value in product.requisites:
            item = _sub(requisites, "ЗначениеРеквизита")
            _sub(item, "Наименование", name)
            _sub(item, "Значение", value)
    return element


def _characteristics(parent: etree._Element, offer: GenOffer) -> None:
    if offer.characteristics:
        container = _sub(parent, "ХарактеристикиТовара")
        for name, value in offer.characteristics:
            item = _sub(container, "ХарактеристикаТовара")
            _sub(item, "Наименование", name)
            _sub(item, "Значение", value)


def _prices(parent: etree._Element, offer: GenOffer, reference: Reference, layout: Layout) -> None:
    currency = {pt.id: pt.currency or "RUB" for pt in reference.price_types}
    container = _sub(parent, "Цены")
    for price_type_id, value in offer.prices:
        price = _sub(container, "Цена")
        money = _money(value)
        _sub(price, "Представление", f"{money} {currency.get(price_type_id, 'RUB')} за шт")
        _sub(price, "ИдТипаЦены", price_type_id)
        _sub(price, "ЦенаЗаЕдиницу", money)
        _sub(price, "Валюта", currency.get(price_type_id, "RUB"))
        if layout == "2.x":
            _sub(price, "Единица", "шт")
            _sub(price, "Коэффициент", "1")
        else:
            tax = _sub(price, "Налог")
            _sub(tax, "Наименование", "НДС")
            _sub(tax, "УчтеноВСумме", "true")


def _offer_element_2x(product: GenProduct, offer: GenOffer, reference: Reference) -> etree._Element:
    element = etree.Element("Предложение")
    _sub(element, "Ид", offer.id)
    _sub(element, "Артикул", product.article)
    _sub(element, "Наименование", offer.name)
    _unit_2x(element, product.unit)
    _characteristics(element, offer)
    _prices(element, offer, reference, "2.x")
    _sub(element, "Количество", _money(offer.quantity))
    for warehouse_id, quantity in offer.stocks:
        stock = _sub(element, "Склад")
        stock.set("ИдСклада", warehouse_id)
        stock.set("КоличествоНаСкладе", _money(quantity))
    return element


def _offer_element_31(part: str, product: GenProduct, offer: GenOffer, reference: Reference) -> etree._Element:
    element = etree.Element("Предложение")
    _sub(element, "Ид", offer.id)
    if part == "offers":
        _sub(element, "НомерВерсии", offer.version)
        _sub(element, "ПометкаУдаления", "true" if product.deleted else "false")
        _sub(element, "Артикул", product.article)
        _sub(element, "Наименование", offer.name)
        _sub(element, "БазоваяЕдиница", product.unit.code)
        _characteristics(element, offer)
    elif part == "prices":
        _prices(element, offer, reference, "3.1")
    else:
        rests = _sub(element, "Остатки")
        for warehouse_id, quantity in offer.stocks:
            warehouse = _sub(_sub(rests, "Остаток"), "Склад")
            _sub(warehouse, "Ид", warehouse_id)
            _sub(warehouse, "Количество", _money(quantity))
    return element


def write_import_2x(
    path: Path,
    *,
    reference: Reference,
    products: Iterable[GenProduct],
    encoding: str = "utf-8",
    bom: bool = True,
    namespace: str = NS_2,
    schema_version: str = "2.10",
    changes_only: bool = False,
) -> int:
    """import.xml: Классификатор (groups, properties, price types) + Каталог with Товары."""
    count = 0
    with _open_document(path, namespace=namespace, schema_version=schema_version, encoding=encoding, bom=bom) as doc:
        with doc.container("Классификатор", 1):
            _section_head(doc, reference, "Классификатор")
            doc.block(_groups_element(reference.groups, "2.x"), 2)
            with doc.container("Свойства", 2):
                for prop in reference.properties:
                    doc.block(_property_element(prop, "2.x"), 3)
            doc.block(_price_types_element(reference), 2)
        flag = "true" if changes_only else "false"
        with doc.container("Каталог", 1, {"СодержитТолькоИзменения": flag}):
            _section_head(doc, reference, "Каталог")
            with doc.container("Товары", 2):
                for product in products:
                    doc.block(_product_element(product, "2.x"), 3)
                    count += 1
    return count


def write_offers_2x(
    path: Path,
    *,
    reference: Reference,
    products: Iterable[GenProduct],
    encoding: str = "utf-8",
    bom: bool = True,
    namespace: str = NS_2,
    schema_version: str = "2.10",
    changes_only: bool = False,
) -> int:
    """offers.xml: ПакетПредложений with ТипыЦен, Склады and full Предложения."""
    count = 0
    flag = "true" if changes_only else "false"
    with (
        _open_document(path, namespace=namespace, schema_version=schema_version, encoding=encoding, bom=bom) as doc,
        doc.container("ПакетПредложений", 1, {"СодержитТолькоИзменения": flag}),
    ):
        _section_head(doc, reference, "ПакетПредложений")
        doc.block(_price_types_element(reference), 2)
        doc.block(_warehouses_element(reference, "2.x"), 2)
        with doc.container("Предложения", 2):
            for product in products:
                for offer in product.offers:
                    doc.block(_offer_element_2x(product, offer, reference), 3)
                    count += 1
    return count


Part31 = Literal["classifier", "properties", "goods", "offers", "prices", "rests"]


def write_part_31(
    path: Path,
    part: Part31,
    *,
    reference: Reference,
    products: Iterable[GenProduct] = (),
    encoding: str = "utf-8",
    bom: bool = True,
    namespace: str = NS_3,
    changes_only: bool = False,
) -> int:
    """One file of the 3.1 split exchange; returns the number of products or offers written."""
    count = 0
    flag = {"СодержитТолькоИзменения": "true" if changes_only else "false"}
    with _open_document(
        path,
        namespace=namespace,
        schema_version="3.1",
        encoding=encoding,
        bom=bom,
        root_attrib={"Ид": "1"},
    ) as doc:
        if part in ("classifier", "properties"):
            with doc.container("Классификатор", 1, flag):
                _section_head(doc, reference, "Классификатор", owner=part == "classifier")
                if part == "classifier":
                    doc.block(_groups_element(reference.groups, "3.1"), 2)
                    doc.block(_price_types_element(reference), 2)
                    doc.block(_warehouses_element(reference, "3.1"), 2)
                    doc.block(_units_element(reference), 2)
                else:
                    with doc.container("Свойства", 2):
                        for prop in reference.properties:
                            doc.block(_property_element(prop, "3.1"), 3)
        elif part == "goods":
            with doc.container("Каталог", 1, flag):
                _section_head(doc, reference, "Каталог", owner=False)
                with doc.container("Товары", 2):
                    for product in products:
                        doc.block(_product_element(product, "3.1"), 3)
                        count += 1
        else:
            with doc.container("ПакетПредложений", 1, flag):
                _section_head(doc, reference, "ПакетПредложений", owner=False)
                with doc.container("Предложения", 2):
                    for product in products:
                        for offer in product.offers:
                            doc.block(_offer_element_31(part, product, offer, reference), 3)
                            count += 1
    return count


def _write_images(out_dir: Path, products: Iterable[GenProduct]) -> list[Path]:
    written: list[Path] = []
    for product in products:
        for image in product.images:
            target = out_dir / image
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(TINY_JPEG)
            written.append(target)
    return written


def generate_catalog(
    out_dir: str | Path,
    *,
    products: int = 1000,
    variant_share: float = 0.2,
    variants_per_product: int = 3,
    properties: int = 20,
    values_per_property: int = 10,
    price_types: int = 3,
    warehouses: int = 5,
    groups: int = 50,
    layout: Layout = "2.x",
    seed: int = 0,
    encoding: str = "utf-8",
    bom: bool = True,
    changed_share: float = 0.0,
    deleted_share: float = 0.0,
    images: bool = False,
) -> GeneratedCatalog:
    """Write a whole catalog exchange into ``out_dir`` and say what was written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    params = CatalogParams(
        products=products,
        variant_share=variant_share,
        variants_per_product=variants_per_product,
        properties=properties,
        values_per_property=values_per_property,
        price_types=price_types,
        warehouses=warehouses,
        groups=groups,
        seed=seed,
        changed_share=changed_share,
        deleted_share=deleted_share,
    )
    reference = build_reference(params)
    written: list[Path] = []
    offer_count = 0
    if layout == "2.x":
        kwargs: dict[str, Any] = {"reference": reference, "encoding": encoding, "bom": bom}
        write_import_2x(out / "import.xml", products=iter_products(params, reference), **kwargs)
        offer_count = write_offers_2x(out / "offers.xml", products=iter_products(params, reference), **kwargs)
        written += [out / "import.xml", out / "offers.xml"]
    elif layout == "3.1":
        names = random.Random(f"file-names-{seed}")
        parts: tuple[tuple[str, Part31], ...] = (
            ("import", "classifier"),
            ("import", "properties"),
            ("import", "goods"),
            ("offers", "offers"),
            ("prices", "prices"),
            ("rests", "rests"),
        )
        for prefix, part in parts:
            path = out / f"{prefix}___{_guid(names)}.xml"
            count = write_part_31(
                path,
                part,
                reference=reference,
                products=iter_products(params, reference),
                encoding=encoding,
                bom=bom,
            )
            if part == "offers":
                offer_count = count
            written.append(path)
    else:
        raise ValueError(f"unknown layout {layout!r}; expected '2.x' or '3.1'")
    image_paths = _write_images(out, iter_products(params, reference)) if images else []
    return GeneratedCatalog(
        out_dir=out,
        layout=layout,
        files=tuple(written),
        products=products,
        offers=offer_count,
        images=tuple(image_paths),
    )


# --------------------------------------------------------------------------- re-exports

_STAMP = re.compile('ДатаФормирования="[^"]*"'.encode())


def write_reexport(
    source: str | Path,
    target: str | Path,
    *,
    generated_at: str,
    price_share: float = 0.01,
    name_share: float = 0.001,
) -> dict[str, int]:
    """Write 1C's next export of the catalog in ``source`` into ``target``, the way 1C does:
    every file gets a new ``ДатаФормирования``; of the ЦенаЗаЕдиницу values every
    ``1/price_share``-th is raised by 7% and of the product names every ``1/name_share``-th
    gets a suffix (shares of 0 change nothing but the stamp). Everything else stays byte for
    byte, so the difference to the first export is exactly what a daily re-export brings.

    Works line by line on the generator's own output (one element per line, UTF-8), in constant
    memory; returns how many prices and names were changed.
    """
    src, out = Path(source), Path(target)
    out.mkdir(parents=True, exist_ok=True)
    price_every = round(1 / price_share) if price_share else 0
    name_every = round(1 / name_share) if name_share else 0
    stamp = f'ДатаФормирования="{generated_at}"'.encode()
    counts = {"prices": 0, "prices_changed": 0, "names": 0, "names_changed": 0}
    price_open, price_close = "<ЦенаЗаЕдиницу>".encode(), "</ЦенаЗаЕдиницу>".encode()
    product_open, name_open = "<Товар>".encode(), "<Наименование>".encode()
    stamp_name = "ДатаФормирования".encode()
    for path in sorted(src.glob("*.xml")):
        product_indent: bytes | None = None  # indentation of the open Товар whose name is due
        with path.open("rb") as reader, (out / path.name).open("wb") as writer:
            for number, line in enumerate(reader):
                if number < 3 and stamp_name in line:
                    line = _STAMP.sub(stamp, line, count=1)
                stripped = line.lstrip()
                indent = line[: len(line) - len(stripped)]
                if stripped.startswith(price_open):
                    counts["prices"] += 1
                    if price_every and counts["prices"] % price_every == 0:
                        value = Decimal(stripped[len(price_open) : stripped.index(price_close)].decode())
                        changed = _money((value * Decimal("1.07")).quantize(Decimal("0.01")))
                        line = indent + price_open + changed.encode() + price_close + b"\n"
                        counts["prices_changed"] += 1
                elif stripped.startswith(product_open):
                    product_indent = indent + b"\t"
                elif product_indent is not None and stripped.startswith(name_open) and indent == product_indent:
                    product_indent = None
                    counts["names"] += 1
                    if name_every and counts["names"] % name_every == 0:
                        line = line.replace(name_open, name_open + "(новинка) ".encode(), 1)
                        counts["names_changed"] += 1
                writer.write(line)
    images = src / "import_files"
    if images.is_dir() and not (out / "import_files").exists():
        shutil.copytree(images, out / "import_files")
    return counts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", required=True, type=Path, help="folder to write into")
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--layout", choices=("2.x", "3.1"), default="2.x")
    parser.add_argument("--variant-share", type=float, default=0.2)
    parser.add_argument("--variants-per-product", type=int, default=3)
    parser.add_argument("--properties", type=int, default=20)
    parser.add_argument("--values-per-property", type=int, default=10)
    parser.add_argument("--price-types", type=int, default=3)
    parser.add_argument("--warehouses", type=int, default=5)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoding", default="utf-8", help="utf-8 or windows-1251")
    parser.add_argument("--no-bom", action="store_true", help="omit the UTF-8 BOM 1C writes")
    parser.add_argument("--changed-share", type=float, default=0.0)
    parser.add_argument("--deleted-share", type=float, default=0.0)
    parser.add_argument("--images", action="store_true", help="also write dummy image files")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = generate_catalog(
        args.out,
        products=args.products,
        variant_share=args.variant_share,
        variants_per_product=args.variants_per_product,
        properties=args.properties,
        values_per_property=args.values_per_property,
        price_types=args.price_types,
        warehouses=args.warehouses,
        groups=args.groups,
        layout=args.layout,
        seed=args.seed,
        encoding=args.encoding,
        bom=not args.no_bom,
        changed_share=args.changed_share,
        deleted_share=args.deleted_share,
        images=args.images,
    )
    elapsed = time.perf_counter() - started
    for path in result.files:
        print(f"{path}  {path.stat().st_size / 1e6:9.1f} MB")
    print(f"{result.products} products, {result.offers} offers, {len(result.images)} images in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
