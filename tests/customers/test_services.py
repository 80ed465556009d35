"""Registration and token login."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token

from customers.models import CustomerType, SyncStatus, User
from customers.roles import CustomerRole
from customers.services import customer_register, customer_token_obtain
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def register(**overrides: str) -> User:
    data = {"email": "Ivan@Example.COM", "password": PASSWORD, "phone": "8 999 123-45-67"} | overrides
    return customer_register(**data)


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def test_registered_customer_logs_in_by_lowercased_email_with_e164_phone_at_retail() -> None:
    user = register(first_name=" Иван ")

    user.refresh_from_db()
    assert user.email == "ivan@example.com"
    assert user.phone == "+79991234567"
    assert user.first_name == "Иван"
    assert user.role == CustomerRole.RETAIL
    assert user.customer_type == CustomerType.INDIVIDUAL
    assert user.check_password(PASSWORD)
    # 1C has not heard of the customer yet; the registration waits for export.
    assert (user.onec_id, user.sync_status, user.needs_1c_export) == (None, SyncStatus.PENDING, True)


def test_email_already_registered_in_another_case_is_refused() -> None:
    UserFactory(email="ivan@example.com")

    with pytest.raises(ValidationError) as exc:
        register(email="IVAN@example.com")

    assert "email" in errors_of(exc)
    assert User.objects.count() == 1


def test_all_field_problems_are_reported_at_once_and_nothing_is_saved() -> None:
    with pytest.raises(ValidationError) as exc:
        register(email="not-an-email", password="123", phone="12")

    assert set(errors_of(exc)) == {"email", "password", "phone"}
    assert not User.objects.exists()


def test_company_customer_with_inn_and_kpp_is_registered() -> None:
    user = register(customer_type="company", company_name='ООО "Ромашка"', inn="7707083893", kpp="773601001")

    assert (user.customer_type, user.inn, user.kpp) == (CustomerType.COMPANY, "7707083893", "773601001")
    assert user.display_name == 'ООО "Ромашка"'


def test_individual_entrepreneur_registers_as_company_with_12_digit_inn_and_no_kpp() -> None:
    user = register(customer_type="company", company_name="ИП Петров", inn="500100732259")

    assert user.kpp == ""


def test_company_without_name_inn_and_kpp_gets_an_error_for_each() -> None:
    with pytest.raises(ValidationError) as exc:
        register(customer_type="company")

    assert set(errors_of(exc)) == {"company_name", "inn"}


@pytest.mark.parametrize(
    ("inn", "kpp", "field"),
    [
        ("7707083894", "773601001", "inn"),  # wrong check digit
        ("7707083893", "", "kpp"),  # an organisation has a КПП
        ("7707083893", "77360100", "kpp"),
        ("500100732259", "773601001", "kpp"),  # an ИП has none
    ],
)
def test_company_requisites_are_checked(inn: str, kpp: str, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        register(customer_type="company", company_name="ООО", inn=inn, kpp=kpp)

    assert field in errors_of(exc)


def test_individual_cannot_give_company_requisites() -> None:
    with pytest.raises(ValidationError) as exc:
        register(company_name="ООО", inn="7707083893", kpp="773601001")

    assert set(errors_of(exc)) == {"company_name", "inn", "kpp"}


def test_unknown_customer_type_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        register(customer_type="alien")

    assert "customer_type" in errors_of(exc)


def test_token_is_issued_once_and_found_again_with_any_email_case() -> None:
    user = UserFactory(email="ivan@example.com")

    first = customer_token_obtain(email="ivan@example.com", password=PASSWORD)
    second = customer_token_obtain(email=" IVAN@example.com ", password=PASSWORD)

    assert first == second == Token.objects.get(user=user).key


@pytest.mark.parametrize(("email", "password"), [("ivan@example.com", "wrong"), ("nobody@example.com", PASSWORD)])
def test_wrong_credentials_get_no_token(email: str, password: str) -> None:
    UserFactory(email="ivan@example.com")

    with pytest.raises(ValidationError):
        customer_token_obtain(email=email, password=password)
    assert not Token.objects.exists()


def test_deactivated_customer_gets_no_token() -> None:
    UserFactory(email="ivan@example.com", is_active=False)

    with pytest.raises(ValidationError):
        customer_token_obtain(email="ivan@example.com", password=PASSWORD)
