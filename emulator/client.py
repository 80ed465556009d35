"""A 1C-like client of the "Обмен с сайтом" HTTP protocol.

The client reproduces what the real 1C client sends, including its quirks, so that the server is
exercised the way production exercises it. Protocol facts cited as "protocol.md §x" refer to
../shared/reference/protocol.md.

Quirks reproduced on purpose:

* Every URL after checkauth is built as ``<script>?type=…&mode=…[&filename=…]`` + ``"&" + line 4``
  of the checkauth answer, so a server that sent no 4th line gets a trailing ``&`` or a ``&&``
  (protocol.md §1.1, §1.3).
* The session cookie is taken from checkauth lines 2 and 3 and sent as a literal ``Cookie`` header;
  ``Set-Cookie`` is ignored (protocol.md §1.3).
* HTTP Basic credentials go with checkauth only, unless asked otherwise (protocol.md §1.2).
* ``mode=file`` bodies are raw bytes split into ``file_limit`` parts with the same filename
  (protocol.md §2.3); ``mode=import`` is repeated verbatim while the answer is ``progress`` (§2.4).
* Redirects are not followed and any non-200 status, empty, HTML or otherwise unexpected answer is a
  protocol error, which 1C reports as an exchange error (protocol.md §1.4, §1.5).
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
import tempfile
import time
import xml.parsers.expat
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree

import httpx

__all__ = [
    "DEFAULT_ARCHIVE_NAME",
    "AuthSession",
    "CatalogFile",
    "EmulatorError",
    "ExchangeFailure",
    "ExchangeRecord",
    "ExchangeReport",
    "ImportResult",
    "InitResult",
    "OneCClient",
    "OrderSummary",
    "OrdersXml",
    "ProgressLimitExceeded",
    "ProtocolError",
    "SaleExchangeResult",
    "UploadResult",
    "collect_catalog_files",
    "import_order_key",
    "order_changes_document",
]

logger = logging.getLogger("emulator")

PathLike = str | os.PathLike[str]

# Name under which the zip archive is uploaded when the site answers zip=yes. The name the real
# 1C uses is UNCERTAIN (protocol.md §2.3, §8.3); "import.zip" is what other emulators use.
DEFAULT_ARCHIVE_NAME = "import.zip"

# Size of the blocks read from disk while streaming a part of a file; small enough to keep memory
# flat, large enough to keep the number of socket writes low.
_READ_BLOCK_SIZE = 64 * 1024

# How much of an unexpected answer is kept in error messages.
_EXCERPT_LENGTH = 300

_STATUS_WORDS = ("success", "progress", "failure")

# Catalog file name prefixes in the order 1C imports them: referenced data first (protocol.md
# §2.6 "Ordering rules"). The 3.x "goods_/groups_/…" family is ranked the same way.
_IMPORT_ORDER_PREFIXES = (
    "import",
    "groups",
    "properties",
    "units",
    "storages",
    "pricelists",
    "goods",
    "offers",
    "prices",
    "rests",
)

_IMAGES_DIR = "import_files"


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class EmulatorError(Exception):
    """Base class of everything the emulator raises about an exchange."""


class ExchangeFailure(EmulatorError):
    """The server answered ``failure`` (a regular, protocol-conformant refusal)."""

    def __init__(self, mode: str, lines: Sequence[str], *, url: str | None = None) -> None:
        self.mode = mode
        self.lines = tuple(lines)
        self.url = url
        super().__init__(f"mode={mode}: failure: {self.text}" if self.text else f"mode={mode}: failure")

    @property
    def text(self) -> str:
        """The reason the server gave (everything after the ``failure`` line)."""
        return "\n".join(self.lines[1:]).strip()


class ProtocolError(EmulatorError):
    """The answer breaks the protocol (what 1C reports as an exchange error).

    Raised for transport errors, non-200 statuses (redirects included), empty or HTML bodies and
    first lines other than the status word the mode allows.
    """

    def __init__(
        self,
        message: str,
        *,
        mode: str | None = None,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        body_excerpt: str = "",
    ) -> None:
        self.message = message
        self.mode = mode
        self.method = method
        self.url = url
        self.status = status
        self.body_excerpt = body_excerpt
        details = [message]
        if method and url:
            details.append(f"request: {method} {url}")
        if status is not None:
            details.append(f"status: {status}")
        if body_excerpt:
            details.append(f"body: {body_excerpt!r}")
        super().__init__("; ".join(details))


class ProgressLimitExceeded(ProtocolError):
    """``mode=import`` kept answering ``progress`` past the poll or time budget."""


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExchangeRecord:
    """One request of the conversation and the answer to it."""

    method: str
    url: str
    mode: str
    status: int | None
    first_line: str
    elapsed: float
    request_bytes: int = 0
    response_bytes: int = 0
    lines: tuple[str, ...] = ()
    filename: str | None = None
    error: str | None = None

    @property
    def detail(self) -> str:
        """The text after the status word (progress or failure message), if any."""
        return "\n".join(self.lines[1:]).strip()


@dataclass(frozen=True)
class AuthSession:
    """What checkauth handed out: the cookie and the extra URL parts."""

    cookie_name: str
    cookie_value: str
    # Checkauth line 4, appended verbatim after "&" to every later URL ("" when absent).
    url_token: str
    # Checkauth line 5 (Bitrix: "timestamp=<unix time>"), appended to the deactivate URL.
    timestamp_line: str | None
    lines: tuple[str, ...]

    @property
    def cookie_header(self) -> str:
        return f"{self.cookie_name}={self.cookie_value}"


@dataclass(frozen=True)
class InitResult:
    zip: bool
    file_limit: int
    sessid: str | None
    version: str | None
    lines: tuple[str, ...]


@dataclass(frozen=True)
class UploadResult:
    filename: str
    size: int
    part_sizes: tuple[int, ...]
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    filename: str
    exchange_type: str
    polls: int
    progress: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class OrderSummary:
    """What 1C reads first from one Документ of the orders XML."""

    id: str
    number: str
    amount: str
    buyer: str
    lines: tuple[str, ...]  # Товар/Ид of each line, in order


@dataclass(frozen=True)
class OrdersXml:
    """The ``mode=query`` answer as received: ``content`` is the XML (taken out of the archive
    when the site answered ``application/zip``; ``archive`` then holds the archive itself)."""

    content: bytes
    root_tag: str
    archive: bytes | None = None

    @property
    def documents(self) -> list[OrderSummary]:
        """Every Документ (bare or in a 3.1 Контейнер), namespaces ignored."""
        # expat as bundled with Python 3.11 never fetches external entities and caps entity
        # amplification; the emulator reads what the site under test wrote.
        root = ElementTree.fromstring(self.content.removeprefix(codecs.BOM_UTF8))  # noqa: S314
        summaries = []
        for element in root.iter():
            if _local(element.tag) != "Документ":
                continue
            fields = {_local(child.tag): child for child in element}
            buyer = ""
            holder = fields.get("Контрагенты")
            if holder is not None and len(holder):
                names = {_local(child.tag): (child.text or "") for child in holder[0]}
                buyer = names.get("ОфициальноеНаименование") or names.get("Наименование", "")
            lines: list[str] = []
            goods = fields.get("Товары")
            for line in goods if goods is not None else ():
                lines += [child.text or "" for child in line if _local(child.tag) == "Ид"]
            summaries.append(
                OrderSummary(
                    id=_text(fields.get("Ид")),
                    number=_text(fields.get("Номер")),
                    amount=_text(fields.get("Сумма")),
                    buyer=buyer,
                    lines=tuple(lines),
                )
            )
        return summaries

    @property
    def has_bom(self) -> bool:
        return self.content.startswith(codecs.BOM_UTF8)

    @property
    def declared_encoding(self) -> str | None:
        match = re.match(rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._-]+)[\"']", self.content)
        return match.group(1).decode("ascii") if match else None

    @property
    def encoding(self) -> str:
        if self.has_bom:
            return "utf-8"
        return self.declared_encoding or "utf-8"

    @property
    def text(self) -> str:
        """The XML decoded with the encoding its BOM or prolog declares (BOM removed)."""
        return self.content.decode("utf-8-sig" if self.has_bom else self.encoding)

    def save(self, path: PathLike) -> Path:
        target = Path(path)
        target.write_bytes(self.content)
        return target


@dataclass
class ExchangeReport:
    """What a scenario did: the conversation, the files, the progress texts and the time spent."""

    exchange_type: str
    records: list[ExchangeRecord] = field(default_factory=list)
    auth: AuthSession | None = None
    init: InitResult | None = None
    uploads: list[UploadResult] = field(default_factory=list)
    imports: list[ImportResult] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.records)

    @property
    def progress_texts(self) -> list[str]:
        return [text for result in self.imports for text in result.progress]

    @property
    def uploaded_bytes(self) -> int:
        return sum(upload.size for upload in self.uploads)


@dataclass(frozen=True)
class SaleExchangeResult:
    orders: OrdersXml
    report: ExchangeReport
    info: bytes | None = None


@dataclass(frozen=True)
class CatalogFile:
    """A file of a catalog package: where it is on disk and the name it is sent under."""

    name: str
    path: Path

    @property
    def is_xml(self) -> bool:
        return self.name.lower().endswith(".xml") and not self.is_image

    @property
    def is_image(self) -> bool:
        return self.name.split("/", 1)[0] == _IMAGES_DIR


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _decode_text(body: bytes, content_type: str | None) -> str:
    """Decode a text answer: UTF-8 with or without BOM, or windows-1251 (protocol.md §1.4)."""
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    declared = None
    if content_type:
        match = re.search(r"charset=([\w.-]+)", content_type, re.IGNORECASE)
        declared = match.group(1) if match else None
    for encoding in (declared, "utf-8"):
        if not encoding:
            continue
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("cp1251", errors="replace")


def _split_lines(text: str) -> tuple[str, ...]:
    """Split on "\\n", drop a "\\r" before it, drop trailing empty lines (protocol.md §4.1)."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    return tuple(lines)


