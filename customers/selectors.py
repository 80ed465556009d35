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
    """The price type a customer sees and buys at.

    1. the price type mapped to the customer's role (guests have the retail role);
    2. else the one mapped to retail, so a wholesale customer without a wholesale price type
       still sees prices;
    3. else the oldest price type (lowest id: usually the first one 1C sent), so a shop with a
       single unmapped price type works without any set-up;
    4. else None: the shop has no prices yet.
    """
    role = customer_role(customer=customer)
    price_types = list(PriceType.objects.order_by("id"))
    by_role = {pt.customer_role: pt for pt in price_types if pt.customer_role}
    return by_role.get(role) or by_role.get(CustomerRole.RETAIL) or (price_types[0] if price_types else None)
