"""1C -> site: the HTTP import and Контрагент records create or update customers: matching,
conflicts, the price tier, and customers created from 1C setting their password."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks
from pytest_django.fixtures import Settings as SettingsWrapper

from commerceml.records import Address, Contact, Counterparty
from customers.models import CustomerType, SyncStatus, User
from customers.roles import CustomerRole
from customers.services import customer_token_obtain, customer_update
from customers.tasks import send_password_setup_email
from emulator.customers_service import CustomersService
from exchange.conf import customer_sync_settings
from exchange.counterparties.client import CustomersServiceClient
from exchange.counterparties.export import customer_export_attempt, customer_mark_for_export
from exchange.counterparties.importer import counterparties_import
from exchange.counterparties.models import CustomerSyncLog
from exchange.counterparties.runs import import_page
from tests.api.helpers import json_of, logged_in
from tests.factories import PASSWORD, PriceTypeFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

ROMASHKA = {
    "kind": "company",
    "company_name": 'ООО "Ромашка"',
    "inn": "7707083893",
    "kpp": "773601001",
    "email": "Office@Romashka.ru",
    "phone": "8 (495) 123-45-67",
    "first_name": "",
    "last_name": "",
    "address": "Москва, Тверская, 1",
}


@pytest.fixture(autouse=True)
def _emails_sent_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The password-setup task runs in place (its queueing is the worker tests' business)."""
    monkeypatch.setattr(send_password_setup_email, "delay", lambda pk: send_password_setup_email.run(pk))


def import_all(service: CustomersService) -> dict[str, int]:
    totals: dict[str, int] = {}
    with CustomersServiceClient(customer_sync_settings()) as client:
        offset, more = 0, True
        while more:
            report, more = import_page(client=client, since=None, offset=offset, limit=2, source="test")
            offset += report.processed
            for outcome, count in report.outcomes.items():
                totals[outcome] = totals.get(outcome, 0) + count
    return totals


def romashka_record(onec_id: str, **changes: Any) -> Counterparty:
    values: dict[str, Any] = {
        "id": onec_id,
        "name": "Ромашка ООО",
        "official_name": 'ООО "Ромашка"',
        "role": "Покупатель",
        "inn": "7707083893",
        "kpp": "773601001",
        "address": Address(presentation="Москва, Тверская, 1"),
        "contacts": (
            Contact(kind="Электронная почта", value="office@romashka.ru"),
            Contact(kind="Телефон рабочий", value="+7 (495) 123-45-67"),
        ),
    }
    values.update(changes)
    return Counterparty(**values)


