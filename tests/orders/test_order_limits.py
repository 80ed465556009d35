"""What one order may hold: whole numbers of piece goods, a quantity cap per variant."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from catalog.models import ProductVariant
from catalog.units import PIECE_UNIT_CODES
from orders.models import Order, OrderItem
from orders.services import OrderInvalid, OrderLine, order_create
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

GUEST = {"contact_name": "Анна", "contact_email": "anna@example.com"}


def sellable(unit_code: str = "796", unit_name: str = "шт", stock: str = "100") -> ProductVariant:
    product = ProductFactory(unit_code=unit_code, unit_name=unit_name, sellable__stock=Decimal(stock))
    return product.variants.get()


def refused(*lines: tuple[ProductVariant, str]) -> dict[str, Any]:
    with pytest.raises(OrderInvalid) as exc:
        order_create(customer=None, lines=[OrderLine(variant_id=v.pk, quantity=Decimal(q)) for v, q in lines], **GUEST)
    assert not Order.objects.exists()
    assert not OrderItem.objects.exists()
    return exc.value.errors


def placed(*lines: tuple[ProductVariant, str]) -> Order:
    return order_create(
        customer=None, lines=[OrderLine(variant_id=v.pk, quantity=Decimal(q)) for v, q in lines], **GUEST
    )


@pytest.mark.parametrize("quantity", ["0.001", "1.5", "2.999"])
@pytest.mark.parametrize(("unit_code", "unit_name"), [("796", "шт"), ("796 ", "шт"), ("715", "пар"), ("778", "упак")])
def test_piece_goods_are_ordered_in_whole_numbers_only(quantity: str, unit_code: str, unit_name: str) -> None:
    errors = refused((sellable(unit_code, unit_name), quantity))

    assert errors["items"] == [{"quantity": [f"Продаётся целыми единицами ({unit_name}): укажите целое количество."]}]


def test_halves_on_two_lines_of_a_piece_product_are_refused_too() -> None:
    kettle = sellable()

    errors = refused((kettle, "0.5"), (kettle, "0.5"))

    assert errors["items"][0] == {"quantity": ["Продаётся целыми единицами (шт): укажите целое количество."]}


@pytest.mark.parametrize(("unit_code", "quantity"), [("166", "0.25"), ("006", "1.5"), ("", "0.5"), ("797", "0.5")])
def test_goods_measured_otherwise_may_be_ordered_in_fractions(unit_code: str, quantity: str) -> None:
    order = placed((sellable(unit_code, "кг"), quantity))

    assert order.items.get().quantity == Decimal(quantity)


def test_the_piece_codes_are_the_okei_codes_of_countable_units() -> None:
    assert {"796", "715", "778", "839"} <= PIECE_UNIT_CODES
    assert not {"166", "006", "112", "797", "798"} & PIECE_UNIT_CODES  # kg, m, l, hundreds, thousands


def test_quantity_of_one_variant_is_capped_per_order(settings: Any) -> None:
    settings.SHOP_ORDER_MAX_LINE_QUANTITY = 10
    kettle = sellable()

    too_many = refused((kettle, "11"))
    split = refused((kettle, "6"), (kettle, "5"))
    order = placed((kettle, "10"))

    assert too_many["items"] == [{"quantity": ["Не больше 10 одного товара в заказе."]}] == split["items"][:1]
    assert order.items.get().quantity == 10
