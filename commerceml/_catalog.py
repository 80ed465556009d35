"""Builders for the catalog sections: Классификатор, Каталог, ПакетПредложений and
ИзмененияПакетаПредложений (protocol.md §5.2–5.5).

Each builder turns one finished element into one record; the group tree is the one streamed
builder, since groups nest and are yielded parents first, before the nested element is complete.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from commerceml import versions
from commerceml._build import (
    BuildContext,
    Element,
    attribute_decimal_of,
    base_unit_of,
    bool_of,
    check_lengths,
    decimal_of,
    deleted_flag,
    field_table,
    first_name_of,
    ident_of,
    ids_of,
    invalid_record,
    name_value_pairs,
    optional_decimal_of,
    required_id,
    strip_or_none,
    text_of,
    too_many_elements,
)
from commerceml._parsing import drop_element
from commerceml.errors import CommerceMLError, CommerceMLValueError
from commerceml.ids import join_offer_id, split_offer_id
from commerceml.records import (
    Group,
    Offer,
    OfferPrice,
    OfferStock,
    PriceType,
    Product,
    Property,
    PropertyOption,
    PropertyValue,
    Record,
    Unit,
    Warehouse,
)
from commerceml.values import parse_decimal

# --------------------------------------------------------------------------- groups


class GroupTree:
    """Streams the recursive Группы tree, yielding each group before its children.

    A group is emitted when its first child group starts (its own Ид and Наименование precede
    the nested Группы, so they are complete by then) or when it ends, whichever comes first.
    """

    def __init__(self, ctx: BuildContext) -> None:
        self.ctx = ctx
        # (element, group Ид once emitted or None, emitted?)
        self.stack: list[list[Any]] = []

    def open_group(self, element: Element, file: str | None, raise_invalid: bool, overflow: bool) -> Record | None:
        record = None
        if self.stack and not self.stack[-1][2]:
            record = self._emit(self.stack[-1], file, raise_invalid, overflow)
        self.stack.append([element, None, False])
        return record

    def close_group(self, element: Element, file: str | None, raise_invalid: bool, overflow: bool) -> Record | None:
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
                raise too_many_elements(self.ctx.max_record_elements)
            group = _group(element, self.ctx, parent_id)
        except CommerceMLError as exc:
            return invalid_record(exc, element, "Группа", self.ctx, file, raise_invalid)
        entry[1] = group.id
        return group


def _group(element: Element, ctx: BuildContext, parent_id: str | None) -> Group:
    names = ctx.names
    group_id = name = version = None
    deleted = False
    for child in element:
        local = names[child.tag]
        if local == "Ид":
            group_id = ident_of(child, ctx)
        elif local == "Наименование":
            name = text_of(child, ctx)
        elif local == "ПометкаУдаления":
            deleted = bool_of(child) or deleted
        elif local == "Статус":
            deleted = (ident_of(child, ctx) == versions.DELETED_STATUS) or deleted
        elif local == "НомерВерсии":
            version = ident_of(child, ctx)
    return Group(
        id=required_id(group_id, "Группа"),
        name=name or "",
        parent_id=parent_id,
        deleted=deleted,
        version=version,
    )


# --------------------------------------------------------------------------- classifier records


def _property(element: Element, ctx: BuildContext) -> Property:
    names = ctx.names
    property_id = name = type_text = version = None
    for_products: bool | None = None
    for_offers: bool | None = None
    deleted = False
    options: list[PropertyOption] = []
    for child in element:
        local = names[child.tag]
        if local == "Ид":
            property_id = ident_of(child, ctx)
        elif local == "Наименование":
            name = text_of(child, ctx)
        elif local == "ТипЗначений":
            type_text = child.text
        elif local == "ВариантыЗначений":
            _property_options(child, ctx, options)
        elif local == "ДляТоваров":
            for_products = bool_of(child)
        elif local == "ДляПредложений":
            for_offers = bool_of(child)
        elif local == "ПометкаУдаления":
            deleted = bool_of(child) or deleted
        elif local == "Статус":
            deleted = (ident_of(child, ctx) == versions.DELETED_STATUS) or deleted
        elif local == "НомерВерсии":
            version = ident_of(child, ctx)
    if for_products is None:
        for_products = not for_offers
    return Property(
        id=required_id(property_id, "Свойство"),
        name=name or "",
        value_type=versions.value_type(type_text, has_options=bool(options)),
        for_products=for_products,
        for_offers=bool(for_offers),
        deleted=deleted,
        values=tuple(options),
        version=version,
    )


def _property_options(container: Element, ctx: BuildContext, options: list[PropertyOption]) -> None:
    names = ctx.names
    for option in container:
        local = names[option.tag]
        if local == "Справочник":
            option_id = value = None
            for part in option:
                local = names[part.tag]
                if local == "ИдЗначения":
                    option_id = ident_of(part, ctx)
                elif local == "Значение":
                    value = text_of(part, ctx)
            if option_id is None:
                if value is None or not value.strip():
                    # 1C (2.09 exports) writes empty options, <Справочник><ИдЗначения/><Значение/>
                    # </Справочник>: nothing to keep, and no reason to lose the property.
                    continue
                raise CommerceMLValueError("Справочник option has no ИдЗначения", line=option.sourceline)
            options.append(PropertyOption(id=option_id, value=value or ""))
        elif local == "Значение":
            # XSD allows plain values without ids; the value doubles as its id.
            value = text_of(option, ctx)
            if value:
                options.append(PropertyOption(id=value.strip(), value=value))


def _price_type(element: Element, ctx: BuildContext) -> PriceType:
    names = ctx.names
    price_type_id = name = currency = None
    for child in element:
        local = names[child.tag]
        if local == "Ид":
            price_type_id = ident_of(child, ctx)
        elif local == "Наименование":
            name = text_of(child, ctx)
        elif local == "Валюта":
            currency = ident_of(child, ctx)
    return PriceType(id=required_id(price_type_id, "ТипЦены"), name=name or "", currency=currency)


def _warehouse(element: Element, ctx: BuildContext) -> Warehouse:
    names = ctx.names
    warehouse_id = name = None
    deleted = False
    for child in element:
        local = names[child.tag]
        if local == "Ид":
            warehouse_id = ident_of(child, ctx)
        elif local == "Наименование":
            name = text_of(child, ctx)
        elif local == "ПометкаУдаления":
            deleted = bool_of(child) or deleted
    return Warehouse(id=required_id(warehouse_id, "Склад"), name=name or "", deleted=deleted)


def _unit_record(element: Element, ctx: BuildContext) -> Unit:
    names = ctx.names
    unit_id = code = name = full_name = intl_abbr = None
    for child in element:
        local = names[child.tag]
        if local == "Код":
            code = ident_of(child, ctx)
        elif local == "Ид":
            unit_id = ident_of(child, ctx)
        elif local == "НаименованиеКраткое":
            name = ident_of(child, ctx)
        elif local == "НаименованиеПолное":
            full_name = ident_of(child, ctx)
        elif local == "МеждународноеСокращение":
            intl_abbr = ident_of(child, ctx)
    code = code or unit_id
    if code is None:
        raise CommerceMLValueError("ЕдиницаИзмерения has neither Код nor Ид")
    return Unit(code=code, name=name, full_name=full_name, intl_abbr=intl_abbr, id=unit_id)


# --------------------------------------------------------------------------- products

_PV_ID, _PV_VALUE, _PV_ITEM = 1, 2, 3
_PROPERTY_VALUE_FIELDS: dict[str, int] = {
    "Ид": _PV_ID,
    "Значение": _PV_VALUE,
    "ИдЗначения": _PV_VALUE,
    "ЗначенияСвойства": _PV_ITEM,
}
_PROPERTY_VALUE_TABLE = field_table(_PROPERTY_VALUE_FIELDS)


def _property_values(container: Element, ctx: BuildContext) -> tuple[PropertyValue, ...]:
    codes = ctx.field_codes[_PROPERTY_VALUE_TABLE]
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
        check_lengths([property_id, *values], item, ctx)
        property_id = strip_or_none(property_id)
        if property_id is None:
            raise CommerceMLValueError("ЗначенияСвойства has no Ид", line=item.sourceline)
        result.append(PropertyValue(property_id=property_id, values=tuple(values)))
    return tuple(result)


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
_PRODUCT_TABLE = field_table(_PRODUCT_FIELDS)


def _product(element: Element, ctx: BuildContext) -> Product:
    codes = ctx.field_codes[_PRODUCT_TABLE]
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
            requisites = name_value_pairs(child, ctx)
        elif code == _P_UNIT:
            unit = base_unit_of(child, ctx)
        elif code == _P_GROUPS:
            group_ids = ids_of(child, ctx)
        elif code == _P_IMAGE:
            image = ident_of(child, ctx)
            if image is not None:
                images.append(image)
        elif code == _P_CHARACTERISTICS:
            characteristics = name_value_pairs(child, ctx)
        elif code == _P_MANUFACTURER:
            manufacturer = first_name_of(child, ctx)
    check_lengths(texts, element, ctx)
    return Product(
        id=required_id(strip_or_none(texts[_P_ID]), "Товар"),
        name=texts[_P_NAME] or "",
        article=strip_or_none(texts[_P_ARTICLE]),
        barcode=strip_or_none(texts[_P_BARCODE]),
        description=texts[_P_DESCRIPTION],
        group_ids=group_ids,
        unit=unit,
        images=tuple(images),
        property_values=property_values,
        requisites=requisites,
        characteristics=characteristics,
        manufacturer=manufacturer,
        country=strip_or_none(texts[_P_COUNTRY]),
        deleted=deleted_flag(element, texts[_P_DELETION_MARK], texts[_P_STATUS]),
        version=strip_or_none(texts[_P_VERSION]),
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
_PRICE_TABLE = field_table(_PRICE_FIELDS)


def _prices(container: Element, ctx: BuildContext) -> tuple[OfferPrice, ...]:
    codes = ctx.field_codes[_PRICE_TABLE]
    result = []
    for price in container:
        if codes[price.tag] != _PRICE_ITEM:
            continue
        texts: list[str | None] = [None] * 7
        for part in price:
            texts[codes[part.tag]] = part.text
        check_lengths(texts, price, ctx)
        price_type_id = strip_or_none(texts[_PRICE_TYPE])
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
                strip_or_none(texts[_PRICE_CURRENCY]),
                strip_or_none(texts[_PRICE_UNIT]),
                coefficient,
            )
        )
    return tuple(result)


def _warehouse_stock(element: Element, ctx: BuildContext) -> OfferStock:
    """``<Склад ИдСклада="…" КоличествоНаСкладе="…"/>`` (2.x), also as child elements."""
    warehouse_id = element.get("ИдСклада")
    if warehouse_id is not None:
        warehouse_id = warehouse_id.strip() or None
        quantity = attribute_decimal_of(element, "КоличествоНаСкладе")
    else:
        quantity = None
        names = ctx.names
        for part in element:
            local = names[part.tag]
            if local == "Ид" or local == "ИдСклада":
                warehouse_id = ident_of(part, ctx)
            elif local == "Количество" or local == "КоличествоНаСкладе":
                quantity = decimal_of(part)
    if warehouse_id is None or quantity is None:
        raise CommerceMLValueError("warehouse stock needs a warehouse Ид and a quantity", line=element.sourceline)
    return OfferStock(warehouse_id, quantity)


def _rests(container: Element, ctx: BuildContext, stocks: list[OfferStock]) -> Decimal | None:
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
                quantity = decimal_of(part)
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
_OFFER_TABLE = field_table(_OFFER_FIELDS)


def _offer(element: Element, ctx: BuildContext) -> Offer:
    codes = ctx.field_codes[_OFFER_TABLE]
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
            total = optional_decimal_of(child)
            if total is not None:
                quantity = total if quantity is None else quantity + total
            has_stock = True
        elif code == _O_UNIT:
            unit = base_unit_of(child, ctx)
        elif code == _O_CHARACTERISTICS:
            characteristics = name_value_pairs(child, ctx)
            has_characteristics = True
        elif code == _O_PROPERTY_VALUES:
            property_values = _property_values(child, ctx)
            has_property_values = True
        elif code == _O_RESTS:
            total = _rests(child, ctx, stocks)
            if total is not None:
                quantity = total if quantity is None else quantity + total
            has_stock = True
    check_lengths(texts, element, ctx)
    offer_id = required_id(strip_or_none(texts[_O_ID]), "Предложение")
    product_id, variant_id = split_offer_id(offer_id)
    characteristic_id = strip_or_none(texts[_O_CHARACTERISTIC_ID])
    if characteristic_id is not None and variant_id is None:
        variant_id = characteristic_id
        offer_id = join_offer_id(product_id, variant_id)
    return Offer(
        id=offer_id,
        product_id=product_id,
        variant_id=variant_id,
        name=texts[_O_NAME],
        article=strip_or_none(texts[_O_ARTICLE]),
        barcode=strip_or_none(texts[_O_BARCODE]),
        unit=unit,
        characteristics=characteristics,
        property_values=property_values,
        prices=prices,
        quantity=quantity,
        stocks=tuple(stocks),
        deleted=deleted_flag(element, texts[_O_DELETION_MARK], texts[_O_STATUS]),
        version=strip_or_none(texts[_O_VERSION]),
        has_prices=has_prices,
        has_stock=has_stock,
        has_characteristics=has_characteristics,
        has_property_values=has_property_values,
    )


# Builders for the elements two levels below a catalog section (section/container/record), by
# local name. Groups are not here: their tree is streamed by GroupTree.
CATALOG_BUILDERS: dict[str, Any] = {
    "Товар": _product,
    "Предложение": _offer,
    "Свойство": _property,
    "ТипЦены": _price_type,
    "Склад": _warehouse,
    "ЕдиницаИзмерения": _unit_record,
}
