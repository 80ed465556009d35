"""CustomerDataMapper: a site customer <-> 1C's view of it, in both formats of the contract.

Site -> 1C: ``map_platform_to_1c`` gives the JSON object of the contract (docs/1c-setup.ru.md,
README "Customer sync") or, with ONEC_CUSTOMERS_FORMAT=commerceml, a ``commerceml.records.
Counterparty`` for the writer. Before anything is sent the data is checked: a wrong ИНН or КПП
raises ``CustomerDataInvalid``, which the export treats as a permanent failure (1C would refuse it
every time, retrying cannot help).

1C -> site: ``map_1c_to_platform`` takes one JSON object of the import answer or one Контрагент
record (from a Контрагенты file or an order document) and gives ``CustomerData``: field values in
the site's terms, phones in E.164, emails lowercased. 1C is not second-guessed here (an ИНН it
sends is taken as it is); matching and conflicts are the importer's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from commerceml.records import Address, Contact, Counterparty
from customers.models import CustomerType, User
from customers.validators import company_requisites_errors, phone_normalize
from exchange.conf import CustomerSyncSettings, customer_sync_settings
from exchange.protocol import CUSTOMER_DATA_INVALID
from exchange.sale.documents import customer_counterparty_id

# Контакт types 1C writes (protocol.md §5.6: Bitrix's old and new spellings).
EMAIL_CONTACT_KINDS = frozenset({"почта", "электронная почта", "email", "e-mail"})
EMAIL_CONTACT_KIND = "Электронная почта"
PHONE_CONTACT_KIND = "Телефон рабочий"
COUNTERPARTY_ROLE = "Покупатель"
# Ид the site writes for counterparties 1C does not know yet (exchange.sale.documents:
# "site-customer-<id>", "site-guest-<number>"); 1C may echo them back, but they are not 1C's.
SITE_ID_PREFIX = "site-"

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "address")
COMPANY_FIELDS = ("customer_type", "company_name", "inn", "kpp")


class CustomerDataInvalid(Exception):
    """The customer's data cannot go to 1C as it is; ``reason`` says why, in Russian."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CustomerData:
    """One counterparty from 1C in the site's terms; empty strings mean "1C sent nothing"."""

    onec_id: str
    customer_type: str
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    inn: str = ""
    kpp: str = ""
    address: str = ""
    price_type_id: str | None = None
    deleted: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # values 1C sent that could not be used (a bad phone, ...)

    def value(self, name: str) -> str:
        return str(getattr(self, name))


def site_id(customer: User) -> str:
    """The customer's stable identifier in the contract: the primary key, never reused."""
    return str(customer.pk)


