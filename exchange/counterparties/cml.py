"""The CommerceML body of the customer export (ONEC_CUSTOMERS_FORMAT=commerceml): a
КоммерческаяИнформация holding one Контрагент, written by commerceml's writer."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from commerceml.records import Counterparty


def counterparty_document(record: Counterparty) -> bytes:
    raise ImproperlyConfigured("ONEC_CUSTOMERS_FORMAT=commerceml needs the CommerceML writer (not merged yet)")
