"""factory_boy factories for every model of the shop.

``ProductFactory(sellable=True)`` makes a product ready to order: its default variant with a
price of every price type (a retail price type is created when there is none) and stock.
Tune it with ``sellable__price=Decimal("250")`` and ``sellable__stock=Decimal("3")``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from factory.django import DjangoModelFactory

from catalog.models import (
    Category,
    Price,
    PriceType,
    Product,
    ProductImage,
    ProductPropertyValue,
    ProductVariant,
    Property,
    PropertyValue,
    Stock,
    Warehouse,
)
from customers.models import CustomerType, User
from customers.roles import CustomerRole
from orders.models import Order, OrderItem

PASSWORD = "Secret-pass-2024"  # a test customer's password


class CategoryFactory(DjangoModelFactory[Category]):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Категория {n}")


class PropertyFactory(DjangoModelFactory[Property]):
    class Meta:
        model = Property

    onec_id = factory.Sequence(lambda n: f"prop-{n}")
    name = factory.Sequence(lambda n: f"Свойство {n}")


class PropertyValueFactory(DjangoModelFactory[PropertyValue]):
    class Meta:
        model = PropertyValue

    property = factory.SubFactory(PropertyFactory, value_type=Property.ValueType.REFERENCE)
    onec_id = factory.Sequence(lambda n: f"value-{n}")
    value = factory.Sequence(lambda n: f"Значение {n}")


class PriceTypeFactory(DjangoModelFactory[PriceType]):
    class Meta:
        model = PriceType

    onec_id = factory.Sequence(lambda n: f"price-type-{n}")
    name = factory.Sequence(lambda n: f"Тип цен {n}")
    currency = "RUB"

    class Params:
        retail = factory.Trait(name="Розничная", customer_role=CustomerRole.RETAIL)


class WarehouseFactory(DjangoModelFactory[Warehouse]):
    class Meta:
        model = Warehouse

    onec_id = factory.Sequence(lambda n: f"warehouse-{n}")
    name = factory.Sequence(lambda n: f"Склад {n}")


class ProductVariantFactory(DjangoModelFactory[ProductVariant]):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory("tests.factories.ProductFactory")
    onec_id = factory.LazyAttributeSequence(lambda o, n: f"{o.product.onec_id or 'p'}#{n}")
    name = factory.LazyAttribute(lambda o: o.product.name)
    characteristics = factory.LazyFunction(list)
    stock_total = Decimal("10")

    class Params:
        default = factory.Trait(is_default=True, onec_id=factory.LazyAttribute(lambda o: o.product.onec_id))


class PriceFactory(DjangoModelFactory[Price]):
    class Meta:
        model = Price

    variant = factory.SubFactory(ProductVariantFactory)
    price_type = factory.SubFactory(PriceTypeFactory)
    value = Decimal("100.00")
    currency = factory.LazyAttribute(lambda o: o.price_type.currency)


class StockFactory(DjangoModelFactory[Stock]):
    class Meta:
        model = Stock

    variant = factory.SubFactory(ProductVariantFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    quantity = Decimal("5")


def make_offer(
    product: Product, *, price: Decimal = Decimal("100.00"), stock: Decimal = Decimal("10")
) -> ProductVariant:
    """The default variant of ``product`` with ``price`` in every price type and ``stock`` in total."""
    variant = ProductVariantFactory(product=product, default=True, stock_total=stock)
    price_types = list(PriceType.objects.all()) or [PriceTypeFactory(retail=True)]
    for price_type in price_types:
        PriceFactory(variant=variant, price_type=price_type, value=price)
    return variant


class ProductFactory(DjangoModelFactory[Product]):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    onec_id = factory.Sequence(lambda n: f"product-{n:05d}")
    article = factory.Sequence(lambda n: f"ART-{n:05d}")
    name = factory.Sequence(lambda n: f"Товар {n}")
    category = None

    @factory.post_generation
    def sellable(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and (extracted or kwargs):
            make_offer(self, **kwargs)


class ProductPropertyValueFactory(DjangoModelFactory[ProductPropertyValue]):
    class Meta:
        model = ProductPropertyValue

    product = factory.SubFactory(ProductFactory)
    property = factory.SubFactory(PropertyFactory)
    value = "Синий"


class ProductImageFactory(DjangoModelFactory[ProductImage]):
    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    image = factory.django.FileField(filename="photo.jpg", data=b"\xff\xd8\xff\xe0 not really a jpeg")
    source_path = factory.Sequence(lambda n: f"import_files/ab/photo{n}.jpg")


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Иван"
    last_name = "Петров"
    phone = "+79991234567"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    class Params:
        company = factory.Trait(
            customer_type=CustomerType.COMPANY, company_name='ООО "Ромашка"', inn="7707083893", kpp="773601001"
        )
        wholesale = factory.Trait(role=CustomerRole.WHOLESALE_1)
        staff = factory.Trait(is_staff=True, is_superuser=True)

    @factory.post_generation
    def save_password(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save(update_fields=["password"])


class OrderFactory(DjangoModelFactory[Order]):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"T-{n:06d}")
    contact_name = "Иван Петров"
    contact_email = "guest@example.com"
    contact_phone = "+79991234567"
    access_key = factory.Sequence(lambda n: f"key-{n}")


class OrderItemFactory(DjangoModelFactory[OrderItem]):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    variant = factory.SubFactory(ProductVariantFactory)
    onec_id = factory.LazyAttribute(lambda o: o.variant.onec_id or "")
    name = factory.LazyAttribute(lambda o: o.variant.product.name)
    price = Decimal("100.00")
    quantity = Decimal("1")
    total = factory.LazyAttribute(lambda o: (o.price * o.quantity).quantize(Decimal("0.01")))
