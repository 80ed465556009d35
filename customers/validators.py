"""Checks and normalisations of customer data: phones (E.164), ИНН and КПП.

Each function raises ``django.core.exceptions.ValidationError`` with a message a customer can
act on; callers attach it to the field it came from.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError

from customers.models import CustomerType

DEFAULT_PHONE_REGION = "RU"

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
# КПП: tax office code (4 digits), reason code (2 digits or capital Latin letters), number (3 digits).
_KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


def phone_normalize(raw: str, *, region: str = DEFAULT_PHONE_REGION) -> str:
    """The phone in E.164 (``+79991234567``); numbers without a country code are read as Russian,
    so ``8 (999) 123-45-67`` and ``+7 999 123 45 67`` end up the same."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("Неверный номер телефона.", code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Неверный номер телефона.", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    """ИНН of an organisation (10 digits) or of a person/ИП (12 digits), checksum included."""
    if not inn.isdigit() or not inn.isascii():
        return False
    if len(inn) == 10:
        return _check_digit(inn, _INN10_WEIGHTS) == int(inn[9])
    if len(inn) == 12:
        return _check_digit(inn, _INN12_WEIGHTS_11) == int(inn[10]) and _check_digit(inn, _INN12_WEIGHTS_12) == int(
            inn[11]
        )
    return False


def validate_inn(inn: str, *, lengths: tuple[int, ...] = (10, 12)) -> None:
    if len(inn) not in lengths or not inn.isdigit():
        expected = " или ".join(str(n) for n in lengths)
        raise ValidationError(f"ИНН состоит из {expected} цифр.", code="invalid_inn")
    if not inn_is_valid(inn):
        raise ValidationError("Неверный ИНН: не сходится контрольное число.", code="invalid_inn")


def validate_kpp(kpp: str) -> None:
    if not _KPP_RE.match(kpp):
        raise ValidationError(
            "КПП — 9 символов: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры.",
            code="invalid_kpp",
        )


def company_requisites_errors(*, customer_type: str, company_name: str, inn: str, kpp: str) -> dict[str, list[str]]:
    """Field errors of a customer's organisation details (empty when they are fine).

    Company customers need a name and a valid ИНН: 10 digits with a КПП for an organisation, or
    12 digits and no КПП for an individual entrepreneur (ИП). Individuals may give a 12-digit ИНН
    and nothing else."""
    errors: dict[str, list[str]] = {}

    def add(field: str, error: ValidationError | str) -> None:
        messages = error.messages if isinstance(error, ValidationError) else [error]
        errors.setdefault(field, []).extend(messages)

    if customer_type == CustomerType.COMPANY:
        if not company_name:
            add("company_name", "Укажите наименование организации.")
        if not inn:
            add("inn", "Укажите ИНН организации.")
        else:
            try:
                validate_inn(inn)
            except ValidationError as exc:
                add("inn", exc)
        # An organisation (10-digit ИНН) has a КПП; an individual entrepreneur (12 digits) has none.
        if len(inn) == 10 and not kpp:
            add("kpp", "Укажите КПП организации.")
        elif len(inn) == 12 and kpp:
            add("kpp", "У индивидуального предпринимателя нет КПП.")
        if kpp:
            try:
                validate_kpp(kpp)
            except ValidationError as exc:
                add("kpp", exc)
    else:
        if company_name:
            add("company_name", "Наименование организации указывается только для юридических лиц.")
        if kpp:
            add("kpp", "КПП указывается только для юридических лиц.")
        if inn:
            try:
                validate_inn(inn, lengths=(12,))
            except ValidationError as exc:
                add("inn", exc)
    return errors
