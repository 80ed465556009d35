"""The order exchange's entry points: one function per ``type=sale`` mode the endpoint calls."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from commerceml.writer import WINDOWS_1251
from exchange.conf import exchange_settings
from exchange.jobs import FileOutcome, JobWaiting, job_file_answer, job_queue_file
from exchange.models import ExchangeSession, ExchangeType, ImportFile
from exchange.protocol import (
    IMPORT_FILE_MISSING,
    SALE_IMPORT_DONE,
    SALE_IMPORT_SKIPPED,
    SALE_LEGACY_ARCHIVE,
    Answer,
    ExchangeError,
    failure,
    progress,
    success,
)
from exchange.report import ImportReport
from exchange.sale import bookkeeping, exporter, importer, info
from exchange.services import audit, uploads

logger = logging.getLogger(__name__)

# What ВерсияСхемы says when 1C sent no version at init (the legacy scheme, protocol.md §3.1):
# 2.08, the oldest version with the XSD's namespace that 1C's own modules write.
DEFAULT_SCHEMA_VERSION = "2.08"
ZIP_CONTENT_TYPE = "application/zip"


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


def _outcome_answer(outcome: FileOutcome, report: ImportReport) -> Answer:
    if outcome.status == ImportFile.Status.FAILED:
        return failure(outcome.error)
    if outcome.status == ImportFile.Status.SKIPPED:
        return success(SALE_IMPORT_SKIPPED)
    return success(*(str(issue["reason"]) for issue in report.issues))


def sale_file_received(*, session: ExchangeSession, filename: str) -> Answer:
    """A part of an order file arrived (already appended under the session's upload folder).

    Legacy scheme (init without ``version``): the upload itself is processed, as Bitrix, WC, MR
    and OC do (protocol.md §3.4), within this request: 1C reads the outcome from this answer.
    New scheme: stored only; ``mode=import`` applies it through the job engine."""
    if session.protocol_version:
        return success()
    if filename.lower().endswith(".zip"):
        return failure(SALE_LEGACY_ARCHIVE.format(name=uploads.shown_name(filename)))
    path = uploads.uploaded_file_path(session=session, name=filename)
    if path is None:
        raise ExchangeError(IMPORT_FILE_MISSING.format(name=uploads.shown_name(filename)))
    shown = uploads.shown_name(filename)
    kind, _ = importer.describe_sale_file(path.parent, path.name)
    report = ImportReport()
    outcome = importer.order_file_apply(path=path, name=shown, kind=kind, report=report)
    return _outcome_answer(outcome, report)


def sale_import_step(*, session: ExchangeSession, filename: str) -> Answer:
    """``mode=import`` for an order file (new scheme, protocol.md §3.4), after the endpoint has
    unpacked archives: the file joins this exchange's sale job, and 1C hears ``progress`` until
    the worker has applied it, then ``success`` (orders the site does not know on the following
    lines) or ``failure`` with the reason. Always waited for, whatever EXCHANGE_IMPORT_MODE says:
    1C never hears success for order changes that were not applied."""
    try:
        file = job_queue_file(
            kind=ExchangeType.SALE,
            session=session,
            filename=filename,
            base_dir=uploads.session_upload_dir(session),
            initial_files=lambda: [filename],
        )
    except JobWaiting as waiting:
        return progress(waiting.stage)
    return job_file_answer(file, done_text=SALE_IMPORT_DONE, skipped_text=SALE_IMPORT_SKIPPED)
