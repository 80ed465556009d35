"""Which price type a customer buys at."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from customers.roles import CustomerRole
from customers.selectors import customer_price_type
from tests.factories import PriceTypeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_customer_buys_at_the_price_type_mapped_to_their_role() -> None:
    PriceTypeFactory(retail=True)
    wholesale = PriceTypeFactory(customer_role=CustomerRole.WHOLESALE_1)

    assert customer_price_type(customer=UserFactory(wholesale=True)) == wholesale


def test_guests_buy_at_retail() -> None:
    retail = PriceTypeFactory(retail=True)
    PriceTypeFactory(customer_role=CustomerRole.WHOLESALE_1)

    assert customer_price_type(customer=None) == retail
    assert customer_price_type(customer=AnonymousUser()) == retail


def test_role_without_its_own_price_type_falls_back_to_retail() -> None:
    PriceTypeFactory(name="Закупочная")
    retail = PriceTypeFactory(retail=True)

    assert customer_price_type(customer=UserFactory(role=CustomerRole.WHOLESALE_3)) == retail


def test_price_type_mapped_to_no_role_is_never_used_not_even_the_oldest() -> None:
    PriceTypeFactory(name="Закупочная")
    PriceTypeFactory(name="Розничная")

    assert customer_price_type(customer=UserFactory()) is None
    assert customer_price_type(customer=None) is None


def test_shop_without_price_types_has_no_price_type() -> None:
    assert customer_price_type(customer=UserFactory()) is None
