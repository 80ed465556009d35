"""The "Обмен с сайтом" endpoint: parse the request, find the session, call one service, answer.

Every answer is HTTP 200 ``text/plain`` in the protocol's form (protocol.md §1.4, §1.5) — also
for refused credentials and for errors nobody expected, which answer ``failure`` with a reference
to the server log instead of a 500 page. Every request leaves an ExchangeRequestLog row.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from config.http import client_address
from exchange.auth import AuthFailed, basic_credentials, exchange_authenticate
from exchange.catalog import service as catalog_import
from exchange.conf import exchange_settings
from exchange.models import ExchangeSession, ExchangeType
from exchange.protocol import (
    FILE_NEEDS_POST,
    FILENAME_MISSING,
    IMPORT_FILE_MISSING,
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    UNKNOWN_MODE,
    UNKNOWN_TYPE,
    Answer,
    ExchangeError,
    ParametersAnswer,
    failure,
    success,
)
from exchange.sale import service as sale
from exchange.services import audit, sessions, uploads
from observability.events import ExchangeFileReceived, ExchangeRequestHandled, emit
from observability.logs import bind_exchange_session

logger = logging.getLogger(__name__)

# Protocol answers are UTF-8 without a BOM. 1C decodes a reply by the charset of its Content-Type
# and tolerates both UTF-8 (with or without BOM) and windows-1251 (protocol.md §1.4: WC, MR, TIM
# all work in production); UTF-8 keeps every Russian message and file name representable, where
# windows-1251 would have to replace characters it lacks.
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class FileReply:
    """A document sent to 1C as the whole body (``mode=query``)."""

    path: Path
    content_type: str


Reply = Answer | ParametersAnswer | FileReply


@dataclass
class _Exchange:
    """What one request carries, and what the audit row needs to know about it."""

    request: HttpRequest
    params: dict[str, str]
    exchange_type: str
    mode: str
    remote_addr: str | None
    user: Any = None
    username: str = ""
    session: ExchangeSession | None = None
    new_session: bool = False
    body: uploads.BodyReader | None = None
    auth_failed: bool = False
    error_ref: str = ""
    secrets_to_mask: list[str] = field(default_factory=list)

    def require_session(self) -> ExchangeSession:
        assert self.session is not None
        return self.session


# --- request parsing ------------------------------------------------------------------------


def _decode_component(raw: bytes) -> str:
    data = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251")  # old 1C sends windows-1251 file names


def parse_query_string(query_string: str) -> dict[str, str]:
    """The query parameters as 1C means them.

    1C builds later URLs as ``…&mode=x`` + ``"&" + <checkauth line 4>`` (protocol.md §1.1, §1.3),
    so empty pieces (``&&``, a trailing ``&``) are skipped and a piece without ``=`` is a key with
    an empty value. Values are percent-decoded as UTF-8, or windows-1251 when they are not valid
    UTF-8. A repeated key keeps its last value, as PHP's ``$_GET`` does.
    """
    # WSGI hands the query string over as latin-1 characters standing for the raw bytes.
    try:
        raw = query_string.encode("latin-1")
    except UnicodeEncodeError:
        raw = query_string.encode("utf-8")
    params: dict[str, str] = {}
    for piece in raw.split(b"&"):
        if not piece.strip():
            continue
        key, _, value = piece.partition(b"=")
        name = _decode_component(key).strip()
        if name:
            params[name] = _decode_component(value)
    return params


def _body_reader(request: HttpRequest) -> uploads.BodyReader:
    """The raw body of ``mode=file``, never parsed by Django and never read whole."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if not length and "chunked" in str(request.META.get("HTTP_TRANSFER_ENCODING", "")).lower():
        # Django reads no body without Content-Length; the server already decodes the chunks.
        return uploads.BodyReader(request.META["wsgi.input"], None)
    if length > 0:
        fast = uploads.GunicornSocketBodyReader.for_environ(request.META, length)
        if fast is not None:
            return fast
    return uploads.BodyReader(request, max(length, 0))


def _filename(exchange: _Exchange) -> str:
    raw = exchange.params.get("filename", "")
    if not raw.strip():
        raise uploads.UploadError(FILENAME_MISSING)
    return uploads.normalise_filename(raw)


# --- modes ----------------------------------------------------------------------------------