def _looks_like_html(text: str) -> bool:
    return text.lstrip().startswith("<")


def _excerpt(text: str) -> str:
    return text[:_EXCERPT_LENGTH]


def _natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part)


def import_order_key(name: str) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    """Sort key putting catalog files in the order 1C imports them.

    ``import*`` < ``offers*`` < ``prices*`` < ``rests*`` < anything else, by the file's base name
    (the 3.x ``groups_/properties…/goods_`` family is ranked in between); numbers compare
    numerically so ``import0_2`` comes before ``import0_10``.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    rank = len(_IMPORT_ORDER_PREFIXES)
    for index, prefix in enumerate(_IMPORT_ORDER_PREFIXES):
        if base.startswith(prefix):
            rank = index
            break
    return rank, _natural_key(name.lower())


def collect_catalog_files(paths_or_dir: PathLike | Iterable[PathLike]) -> list[CatalogFile]:
    """List the files of a catalog package.

    A directory contributes its ``*.xml`` files (any depth) and everything under its
    ``import_files/`` folder, named relative to the directory with "/" separators. A file given
    directly is sent under its base name. Images come last; XML files in import order.
    """
    if isinstance(paths_or_dir, str | os.PathLike):
        roots: list[Path] = [Path(paths_or_dir)]
    else:
        roots = [Path(item) for item in paths_or_dir]
    files: dict[str, CatalogFile] = {}

    def add(name: str, path: Path) -> None:
        if name in files:
            raise ValueError(f"two files would be sent as {name!r}: {files[name].path} and {path}")
        files[name] = CatalogFile(name=name, path=path)

    for root in roots:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if not path.is_file():
                    continue
                name = path.relative_to(root).as_posix()
                candidate = CatalogFile(name=name, path=path)
                if candidate.is_image or candidate.is_xml:
                    add(name, path)
        elif root.is_file():
            add(root.name, root)
        else:
            raise FileNotFoundError(root)
    xml_files = sorted((f for f in files.values() if f.is_xml), key=lambda f: import_order_key(f.name))
    other_files = sorted((f for f in files.values() if not f.is_xml), key=lambda f: f.name)
    return xml_files + other_files


def _iter_file_part(path: Path, offset: int, length: int) -> Iterator[bytes]:
    """Yield ``length`` bytes of ``path`` from ``offset`` in small blocks (never all at once)."""
    with path.open("rb") as stream:
        stream.seek(offset)
        remaining = length
        while remaining > 0:
            block = stream.read(min(_READ_BLOCK_SIZE, remaining))
            if not block:
                raise EmulatorError(f"{path} shrank while it was being uploaded")
            remaining -= len(block)
            yield block


def _iter_bytes_part(data: bytes, offset: int, length: int) -> Iterator[bytes]:
    view = memoryview(data)[offset : offset + length]
    for start in range(0, len(view), _READ_BLOCK_SIZE):
        yield bytes(view[start : start + _READ_BLOCK_SIZE])


def _part_sizes(size: int, file_limit: int) -> list[int]:
    if file_limit <= 0 or size <= file_limit:
        # An empty file is still announced with one (empty) POST.
        return [size]
    full, rest = divmod(size, file_limit)
    return [file_limit] * full + ([rest] if rest else [])


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def _text(element: ElementTree.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _unzip_orders(body: bytes) -> bytes:
    """The one XML inside a zipped ``mode=query`` answer (seed 4.3 AC3: one file in the archive)."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
            if len(names) != 1:
                raise ValueError(f"the orders archive holds {len(names)} files, expected one")
            return archive.read(names[0])
    except zipfile.BadZipFile as error:
        raise ValueError(f"broken orders archive: {error}") from error


