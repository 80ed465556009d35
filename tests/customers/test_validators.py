"""Phones become E.164; ИНН and КПП are checked the way the tax service defines them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from customers.validators import inn_is_valid, phone_normalize, validate_inn, validate_kpp

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS = ((7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))


def with_check_digits(base: str) -> str:
    """A valid ИНН from its first 9 (organisation) or 10 (person) digits."""
    weights_list = (INN10_WEIGHTS,) if len(base) == 9 else INN12_WEIGHTS
    for weights in weights_list:
        base += str(sum(int(d) * w for d, w in zip(base, weights, strict=False)) % 11 % 10)
    return base


@pytest.mark.parametrize(
    "raw",
    ["+7 999 123-45-67", "8 (999) 123-45-67", "9991234567", "+79991234567", "7 999 1234567"],
)
def test_russian_phones_in_any_usual_notation_become_e164(raw: str) -> None:
    assert phone_normalize(raw) == "+79991234567"


def test_foreign_phone_with_country_code_is_kept() -> None:
    assert phone_normalize("+49 30 901820") == "+4930901820"


@pytest.mark.parametrize("raw", ["12", "not a phone", "+7 999", "8 800 555 35 35 35 35"])
def test_invalid_phones_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        phone_normalize(raw)


def test_known_real_inns_are_valid() -> None:
    assert inn_is_valid("7707083893")  # an organisation
    assert inn_is_valid("500100732259")  # a person


@given(
    st.text(alphabet="0123456789", min_size=9, max_size=9) | st.text(alphabet="0123456789", min_size=10, max_size=10)
)
def test_an_inn_with_correct_check_digits_is_valid_and_a_changed_last_digit_is_not(base: str) -> None:
    inn = with_check_digits(base)
    assert inn_is_valid(inn)
    wrong = inn[:-1] + str((int(inn[-1]) + 1) % 10)
    assert not inn_is_valid(wrong)


@pytest.mark.parametrize("inn", ["770708389", "77070838931", "77O7083893", "７７０７０８３８９３", ""])
def test_inn_of_wrong_length_or_with_non_digits_is_refused(inn: str) -> None:
    with pytest.raises(ValidationError):
        validate_inn(inn)


def test_inn_length_can_be_restricted() -> None:
    with pytest.raises(ValidationError, match="12"):
        validate_inn("7707083893", lengths=(12,))


@pytest.mark.parametrize("kpp", ["773601001", "7736AB001", "500101001"])
def test_valid_kpp(kpp: str) -> None:
    validate_kpp(kpp)


@pytest.mark.parametrize("kpp", ["77360100", "7736010011", "7736ab001", "A73601001", ""])
def test_invalid_kpp_is_refused(kpp: str) -> None:
    with pytest.raises(ValidationError):
        validate_kpp(kpp)