def test_import_creates_a_customer_from_1c_who_must_set_a_password(
    onec_service: CustomersService, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    onec_id = onec_service.add_counterparty(**ROMASHKA)

    with django_capture_on_commit_callbacks(execute=True):
        assert import_all(onec_service) == {"created": 1}

    customer = User.objects.get(onec_id=onec_id)
    assert (customer.email, customer.phone, customer.customer_type) == (
        "office@romashka.ru",
        "+74951234567",
        CustomerType.COMPANY,
    )
    assert (customer.company_name, customer.inn, customer.kpp, customer.address) == (
        'ООО "Ромашка"',
        "7707083893",
        "773601001",
        "Москва, Тверская, 1",
    )
    assert (customer.created_in_1c, customer.needs_1c_export, customer.sync_status) == (True, False, SyncStatus.SYNCED)
    # No password yet: logging in is impossible until the emailed link is followed.
    assert not customer.has_usable_password()
    with pytest.raises(Exception, match="Неверный email или пароль"):
        customer_token_obtain(email="office@romashka.ru", password="")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["office@romashka.ru"]
    link = re.search(r"http://\S+/accounts/reset/\S+/", mail.outbox[0].body)
    assert link is not None

    client = Client()
    form_page = client.get(link.group(0).replace("http://localhost:8000", ""), follow=True)
    assert form_page.status_code == 200
    new_password = "Ромашка-2026-пароль"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    assert customer_token_obtain(email="office@romashka.ru", password=new_password)


def test_the_same_counterparty_through_the_http_import_a_file_and_an_order_is_one_customer(
    onec_service: CustomersService,
) -> None:
    onec_id = onec_service.add_counterparty(**ROMASHKA)
    import_all(onec_service)

    file_totals = counterparties_import(records=[romashka_record(onec_id)], source="contragents-file")
    # And once more inside an order document 1C sends back, under a shorter name.
    order_totals = counterparties_import(records=[romashka_record(onec_id, name="Ромашка")], source="order")

    assert file_totals == {"unchanged": 1} and order_totals == {"unchanged": 1}
    assert User.objects.filter(inn="7707083893").count() == 1


@pytest.mark.parametrize(
    ("site_customer", "record_changes", "matched_by"),
    [
        ({"company": True}, {}, "inn_kpp"),
        ({"email": "office@romashka.ru"}, {"inn": None, "kpp": None}, "email"),
        (
            {"phone": "+74951234567"},
            {"inn": None, "kpp": None, "contacts": (Contact("Телефон", "84951234567"),)},
            "phone",
        ),
    ],
    ids=["inn-kpp", "email", "phone"],
)
def test_a_registered_customer_is_matched_and_linked_not_duplicated(
    site_customer: dict[str, Any], record_changes: dict[str, Any], matched_by: str
) -> None:
    customer = UserFactory(**site_customer)

    totals = counterparties_import(records=[romashka_record("1c-romashka", **record_changes)], source="file")

    assert sum(totals.values()) == 1 and "created" not in totals
    assert User.objects.count() == 1
    customer.refresh_from_db()
    assert customer.onec_id == "1c-romashka"
    assert customer.created_in_1c is False  # registered on the site
    log = CustomerSyncLog.objects.get()
    assert (log.direction, log.customer_id, log.onec_id) == ("import", customer.pk, "1c-romashka")
    assert (matched_by == "inn_kpp") == (customer.inn == "7707083893")


def test_the_1c_id_wins_over_inn_email_and_phone() -> None:
    linked = UserFactory(onec_id="1c-romashka", email="old@romashka.ru", phone="+79990000000")
    UserFactory(company=True, email="office@romashka.ru", phone="+74951234567")  # same ИНН, email, phone

    counterparties_import(records=[romashka_record("1c-romashka")], source="file")

    linked.refresh_from_db()
    assert (linked.inn, linked.email) == ("7707083893", "old@romashka.ru")  # the email is someone else's
    log = CustomerSyncLog.objects.get()
    assert any("office@romashka.ru" in conflict for conflict in log.conflicts)
    assert User.objects.count() == 2


def test_a_counterparty_without_email_that_matches_nobody_is_skipped_and_reported() -> None:
    totals = counterparties_import(records=[Counterparty(id="1c-x", name="Уют", official_name="Уют")], source="file")

    assert totals == {"skipped": 1}
    assert User.objects.count() == 0
    assert "нет email" in CustomerSyncLog.objects.get().error


def test_site_wins_for_contact_fields_edited_after_the_last_sync_1c_wins_for_company_data(
    onec_service: CustomersService,
) -> None:
    customer = UserFactory(company=True, email="office@romashka.ru")
    customer_mark_for_export(customer=customer, created=True)
    customer_export_attempt(customer_id=customer.pk)
    customer.refresh_from_db()
    # The customer edits the phone and the company name on the site; 1C has not heard yet.
    customer_update(customer=customer, phone="+79120001122", company_name='ООО "Ромашка и К"')
    # Meanwhile in 1C: another phone, the official name, a new address.
    onec_service.add_counterparty(
        customer.onec_id,
        **{**ROMASHKA, "phone": "+74950000000", "company_name": 'ООО "Ромашка-Опт"', "address": "Москва, Арбат, 2"},
    )

    import_all(onec_service)

    customer.refresh_from_db()
    assert customer.phone == "+79120001122"  # the site's recent edit stands
    assert customer.company_name == 'ООО "Ромашка-Опт"'  # company data: 1C decides
    assert customer.address == "Москва, Арбат, 2"  # not edited on the site: 1C's value
    conflicts = CustomerSyncLog.objects.filter(direction="import").get().conflicts
    assert any(c.startswith("phone: оставлено значение сайта") for c in conflicts)
    assert any(c.startswith("company_name: принято значение 1С") for c in conflicts)
    assert customer.needs_1c_export  # the site's phone still goes to 1C


def test_after_a_successful_export_1c_wins_for_contact_fields_too(onec_service: CustomersService) -> None:
    customer = UserFactory(email="office@romashka.ru")
    customer_mark_for_export(customer=customer, created=True)
    customer_export_attempt(customer_id=customer.pk)
    customer.refresh_from_db()
    onec_service.add_counterparty(customer.onec_id, **{**ROMASHKA, "kind": "individual", "phone": "+74950000000"})

    import_all(onec_service)

    customer.refresh_from_db()
    assert customer.phone == "+74950000000"
    assert CustomerSyncLog.objects.filter(direction="import").get().conflicts == []


def test_price_type_from_1c_sets_the_role_and_the_api_prices_follow_at_once(onec_service: CustomersService) -> None:
    PriceTypeFactory(retail=True)
    PriceTypeFactory(onec_id="pt-opt", customer_role=CustomerRole.WHOLESALE_1)
    product = ProductFactory(sellable__price=Decimal("100.00"))
    product.variants.get().prices.filter(price_type__onec_id="pt-opt").update(value=Decimal("80.00"))
    customer = UserFactory(email="office@romashka.ru", onec_id="1c-romashka")
    api = logged_in(customer)
    assert json_of(api.get(f"/api/products/{product.pk}/"))["price"] == "100.00"

    onec_service.add_counterparty("1c-romashka", **ROMASHKA, price_type_id="pt-opt")
    import_all(onec_service)

    customer.refresh_from_db()
    assert customer.role == CustomerRole.WHOLESALE_1
    assert json_of(api.get(f"/api/products/{product.pk}/"))["price"] == "80.00"


def test_an_unknown_price_type_leaves_the_role_and_is_reported(onec_service: CustomersService) -> None:
    customer = UserFactory(email="office@romashka.ru", onec_id="1c-romashka", role=CustomerRole.WHOLESALE_2)
    onec_service.add_counterparty("1c-romashka", **ROMASHKA, price_type_id="pt-nobody-knows")

    import_all(onec_service)

    customer.refresh_from_db()
    assert customer.role == CustomerRole.WHOLESALE_2
    assert "pt-nobody-knows" in CustomerSyncLog.objects.get().conflicts[0]


def test_price_type_requisite_of_a_kontragent_sets_the_role(settings: SettingsWrapper) -> None:
    settings.ONEC_PRICE_TYPE_REQUISITE = "ВидЦены"
    PriceTypeFactory(onec_id="pt-2", customer_role=CustomerRole.WHOLESALE_2)

    counterparties_import(records=[romashka_record("1c-r", requisites=(("ВидЦены", "pt-2"),))], source="file")

    assert User.objects.get(onec_id="1c-r").role == CustomerRole.WHOLESALE_2


def test_import_changes_do_not_mark_the_customer_for_export(onec_service: CustomersService) -> None:
    customer = UserFactory(email="office@romashka.ru", onec_id="1c-romashka", sync_status=SyncStatus.SYNCED)
    onec_service.add_counterparty("1c-romashka", **ROMASHKA)

    import_all(onec_service)

    customer.refresh_from_db()
    assert (customer.inn, customer.needs_1c_export, customer.sync_status) == ("7707083893", False, SyncStatus.SYNCED)


def test_import_pages_through_changed_since(onec_service: CustomersService) -> None:
    import datetime as dt

    first = onec_service.add_counterparty(**{**ROMASHKA, "email": "a@example.com", "inn": "", "kpp": ""})
    middle = dt.datetime.now(dt.UTC)
    second = onec_service.add_counterparty(**{**ROMASHKA, "email": "b@example.com", "inn": "", "kpp": ""})

    with CustomersServiceClient(customer_sync_settings()) as client:
        page = client.fetch_page(changed_since=middle, offset=0, limit=10)

    assert [item["onec_id"] for item in page.customers] == [second]
    assert first not in {item["onec_id"] for item in page.customers}


def test_a_bad_import_answer_is_an_error_not_a_change(
    onec_service: CustomersService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exchange.counterparties.client import ImportPageError

    monkeypatch.setattr(onec_service, "handle_get", lambda query: (200, {"clients": []}))
    with CustomersServiceClient(customer_sync_settings()) as client, pytest.raises(ImportPageError) as error:
        client.fetch_page(changed_since=None, offset=0, limit=10)
    assert "не по контракту" in error.value.reason
    assert User.objects.count() == 0


def test_password_setup_email_is_not_sent_to_a_customer_with_a_password() -> None:
    customer = UserFactory(created_in_1c=True)

    assert send_password_setup_email.run(customer.pk) is False
    assert mail.outbox == []
    assert PASSWORD


def test_a_counterparty_sent_again_unchanged_is_not_logged_again(onec_service: CustomersService) -> None:
    onec_service.add_counterparty(**ROMASHKA)

    assert import_all(onec_service) == {"created": 1}
    assert import_all(onec_service) == {"unchanged": 1}

    assert CustomerSyncLog.objects.filter(direction="import").count() == 1


def test_the_scheduled_import_asks_from_shortly_before_the_last_one_started(onec_service: CustomersService) -> None:
    from exchange.counterparties.models import CustomerSyncRun
    from exchange.counterparties.runs import IMPORT_OVERLAP, last_import_since
    from exchange.tasks import import_customers_from_1c

    assert last_import_since() is None
    assert import_customers_from_1c.run() == "done: 0"
    first = CustomerSyncRun.objects.get()

    assert last_import_since() == first.started_at - IMPORT_OVERLAP
    import_customers_from_1c.run()
    assert CustomerSyncRun.objects.order_by("-id").first().since == first.started_at - IMPORT_OVERLAP  # type: ignore[union-attr]