def order_changes_document(
    orders: Iterable[OrderSummary],
    *,
    status_id: str | None = None,
    status_text: str | None = None,
    paid: bool = False,
    onec_number_prefix: str = "ЗК-",
) -> bytes:
    """A 1C-like changes file (protocol.md §5.7) for orders 1C received: each gets a 1C number and,
    when given, a status and the paid flag. UTF-8 with a BOM, namespace of 2.09 like 1C's module."""
    root = ElementTree.Element(
        "КоммерческаяИнформация",
        {
            "xmlns": "urn:1C.ru:commerceml_2",
            "ВерсияСхемы": "2.09",
            "ДатаФормирования": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    for index, order in enumerate(orders, start=1):
        document = ElementTree.SubElement(root, "Документ")
        for name, value in (
            ("Ид", order.id),
            ("Номер", order.number),
            ("Номер1С", f"{onec_number_prefix}{index:06d}"),
            ("Дата", time.strftime("%Y-%m-%d")),
            ("ХозОперация", "Заказ товара"),
            ("Роль", "Продавец"),
            ("Валюта", "RUB"),
            ("Курс", "1"),
            ("Сумма", order.amount),
        ):
            ElementTree.SubElement(document, name).text = value
        requisites = ElementTree.SubElement(document, "ЗначенияРеквизитов")
        pairs = [("Проведен", "true"), ("Номер по 1С", f"{onec_number_prefix}{index:06d}")]
        if status_id:
            pairs.append(("Статуса заказа ИД", status_id))
        if status_text:
            pairs.append(("Статус заказа", status_text))
        if paid:
            pairs += [("Оплачен", "true"), ("Дата оплаты по 1С", time.strftime("%Y-%m-%dT%H:%M:%S"))]
        for name, value in pairs:
            requisite = ElementTree.SubElement(requisites, "ЗначениеРеквизита")
            ElementTree.SubElement(requisite, "Наименование").text = name
            ElementTree.SubElement(requisite, "Значение").text = value
    return codecs.BOM_UTF8 + ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _check_orders_xml(content: bytes) -> str:
    """Return the root tag if ``content`` is well-formed XML; raise ValueError otherwise.

    1C rejects unparsable query answers ("Не удалось разобрать данные, загруженные с сервера",
    protocol.md §1.5). expat decodes windows-1251 and a UTF-8 BOM itself and does not resolve
    external entities.
    """
    parser = xml.parsers.expat.ParserCreate()
    roots: list[str] = []

    def start(name: str, _attributes: dict[str, str]) -> None:
        if not roots:
            roots.append(name)

    parser.StartElementHandler = start
    try:
        view = memoryview(content)
        for start_at in range(0, len(view), _READ_BLOCK_SIZE):
            parser.Parse(bytes(view[start_at : start_at + _READ_BLOCK_SIZE]), False)
        parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as error:
        raise ValueError(str(error)) from error
    if not roots:
        raise ValueError("no root element")
    return roots[0]


# --------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------


class OneCClient:
    """Talks to an exchange endpoint the way 1C:Enterprise does.

    ``base_url`` is the exchange script (e.g. ``http://127.0.0.1:8000/1c/exchange``). Each call is
    one protocol step; the ``run_*`` methods chain them into the sequences 1C performs. Every
    request is appended to :attr:`records`.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 120.0,
        max_progress_polls: int = 10_000,
        progress_deadline: float = 3600.0,
        poll_interval: float = 0.0,
        user_agent: str = "1C+Enterprise/8.3",
        transport: httpx.BaseTransport | None = None,
        basic_auth_on_every_request: bool = False,
        windows_filenames: bool = False,
        verbose: bool = False,
        on_record: Callable[[ExchangeRecord], None] | None = None,
    ) -> None:
        self.base_url = base_url
        self.username = username
        self.password = password
        self.max_progress_polls = max_progress_polls
        self.progress_deadline = progress_deadline
        self.poll_interval = poll_interval
        # Whether 1C re-sends Basic credentials after checkauth is UNCERTAIN (protocol.md §1.2);
        # by default it does not, which is the stricter test of the server's cookie handling.
        self.basic_auth_on_every_request = basic_auth_on_every_request
        # Old 1C sent Windows paths in filename (protocol.md §2.3, BXFORUM): "a\\b.jpg".
        self.windows_filenames = windows_filenames
        self.verbose = verbose
        self.on_record = on_record
        self.records: list[ExchangeRecord] = []
        self.session: AuthSession | None = None
        self.init_result: InitResult | None = None
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            # 1C does not handle redirects well; surface them as protocol errors.
            follow_redirects=False,
            headers={"User-Agent": user_agent},
            # 1C sends the cookie named by checkauth lines 2-3 and ignores Set-Cookie
            # (protocol.md §1.3), so the cookie jar refuses to store anything.
            cookies=_no_cookie_jar(),
        )

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OneCClient:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.close()

    # -- URLs -------------------------------------------------------------------------------

    def _wire_filename(self, filename: str) -> str:
        name = filename.replace("/", "\\") if self.windows_filenames else filename
        # Keep path separators and drive colons readable like 1C does; escape what would break
        # the query string (&, =, #, +, %, spaces) and non-ASCII (as UTF-8).
        return quote(name, safe="/\\:")

    def build_url(
        self,
        exchange_type: str,
        mode: str,
        *,
        filename: str | None = None,
        extra: Sequence[str] = (),
    ) -> str:
        """The URL 1C requests for ``mode``: ``?type=…&mode=…[&filename=…]&<line 4>[&extra…]``.

        The ``"&" + line 4`` part is always added after checkauth, even when line 4 was absent,
        exactly like the 1C code quoted in protocol.md §1.3 (hence trailing ``&`` and ``&&``).
        """
        separator = "&" if "?" in self.base_url else "?"
        url = f"{self.base_url}{separator}type={exchange_type}&mode={mode}"
        if filename is not None:
            url += f"&filename={self._wire_filename(filename)}"
        if mode != "checkauth":
            url += "&" + (self.session.url_token if self.session else "")
        for part in extra:
            url += "&" + part
        return url

    # -- transport --------------------------------------------------------------------------

    def _headers(self, *, with_basic: bool) -> tuple[dict[str, str], httpx.BasicAuth | None]:
        headers: dict[str, str] = {}
        if self.session is not None:
            headers["Cookie"] = self.session.cookie_header
        auth = None
        if with_basic or self.basic_auth_on_every_request:
            auth = httpx.BasicAuth(self.username, self.password)
        return headers, auth

    def _record(self, record: ExchangeRecord) -> None:
        self.records.append(record)
        logger.log(
            logging.INFO if self.verbose else logging.DEBUG,
            "%s %s -> %s %s (%.3fs)%s",
            record.method,
            record.url,
            record.status,
            record.first_line,
            record.elapsed,
            f" {record.error}" if record.error else "",
        )
        if self.on_record is not None:
            self.on_record(record)

    def _send(
        self,
        method: str,
        mode: str,
        url: str,
        *,
        filename: str | None = None,
        content: Iterator[bytes] | None = None,
        content_length: int = 0,
        with_basic: bool = False,
    ) -> tuple[httpx.Response, bytes, float]:
        headers, auth = self._headers(with_basic=with_basic)
        if method == "POST":
            # An explicit Content-Length keeps httpx from switching to chunked encoding, which
            # 1C never uses and some WSGI servers cannot read.
            headers["Content-Type"] = "application/octet-stream"
            headers["Content-Length"] = str(content_length)
        started = time.perf_counter()
        try:
            response = self._http.request(method, url, headers=headers, content=content, auth=auth)
            body = response.content
        except httpx.HTTPError as error:
            elapsed = time.perf_counter() - started
            self._record(
                ExchangeRecord(
                    method=method,
                    url=url,
                    mode=mode,
                    status=None,
                    first_line="",
                    elapsed=elapsed,
                    request_bytes=content_length,
                    filename=filename,
                    error=f"{type(error).__name__}: {error}",
                )
            )
            raise ProtocolError(
                f"transport error: {type(error).__name__}: {error}",
                mode=mode,
                method=method,
                url=url,
            ) from error
        return response, body, time.perf_counter() - started

    def _text_request(
        self,
        method: str,
        mode: str,
        url: str,
        *,
        allowed: Sequence[str] = ("success",),
        filename: str | None = None,
        content: Iterator[bytes] | None = None,
        content_length: int = 0,
        with_basic: bool = False,
        status_words: bool = True,
    ) -> tuple[str, ...]:
        """Send one request and return the answer's lines once it passed the protocol checks.

        With ``status_words`` the first line must be one of ``allowed`` (``failure`` raises
        :class:`ExchangeFailure`); without it (init) only failure/HTML/empty are checked here.
        """
        response, body, elapsed = self._send(
            method,
            mode,
            url,
            filename=filename,
            content=content,
            content_length=content_length,
            with_basic=with_basic,
        )
        text = _decode_text(body, response.headers.get("Content-Type"))
        lines = _split_lines(text)
        first_line = lines[0].strip() if lines else ""
        error = self._protocol_problem(response, text, first_line, allowed, status_words)
        self._record(
            ExchangeRecord(
                method=method,
                url=url,
                mode=mode,
                status=response.status_code,
                first_line=first_line,
                elapsed=elapsed,
                request_bytes=content_length,
                response_bytes=len(body),
                lines=lines,
                filename=filename,
                error=error,
            )
        )
        if error is not None:
            raise ProtocolError(
                error,
                mode=mode,
                method=method,
                url=url,
                status=response.status_code,
                body_excerpt=_excerpt(text),
            )
        if first_line == "failure":
            raise ExchangeFailure(mode, lines, url=url)
        return lines

    @staticmethod
    def _protocol_problem(
        response: httpx.Response,
        text: str,
        first_line: str,
        allowed: Sequence[str],
        status_words: bool,
    ) -> str | None:
        if response.is_redirect:
            location = response.headers.get("Location", "")
            return f"redirect {response.status_code} to {location!r} (1C does not follow redirects)"
        if response.status_code != 200:
            return f"HTTP status {response.status_code} instead of 200"
        if not text.strip():
            return "empty answer (1C: 'Получен пустой ответ сервера')"
        if _looks_like_html(text):
            return "HTML answer instead of protocol text"
        if first_line == "failure":
            return None
        if status_words and first_line not in allowed:
            expected = "/".join((*allowed, "failure"))
            return f"first line {first_line!r} is not {expected}"
        return None

    # -- protocol steps ---------------------------------------------------------------------

    def checkauth(self, exchange_type: str = "catalog") -> AuthSession:
        """``GET ?type=<t>&mode=checkauth`` with Basic credentials; remembers the session."""
        self.session = None
        self.init_result = None
        url = self.build_url(exchange_type, "checkauth")
        lines = self._text_request("GET", "checkauth", url, with_basic=True)
        if len(lines) < 3 or not lines[1].strip() or not lines[2].strip():
            raise ProtocolError(
                "checkauth answered success without cookie name and value on lines 2 and 3",
                mode="checkauth",
                method="GET",
                url=url,
                status=200,
                body_excerpt=_excerpt("\n".join(lines)),
            )
        timestamp_line = lines[4] if len(lines) >= 5 and lines[4] else None
        self.session = AuthSession(
            cookie_name=lines[1].strip(),
            cookie_value=lines[2].strip(),
            url_token=lines[3] if len(lines) >= 4 else "",
            timestamp_line=timestamp_line,
            lines=lines,
        )
        return self.session

    def init(self, exchange_type: str = "catalog", version: str | None = None) -> InitResult:
        """``GET …&mode=init&<line 4>[&version=<v>]``; parses zip, file_limit, sessid, version."""
        extra = [f"version={version}"] if version is not None else []
        url = self.build_url(exchange_type, "init", extra=extra)
        lines = self._text_request("GET", "init", url, status_words=False)
        values: dict[str, str] = {}
        for line in lines:
            key, sep, value = line.strip().partition("=")
            if sep:
                values.setdefault(key.strip().lower(), value.strip())
        problem = None
        if values.get("zip") not in ("yes", "no"):
            problem = "init answer has no 'zip=yes|no' line"
        else:
            try:
                file_limit = int(values.get("file_limit", ""))
            except ValueError:
                problem = "init answer has no integer 'file_limit=' line"
        if problem is not None:
            raise ProtocolError(
                problem,
                mode="init",
                method="GET",
                url=url,
                status=200,
                body_excerpt=_excerpt("\n".join(lines)),
            )
        self.init_result = InitResult(
            zip=values["zip"] == "yes",
            file_limit=file_limit,
            sessid=values.get("sessid"),
            version=values.get("version"),
            lines=lines,
        )
        return self.init_result

    def upload(
        self,
        exchange_type: str,
        filename: str,
        source: PathLike | bytes,
        *,
        file_limit: int | None = None,
    ) -> UploadResult:
        """``POST …&mode=file&filename=<name>`` the raw bytes in ``file_limit``-sized parts.

        Parts are streamed from disk (each part read in small blocks); ``file_limit`` defaults to
        the value init returned; ``<= 0`` sends the whole file in one streamed request.
        """
        if file_limit is None:
            file_limit = self.init_result.file_limit if self.init_result else 0
        if isinstance(source, bytes):
            size = len(source)
            data = source

            def part(offset: int, length: int) -> Iterator[bytes]:
                return _iter_bytes_part(data, offset, length)
        else:
            path = Path(source)
            size = path.stat().st_size

            def part(offset: int, length: int) -> Iterator[bytes]:
                return _iter_file_part(path, offset, length)

        url = self.build_url(exchange_type, "file", filename=filename)
        sizes = _part_sizes(size, file_limit)
        messages: list[str] = []
        offset = 0
        for length in sizes:
            lines = self._text_request(
                "POST",
                "file",
                url,
                filename=filename,
                content=part(offset, length),
                content_length=length,
            )
            messages.extend(line for line in lines[1:] if line.strip())
            offset += length
        return UploadResult(filename=filename, size=size, part_sizes=tuple(sizes), messages=tuple(messages))

    def import_file(self, filename: str, *, type: str = "catalog") -> ImportResult:
        """``GET …&mode=import&filename=<name>`` repeated while the answer is ``progress``."""
        url = self.build_url(type, "import", filename=filename)
        deadline = time.monotonic() + self.progress_deadline
        progress: list[str] = []
        polls = 0
        while True:
            polls += 1
            lines = self._text_request("GET", "import", url, allowed=("success", "progress"), filename=filename)
            text = "\n".join(lines[1:]).strip()
            if lines[0].strip() == "success":
                return ImportResult(
                    filename=filename,
                    exchange_type=type,
                    polls=polls,
                    progress=tuple(progress),
                    message=text,
                )
            progress.append(text)
            if polls >= self.max_progress_polls or time.monotonic() >= deadline:
                raise ProgressLimitExceeded(
                    f"import of {filename!r} still in progress after {polls} polls "
                    f"(limits: {self.max_progress_polls} polls, {self.progress_deadline}s)",
                    mode="import",
                    method="GET",
                    url=url,
                    status=200,
                    body_excerpt=_excerpt(text),
                )
            if self.poll_interval > 0:
                time.sleep(self.poll_interval)

    def deactivate(self, exchange_type: str = "catalog") -> str:
        """``GET …&mode=deactivate&<line 4>[&<line 5>]``; returns the server's message.

        Bitrix compares the checkauth ``timestamp=`` (line 5) with element change times, so 1C is
        believed to append it here (protocol.md §2.5, UNCERTAIN in detail).
        """
        session = self.session
        extra = [session.timestamp_line] if session and session.timestamp_line else []
        url = self.build_url(exchange_type, "deactivate", extra=extra)
        lines = self._text_request("GET", "deactivate", url)
        return "\n".join(lines[1:]).strip()

    def complete(self, exchange_type: str = "catalog") -> str:
        """``GET …&mode=complete&<line 4>``, the last call of a catalog session."""
        lines = self._text_request("GET", "complete", self.build_url(exchange_type, "complete"))
        return "\n".join(lines[1:]).strip()

    def query(self, exchange_type: str = "sale", *, zip: bool = False) -> OrdersXml:
        """``GET …&mode=query[&zip=yes]&<line 4>``; returns the orders XML as received (taken out
        of the archive when the site answered a zip, seed 4.3 AC3)."""
        mode = "query"
        url = self.build_url(exchange_type, mode, extra=("zip=yes",) if zip else ())
        response, body, elapsed = self._send("GET", mode, url)
        archive: bytes | None = None
        if body.startswith(b"PK\x03\x04"):
            archive = body
            try:
                body = _unzip_orders(archive)
            except ValueError as unzip_error:
                raise ProtocolError(
                    str(unzip_error), mode=mode, method="GET", url=url, status=response.status_code, body_excerpt=""
                ) from unzip_error
        text = _decode_text(body, response.headers.get("Content-Type"))
        lines = _split_lines(text)
        first_line = lines[0].strip() if lines else ""
        stripped = text.lstrip()
        error: str | None = None
        root_tag = ""
        if response.is_redirect or response.status_code != 200 or not stripped:
            error = self._protocol_problem(response, text, first_line, (), False)
        elif first_line == "failure":
            error = None
        elif re.match(r"<!doctype\s+html|<html[\s>]", stripped, re.IGNORECASE):
            error = "HTML answer instead of the orders XML"
        else:
            try:
                root_tag = _check_orders_xml(body)
            except ValueError as parse_error:
                # 1C: "Не удалось разобрать данные, загруженные с сервера" (protocol.md §1.5).
                error = f"orders XML is not well-formed: {parse_error}"
        self._record(
            ExchangeRecord(
                method="GET",
                url=url,
                mode=mode,
                status=response.status_code,
                first_line=first_line[:80],
                elapsed=elapsed,
                response_bytes=len(body),
                lines=lines if first_line == "failure" else (),
                error=error,
            )
        )
        if error is not None:
            raise ProtocolError(
                error,
                mode=mode,
                method="GET",
                url=url,
                status=response.status_code,
                body_excerpt=_excerpt(text),
            )
        if first_line == "failure":
            raise ExchangeFailure(mode, lines, url=url)
        return OrdersXml(content=body, root_tag=root_tag, archive=archive)

    def info(self, exchange_type: str = "sale") -> bytes:
        """``GET …&mode=info&<line 4>`` (1C-Bitrix module, protocol.md §3.5): the site's statuses,
        payment systems and delivery services as XML, returned as received."""
        mode = "info"
        url = self.build_url(exchange_type, mode)
        response, body, elapsed = self._send("GET", mode, url)
        error = None
        first_line = body[:80].decode("utf-8", "replace").split("\n", 1)[0]
        if response.status_code != 200:
            error = f"HTTP {response.status_code}"
        else:
            try:
                _check_orders_xml(body)
            except ValueError as parse_error:
                error = f"info XML is not well-formed: {parse_error}"
        self._record(
            ExchangeRecord(
                method="GET",
                url=url,
                mode=mode,
                status=response.status_code,
                first_line=first_line,
                elapsed=elapsed,
                response_bytes=len(body),
                error=error,
            )
        )
        if error is not None:
            raise ProtocolError(error, mode=mode, method="GET", url=url, status=response.status_code, body_excerpt="")
        return body

    def success(self, exchange_type: str = "sale") -> str:
        """``GET …&mode=success&<line 4>``: confirms 1C stored the queried orders."""
        lines = self._text_request("GET", "success", self.build_url(exchange_type, "success"))
        return "\n".join(lines[1:]).strip()

    # -- scenarios --------------------------------------------------------------------------

    def run_catalog_exchange(
        self,
        paths_or_dir: PathLike | Iterable[PathLike],
        *,
        use_zip: bool | None = None,
        version: str | None = None,
        deactivate: bool = False,
        complete: bool = True,
        archive_name: str = DEFAULT_ARCHIVE_NAME,
    ) -> ExchangeReport:
        """checkauth → init → file(s) → import per XML (while progress) → [deactivate] → complete.

        ``use_zip``: ``None`` follows the server's ``zip=`` answer, ``False`` never zips, ``True``
        zips even when the server said ``zip=no`` (to test how the server copes).
        """
        files = collect_catalog_files(paths_or_dir)
        if not any(f.is_xml for f in files):
            raise ValueError(f"no XML files to exchange in {paths_or_dir!r}")
        xml_names = [f.name for f in files if f.is_xml]
        report = ExchangeReport(exchange_type="catalog")
        first_record = len(self.records)
        started = time.perf_counter()
        try:
            report.auth = self.checkauth("catalog")
            report.init = self.init("catalog", version)
            zipped = use_zip if use_zip is not None else report.init.zip
            if zipped:
                with tempfile.TemporaryDirectory(prefix="emulator-") as workdir:
                    archive = Path(workdir) / "package.zip"
                    _write_zip(archive, files)
                    report.uploads.append(self.upload("catalog", archive_name, archive))
            else:
                for catalog_file in files:
                    report.uploads.append(self.upload("catalog", catalog_file.name, catalog_file.path))
            for name in xml_names:
                report.imports.append(self.import_file(name, type="catalog"))
            if deactivate:
                self.deactivate("catalog")
            if complete:
                self.complete("catalog")
        finally:
            report.records = self.records[first_record:]
            report.elapsed = time.perf_counter() - started
        return report

    def run_sale_exchange(
        self,
        changes_files: Iterable[PathLike] = (),
        *,
        version: str | None = "2.08",
        orders_path: PathLike | None = None,
        zip_query: bool = False,
        info: bool = False,
        confirm: bool = True,
        reply_status_id: str | None = None,
        reply_status_text: str | None = None,
        reply_paid: bool = False,
    ) -> SaleExchangeResult:
        """checkauth → init → [info] → query → success → per changes file: file [→ import while
        progress].

        When init answered a ``version=`` line 1C uses the new scheme (upload, then import);
        otherwise the upload alone makes the server process the file (protocol.md §3.4).
        ``zip_query`` asks for a zipped orders answer; ``confirm=False`` skips success (1C that
        failed to store the orders); ``reply_status_*``/``reply_paid`` send back a changes file
        for every order received, as 1C does after it processed them.
        """
        report = ExchangeReport(exchange_type="sale")
        first_record = len(self.records)
        started = time.perf_counter()
        try:
            report.auth = self.checkauth("sale")
            report.init = self.init("sale", version)
            reference = self.info("sale") if info else None
            orders = self.query("sale", zip=zip_query)
            if orders_path is not None:
                orders.save(orders_path)
            if confirm:
                self.success("sale")
            new_scheme = report.init.version is not None
            with tempfile.TemporaryDirectory(prefix="emulator-") as workdir:
                files = [Path(changes) for changes in changes_files]
                if (reply_status_id or reply_status_text or reply_paid) and orders.documents:
                    reply = Path(workdir) / f"documents___{int(time.time())}.xml"
                    reply.write_bytes(
                        order_changes_document(
                            orders.documents, status_id=reply_status_id, status_text=reply_status_text, paid=reply_paid
                        )
                    )
                    files.append(reply)
                for path in files:
                    report.uploads.append(self.upload("sale", path.name, path))
                    if new_scheme:
                        report.imports.append(self.import_file(path.name, type="sale"))
        finally:
            report.records = self.records[first_record:]
            report.elapsed = time.perf_counter() - started
        return SaleExchangeResult(orders=orders, report=report, info=reference)


def _no_cookie_jar() -> CookieJar:
    # Passed to httpx as a bare CookieJar: wrapping it in httpx.Cookies would copy it into a jar
    # with the default (accept-all) policy.
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _write_zip(archive: Path, files: Sequence[CatalogFile]) -> None:
    """Pack the package on disk; zipfile copies each file in blocks, keeping memory flat."""
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for catalog_file in files:
            bundle.write(catalog_file.path, arcname=catalog_file.name)
