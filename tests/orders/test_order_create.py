"""Placing an order: server-side prices and totals, stock checks, contact details."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from catalog.models import ProductVariant
from customers.roles import CustomerRole
from orders.models import Order, OrderItem, OrderStatus
from orders.services import OrderInvalid, OrderLine, order_create
from tests.factories import (
    OrderItemFactory,
    PriceFactory,
    PriceTypeFactory,
    ProductFactory,
    ProductVariantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

GUEST = {"contact_name": "Анна", "contact_email": "anna@example.com"}


def sellable(price: str = "100.00", stock: str = "10", **kwargs: Any) -> ProductVariant:
    product = ProductFactory(sellable__price=Decimal(price), sellable__stock=Decimal(stock), **kwargs)
    return product.variants.get()


def line(variant: ProductVariant, quantity: str = "1") -> OrderLine:
    return OrderLine(variant_id=variant.pk, quantity=Decimal(quantity))


def place(*lines: OrderLine, customer: Any = None, **contact: str) -> Order:
    if customer is None:
        contact = GUEST | contact
    return order_create(customer=customer, lines=list(lines), **contact)


def rejected(*lines: OrderLine, customer: Any = None, **contact: str) -> dict[str, Any]:
    with pytest.raises(OrderInvalid) as exc:
        place(*lines, customer=customer, **contact)
    assert not Order.objects.exists()
    assert not OrderItem.objects.exists()
    return exc.value.errors


def test_guest_order_gets_server_prices_totals_and_a_snapshot_of_each_line(settings: Any) -> None:
    settings.SHOP_ORDER_NUMBER_PREFIX = "WEB-"
    kettle = sellable("199.99", name="Чайник", article="CH-1", onec_id="kettle-id")
    cheese = sellable("50.005", name="Сыр", unit_code="166", unit_name="кг")

    order = place(line(kettle, "2"), line(cheese, "1.5"), delivery_address=" Москва ", comment="Позвонить")

    order.refresh_from_db()
    assert order.number == f"WEB-{order.pk:06d}"
    assert (order.items_total, order.total, order.currency) == (Decimal("474.99"), Decimal("474.99"), "RUB")
    assert (order.contact_name, order.contact_email, order.customer) == ("Анна", "anna@example.com", None)
    assert (order.delivery_address, order.comment, order.status) == ("Москва", "Позвонить", OrderStatus.NEW)
    assert len(order.access_key) >= 32
    assert not order.sent_to_1c
    first, second = order.items.all()
    assert (first.name, first.article, first.onec_id, first.unit_name) == ("Чайник", "CH-1", "kettle-id", "шт")
    assert (first.price, first.quantity, first.total) == (Decimal("199.99"), Decimal("2"), Decimal("399.98"))
    assert (second.price, second.total) == (Decimal("50.005"), Decimal("75.01"))  # 75.0075 rounded half up


def test_stock_is_checked_but_not_decremented() -> None:
    variant = sellable(stock="3")

    place(line(variant, "3"))

    variant.refresh_from_db()
    assert variant.stock_total == Decimal("3")


def test_numbers_are_unique_and_access_keys_differ() -> None:
    variant = sellable()

    first, second = place(line(variant)), place(line(variant))

    assert first.number != second.number
    assert first.access_key != second.access_key


def test_customer_order_takes_contact_from_the_profile_and_price_from_the_role() -> None:
    PriceTypeFactory(retail=True)
    wholesale = PriceTypeFactory(customer_role=CustomerRole.WHOLESALE_1, currency="USD")
    variant = sellable("100")
    variant.prices.filter(price_type=wholesale).update(value=Decimal("80"))
    customer = UserFactory(wholesale=True, email="opt@example.com", phone="+79990000000")

    order = place(line(variant, "2"), customer=customer)

    assert (order.customer, order.price_type, order.currency, order.total) == (
        customer,
        wholesale,
        "USD",
        Decimal("160.00"),
    )
    assert (order.contact_name, order.contact_email, order.contact_phone) == (
        "Иван Петров",
        "opt@example.com",
        "+79990000000",
    )


def test_contact_given_by_a_customer_overrides_the_profile() -> None:
    customer = UserFactory()

    order = place(line(sellable()), customer=customer, contact_name="Пётр", contact_phone="8 (912) 000-11-22")

    assert (order.contact_name, order.contact_email, order.contact_phone) == (
        "Пётр",
        customer.email,
        "+79120001122",
    )


def test_guest_may_leave_a_phone_instead_of_an_email() -> None:
    order = place(line(sellable()), contact_name="Анна", contact_email="", contact_phone="+7 999 111 22 33")

    assert (order.contact_email, order.contact_phone) == ("", "+79991112233")


def test_guest_without_name_and_any_way_to_reach_them_is_refused() -> None:
    errors = rejected(line(sellable()), contact_name=" ", contact_email="")

    assert set(errors) == {"contact_name", "non_field_errors"}


def test_bad_phone_and_email_are_field_errors() -> None:
    errors = rejected(line(sellable()), contact_phone="123", contact_email="nope")

    assert set(errors) == {"contact_phone", "contact_email"}


def test_insufficient_stock_is_an_error_on_that_line() -> None:
    plenty, scarce = sellable(stock="10"), sellable(stock="2")

    errors = rejected(line(plenty), line(scarce, "3"))

    assert errors["items"] == [{}, {"quantity": ["Недостаточно на складе: доступно 2."]}]


def test_orders_not_yet_in_1c_hold_their_quantities() -> None:
    variant = sellable(stock="5")
    place(line(variant, "4"))

    with pytest.raises(OrderInvalid) as exc:
        place(line(variant, "2"))

    assert exc.value.errors["items"] == [{"quantity": ["Недостаточно на складе: доступно 1."]}]


@pytest.mark.parametrize(
    "order_state",
    [{"sent_to_1c": True}, {"status": OrderStatus.CANCELLED}, {"export_skipped": True}],
)
def test_orders_handed_to_1c_cancelled_or_skipped_hold_nothing(order_state: dict[str, Any]) -> None:
    variant = sellable(stock="5")
    OrderItemFactory(variant=variant, quantity=Decimal("5"), **{f"order__{k}": v for k, v in order_state.items()})

    order = place(line(variant, "5"))

    assert order.items.get().quantity == Decimal("5")


def test_duplicate_lines_for_one_variant_are_merged_and_checked_together() -> None:
    variant, other = sellable("10", stock="3"), sellable()

    order = place(line(variant, "1"), line(other), line(variant, "2"))

    assert [(item.variant_id, item.quantity) for item in order.items.all()] == [
        (variant.pk, Decimal("3")),
        (other.pk, Decimal("1")),
    ]
    with pytest.raises(OrderInvalid) as exc:
        place(line(variant, "1"), line(variant, "1"))
    assert exc.value.errors["items"] == [{"quantity": ["Недостаточно на складе: доступно 0."]}, {}]


def test_unknown_and_inactive_variants_and_products_cannot_be_ordered() -> None:
    inactive_variant = sellable()
    ProductVariant.objects.filter(pk=inactive_variant.pk).update(is_active=False)
    of_inactive_product = sellable(is_active=False)

    errors = rejected(
        OrderLine(variant_id=999_999, quantity=Decimal(1)), line(inactive_variant), line(of_inactive_product)
    )

    assert all(set(item) == {"variant"} for item in errors["items"])


def test_variant_without_a_price_for_the_customer_cannot_be_ordered() -> None:
    PriceTypeFactory(retail=True)
    variant = ProductVariantFactory()
    PriceFactory(variant=variant, price_type=PriceTypeFactory(customer_role=CustomerRole.WHOLESALE_1))

    errors = rejected(line(variant))

    assert errors["items"] == [{"variant": ["У товара нет цены для вас; его нельзя заказать."]}]


def test_shop_without_price_types_refuses_orders_with_an_error_not_a_crash() -> None:
    variant = ProductVariantFactory()

    errors = rejected(line(variant))

    assert "variant" in errors["items"][0]


def test_empty_order_is_refused() -> None:
    assert rejected() == {"items": ["Добавьте в заказ хотя бы один товар."]}


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "больше нуля"),
        ("-1", "больше нуля"),
        ("1.0001", "3 знаков"),
        ("NaN", "больше нуля"),
        ("Infinity", "больше нуля"),
        ("1e15", "Слишком большое"),
    ],
)
def test_quantity_must_be_positive_with_at_most_three_decimals(quantity: str, message: str) -> None:
    errors = rejected(line(sellable(stock="999999999999999"), quantity))

    assert message in errors["items"][0]["quantity"][0]


def test_fractional_quantity_with_three_decimals_is_accepted_for_a_unit_not_counted_in_pieces() -> None:
    order = place(line(sellable("10", stock="2", unit_code="166", unit_name="кг"), "1.255"))

    assert order.total == Decimal("12.55")


def test_sum_too_large_for_the_totals_column_is_an_error_not_a_crash() -> None:
    variant = sellable("99999999999999", stock="999999")

    errors = rejected(line(variant, "1000"))

    assert errors["items"] == [{"quantity": ["Слишком большая сумма строки."]}]


def test_product_without_characteristics_can_be_ordered_by_product_id() -> None:
    variant = sellable()

    order = place(OrderLine(product_id=variant.product_id, quantity=Decimal(1)))

    assert order.items.get().variant == variant


def test_product_with_several_variants_needs_a_variant() -> None:
    product = ProductFactory()
    ProductVariantFactory.create_batch(2, product=product)

    errors = rejected(OrderLine(product_id=product.pk, quantity=Decimal(1)))

    assert set(errors["items"][0]) == {"product"}


def test_line_naming_nothing_is_refused() -> None:
    errors = rejected(OrderLine(quantity=Decimal(1)))

    assert set(errors["items"][0]) == {"variant"}


def test_too_many_lines_are_refused(settings: Any) -> None:
    settings.SHOP_ORDER_MAX_LINES = 3
    variant = sellable()

    errors = rejected(*[line(variant)] * 4)

    assert errors["items"] == ["Не больше 3 строк в одном заказе."]
    assert place(*[line(variant)] * 3).items.get().quantity == 3
