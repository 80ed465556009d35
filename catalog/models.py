"""The shop's catalog.

Sales unit: every product is sold through variants. A product without characteristics has
exactly one *default* variant whose ``onec_id`` equals the offer Ид 1C sends for it (which is the
product's own Ид); a product with characteristics has one variant per ``<product>#<variant>``
offer and no default variant. Orders, prices and stock always point at a variant, so one code
path serves both kinds of product.

1C identifiers (``onec_id``) are opaque strings, unique and indexed; products created in the
admin have none. Nothing here is deleted by the exchange: it deactivates instead, so orders keep
their lines.
"""

from __future__ import annotations

from typing import TypedDict

from django.db import models
from django.db.models import Value

from customers.roles import CustomerRole


class DecimalSpec(TypedDict):
    """max_digits/decimal_places of a DecimalField, typed so ``**MONEY`` type-checks."""

    max_digits: int
    decimal_places: int


MONEY: DecimalSpec = {"max_digits": 18, "decimal_places": 4}
QUANTITY: DecimalSpec = {"max_digits": 18, "decimal_places": 3}


class TimestampedModel(models.Model):
    created_at = models.DateTimeField("создан", auto_now_add=True)
    updated_at = models.DateTimeField("изменён", auto_now=True)

    class Meta:
        abstract = True


