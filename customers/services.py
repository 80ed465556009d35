"""Customer write paths: registration, profile editing and API tokens.

Registration always creates a retail customer: wholesale roles are granted by a manager in the
admin (or come from 1C), never chosen by the customer. The 1C sync fields are left at their
defaults here; the customer sync (exchange.counterparties) owns them and learns about changes
from the ``customer_changed`` signal these services send inside their transaction.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from customers.models import CustomerType, User
from customers.signals import customer_changed
from customers.validators import company_requisites_errors, phone_normalize

EMAIL_TAKEN = "Покупатель с таким email уже зарегистрирован."

# Fields a customer may change in their own profile (``customer_update``).
PROFILE_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "customer_type",
    "company_name",
    "inn",
    "kpp",
    "address",
)


def customer_changes_announce(*, customer: User, fields: frozenset[str] | set[str], created: bool = False) -> None:
    """Tell listeners (the 1C sync) that ``fields`` of ``customer`` changed; call inside the
    transaction that saved them. Used by the services below and by the admin."""
    if fields or created:
        customer_changed.send(sender=User, customer=customer, fields=frozenset(fields), created=created)


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
    address: str = "",
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
        address=address.strip(),
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
            filled = {name for name in PROFILE_FIELDS if getattr(user, name)}
            customer_changes_announce(customer=user, fields=filled, created=True)
    except IntegrityError as exc:
        # Two registrations with one email at once: the unique constraint decides.
        raise ValidationError({"email": [EMAIL_TAKEN]}) from exc
    return user


def customer_update(*, customer: User, **changes: str) -> User:
    """Change the customer's own profile (any of PROFILE_FIELDS); raises ValidationError with
    field errors and then changes nothing. Only fields whose value really changes are saved and
    announced, so sending the same profile twice is not a change."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError({name: ["Это поле нельзя изменить."] for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    values = {name: str(value).strip() for name, value in changes.items()}
    if "email" in values:
        values["email"] = email_normalize(values["email"])
        try:
            validate_email(values["email"])
        except ValidationError as exc:
            errors["email"] = exc.messages
        else:
            if User.objects.filter(email__iexact=values["email"]).exclude(pk=customer.pk).exists():
                errors["email"] = [EMAIL_TAKEN]
    if values.get("phone"):
        try:
            values["phone"] = phone_normalize(values["phone"])
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if "kpp" in values:
        values["kpp"] = values["kpp"].upper()
    if "customer_type" in values and values["customer_type"] not in CustomerType.values:
        errors["customer_type"] = ["Неизвестный тип покупателя."]
    requisites = {name: values.get(name, getattr(customer, name)) for name in ("company_name", "inn", "kpp")}
    if {"customer_type", "company_name", "inn", "kpp"} & set(values):
        customer_type = values.get("customer_type", customer.customer_type)
        errors.update(company_requisites_errors(customer_type=customer_type, **requisites))
    if errors:
        raise ValidationError(errors)

    changed = {name for name, value in values.items() if getattr(customer, name) != value}
    if not changed:
        return customer
    for name in changed:
        setattr(customer, name, values[name])
    try:
        with transaction.atomic():
            customer.save(update_fields=[*sorted(changed), "updated_at"])
            customer_changes_announce(customer=customer, fields=changed)
    except IntegrityError as exc:  # the email was taken by someone else a moment ago
        raise ValidationError({"email": [EMAIL_TAKEN]}) from exc
    return customer


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


SETUP_EMAIL_SUBJECT = "Установите пароль для входа на сайт"
SETUP_EMAIL_BODY = """Здравствуйте{name}!

Для вас создана учётная запись покупателя ({email}). Чтобы входить на сайт, установите пароль по ссылке:

{link}

Если вы не ждали этого письма, просто не отвечайте на него.
"""


def customer_password_setup_send(*, customer: User) -> bool:
    """Email the customer a link to set their password (Django's password-reset confirmation
    page); customers created from 1C have no usable password until they follow it. Returns
    whether an email was sent (not for a customer who has set a password meanwhile)."""
    from django.conf import settings
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    if customer.has_usable_password() or not customer.email or not customer.is_active:
        return False
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(customer.pk)),
            "token": default_token_generator.make_token(customer),
        },
    )
    link = settings.SHOP_SITE_URL.rstrip("/") + path
    name = f", {customer.first_name}" if customer.first_name else ""
    send_mail(
        SETUP_EMAIL_SUBJECT,
        SETUP_EMAIL_BODY.format(name=name, email=customer.email, link=link),
        None,
        [customer.email],
    )
    return True