class CustomerDataMapper:
    def __init__(self, conf: CustomerSyncSettings | None = None) -> None:
        self.conf = conf or customer_sync_settings()

    # --- site -> 1C ----------------------------------------------------------------------
    def validate(self, customer: User) -> None:
        """Raise CustomerDataInvalid when 1C would refuse the customer (ИНН/КПП checksums)."""
        errors = company_requisites_errors(
            customer_type=customer.customer_type,
            company_name=customer.company_name,
            inn=customer.inn,
            kpp=customer.kpp,
        )
        if errors:
            labels = {"company_name": "Наименование", "inn": f"ИНН {customer.inn}", "kpp": f"КПП {customer.kpp}"}
            details = "; ".join(f"{labels.get(name, name)}: {' '.join(messages)}" for name, messages in errors.items())
            raise CustomerDataInvalid(CUSTOMER_DATA_INVALID.format(details=details))

    def phone_e164(self, raw: str) -> str | None:
        if not raw.strip():
            return None
        try:
            return phone_normalize(raw, region=self.conf.phone_region)
        except ValidationError:
            return None

    def _extra_values(self, customer: User) -> dict[str, str]:
        values = {}
        for site_field, onec_name in self.conf.extra_fields:
            value = getattr(customer, site_field, None)
            if value is not None:
                values[onec_name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return values

    def to_json(self, customer: User) -> dict[str, Any]:
        self.validate(customer)
        is_company = customer.customer_type == CustomerType.COMPANY
        body: dict[str, Any] = {
            "site_id": site_id(customer),
            "onec_id": customer.onec_id or None,
            "kind": "company" if is_company else "individual",
            "email": customer.email,
            "phone": self.phone_e164(customer.phone),
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "company_name": customer.company_name if is_company else "",
            "inn": customer.inn,
            "kpp": customer.kpp if is_company else "",
            "address": customer.address,
            "updated_at": timezone.localtime(customer.updated_at).isoformat(),
        }
        for name, value in self._extra_values(customer).items():
            body.setdefault(name, value)
        return body

    def to_counterparty(self, customer: User) -> Counterparty:
        """The customer as one Контрагент (protocol.md §5.6/§5.8): a company with its official
        name, ИНН and КПП; an individual with the name parts."""
        self.validate(customer)
        is_company = customer.customer_type == CustomerType.COMPANY
        full_name = customer.get_full_name() or customer.email
        contacts = [Contact(kind=EMAIL_CONTACT_KIND, value=customer.email)]
        phone = self.phone_e164(customer.phone)
        if phone:
            contacts.append(Contact(kind=PHONE_CONTACT_KIND, value=phone))
        requisites = tuple(self._extra_values(customer).items())
        return Counterparty(
            id=customer_counterparty_id(customer_id=customer.pk, onec_id=customer.onec_id),
            name=customer.company_name if is_company else full_name,
            role=COUNTERPARTY_ROLE,
            full_name=customer.company_name if is_company else full_name,
            official_name=customer.company_name if is_company else None,
            last_name=None if is_company else customer.last_name or None,
            first_name=None if is_company else customer.first_name or None,
            inn=customer.inn or None,
            kpp=(customer.kpp or None) if is_company else None,
            address=Address(presentation=customer.address) if customer.address else None,
            contacts=tuple(contacts),
            requisites=(("ИдНаСайте", site_id(customer)), *requisites),
        )

    def map_platform_to_1c(self, customer: User) -> dict[str, Any] | Counterparty:
        """What is sent to 1C for ``customer`` in the configured format."""
        if self.conf.format == "commerceml":
            return self.to_counterparty(customer)
        return self.to_json(customer)

    # --- 1C -> site ----------------------------------------------------------------------
    def _email(self, raw: str | None, notes: list[str]) -> str:
        email = User.objects.normalize_email((raw or "").strip()).lower()
        if not email:
            return ""
        try:
            validate_email(email)
        except ValidationError:
            notes.append(f"неверный email {raw!r}")
            return ""
        return email

    def _phone(self, raw: str | None, notes: list[str]) -> str:
        if not raw or not raw.strip():
            return ""
        phone = self.phone_e164(raw)
        if phone is None:
            notes.append(f"неверный телефон {raw!r}")
            return ""
        return phone

    def _extra_from(self, values: Mapping[str, Any]) -> dict[str, str]:
        return {
            site_field: str(values[onec_name])
            for site_field, onec_name in self.conf.extra_fields
            if values.get(onec_name) not in (None, "")
        }

    def from_json(self, item: Mapping[str, Any]) -> CustomerData:
        notes: list[str] = []
        onec_id = str(item.get("onec_id") or "").strip()
        is_company = item.get("kind") == "company"
        price_type = item.get("price_type_id")

        def text(name: str) -> str:
            value = item.get(name)
            return "" if value is None else str(value).strip()

        return CustomerData(
            onec_id=onec_id,
            customer_type=CustomerType.COMPANY if is_company else CustomerType.INDIVIDUAL,
            email=self._email(text("email"), notes),
            phone=self._phone(text("phone"), notes),
            first_name=text("first_name"),
            last_name=text("last_name"),
            company_name=text("company_name") if is_company else "",
            inn=text("inn"),
            kpp=text("kpp").upper() if is_company else "",
            address=text("address"),
            price_type_id=str(price_type).strip() or None if price_type is not None else None,
            deleted=bool(item.get("deleted", False)),
            extra=self._extra_from(item),
            notes=tuple(notes),
        )

    def from_counterparty(self, record: Counterparty) -> CustomerData:
        notes: list[str] = []
        requisites = dict(record.requisites)
        is_company = bool(record.official_name or record.kpp)
        email = phone = ""
        for contact in record.contacts:
            kind = contact.kind.strip().lower()
            if kind in EMAIL_CONTACT_KINDS and not email:
                email = self._email(contact.value, notes)
            elif "телефон" in kind and not phone:
                phone = self._phone(contact.value, notes)
        first_name, last_name = (record.first_name or "").strip(), (record.last_name or "").strip()
        if not is_company and not (first_name or last_name):
            # 1C wrote only the whole name: "Фамилия Имя [Отчество]".
            parts = (record.full_name or record.name or "").split()
            last_name, first_name = (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")
        price_type = (requisites.get(self.conf.price_type_requisite) or "").strip() or None
        return CustomerData(
            onec_id=(record.id or "").strip(),
            customer_type=CustomerType.COMPANY if is_company else CustomerType.INDIVIDUAL,
            email=email,
            phone=phone,
            first_name=first_name,
            last_name=last_name,
            company_name=(record.official_name or record.name or "").strip() if is_company else "",
            inn=(record.inn or "").strip(),
            kpp=(record.kpp or "").strip().upper() if is_company else "",
            address=(record.address.presentation or "").strip() if record.address else "",
            price_type_id=price_type,
            deleted=record.deleted,
            extra=self._extra_from(requisites),
            notes=tuple(notes),
        )

    def map_1c_to_platform(self, data: Mapping[str, Any] | Counterparty) -> CustomerData:
        """One counterparty from 1C (an import-answer object or a Контрагент record)."""
        if isinstance(data, Counterparty):
            return self.from_counterparty(data)
        return self.from_json(data)
