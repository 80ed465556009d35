from __future__ import annotations

from typing import Any

from rest_framework import serializers

from customers.models import CustomerType, User
from customers.services import PROFILE_FIELDS


class CustomerSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ("id", *PROFILE_FIELDS, "role")  # what a customer sees of their profile
        read_only_fields = fields


class RegisterSerializer(serializers.Serializer[Any]):
    """Input of registration; the service checks the rest (uniqueness, password strength, ИНН)."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    phone = serializers.CharField(
        required=False, allow_blank=True, max_length=32, default="", help_text="Any notation; stored as E.164."
    )
    customer_type = serializers.ChoiceField(choices=CustomerType.choices, default=CustomerType.INDIVIDUAL)
    company_name = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    inn = serializers.CharField(
        required=False, allow_blank=True, max_length=12, default="", help_text="Required for companies."
    )
    kpp = serializers.CharField(
        required=False, allow_blank=True, max_length=9, default="", help_text="Required for a 10-digit ИНН."
    )
    address = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ProfileUpdateSerializer(serializers.Serializer[Any]):
    """Input of ``PATCH /api/customers/me/``: any subset of the profile; the service checks the rest."""

    email = serializers.EmailField(required=False, max_length=254)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    phone = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="Any notation; stored as E.164."
    )
    customer_type = serializers.ChoiceField(required=False, choices=CustomerType.choices)
    company_name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    inn = serializers.CharField(required=False, allow_blank=True, max_length=12)
    kpp = serializers.CharField(required=False, allow_blank=True, max_length=9)
    address = serializers.CharField(required=False, allow_blank=True, max_length=500)


class RegisteredSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    customer = CustomerSerializer()


class TokenRequestSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
