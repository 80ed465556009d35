"""Range checks of values from 1C against the columns they are written to.

The limits are read from the catalog models' ``_meta`` (``max_length``, ``max_digits``,
``decimal_places``), so a migration that widens or narrows a column moves the check with it.
A value that does not fit makes its element an element error, reported with its Ид: the row
keeps what it had, and the database never sees a value it would refuse (PostgreSQL raises on
an over-long string or an overflowing numeric, which would fail the whole import) or silently
change (a numeric is rounded to the column's scale).

Decisions (issue 11, item 4):

* Negative prices and quantities are refused: a negative price makes a negative order line,
  and the shop has no meaning for negative stock.
* A price or quantity with more decimal places than its column (a price of ``0.00001`` with
  four places) is refused, not rounded: rounding would store a different value than 1C sent,
  and for a small price that is ``0`` (the product becomes free). 1C itself keeps prices with
  two places and quantities with three, so a value beyond the column's scale is a faulty export.
  Trailing zeros beyond the scale (``100.000000``) are the same value and pass.
* Names and Ид longer than their column are refused (a cut Ид would be another Ид; a cut name
  is a wrong name). Secondary texts the importer always cut to their column (article, barcode,
  unit, currency, a property's value text) keep being cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from django.db import models


@dataclass(frozen=True, slots=True)
class DecimalLimit:
    label: str
    max_digits: int
    decimal_places: int

    upper: Decimal = field(init=False)
    quantum: Decimal = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "upper", Decimal(10) ** (self.max_digits - self.decimal_places))
        object.__setattr__(self, "quantum", Decimal(1).scaleb(-self.decimal_places))

    def problem(self, value: Decimal) -> str | None:
        """Why ``value`` cannot be stored in the column, or None when it fits exactly."""
        # Hot path (every price and quantity of a catalog): two comparisons and one exact
        # quantize, about half a microsecond; the reasons below are worked out only for misfits.
        if 0 <= value < self.upper and value.quantize(self.quantum) == value:
            return None
        if value < 0:
            return f"{self.label}: отрицательное значение {value}"
        if value and value.adjusted() >= self.max_digits - self.decimal_places:
            return f"{self.label}: значение {value} больше допустимого ({self.max_digits - self.decimal_places} цифр)"
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.decimal_places:
            quantum = Decimal(1).scaleb(-self.decimal_places)
            if value != value.quantize(quantum):
                return f"{self.label}: значение {value} точнее {self.decimal_places} знаков после запятой"
        return None


@dataclass(frozen=True, slots=True)
class TextLimit:
    label: str
    max_length: int

    def problem(self, value: str | None) -> str | None:
        if value is not None and len(value) > self.max_length:
            return f"{self.label}: длина {len(value)} больше допустимой ({self.max_length})"
        return None


def _field(model: type[models.Model], name: str) -> models.Field:
    found = model._meta.get_field(name)
    assert isinstance(found, models.Field)
    return found


def text_limit(model: type[models.Model], name: str, label: str) -> TextLimit:
    max_length = _field(model, name).max_length
    assert max_length is not None, f"{model.__name__}.{name} has no max_length"
    return TextLimit(label, max_length)


def decimal_limit(model: type[models.Model], name: str, label: str) -> DecimalLimit:
    column = _field(model, name)
    assert isinstance(column, models.DecimalField)
    assert column.max_digits is not None and column.decimal_places is not None
    return DecimalLimit(label, column.max_digits, column.decimal_places)


def max_length(model: type[models.Model], name: str) -> int:
    """The column's max_length, for texts the importer cuts to fit."""
    return text_limit(model, name, name).max_length


@dataclass(frozen=True, slots=True)
class CatalogLimits:
    category_id: TextLimit
    category_name: TextLimit
    property_id: TextLimit
    property_name: TextLimit
    option_id: TextLimit
    option_value: TextLimit
    price_type_id: TextLimit
    price_type_name: TextLimit
    warehouse_id: TextLimit
    warehouse_name: TextLimit
    product_id: TextLimit
    product_name: TextLimit
    variant_id: TextLimit
    variant_name: TextLimit
    price: DecimalLimit
    stock: DecimalLimit
    stock_total: DecimalLimit
    image_path: TextLimit
    image_name: TextLimit


@cache
def catalog_limits() -> CatalogLimits:
    from catalog.models import (
        Category,
        Price,
        PriceType,
        Product,
        ProductImage,
        ProductVariant,
        Property,
        PropertyValue,
        Stock,
        Warehouse,
    )

    return CatalogLimits(
        category_id=text_limit(Category, "onec_id", "Ид"),
        category_name=text_limit(Category, "name", "Наименование"),
        property_id=text_limit(Property, "onec_id", "Ид"),
        property_name=text_limit(Property, "name", "Наименование"),
        option_id=text_limit(PropertyValue, "onec_id", "ИдЗначения"),
        option_value=text_limit(PropertyValue, "value", "Значение"),
        price_type_id=text_limit(PriceType, "onec_id", "Ид"),
        price_type_name=text_limit(PriceType, "name", "Наименование"),
        warehouse_id=text_limit(Warehouse, "onec_id", "Ид"),
        warehouse_name=text_limit(Warehouse, "name", "Наименование"),
        product_id=text_limit(Product, "onec_id", "Ид"),
        product_name=text_limit(Product, "name", "Наименование"),
        variant_id=text_limit(ProductVariant, "onec_id", "Ид"),
        variant_name=text_limit(ProductVariant, "name", "Наименование"),
        price=decimal_limit(Price, "value", "ЦенаЗаЕдиницу"),
        stock=decimal_limit(Stock, "quantity", "КоличествоНаСкладе"),
        stock_total=decimal_limit(ProductVariant, "stock_total", "Количество"),
        image_path=text_limit(ProductImage, "source_path", "Картинка"),
        image_name=text_limit(ProductImage, "image", "файл картинки"),
    )
