"""The CommerceML body of the customer export (ONEC_CUSTOMERS_FORMAT=commerceml): a
КоммерческаяИнформация holding one Контрагент, written by commerceml's writer."""

from __future__ import annotations

import io

from commerceml.records import Counterparty
from commerceml.writer import write_counterparty

# A root-level Контрагенты is a CommerceML 3.x object (protocol.md §5.8); 1C's XDTO package for
# 3.1 reads it. UTF-8 with a BOM, as everything the site writes for 1C.
COUNTERPARTY_SCHEMA_VERSION = "3.1"


def counterparty_document(record: Counterparty) -> bytes:
    stream = io.BytesIO()
    write_counterparty(stream, record, version=COUNTERPARTY_SCHEMA_VERSION)
    return stream.getvalue()