def _checkauth(exchange: _Exchange) -> Reply:
    credentials = basic_credentials(exchange.request.META)
    exchange.username = credentials.username if credentials else ""
    try:
        user = exchange_authenticate(
            request=exchange.request, credentials=credentials, remote_addr=exchange.remote_addr
        )
    except AuthFailed:
        exchange.auth_failed = True
        raise
    exchange.user = user
    exchange.session = sessions.session_start(
        user=user, exchange_type=exchange.exchange_type, remote_addr=exchange.remote_addr
    )
    exchange.new_session = True
    bind_exchange_session(exchange.session.pk)
    return sessions.checkauth_answer(session=exchange.session)


def _init(exchange: _Exchange) -> Reply:
    return sessions.session_init(session=exchange.require_session(), version=exchange.params.get("version") or None)


def _file(exchange: _Exchange) -> Reply:
    if exchange.request.method != "POST":
        raise uploads.UploadError(FILE_NEEDS_POST)
    exchange.body = _body_reader(exchange.request)
    name = _filename(exchange)
    session = exchange.require_session()
    uploads.upload_append(session=session, name=name, body=exchange.body)
    if session.exchange_type == ExchangeType.SALE:
        return sale.sale_file_received(session=session, filename=name)
    return success()


def _ready_to_import(exchange: _Exchange) -> tuple[Answer | None, str]:
    """Unpack archives first (answering progress while that runs), then check the file is there."""
    session = exchange.require_session()
    unpacking = uploads.archives_unpack_step(session=session)
    if unpacking is not None:
        return unpacking, ""
    name = _filename(exchange)
    if uploads.uploaded_file_path(session=session, name=name) is None:
        raise ExchangeError(IMPORT_FILE_MISSING.format(name=uploads.shown_name(name)))
    return None, name


def _catalog_import(exchange: _Exchange) -> Reply:
    unpacking, name = _ready_to_import(exchange)
    if unpacking is not None:
        return unpacking
    return catalog_import.catalog_import_step(session=exchange.require_session(), filename=name)


def _catalog_deactivate(exchange: _Exchange) -> Reply:
    return catalog_import.catalog_deactivate(session=exchange.require_session(), params=dict(exchange.params))


def _catalog_complete(exchange: _Exchange) -> Reply:
    session = exchange.require_session()
    answer = catalog_import.catalog_complete(session=session)
    if answer.status == "success":  # complete is the last call of a catalog exchange
        sessions.session_complete(session=session)
    return answer


def _sale_query(exchange: _Exchange) -> Reply:
    zip_requested = exchange.params.get("zip", "").strip().lower() == "yes"
    document = sale.sale_query(session=exchange.require_session(), zip_requested=zip_requested)
    return FileReply(path=document.path, content_type=document.content_type)


def _sale_info(exchange: _Exchange) -> Reply:
    document = sale.sale_info(session=exchange.require_session())
    return FileReply(path=document.path, content_type=document.content_type)


def _sale_success(exchange: _Exchange) -> Reply:
    return sale.sale_success(session=exchange.require_session())


def _sale_import(exchange: _Exchange) -> Reply:
    unpacking, name = _ready_to_import(exchange)
    if unpacking is not None:
        return unpacking
    return sale.sale_import_step(session=exchange.require_session(), filename=name)


Handler = Callable[[_Exchange], Reply]

MODES: dict[str, dict[str, Handler]] = {
    ExchangeType.CATALOG: {
        "init": _init,
        "file": _file,
        "import": _catalog_import,
        "deactivate": _catalog_deactivate,
        "complete": _catalog_complete,
    },
    ExchangeType.SALE: {
        "init": _init,
        "query": _sale_query,
        "info": _sale_info,
        "success": _sale_success,
        "file": _file,
        "import": _sale_import,
    },
}


def _dispatch(exchange: _Exchange) -> Reply:
    request = exchange.request
    if request.method not in {"GET", "POST"}:
        return failure(METHOD_NOT_ALLOWED.format(method=str(request.method)[:16]))
    modes = MODES.get(exchange.exchange_type)
    if modes is None:
        return failure(UNKNOWN_TYPE)
    if exchange.mode == "checkauth":
        return _checkauth(exchange)
    credentials = basic_credentials(request.META)
    exchange.session = sessions.session_resolve(
        exchange_type=exchange.exchange_type,
        cookie_value=request.COOKIES.get(exchange_settings().cookie_name),
        sessid=exchange.params.get("sessid"),
        claimed_username=credentials.username if credentials else None,
        touch=exchange.mode != "file",  # an upload touches the session with its own update
    )
    bind_exchange_session(exchange.session.pk)
    exchange.user = exchange.session.user
    exchange.username = exchange.session.user.get_username()
    handler = modes.get(exchange.mode)
    if handler is None:
        return failure(UNKNOWN_MODE)
    return handler(exchange)


