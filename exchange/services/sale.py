"""Order exchange behind ``type=sale`` ``mode=query|success|file|import``.

PLACEHOLDER until the order exchange lands: ``query`` hands out no orders, ``success`` records
the confirmation, uploaded order files are kept (the endpoint already stored them) and reported
as accepted. The endpoint calls exactly these four functions; their signatures are the contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from django.utils import timezone

from exchange.models import ExchangeSession
from exchange.protocol import Answer, success

# What ВерсияСхемы says when 1C sent no version at init.
DEFAULT_SCHEMA_VERSION = "2.08"
# 1C (УТ/УНФ) fails to parse orders XML in UTF-8 without a BOM, so it gets one (protocol.md §3.2).
UTF8_BOM = b"\xef\xbb\xbf"
XML_CONTENT_TYPE = "application/xml; charset=utf-8"


def _empty_document(session: ExchangeSession) -> Iterator[bytes]:
    version = session.protocol_version or DEFAULT_SCHEMA_VERSION
    formed = timezone.localtime().strftime("%Y-%m-%dT%H:%M:%S")
    yield UTF8_BOM
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<КоммерческаяИнформация ВерсияСхемы="{version}" ДатаФормирования="{formed}"/>\n'
    ).encode()


def sale_query(*, session: ExchangeSession) -> tuple[Path | Iterable[bytes], str]:
    """``mode=query``: the orders document for 1C, as a file or a stream of bytes, and its
    Content-Type. The endpoint keeps an audit copy and sends exactly that copy."""
    now = timezone.now()
    ExchangeSession.objects.filter(pk=session.pk).update(query_sent_at=now)
    session.query_sent_at = now
    return _empty_document(session), XML_CONTENT_TYPE


def sale_success(*, session: ExchangeSession) -> Answer:
    """``mode=success``: 1C stored the orders handed out by the last query of this session."""
    now = timezone.now()
    ExchangeSession.objects.filter(pk=session.pk).update(query_confirmed_at=now)
    session.query_confirmed_at = now
    return success()


def sale_file_received(*, session: ExchangeSession, filename: str) -> Answer:
    """A part of an order file arrived (already appended under the session's upload folder).
    In the legacy scheme (init without ``version``) processing happens here (protocol.md §3.4)."""
    return success()


def sale_import_step(*, session: ExchangeSession, filename: str) -> Answer:
    """``mode=import`` for an order file (new scheme, protocol.md §3.4): progress or success."""
    return success()
