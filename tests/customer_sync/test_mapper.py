"""CustomerDataMapper: the site's customer in 1C's terms and back, in both formats."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from commerceml.records import Address, Contact, Counterparty
from customers.models import CustomerType
from exchange.counterparties.mapper import CustomerDataInvalid, CustomerDataMapper
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_individual_goes_with_names_and_no_company_data() -> None:
    customer = UserFactory(first_name="Анна", last_name="Смирнова", phone="+79991234567", inn="500100732259")

    body = CustomerDataMapper().map_platform_to_1c(customer)

    assert isinstance(body, dict)
    assert body == body | {
        "kind": "individual",
        "first_name": "Анна",
        "last_name": "Смирнова",
        "company_name": "",
        "kpp": "",
        "inn": "500100732259",
        "phone": "+79991234567",
        "onec_id": None,
        "site_id": str(customer.pk),
    }
    assert set(body) == {
        "site_id",
        "onec_id",
        "kind",
        "email",
        "phone",
        "first_name",
        "last_name",
        "company_name",
        "inn",
        "kpp",
        "address",
        "updated_at",
    }
    assert body["updated_at"].startswith(str(customer.updated_at.year)) and "+03:00" in body["updated_at"]


def test_a_company_goes_with_name_inn_and_kpp() -> None:
    body = CustomerDataMapper().to_json(UserFactory(company=True))

    assert (body["kind"], body["company_name"], body["inn"], body["kpp"]) == (
        "company",
        'ООО "Ромашка"',
        "7707083893",
        "773601001",
    )


def test_a_phone_in_any_notation_goes_as_e164_and_a_broken_one_as_null(settings: SettingsWrapper) -> None:
    mapper = CustomerDataMapper()
    assert mapper.to_json(UserFactory(phone="8 (999) 123-45-67"))["phone"] == "+79991234567"
    assert mapper.to_json(UserFactory(phone="12"))["phone"] is None
    settings.ONEC_PHONE_REGION = "KZ"
    assert CustomerDataMapper().to_json(UserFactory(phone="8 (727) 250-00-00"))["phone"] == "+77272500000"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"company": True, "inn": "7707083894"}, "контрольное число"),
        ({"company": True, "inn": "770708389"}, "10 или 12 цифр"),
        ({"company": True, "kpp": ""}, "Укажите КПП"),
        ({"company": True, "kpp": "7736-0100"}, "КПП — 9 символов"),
        ({"inn": "500100732250"}, "контрольное число"),
    ],
)
def test_wrong_inn_or_kpp_is_refused_with_a_clear_reason(fields: dict[str, str], reason: str) -> None:
    with pytest.raises(CustomerDataInvalid) as error:
        CustomerDataMapper().map_platform_to_1c(UserFactory(**fields))
    assert reason in error.value.reason
    assert error.value.reason.startswith("Данные покупателя не будут приняты 1С")


def test_commerceml_format_gives_one_kontragent(settings: SettingsWrapper) -> None:
    settings.ONEC_CUSTOMERS_FORMAT = "commerceml"
    company = UserFactory(company=True, address="Москва, Тверская, 1")

    record = CustomerDataMapper().map_platform_to_1c(company)

    assert isinstance(record, Counterparty)
    assert (record.id, record.official_name, record.inn, record.kpp, record.role) == (
        f"site-customer-{company.pk}",
        'ООО "Ромашка"',
        "7707083893",
        "773601001",
        "Покупатель",
    )
    assert record.address == Address(presentation="Москва, Тверская, 1")
    assert Contact("Телефон рабочий", "+79991234567") in record.contacts
    assert ("ИдНаСайте", str(company.pk)) in record.requisites
    person = CustomerDataMapper().to_counterparty(UserFactory(first_name="Анна", last_name="Смирнова", onec_id="c-1"))
    assert (person.id, person.first_name, person.last_name, person.official_name, person.kpp) == (
        "c-1",
        "Анна",
        "Смирнова",
        None,
        None,
    )


def test_a_kontragent_from_the_sample_file_maps_to_a_company() -> None:
    # ТД Уют from cml31-argentcrusade/contractors-example.xml (protocol.md §5.8).
    record = Counterparty(
        id="021e0e3f-e329-11db-95d9-505054503030",
        name="ТД Уют",
        official_name='ТОО "ТД Уют"',
        role="Покупатель",
        inn="181620360057",
        kpp="",
        address=Address(presentation="005897, Алматы, Тохтарова, дом № 18", fields=(("Дом", "18"),)),
        contacts=(Contact("Электронная почта", "Uyt@komp.kz"), Contact("Телефон рабочий", "+7 (3272) 25-39-39")),
    )

    data = CustomerDataMapper().map_1c_to_platform(record)

    assert (data.onec_id, data.customer_type, data.company_name, data.inn) == (
        "021e0e3f-e329-11db-95d9-505054503030",
        CustomerType.COMPANY,
        'ТОО "ТД Уют"',
        "181620360057",
    )
    assert (data.email, data.address) == ("uyt@komp.kz", "005897, Алматы, Тохтарова, дом № 18")
    assert data.phone == "" and "неверный телефон" in data.notes[0]  # an old Almaty number


def test_an_individual_kontragent_with_only_a_full_name_gets_name_parts() -> None:
    data = CustomerDataMapper().map_1c_to_platform(
        Counterparty(id="p-1", name="Петров Пётр Петрович", contacts=(Contact("Почта", "P@Example.com"),))
    )

    assert (data.customer_type, data.last_name, data.first_name, data.email) == (
        CustomerType.INDIVIDUAL,
        "Петров",
        "Пётр",
        "p@example.com",
    )


def test_json_from_1c_maps_with_extra_fields(settings: SettingsWrapper) -> None:
    settings.ONEC_EXTRA_FIELDS = ["last_name:Фамилия"]

    data = CustomerDataMapper().map_1c_to_platform(
        {"onec_id": "c-9", "kind": "individual", "email": "bad email", "phone": "+7 999 123 45 67", "Фамилия": "Ким"}
    )

    assert (data.onec_id, data.email, data.phone, data.extra) == ("c-9", "", "+79991234567", {"last_name": "Ким"})
    assert any("email" in note for note in data.notes)