class Category(TimestampedModel):
    onec_id = models.CharField("Ид в 1С", max_length=255, unique=True, null=True, blank=True)
    name = models.CharField("наименование", max_length=255)
    parent = models.ForeignKey(
        "self", verbose_name="родитель", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField("активна", default=True)
    sort_order = models.PositiveIntegerField("порядок", default=0)
    content_hash = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = "категория"
        verbose_name_plural = "категории"
        ordering = ("sort_order", "name")

    def __str__(self) -> str:
        return self.name


class Property(TimestampedModel):
    class ValueType(models.TextChoices):
        STRING = "string", "Строка"
        NUMBER = "number", "Число"
        TIME = "time", "Время"
        REFERENCE = "reference", "Справочник"

    onec_id = models.CharField("Ид в 1С", max_length=255, unique=True, null=True, blank=True)
    name = models.CharField("наименование", max_length=255)
    value_type = models.CharField("тип значений", max_length=16, choices=ValueType.choices, default=ValueType.STRING)
    for_products = models.BooleanField("для товаров", default=True)
    for_offers = models.BooleanField("для предложений", default=False)
    is_active = models.BooleanField("активно", default=True)
    content_hash = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = "свойство"
        verbose_name_plural = "свойства"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class PropertyValue(models.Model):
    """A reference value (ВариантыЗначений/Справочник) of a property."""

    property = models.ForeignKey(Property, verbose_name="свойство", on_delete=models.CASCADE, related_name="values")
    onec_id = models.CharField("Ид значения в 1С", max_length=255)
    value = models.CharField("значение", max_length=1024)

    class Meta:
        verbose_name = "значение свойства"
        verbose_name_plural = "значения свойств"
        constraints = [models.UniqueConstraint(fields=("property", "onec_id"), name="uniq_property_value_onec_id")]

    def __str__(self) -> str:
        return self.value


class PriceType(TimestampedModel):
    onec_id = models.CharField("Ид в 1С", max_length=255, unique=True, null=True, blank=True)
    name = models.CharField("наименование", max_length=255)
    currency = models.CharField("валюта", max_length=8, default="RUB")
    customer_role = models.CharField(
        "для покупателей с ролью",
        max_length=20,
        choices=CustomerRole.choices,
        unique=True,
        null=True,
        blank=True,
        help_text="Покупатели с этой ролью видят и покупают по этому типу цен.",
    )

    class Meta:
        verbose_name = "тип цен"
        verbose_name_plural = "типы цен"
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class Warehouse(TimestampedModel):
    onec_id = models.CharField("Ид в 1С", max_length=255, unique=True, null=True, blank=True)
    name = models.CharField("наименование", max_length=255)
    is_active = models.BooleanField("активен", default=True)

    class Meta:
        verbose_name = "склад"
        verbose_name_plural = "склады"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Product(TimestampedModel):
    onec_id = models.CharField("Ид в 1С", max_length=255, unique=True, null=True, blank=True)
    # The 1C catalog (Каталог/Ид) the product came from: a full exchange of one catalog deactivates
    # only its own missing products, never those of another catalog or another 1C node.
    catalog_onec_id = models.CharField("Ид каталога в 1С", max_length=255, blank=True, default="", db_index=True)
    article = models.CharField("артикул", max_length=255, blank=True, db_index=True)
    name = models.CharField("наименование", max_length=1024, db_index=True)
    description = models.TextField("описание", blank=True)
    category = models.ForeignKey(
        Category, verbose_name="категория", null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    unit_code = models.CharField("код единицы (ОКЕИ)", max_length=16, blank=True, default="796")
    unit_name = models.CharField("единица", max_length=64, blank=True, default="шт")
    is_active = models.BooleanField("активен", default=True, db_index=True)
    requisites = models.JSONField("реквизиты 1С", default=dict, blank=True)
    content_hash = models.CharField(max_length=32, blank=True, editable=False)
    # Fields a manager changed on the site (PRODUCT_SITE_FIELDS names), set by
    # product_note_site_edits; the exchange may be configured to leave them alone from then on.
    site_edited_fields = models.JSONField(
        "изменено на сайте",
        default=list,
        db_default=Value([], output_field=models.JSONField()),
        blank=True,
        editable=False,
    )

    class Meta:
        verbose_name = "товар"
        verbose_name_plural = "товары"
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


# Product fields a manager can edit on the site, by the name an operator configures; "images" is
# the product's picture list.
PRODUCT_SITE_FIELDS = ("name", "article", "description", "category", "unit", "images")


class ProductPropertyValue(models.Model):
    """A product's value of a property: text for strings and numbers, a reference value otherwise."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="property_values", db_index=False)
    property = models.ForeignKey(Property, verbose_name="свойство", on_delete=models.CASCADE, related_name="+")
    value = models.CharField("значение", max_length=1024, blank=True)
    reference = models.ForeignKey(
        PropertyValue,
        verbose_name="значение справочника",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = "значение свойства товара"
        verbose_name_plural = "значения свойств товара"
        indexes = [models.Index(fields=("product", "property"))]

    def __str__(self) -> str:
        return f"{self.property_id}={self.value}"

    def display_value(self) -> str:
        return self.reference.value if self.reference_id and self.reference else self.value


class ProductVariant(TimestampedModel):
    product = models.ForeignKey(Product, verbose_name="товар", on_delete=models.PROTECT, related_name="variants")
    onec_id = models.CharField("Ид предложения в 1С", max_length=512, unique=True, null=True, blank=True)
    name = models.CharField("наименование", max_length=1024, blank=True)
    article = models.CharField("артикул", max_length=255, blank=True)
    barcode = models.CharField("штрихкод", max_length=64, blank=True, db_index=True)
    characteristics = models.JSONField(
        "характеристики",
        default=list,
        blank=True,
        help_text='Пары наименование/значение: [{"name": "Размер", "value": "43"}]',
    )
    is_default = models.BooleanField("вариант по умолчанию", default=False)
    is_active = models.BooleanField("активен", default=True)
    stock_total = models.DecimalField("остаток всего", default=0, **QUANTITY)
    # Change detection for the importer: an offer's attributes, prices and stock may arrive in
    # different files (CommerceML 3.1 offers/prices/rests), so each part has its own hash.
    content_hash = models.CharField(max_length=32, blank=True, editable=False)
    prices_hash = models.CharField(max_length=32, blank=True, editable=False)
    stock_hash = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = "вариант товара"
        verbose_name_plural = "варианты товара"
        ordering = ("product_id", "id")

    def __str__(self) -> str:
        return self.name or str(self.product_id)

    @property
    def characteristics_text(self) -> str:
        return ", ".join(f"{item.get('name')}: {item.get('value')}" for item in self.characteristics or [])


# Price, Stock and ProductPropertyValue carry hundreds of thousands of rows written by every
# import: their foreign keys get no index of their own where a unique constraint or composite
# index already starts with the column, or where the column has a handful of values (price
# types, warehouses) that no query filters on alone: every index is one more write per row.
class Price(TimestampedModel):
    variant = models.ForeignKey(ProductVariant, on_delete=models.CASCADE, related_name="prices", db_index=False)
    price_type = models.ForeignKey(
        PriceType, verbose_name="тип цен", on_delete=models.PROTECT, related_name="prices", db_index=False
    )
    value = models.DecimalField("цена", **MONEY)
    currency = models.CharField("валюта", max_length=8, default="RUB")

    class Meta:
        verbose_name = "цена"
        verbose_name_plural = "цены"
        constraints = [models.UniqueConstraint(fields=("variant", "price_type"), name="uniq_price_variant_type")]

    def __str__(self) -> str:
        return f"{self.value} {self.currency}"


class Stock(TimestampedModel):
    variant = models.ForeignKey(ProductVariant, on_delete=models.CASCADE, related_name="stocks", db_index=False)
    warehouse = models.ForeignKey(
        Warehouse, verbose_name="склад", on_delete=models.PROTECT, related_name="stocks", db_index=False
    )
    quantity = models.DecimalField("количество", **QUANTITY)

    class Meta:
        verbose_name = "остаток"
        verbose_name_plural = "остатки"
        constraints = [models.UniqueConstraint(fields=("variant", "warehouse"), name="uniq_stock_variant_warehouse")]

    def __str__(self) -> str:
        return f"{self.quantity}"


class ProductImage(TimestampedModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.FileField("файл", upload_to="products/", max_length=512)
    source_path = models.CharField(
        "путь в выгрузке 1С",
        max_length=512,
        blank=True,
        help_text="import_files/…; одинаковый путь не загружается повторно",
    )
    position = models.PositiveIntegerField("порядок", default=0)
    description = models.CharField("описание", max_length=512, blank=True)

    class Meta:
        verbose_name = "изображение"
        verbose_name_plural = "изображения"
        ordering = ("position", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("product", "source_path"), condition=~models.Q(source_path=""), name="uniq_image_source_path"
            )
        ]

    def __str__(self) -> str:
        return self.source_path or self.image.name
