"""1C -> site: counterparties from 1C's HTTP service and from Контрагенты files become customers.

Matching, in this order, and never creating a second customer for one counterparty:
1. the 1C Ид (``onec_id``);
2. ИНН + КПП (a customer not yet linked to another Ид);
3. email;
4. phone (E.164).
A counterparty matched by 2-4 is linked to the customer (its Ид stored). A counterparty that
matches nobody becomes a new customer with ``created_in_1c=True``; it needs an email (the
site's login), so one without any is skipped and reported.

Conflicts (each one logged on the CustomerSyncLog row and in the log):
* company data (type, name, ИНН, КПП) and the price tier: 1C wins;
* contact fields (names, email, phone, address) the customer changed on the site after 1C last
  accepted the customer (CustomerSyncState.unsynced_fields): the site wins, and the pending export
  sends the site's value to 1C;
* an email 1C sends that belongs to another customer is not applied.
An empty value from 1C never erases a value on the site.

The price tier: the counterparty's price type (``price_type_id``, or the Контрагент requisite
named by ONEC_PRICE_TYPE_REQUISITE) sets the customer's role through the price type's role
mapping (catalog.PriceType.customer_role), so the API prices the customer at once.

A customer created here has no usable password: they cannot log in until they set one through
the link of the password-setup email, sent by a Celery task after the import commits.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import FieldDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalog.models import PriceType
from commerceml import CommerceMLError, iter_records
from commerceml.records import Counterparty, Document, InvalidElement
from customers.models import SyncStatus, User
from exchange.counterparties.mapper import (
    COMPANY_FIELDS,
    CONTACT_FIELDS,
    SITE_ID_PREFIX,
    CustomerData,
    CustomerDataMapper,
)
from exchange.counterparties.models import CustomerSyncLog, CustomerSyncState, SyncDirection, SyncOutcome
from exchange.jobs import FileOutcome
from exchange.report import ImportReport

logger = logging.getLogger(__name__)

REPORT_ENTITY = "counterparties"  # in an import job's report (exchange.report)
NO_ID = "нет Ид контрагента в 1С"
NO_EMAIL = "нет email: покупатель входит на сайт по email, создать его нельзя"
DELETED = "помечен на удаление в 1С"
EMAIL_OWNED = "email {email} принадлежит другому покупателю ({other}): не изменён"
SITE_WINS = "{field}: оставлено значение сайта {site!r}, 1С прислала {onec!r} (изменено на сайте после выгрузки)"
ONEC_WINS = "{field}: принято значение 1С {onec!r} вместо {site!r}, изменённого на сайте"
PRICE_TYPE_UNKNOWN = "тип цен {id} не найден или не сопоставлен роли: роль не изменена"
SEVERAL_MATCH = "по {by} подходят несколько покупателей, выбран первый ({email})"


@dataclass
class ApplyResult:
    outcome: str  # SyncOutcome value
    customer: User | None
    matched_by: str = ""
    conflicts: list[str] = field(default_factory=list)
    error: str = ""


def _first(queryset: QuerySet[User], by: str, conflicts: list[str]) -> User | None:
    found = list(queryset.select_for_update().order_by("pk")[:2])
    if len(found) > 1:
        conflicts.append(SEVERAL_MATCH.format(by=by, email=found[0].email))
    return found[0] if found else None


def customer_match(data: CustomerData, conflicts: list[str]) -> tuple[User | None, str]:
    """The customer this counterparty is (locked for update), and by what it was found."""
    customer = User.objects.select_for_update().filter(onec_id=data.onec_id).first()
    if customer is not None:
        return customer, "onec_id"
    unlinked = User.objects.filter(onec_id__isnull=True)
    if data.inn:
        customer = _first(unlinked.filter(inn=data.inn, kpp=data.kpp), "ИНН и КПП", conflicts)
        if customer is not None:
            return customer, "inn_kpp"
    if data.email:
        customer = _first(unlinked.filter(email__iexact=data.email), "email", conflicts)
        if customer is not None:
            return customer, "email"
    if data.phone:
        customer = _first(unlinked.filter(phone=data.phone), "телефон", conflicts)
        if customer is not None:
            return customer, "phone"
    return None, ""


def _role_for(price_type_id: str | None, conflicts: list[str]) -> str | None:
    if not price_type_id:
        return None
    role = PriceType.objects.filter(onec_id=price_type_id).values_list("customer_role", flat=True).first()
    if not role:
        conflicts.append(PRICE_TYPE_UNKNOWN.format(id=price_type_id))
        return None
    return role


def _is_plain_field(name: str) -> bool:
    """An ONEC_EXTRA_FIELDS target 1C may write: a stored, editable, non-relation field."""
    try:
        model_field = User._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return bool(model_field.concrete and model_field.editable and not model_field.is_relation)


def _create(data: CustomerData, role: str | None, now: dt.datetime) -> User:
    customer = User(
        email=data.email,
        onec_id=data.onec_id,
        created_in_1c=True,
        needs_1c_export=False,
        sync_status=SyncStatus.SYNCED,
        last_sync_at=now,
        **{name: data.value(name) for name in (*CONTACT_FIELDS, *COMPANY_FIELDS) if name != "email"},
    )
    if role:
        customer.role = role
    for name, value in data.extra.items():
        if _is_plain_field(name):
            setattr(customer, name, value)
    customer.set_unusable_password()  # logs in only after setting a password (module docstring)
    customer.save()
    return customer


def _update(customer: User, data: CustomerData, role: str | None, conflicts: list[str]) -> list[str]:
    state = CustomerSyncState.objects.filter(pk=customer.pk).first()
    edited_on_site = set(state.unsynced_fields) if state is not None and customer.needs_1c_export else set()
    changed = []
    for name in COMPANY_FIELDS:
        onec_value, site_value = data.value(name), getattr(customer, name)
        if (name != "customer_type" and not onec_value) or onec_value == site_value:
            continue
        if name in edited_on_site:
            conflicts.append(ONEC_WINS.format(field=name, onec=onec_value, site=site_value))
        setattr(customer, name, onec_value)
        changed.append(name)
    for name in CONTACT_FIELDS:
        onec_value, site_value = data.value(name), getattr(customer, name)
        if not onec_value or onec_value == site_value:
            continue
        if name in edited_on_site:
            conflicts.append(SITE_WINS.format(field=name, site=site_value, onec=onec_value))
            continue
        if name == "email":
            owner = User.objects.filter(email__iexact=onec_value).exclude(pk=customer.pk).first()
            if owner is not None:
                conflicts.append(EMAIL_OWNED.format(email=onec_value, other=owner.pk))
                continue
        setattr(customer, name, onec_value)
        changed.append(name)
    if role and role != customer.role:
        customer.role = role
        changed.append("role")
    for name, value in data.extra.items():
        if _is_plain_field(name) and str(getattr(customer, name)) != value:
            setattr(customer, name, value)
            changed.append(name)
    if customer.onec_id is None:
        customer.onec_id = data.onec_id
        changed.append("onec_id")
    return changed


def counterparty_apply(*, data: CustomerData, source: str) -> ApplyResult:
    """Create or update the customer for one counterparty from 1C and log the operation.

    A counterparty that changed nothing and raised nothing is not logged: full Контрагенты files
    and a service that ignores ``changed_since`` repeat every counterparty every time, and the log
    would fill with rows that say nothing."""
    started = time.monotonic()
    result = _apply(data)
    if result.conflicts:
        logger.info("counterparty %s (%s): %s", data.onec_id, source, "; ".join(result.conflicts))
    if result.outcome == SyncOutcome.UNCHANGED and not (result.conflicts or data.notes):
        return result
    CustomerSyncLog.objects.create(
        direction=SyncDirection.IMPORT,
        customer=result.customer,
        onec_id=data.onec_id[:255],
        outcome=result.outcome,
        error=result.error,
        conflicts=[*data.notes, *result.conflicts],
        source=source,
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    return result


def _apply(data: CustomerData, *, again: bool = True) -> ApplyResult:
    if not data.onec_id or data.onec_id.startswith(SITE_ID_PREFIX):
        return ApplyResult(SyncOutcome.SKIPPED, None, error=NO_ID)
    if data.deleted:
        return ApplyResult(SyncOutcome.SKIPPED, None, error=DELETED)
    conflicts: list[str] = []
    now = timezone.now()
    try:
        with transaction.atomic():
            customer, matched_by = customer_match(data, conflicts)
            role = _role_for(data.price_type_id, conflicts)
            if customer is None:
                if not data.email:
                    return ApplyResult(SyncOutcome.SKIPPED, None, conflicts=conflicts, error=NO_EMAIL)
                customer = _create(data, role, now)
                pk = customer.pk
                from customers.tasks import send_password_setup_email

                transaction.on_commit(lambda: send_password_setup_email.delay(pk))
                return ApplyResult(SyncOutcome.CREATED, customer, "", conflicts)
            changed = _update(customer, data, role, conflicts)
            customer.last_sync_at = now
            if not customer.needs_1c_export:
                customer.sync_status = SyncStatus.SYNCED
            customer.save(update_fields=[*changed, "last_sync_at", "sync_status", "updated_at"])
            outcome = SyncOutcome.UPDATED if changed else SyncOutcome.UNCHANGED
            return ApplyResult(outcome, customer, matched_by, conflicts)
    except IntegrityError:
        # Someone created or linked the same counterparty (or took its email) at this moment:
        # matching again finds it.
        if again:
            return _apply(data, again=False)
        return ApplyResult(SyncOutcome.SKIPPED, None, conflicts=conflicts, error="конфликт уникальности при записи")


def counterparties_import(*, records: Iterable[Counterparty], source: str) -> dict[str, int]:
    """Apply Контрагент records (a Контрагенты file, the counterparties of order documents 1C
    sends back); totals per outcome."""
    return counterparties_import_report(records=records, source=source).totals


@dataclass
class CounterpartiesReport:
    totals: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[str | None, str]] = field(default_factory=list)  # (Ид, reason) of skipped elements

    def problem_lines(self) -> list[str]:
        return [f"{onec_id or '—'}: {reason}" for onec_id, reason in self.problems]

    def summary(self) -> str:
        labels = dict(SyncOutcome.choices)
        return ", ".join(f"{labels.get(k, k).lower()}: {v}" for k, v in sorted(self.totals.items())) or "нет"


def counterparties_import_report(
    *, records: Iterable[Counterparty | InvalidElement], source: str
) -> CounterpartiesReport:
    mapper = CustomerDataMapper()
    report = CounterpartiesReport()
    for record in records:
        if isinstance(record, InvalidElement):
            report.totals[SyncOutcome.SKIPPED] = report.totals.get(SyncOutcome.SKIPPED, 0) + 1
            report.problems.append((record.id, record.reason))
            continue
        result = counterparty_apply(data=mapper.map_1c_to_platform(record), source=source)
        report.totals[result.outcome] = report.totals.get(result.outcome, 0) + 1
        if result.error:
            report.problems.append((record.id, result.error))
    return report


def counterparties_file_import(*, path: Path, source: str) -> CounterpartiesReport:
    """A 3.1 Контрагенты file (contragents___*.xml, protocol.md §5.8) from a catalog or sale
    exchange. A Контрагент the reader cannot use is skipped and reported; broken XML raises
    CommerceMLError (what came before it is kept: each counterparty is its own transaction)."""

    def records() -> Iterator[Counterparty | InvalidElement]:
        for record in iter_records(path, on_invalid="yield"):
            if isinstance(record, Counterparty | InvalidElement):
                yield record

    return counterparties_import_report(records=records(), source=source)


def counterparties_file_job_import(*, path: Path, name: str, report: ImportReport, source: str) -> FileOutcome:
    """A Контрагенты file as one file of an import job (a catalog or a sale exchange's): counts
    and skipped counterparties go into the job's report, broken XML fails the file."""
    try:
        result = counterparties_file_import(path=path, source=source)
    except CommerceMLError as exc:
        exc.file = name  # the name 1C knows, not our folder layout
        return FileOutcome.failed(str(exc))
    counters = report.entity(REPORT_ENTITY)
    for outcome, count in result.totals.items():
        counters.add(outcome, count)
    for onec_id, reason in result.problems:
        report.warning(REPORT_ENTITY, onec_id, reason, file=name)
    return FileOutcome.done(f"{name}: контрагенты — {result.summary()}")


def document_counterparties(documents: Iterable[Document]) -> Iterator[Counterparty]:
    """The buyers of order documents 1C sends back (protocol.md §5.7), for counterparties_import."""
    for document in documents:
        for counterparty in document.counterparties:
            if (counterparty.role or "Покупатель") == "Покупатель":
                yield counterparty
