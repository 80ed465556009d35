"""Контрагенты files 1C sends in a catalog or a sale exchange, and the buyers of the order
documents it sends back, update customers; the same counterparty through every way is one customer."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import QuerySet

from commerceml.records import Address, Contact, Counterparty, Document
from commerceml.writer import open_writer
from customers.models import CustomerType, User
from customers.tasks import send_password_setup_email
from emulator.customers_service import CustomersService
from exchange.conf import customer_sync_settings
from exchange.counterparties.client import CustomersServiceClient
from exchange.counterparties.models import CustomerSyncLog
from exchange.counterparties.runs import import_page
from tests.exchange.conftest import OneC
from tests.importer.conftest import run_queued

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "cml" / "cml31-argentcrusade" / "contractors-example.xml"


@pytest.fixture(autouse=True)
def _emails_sent_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(send_password_setup_email, "delay", lambda pk: send_password_setup_email.run(pk))


@pytest.fixture
def queued_imports(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Catalog import jobs 1C starts are queued, and run when the test says so."""
    from exchange import jobs

    ids: list[int] = []
    monkeypatch.setattr(jobs, "job_enqueue", lambda *, job: ids.append(job.pk))
    return ids


def sale_import(onec: OneC, name: str, queued: list[int]) -> list[str]:
    """1C's mode=import of a file in the sale exchange: progress until the job has run, then the answer."""
    answer = onec.import_file(name)
    if answer.lines[0] == "progress":
        run_queued(queued)
        answer = onec.import_file(name)
    return answer.lines


def customers() -> QuerySet[User]:
    """The shop's customers (the exchange's own login is a user too)."""
    return User.objects.exclude(groups__permissions__codename="exchange_1c").exclude(
        user_permissions__codename="exchange_1c"
    )


def romashka(**changes: object) -> Counterparty:
    values: dict[str, object] = {
        "id": "1c-romashka",
        "name": "Ромашка",
        "official_name": 'ООО "Ромашка"',
        "role": "Покупатель",
        "inn": "7707083893",
        "kpp": "773601001",
        "address": Address(presentation="Москва, Тверская, 1"),
        "contacts": (Contact("Электронная почта", "office@romashka.ru"),),
    }
    values.update(changes)
    return Counterparty(**values)


def contragents_file(*records: Counterparty) -> bytes:
    stream = io.BytesIO()
    with open_writer(stream, version="3.1") as writer:
        for record in records:
            writer.write_counterparty(record)
    return stream.getvalue()


def order_file(buyer: Counterparty) -> bytes:
    document = Document(
        id="999",
        number="999",
        date=dt.date(2026, 12, 1),
        time=None,
        operation="Заказ товара",
        role="Продавец",
        currency="RUB",
        rate=Decimal(1),
        amount=Decimal("100.00"),
        counterparties=(buyer,),
    )
    stream = io.BytesIO()
    with open_writer(stream, version="2.08") as writer:
        writer.write_document(document)
    return stream.getvalue()


def test_a_contragents_file_in_a_catalog_exchange_is_imported_by_the_import_job(
    catalog: OneC, queued_imports: list[int]
) -> None:
    catalog.post_file("contragents___1.xml", SAMPLE.read_bytes())
    assert catalog.import_file("contragents___1.xml").lines[0] == "progress"

    run_queued(queued_imports)
    response = catalog.import_file("contragents___1.xml")

    assert response.lines[0] == "success"
    # Only ТД Уют has an email (the site's login); the other three are reported, not created.
    customer = customers().get()
    assert (customer.onec_id, customer.email, customer.customer_type, customer.inn) == (
        "021e0e3f-e329-11db-95d9-505054503030",
        "uyt@komp.kz",
        CustomerType.COMPANY,
        "181620360057",
    )
    assert customer.created_in_1c and not customer.has_usable_password()
    assert any("нет email" in line for line in response.lines[1:])
    assert CustomerSyncLog.objects.filter(direction="import").count() == 4


def test_a_contragents_file_in_a_sale_exchange_is_applied_and_answered(
    sale_onec: OneC, queued_imports: list[int]
) -> None:
    sale_onec.post_file("contragents___2.xml", contragents_file(romashka(), Counterparty(id="1c-x", name="Без почты")))

    lines = sale_import(sale_onec, "contragents___2.xml", queued_imports)

    assert lines[0] == "success"
    assert any("1c-x" in line and "нет email" in line for line in lines[1:])
    assert customers().get().onec_id == "1c-romashka"


def test_a_broken_contragents_file_is_a_failure_and_creates_nobody(sale_onec: OneC, queued_imports: list[int]) -> None:
    sale_onec.post_file("contragents___3.xml", contragents_file(romashka())[:200])

    lines = sale_import(sale_onec, "contragents___3.xml", queued_imports)

    assert lines[0] == "failure"
    assert customers().count() == 0


def test_the_same_counterparty_through_the_http_import_a_file_and_an_order_is_one_customer(
    onec_service: CustomersService, sale_onec: OneC, queued_imports: list[int]
) -> None:
    onec_service.add_counterparty(
        "1c-romashka",
        kind="company",
        company_name='ООО "Ромашка"',
        inn="7707083893",
        kpp="773601001",
        email="office@romashka.ru",
    )
    with CustomersServiceClient(customer_sync_settings()) as client:
        import_page(client=client, since=None, offset=0, limit=10, source="http")
    sale_onec.post_file("contragents___4.xml", contragents_file(romashka(address=Address("Москва, Арбат, 2"))))
    assert sale_import(sale_onec, "contragents___4.xml", queued_imports)[0] == "success"
    sale_onec.post_file(
        "documents___5.xml", order_file(romashka(name="Ромашка ООО", address=Address("Москва, Арбат, 2")))
    )
    assert sale_import(sale_onec, "documents___5.xml", queued_imports)[0] == "success"

    customer = customers().get()
    assert (customer.onec_id, customer.address) == ("1c-romashka", "Москва, Арбат, 2")
    # The order's buyer changed nothing: not a log row of its own.
    sources = list(CustomerSyncLog.objects.order_by("id").values_list("source", "outcome"))
    assert sources == [("http", "created"), ("sale: contragents___4.xml", "updated")]


def test_a_counterparty_1c_knows_only_by_the_site_id_is_not_taken_for_1c_id(
    sale_onec: OneC, queued_imports: list[int]
) -> None:
    sale_onec.post_file("documents___6.xml", order_file(romashka(id="site-customer-77")))

    assert sale_import(sale_onec, "documents___6.xml", queued_imports)[0] == "success"
    assert customers().count() == 0
    assert CustomerSyncLog.objects.get().outcome == "skipped"


def test_the_sample_file_reads_into_the_expected_counterparties() -> None:
    from exchange.counterparties.importer import counterparties_file_import

    report = counterparties_file_import(path=SAMPLE, source="test")

    assert report.totals == {"created": 1, "skipped": 3}
