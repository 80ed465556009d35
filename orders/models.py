"""Orders placed in the shop. Lines keep a snapshot (name, article, 1C Ид, price) so that an
order reads the same after the catalog changed or a product was deactivated."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from catalog.models import MONEY, QUANTITY, DecimalSpec, PriceType, ProductVariant

TOTAL: DecimalSpec = {"max_digits": 18, "decimal_places": 2}


class OrderStatus(models.TextChoices):
    NEW = "new", "Новый"
    CONFIRMED = "confirmed", "Подтверждён"
    PROCESSING = "processing", "В работе"
    SHIPPED = "shipped", "Отгружен"
    COMPLETED = "completed", "Выполнен"
    CANCELLED = "cancelled", "Отменён"


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", "Не оплачен"
    PARTIALLY_PAID = "partially_paid", "Частично оплачен"
    PAID = "paid", "Оплачен"


class ShipmentStatus(models.TextChoices):
    NOT_SHIPPED = "not_shipped", "Не отгружен"
    PARTIALLY_SHIPPED = "partially_shipped", "Частично отгружен"
    SHIPPED = "shipped", "Отгружен"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Наличный расчет"
    CARD = "card", "Банковская карта"
    INVOICE = "invoice", "Безналичный расчет"


FINAL_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED})


class Order(models.Model):
    number = models.CharField("номер", max_length=64, unique=True)
    created_at = models.DateTimeField("создан", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("изменён", auto_now=True)
    status = models.CharField(
        "статус", max_length=20, choices=OrderStatus.choices, default=OrderStatus.NEW, db_index=True
    )

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="покупатель",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    # Contact details are always filled: from the guest form, or copied from the customer.
    contact_name = models.CharField("имя", max_length=255)
    contact_email = models.EmailField("email", blank=True)
    contact_phone = models.CharField("телефон", max_length=32, blank=True)
    delivery_address = models.TextField("адрес доставки", blank=True)
    comment = models.TextField("комментарий покупателя", blank=True)
    # Guests read their order back with this key (given once, in the answer that created the
    # order); the sequential number alone would let anyone read anyone's order.
    access_key = models.CharField("ключ доступа", max_length=64, blank=True, editable=False)

    price_type = models.ForeignKey(
        PriceType, verbose_name="тип цен", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    currency = models.CharField("валюта", max_length=8, default="RUB")
    items_total = models.DecimalField("сумма товаров", default=Decimal("0"), **TOTAL)
    delivery_total = models.DecimalField("доставка", default=Decimal("0"), **TOTAL)
    total = models.DecimalField("итого", default=Decimal("0"), **TOTAL)
    payment_method = models.CharField("способ оплаты", max_length=20, choices=PaymentMethod.choices, blank=True)

    # Exchange with 1C: the site hands orders out (query/success); 1C reports back.
    sent_to_1c = models.BooleanField("передан в 1С", default=False, db_index=True)
    sent_to_1c_at = models.DateTimeField("передан в 1С в", null=True, blank=True)
    # The order's updated_at when 1C confirmed receiving it: a later updated_at means the order
    # changed on the site since 1C got it.
    exported_version = models.DateTimeField("версия, переданная в 1С", null=True, blank=True, editable=False)
    export_skipped = models.BooleanField("пропущен при выгрузке", default=False)
    export_skip_reason = models.CharField("причина пропуска", max_length=512, blank=True)
    onec_number = models.CharField("номер в 1С", max_length=64, blank=True)
    onec_date = models.DateTimeField("дата в 1С", null=True, blank=True)
    onec_status = models.CharField("статус в 1С", max_length=255, blank=True)
    onec_deleted = models.BooleanField("помечен на удаление в 1С", default=False)
    payment_status = models.CharField(
        "оплата", max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    paid_at = models.DateTimeField("оплачен", null=True, blank=True)
    payment_document = models.CharField("документ оплаты в 1С", max_length=64, blank=True)
    shipment_status = models.CharField(
        "отгрузка", max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.NOT_SHIPPED
    )
    shipped_at = models.DateTimeField("отгружен", null=True, blank=True)
    shipment_document = models.CharField("документ отгрузки в 1С", max_length=64, blank=True)
    tracking_number = models.CharField("идентификатор отправления", max_length=128, blank=True)

    class Meta:
        verbose_name = "заказ"
        verbose_name_plural = "заказы"
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("sent_to_1c", "export_skipped", "created_at"), name="order_export_queue")]

    def __str__(self) -> str:
        return f"№ {self.number}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(
        ProductVariant, verbose_name="вариант товара", on_delete=models.PROTECT, related_name="order_items"
    )
    onec_id = models.CharField("Ид в 1С", max_length=512, blank=True)
    name = models.CharField("наименование", max_length=1024)
    article = models.CharField("артикул", max_length=255, blank=True)
    unit_code = models.CharField("код единицы", max_length=16, blank=True)
    unit_name = models.CharField("единица", max_length=64, blank=True)
    price = models.DecimalField("цена", **MONEY)
    quantity = models.DecimalField("количество", **QUANTITY)
    total = models.DecimalField("сумма", **TOTAL)

    class Meta:
        verbose_name = "строка заказа"
        verbose_name_plural = "строки заказа"
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"


class OrderHistory(models.Model):
    """One change of one field of an order: when, from where, the old and the new value."""

    class Source(models.TextChoices):
        ONEC = "1c", "1С"
        ADMIN = "admin", "Администратор"
        SITE = "site", "Сайт"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    created_at = models.DateTimeField("когда", auto_now_add=True)
    source = models.CharField("источник", max_length=16, choices=Source.choices)
    field = models.CharField("поле", max_length=64)
    old_value = models.TextField("было", blank=True)
    new_value = models.TextField("стало", blank=True)

    class Meta:
        verbose_name = "изменение заказа"
        verbose_name_plural = "история заказа"
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=("order", "field", "created_at"), name="order_history_field")]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"


class OrderStatusMapping(models.Model):
    """What a status 1C writes means on the site: its status text ("Согласован", "[F] Доставлен")
    or its status id, compared without case and surrounding spaces."""

    onec_value = models.CharField("статус в 1С", max_length=255, unique=True)
    status = models.CharField("статус на сайте", max_length=20, choices=OrderStatus.choices)

    class Meta:
        verbose_name = "соответствие статуса 1С"
        verbose_name_plural = "соответствие статусов 1С"
        ordering = ("onec_value",)

    def __str__(self) -> str:
        return f"{self.onec_value} → {self.get_status_display()}"
