"""Customer read paths."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from catalog.models import PriceType
from customers.models import User
from customers.roles import CustomerRole


def customer_role(*, customer: User | AnonymousUser | None) -> str:
    """The role that prices a customer; guests (anonymous or missing) buy at retail."""
    if isinstance(customer, User) and customer.is_authenticated:
        return customer.role
    return CustomerRole.RETAIL


def customer_price_type(*, customer: User | AnonymousUser | None) -> PriceType | None:
    """The price type a customer sees and buys at: the only one whose prices they are shown.

    1. the price type mapped to the customer's role (guests have the retail role);
    2. else the one mapped to retail, so a wholesale customer whose tier has no price type of its
       own still sees prices (the retail ones, which every guest sees anyway);
    3. else None: nothing is shown and nothing can be ordered.

    A price type mapped to no role (a purchase price, a price type 1C sent that no manager has
    mapped yet) is never shown or sold at: the retail price type is configured explicitly by
    mapping it to the retail role in the admin, never guessed.
    """
    role = customer_role(customer=customer)
    by_role = {
        price_type.customer_role: price_type
        for price_type in PriceType.objects.filter(customer_role__in={role, CustomerRole.RETAIL})
    }
    return by_role.get(role) or by_role.get(CustomerRole.RETAIL)
