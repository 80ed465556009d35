"""1C's order files as a kind of import job (exchange.jobs): the worker applies them.

``mode=import`` of the new scheme (protocol.md §3.4) queues the file in the exchange's sale job
and answers ``progress`` until the worker has applied it, then ``success`` (the orders the site
does not know on the following lines) or ``failure`` with the reason. Unlike the catalog there is
no ``background`` shortcut: 1C hears success only for changes that were applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from commerceml import CommerceMLError, FileKind, detect_file_kind, iter_records
from commerceml.records import Document
from exchange.counterparties.importer import (
    counterparties_file_job_import,
    counterparties_import,
    document_counterparties,
)
from exchange.jobs import FileOutcome, JobKind, JobProgress, job_kind_register
from exchange.models import ExchangeType, ImportFile, ImportSession
from exchange.protocol import SALE_FILE_MALFORMED, SALE_FILE_NOT_ORDERS
from exchange.report import ImportReport
from exchange.sale import applier

ENTITY = "orders"
# What 1C may send back: documents, or a valid document without any (nothing changed).
ORDER_FILE_KINDS = frozenset({FileKind.DOCUMENTS, FileKind.EMPTY})
# Sent in a sale exchange, but another flow's business: the customer sync imports them.
COUNTERPARTIES_KINDS = frozenset({FileKind.CONTRAGENTS})


def describe_sale_file(base_dir: Path, name: str) -> tuple[str, int]:
    """Order files are applied in the order 1C sent them: one rank for all."""
    try:
        return str(detect_file_kind(base_dir / name)), 0
    except (CommerceMLError, OSError):
        return "unreadable", 0


def documents_of(path: Path) -> Iterator[Document]:
    for record in iter_records(path):
        if isinstance(record, Document):
            yield record


def order_file_apply(*, path: Path, name: str, kind: str, report: ImportReport | None = None) -> FileOutcome:
    """Apply one of 1C's order files, all of it or (when it cannot be read) none of it."""
    if kind in COUNTERPARTIES_KINDS:
        return counterparties_file_job_import(
            path=path, name=name, report=report or ImportReport(), source=f"sale: {name}"
        )
    if kind not in ORDER_FILE_KINDS:
        return FileOutcome.failed(SALE_FILE_NOT_ORDERS.format(name=name))
    try:
        applied = applier.documents_apply(documents=documents_of(path))
        # The buyers of these documents are 1C's counterparties: customers learn 1C's data too.
        counterparties_import(records=document_counterparties(documents_of(path)), source=f"sale: {name}")
    except CommerceMLError as exc:
        exc.file = name  # the name 1C knows, not our folder layout
        return FileOutcome.failed(SALE_FILE_MALFORMED.format(name=name, reason=str(exc)[:300]))
    if report is not None:
        counters = report.entity(ENTITY)
        counters.add("updated", len(applied.updated))
        counters.add("unchanged", len(applied.unchanged))
        counters.add("skipped", len(applied.unknown))
        for number, text in applied.warnings:
            report.warning(ENTITY, number, text, file=name)
    return FileOutcome.done(
        f"{name}: заказов изменено {len(applied.updated)}, без изменений {len(applied.unchanged)}, "
        f"не найдено на сайте {len(applied.unknown)}"
    )


class SaleJobImporter:
    """Applies a sale job's files (exchange.jobs.JobImporter)."""

    def __init__(self, *, job: ImportSession, report: ImportReport, progress: JobProgress) -> None:
        self.report = report

    def import_file(self, job: ImportSession, file: ImportFile, progress: JobProgress) -> FileOutcome:
        path = Path(job.base_dir) / file.name
        if not path.is_file():
            return FileOutcome.failed(f"{file.name}: файл не найден")
        return order_file_apply(path=path, name=file.name, kind=file.kind, report=self.report)

    def finish(self, job: ImportSession) -> None:
        pass

    def close(self, job: ImportSession, *, failed: bool) -> None:
        pass

    def closed(self, job: ImportSession) -> None:
        pass


job_kind_register(JobKind(kind=ExchangeType.SALE, describe=describe_sale_file, importer=SaleJobImporter))
