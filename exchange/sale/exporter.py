"""``mode=query``: every due order into one CommerceML document, streamed into a file.

Orders are read in chunks (``selectors.order_rows``), turned into records one at a time
(``documents.order_document``) and handed to the writer, which writes each Документ out before the
next is built: memory holds one chunk of rows, never the document. An order that cannot be written
is left out and reported, never blocking the others.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.utils import timezone

from commerceml.writer import open_writer
from exchange.sale.documents import OrderNotExportable, order_document
from exchange.sale.selectors import order_rows, orders_due_for_export

XML_ENTRY_NAME = "orders.xml"  # the one file inside a zipped answer


@dataclass(slots=True)
class ExportResult:
    """What went into the document: (order id, the order's updated_at when written)."""

    handed: list[tuple[int, dt.datetime]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def orders_export(*, stream: IO[bytes], version: str, encoding: str, resend_changed: bool) -> ExportResult:
    """Write the orders document for 1C into ``stream``."""
    result = ExportResult()
    generated_at = timezone.localtime().replace(tzinfo=None)
    with open_writer(stream, version=version, encoding=encoding, generated_at=generated_at) as writer:
        for chunk in order_rows(orders=orders_due_for_export(resend_changed=resend_changed)):
            for row in chunk:
                try:
                    document = order_document(row)
                except OrderNotExportable as exc:
                    result.skipped.append((row.pk, exc.reason))
                    continue
                writer.write_document(document)
                result.handed.append((row.pk, row.updated_at))
    return result


def zip_single_file(*, source: Path, target: Path, entry_name: str = XML_ENTRY_NAME) -> None:
    """``target`` becomes an archive holding ``source`` as its only entry (streamed, deflated)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.write(source, arcname=entry_name)
