"""The order exchange's entry points: one function per ``type=sale`` mode the endpoint calls."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from commerceml import CommerceMLError, FileKind, inspect_file, iter_records
from commerceml.records import Document
from commerceml.writer import WINDOWS_1251
from exchange.conf import exchange_settings
from exchange.counterparties.importer import counterparties_file_import, counterparties_import, document_counterparties
from exchange.models import ExchangeSession
from exchange.protocol import (
    IMPORT_FILE_MISSING,
    SALE_FILE_MALFORMED,
    SALE_FILE_NOT_ORDERS,
    SALE_LEGACY_ARCHIVE,
    Answer,
    ExchangeError,
    failure,
    success,
)
from exchange.sale import applier, bookkeeping, exporter, info
from exchange.services import audit, uploads

logger = logging.getLogger(__name__)

# What ВерсияСхемы says when 1C sent no version at init (the legacy scheme, protocol.md §3.1):
# 2.08, the oldest version with the XSD's namespace that 1C's own modules write.
DEFAULT_SCHEMA_VERSION = "2.08"
ZIP_CONTENT_TYPE = "application/zip"
# What 1C may send back: documents, or a valid document without any (nothing changed).
ORDER_FILE_KINDS = frozenset({FileKind.DOCUMENTS, FileKind.EMPTY})


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """A document for 1C, already kept in the audit log: ``path`` is that copy."""

    path: Path
    content_type: str


def _xml_content_type(encoding: str) -> str:
    return f"application/xml; charset={encoding}"


def _temp_path(folder: Path, suffix: str) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".query-", suffix=suffix, dir=folder)
    os.close(handle)
    return Path(name)


def sale_query(*, session: ExchangeSession, zip_requested: bool = False) -> OutgoingFile:
    """``mode=query``: the orders document (zipped when init agreed zip or 1C asked with
    ``zip=yes``, seed 4.3 AC3), streamed straight into its place in the audit log, which is what
    1C receives; the orders in it are remembered with the session."""
    conf = exchange_settings()
    version = session.protocol_version or DEFAULT_SCHEMA_VERSION
    zipped = conf.zip or zip_requested
    target = audit.audit_outgoing_path(session=session, name="query.zip" if zipped else "query.xml")
    xml_path = _temp_path(conf.data_dir, ".xml") if zipped else target
    try:
        with xml_path.open("wb") as stream:
            result = exporter.orders_export(
                stream=stream,
                version=version,
                encoding=conf.orders_encoding,
                resend_changed=conf.orders_resend_changed,
            )
        if zipped:
            exporter.zip_single_file(source=xml_path, target=target)
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise
    finally:
        if zipped:
            with contextlib.suppress(OSError):
                xml_path.unlink()
    bookkeeping.orders_hand_out(session=session, result=result)
    return OutgoingFile(
        path=target, content_type=ZIP_CONTENT_TYPE if zipped else _xml_content_type(conf.orders_encoding)
    )


def sale_info(*, session: ExchangeSession) -> OutgoingFile:
    """``mode=info``: statuses, payment systems and delivery services for 1C's mapping."""
    copy = audit.audit_outgoing_file(session=session, name="info.xml", content=[info.sale_info_document()])
    return OutgoingFile(path=copy, content_type=_xml_content_type(WINDOWS_1251))


def sale_success(*, session: ExchangeSession) -> Answer:
    """``mode=success``: 1C stored the orders of this session's query; mark exactly those."""
    confirmation = bookkeeping.orders_confirm(session=session)
    if confirmation.warning is not None:
        return success(confirmation.warning)
    return success()


def _documents(path: Path) -> Iterator[Document]:
    for record in iter_records(path):
        if isinstance(record, Document):
            yield record


def sale_file_apply(*, path: Path, name: str) -> Answer:
    """Apply one of 1C's order files: all of it or, when it cannot be read, none of it."""
    shown = uploads.shown_name(name)
    try:
        kind = inspect_file(path).kind
        if kind == FileKind.CONTRAGENTS:
            return _counterparties_file_apply(path=path, name=name)
        if kind not in ORDER_FILE_KINDS:
            return failure(SALE_FILE_NOT_ORDERS.format(name=shown))
        report = applier.documents_apply(documents=_documents(path))
        # The buyers of these documents are 1C's counterparties: customers learn 1C's data too.
        counterparties_import(records=document_counterparties(_documents(path)), source=f"sale: {shown}")
    except CommerceMLError as exc:
        logger.warning("order file %s not applied: %s", name, exc)
        return failure(SALE_FILE_MALFORMED.format(name=shown, reason=str(exc)[:300]))
    logger.info(
        "order file %s: %d updated, %d unchanged, %d unknown",
        name,
        len(report.updated),
        len(report.unchanged),
        len(report.unknown),
    )
    return success(*report.warnings)


def _counterparties_file_apply(*, path: Path, name: str) -> Answer:
    """A Контрагенты file in the sale exchange (protocol.md §3.4, §5.8): customers created or
    updated by the customer sync; skipped counterparties are listed after success."""
    report = counterparties_file_import(path=path, source=f"sale: {uploads.shown_name(name)}")
    logger.info("counterparties file %s: %s", name, report.summary())
    return success(f"Контрагенты: {report.summary()}", *report.problem_lines()[:20])


def sale_file_received(*, session: ExchangeSession, filename: str) -> Answer:
    """A part of an order file arrived (already appended under the session's upload folder).

    Legacy scheme (init without ``version``): the upload itself is processed, as Bitrix, WC, MR
    and OC do (protocol.md §3.4). New scheme: stored only; ``mode=import`` applies it."""
    if session.protocol_version:
        return success()
    if filename.lower().endswith(".zip"):
        return failure(SALE_LEGACY_ARCHIVE.format(name=uploads.shown_name(filename)))
    path = uploads.uploaded_file_path(session=session, name=filename)
    if path is None:
        raise ExchangeError(IMPORT_FILE_MISSING.format(name=uploads.shown_name(filename)))
    return sale_file_apply(path=path, name=filename)


def sale_import_step(*, session: ExchangeSession, filename: str) -> Answer:
    """``mode=import`` for an order file (new scheme, protocol.md §3.4), after the endpoint has
    unpacked archives: the file is applied within this request (order files are small: one
    document per changed order) and the answer is success with warnings, or failure."""
    path = uploads.uploaded_file_path(session=session, name=filename)
    if path is None:
        raise ExchangeError(IMPORT_FILE_MISSING.format(name=uploads.shown_name(filename)))
    return sale_file_apply(path=path, name=filename)
