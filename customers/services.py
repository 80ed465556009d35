"""Customer write paths: registration and API tokens.

Registration always creates a retail customer: wholesale roles are granted by a manager in the
admin (or come from 1C), never chosen by the customer. The 1C sync fields are left at their
defaults; the customer sync owns them.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from customers.models import CustomerType, User
from customers.validators import company_requisites_errors, phone_normalize

EMAIL_TAKEN = "Покупатель с таким email уже зарегистрирован."


def email_normalize(email: str) -> str:
    """Emails are stored lowercased, so login and uniqueness ignore case on every database."""
    return User.objects.normalize_email(email.strip()).lower()


def customer_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    customer_type: str = CustomerType.INDIVIDUAL,
    company_name: str = "",
    inn: str = "",
    kpp: str = "",
) -> User:
    """Create a retail customer who logs in with ``email``; raises ValidationError with field errors.

    The phone is stored in E.164 (region RU when it has no country code). Company customers need
    a name and a valid ИНН (10 digits with КПП, or 12 digits for an ИП without КПП).
    """
    errors: dict[str, list[str]] = {}
    email = email_normalize(email)
    try:
        validate_email(email)
    except ValidationError as exc:
        errors["email"] = exc.messages
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = [EMAIL_TAKEN]

    normalized_phone = ""
    if phone.strip():
        try:
            normalized_phone = phone_normalize(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages

    if customer_type not in CustomerType.values:
        errors["customer_type"] = ["Неизвестный тип покупателя."]
    company_name, inn, kpp = company_name.strip(), inn.strip(), kpp.strip().upper()
    errors.update(company_requisites_errors(customer_type=customer_type, company_name=company_name, inn=inn, kpp=kpp))

    user = User(
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=normalized_phone,
        customer_type=customer_type,
        company_name=company_name,
        inn=inn,
        kpp=kpp,
    )
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)

    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Two registrations with one email at once: the unique constraint decides.
        raise ValidationError({"email": [EMAIL_TAKEN]}) from exc
    return user


def customer_token_obtain(*, email: str, password: str) -> str:
    """The API token of the customer with these credentials (created on first login)."""
    user = authenticate(email=email_normalize(email), password=password)
    if not isinstance(user, User):
        raise ValidationError("Неверный email или пароль.", code="invalid_credentials")
    return customer_token_get(customer=user)


def customer_token_get(*, customer: User) -> str:
    """The customer's API token, created the first time it is asked for."""
    token, _ = Token.objects.get_or_create(user=customer)
    return token.key