# --- rendering ------------------------------------------------------------------------------


def _no_store(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"  # what Bitrix sends; for old proxies
    return response


def _render(exchange: _Exchange, reply: Reply) -> tuple[HttpResponseBase, str, int]:
    """The response, the text for the audit log, and the bytes sent."""
    if isinstance(reply, FileReply):
        size = reply.path.stat().st_size
        response = FileResponse(reply.path.open("rb"), content_type=reply.content_type)
        return _no_store(response), f"<{size} bytes: logs/{reply.path.relative_to(audit.logs_dir()).as_posix()}>", size
    text = reply.render()
    body = text.encode("utf-8")
    text_response = HttpResponse(body, content_type=TEXT_CONTENT_TYPE)
    if exchange.new_session and exchange.session is not None:
        # 1C itself sends the cookie named in lines 2-3 (protocol.md §1.3); Set-Cookie is for
        # clients that rely on it instead.
        text_response.set_cookie(
            exchange_settings().cookie_name,
            exchange.session.key,
            httponly=True,
            secure=exchange.request.is_secure(),
            samesite="Lax",
        )
    return _no_store(text_response), text, len(body)


def _internal_error(exchange: _Exchange) -> Answer:
    """``failure`` with a reference; the traceback goes only to the server log, under that
    reference, so nothing of the code or the server's paths reaches 1C."""
    exchange.error_ref = secrets.token_hex(6)
    logger.exception(
        "exchange request failed, ref %s (type=%s mode=%s session=%s)",
        exchange.error_ref,
        exchange.exchange_type,
        exchange.mode,
        exchange.session.pk if exchange.session else None,
    )
    return failure(INTERNAL_ERROR.format(ref=exchange.error_ref))


def _masked(text: str, exchange: _Exchange) -> str:
    if exchange.session is not None:
        for secret in (exchange.session.key, exchange.session.csrf_token):
            text = text.replace(secret, audit.MASK)
    return text


@csrf_exempt
def exchange_endpoint(request: HttpRequest) -> HttpResponseBase:
    started = time.monotonic()
    params = parse_query_string(str(request.META.get("QUERY_STRING", "")))
    exchange = _Exchange(
        request=request,
        params=params,
        exchange_type=params.get("type", ""),
        mode=params.get("mode", ""),
        remote_addr=client_address(request),
    )
    reply: Reply = failure(INTERNAL_ERROR.format(ref=""))
    logged_text, bytes_out = "", 0
    try:
        try:
            reply = _dispatch(exchange)
        except ExchangeError as exc:
            reply = exc.answer()
        except Exception:
            reply = _internal_error(exchange)
        finally:
            if exchange.body is not None:
                exchange.body.drain()
        try:
            response, logged_text, bytes_out = _render(exchange, reply)
        except Exception:
            reply = _internal_error(exchange)
            response, logged_text, bytes_out = _render(exchange, reply)
        return response
    finally:
        # Written whatever happened above, so that no request goes unrecorded.
        outcome = reply.status if not isinstance(reply, FileReply) else "success"
        bytes_in = exchange.body.consumed if exchange.body is not None else 0
        duration = time.monotonic() - started
        audit.audit_record_request(
            user=exchange.user,
            username=exchange.username,
            remote_addr=exchange.remote_addr,
            session=exchange.session,
            method=str(request.method)[:8],
            exchange_type=exchange.exchange_type,
            mode=exchange.mode,
            params=audit.masked_params(params, known_client=exchange.session is not None),
            outcome=outcome,
            answer=_masked(logged_text, exchange),
            bytes_in=bytes_in,
            bytes_out=bytes_out,
            duration_ms=int(duration * 1000),
            error_ref=exchange.error_ref,
            auth_failed=exchange.auth_failed,
        )
        # Metrics and logs hear of every request here, and only here (observability.events).
        emit(ExchangeRequestHandled(exchange.exchange_type, exchange.mode, outcome, duration, bytes_in, bytes_out))
        if exchange.mode == "file" and outcome == "success":
            emit(ExchangeFileReceived(exchange_type=exchange.exchange_type, size=bytes_in))
