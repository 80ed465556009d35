"""The order exchange's entry points: one function per ``type=sale`` mode the endpoint calls."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from exchange.conf import exchange_settings
from exchange.models import ExchangeSession
from exchange.protocol import Answer, success
from exchange.sale import bookkeeping, exporter
from exchange.services import audit

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
    ``zip=yes``, seed 4.3 AC3), streamed into a temporary file, copied into the audit log (the
    copy is what 1C receives), and the orders in it remembered with the session."""
    conf = exchange_settings()
    version = session.protocol_version or DEFAULT_SCHEMA_VERSION
    xml_path = _temp_path(conf.data_dir, ".xml")
    zip_path: Path | None = None
    try:
        with xml_path.open("wb") as stream:
            result = exporter.orders_export(
                stream=stream,
                version=version,
                encoding=conf.orders_encoding,
                resend_changed=conf.orders_resend_changed,
            )
        if conf.zip or zip_requested:
            zip_path = _temp_path(conf.data_dir, ".zip")
            exporter.zip_single_file(source=xml_path, target=zip_path)
            copy = audit.audit_outgoing_file(session=session, name="query.zip", content=zip_path)
            content_type = ZIP_CONTENT_TYPE
        else:
            copy = audit.audit_outgoing_file(session=session, name="query.xml", content=xml_path)
            content_type = _xml_content_type(conf.orders_encoding)
    finally:
        for path in (xml_path, zip_path):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()
    bookkeeping.orders_hand_out(session=session, result=result)
    return OutgoingFile(path=copy, content_type=content_type)


def sale_success(*, session: ExchangeSession) -> Answer:
    """``mode=success``: 1C stored the orders of this session's query; mark exactly those."""
    confirmation = bookkeeping.orders_confirm(session=session)
    if confirmation.warning is not None:
        return success(confirmation.warning)
    return success()


def sale_file_received(*, session: ExchangeSession, filename: str) -> Answer:
    """A part of an order file arrived (already appended under the session's upload folder).
    In the legacy scheme (init without ``version``) processing happens here (protocol.md §3.4)."""
    return success()


def sale_import_step(*, session: ExchangeSession, filename: str) -> Answer:
    """``mode=import`` for an order file (new scheme, protocol.md §3.4): progress or success."""
    return success()
