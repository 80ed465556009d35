"""The emulator against a tiny scripted 1C exchange server running in a thread.

The fake server speaks plain HTTP on 127.0.0.1 and records every request exactly as it arrived
(raw path with query, headers, body), so the tests assert what a real server would see.
Run with ``pytest -p no:django tests/emulator``.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import io
import socket
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from emulator import (
    ExchangeFailure,
    OneCClient,
    ProgressLimitExceeded,
    ProtocolError,
    collect_catalog_files,
    import_order_key,
)
from emulator.__main__ import main

USER = "exchange"
PASSWORD = "s3cret"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

BITRIX_CHECKAUTH = b"success\nPHPSESSID\nabc123\nsessid=tok42\ntimestamp=1700000000\n"
CLASSIC_CHECKAUTH = b"success\nexchange_auth\nabc123\n"

ORDERS_XML_1251 = (
    '<?xml version="1.0" encoding="windows-1251"?>\n'
    '<КоммерческаяИнформация ВерсияСхемы="2.08"><Документ><Ид>1</Ид>'
    "<Комментарий>Позвонить до обеда</Комментарий></Документ></КоммерческаяИнформация>"
).encode("cp1251")

Response = tuple[int, dict[str, str], bytes]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    body_size: int

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    @property
    def mode(self) -> str:
        return self.query.get("mode", [""])[0]

    @property
    def filename(self) -> str:
        return self.query.get("filename", [""])[0]


@dataclass
class FakeOneCServer:
    """A scripted exchange endpoint; attributes can be changed by each test before the run."""

    base_url: str = ""
    checkauth_body: bytes = BITRIX_CHECKAUTH
    init_body: bytes = b"zip=no\nfile_limit=1000"
    # How many "progress" answers each file's import gets before "success".
    progress_per_import: int = 0
    orders_body: bytes = ORDERS_XML_1251
    # Per mode: a fixed response or a function of the request.
    overrides: dict[str, Response | Callable[[Recorded], Response]] = field(default_factory=dict)
    keep_bodies: bool = True
    requests: list[Recorded] = field(default_factory=list)
    files: dict[str, bytearray] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)

    def respond(self, request: Recorded) -> Response:
        override = self.overrides.get(request.mode)
        if override is not None:
            return override(request) if callable(override) else override
        # A Set-Cookie the client must ignore: 1C uses checkauth lines 2-3 only.
        text = {"Content-Type": "text/plain; charset=utf-8", "Set-Cookie": "trap=1; Path=/"}
        if request.mode == "checkauth":
            return 200, text, self.checkauth_body
        if request.mode == "init":
            return 200, text, self.init_body
        if request.mode == "file":
            if self.keep_bodies:
                self.files.setdefault(request.filename, bytearray()).extend(request.body)
            return 200, text, b"success\n"
        if request.mode == "import":
            done = self.polls.get(request.filename, 0)
            self.polls[request.filename] = done + 1
            if done < self.progress_per_import:
                return 200, text, f"progress\nШаг {done + 1}".encode()
            return 200, text, "success\nИмпорт успешно завершен.".encode()
        if request.mode == "query":
            return 200, {"Content-Type": "application/xml"}, self.orders_body
        if request.mode in ("success", "deactivate", "complete"):
            return 200, text, b"success\n"
        return 200, text, "failure\nНеизвестная команда.".encode()

    def by_mode(self, mode: str) -> list[Recorded]:
        return [r for r in self.requests if r.mode == mode]

    @property
    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    @property
    def url_root(self) -> str:
        return urlsplit(self.base_url).path


def _handler_for(server: FakeOneCServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            digest = hashlib.sha256()
            kept = bytearray()
            remaining = length
            while remaining:
                block = self.rfile.read(min(65536, remaining))
                if not block:
                    break
                remaining -= len(block)
                digest.update(block)
                if server.keep_bodies:
                    kept.extend(block)
            request = Recorded(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=bytes(kept),
                body_size=length - remaining,
            )
            server.requests.append(request)
            status, headers, body = server.respond(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def server() -> Iterator[FakeOneCServer]:
    fake = FakeOneCServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    fake.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/1c/exchange"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def client(server: FakeOneCServer) -> Iterator[OneCClient]:
    with OneCClient(server.base_url, USER, PASSWORD, timeout=10) as one_c:
        yield one_c


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A catalog package laid out like 1C's exchange directory."""
    root = tmp_path / "package"
    (root / "import_files" / "ab").mkdir(parents=True)
    (root / "import_files" / "cd").mkdir(parents=True)
    (root / "rests0_1.xml").write_bytes(b"<rests/>")
    (root / "offers0_1.xml").write_bytes(b"<offers/>")
    (root / "import0_2.xml").write_bytes(b"<goods/>")
    (root / "prices0_1.xml").write_bytes(b"<prices/>")
    (root / "import0_1.xml").write_bytes(codecs.BOM_UTF8 + b"<classifier/>" * 200)
    (root / "import_files" / "ab" / "ab01_photo.jpg").write_bytes(b"\xff\xd8jpeg-a")
    (root / "import_files" / "cd" / "cd02_photo.png").write_bytes(b"\x89PNG-b")
    (root / "notes.txt").write_text("not part of the package")
    return root


# --- checkauth, cookie, Basic auth and URL building ------------------------------------------


def test_checkauth_sends_basic_credentials_and_no_cookie(server, client):
    client.checkauth("catalog")
    # A new exchange starts afresh: the server's Set-Cookie from the first one is not kept.
    client.checkauth("catalog")

    for request in server.requests:
        assert request.path == "/1c/exchange?type=catalog&mode=checkauth"
        assert request.method == "GET"
        assert request.headers["authorization"] == BASIC
        assert "cookie" not in request.headers
        assert request.headers["user-agent"] == "1C+Enterprise/8.3"


def test_later_requests_send_cookie_from_checkauth_lines_and_no_basic_auth(server, client):
    client.checkauth("catalog")
    client.init("catalog")
    client.complete("catalog")

    for request in server.requests[1:]:
        # Exactly the cookie from lines 2-3: the server's Set-Cookie "trap" is not echoed.
        assert request.headers["cookie"] == "PHPSESSID=abc123"
        assert "authorization" not in request.headers


def test_basic_auth_goes_with_every_request_when_asked(server):
    with OneCClient(server.base_url, USER, PASSWORD, basic_auth_on_every_request=True) as one_c:
        one_c.checkauth("catalog")
        one_c.init("catalog")

    assert [r.headers.get("authorization") for r in server.requests] == [BASIC, BASIC]
    assert server.requests[1].headers["cookie"] == "PHPSESSID=abc123"


def test_line4_is_appended_verbatim_to_every_later_url(server, client, tmp_path):
    xml = tmp_path / "import.xml"
    xml.write_bytes(b"<x/>")
    client.checkauth("catalog")
    client.init("catalog", version="3.1")
    client.upload("catalog", "import.xml", xml)
    client.import_file("import.xml")
    client.complete("catalog")

    root = server.url_root
    assert server.paths == [
        f"{root}?type=catalog&mode=checkauth",
        f"{root}?type=catalog&mode=init&sessid=tok42&version=3.1",
        f"{root}?type=catalog&mode=file&filename=import.xml&sessid=tok42",
        f"{root}?type=catalog&mode=import&filename=import.xml&sessid=tok42",
        f"{root}?type=catalog&mode=complete&sessid=tok42",
    ]


def test_without_line4_urls_get_the_empty_token_like_1c(server, client, tmp_path):
    server.checkauth_body = CLASSIC_CHECKAUTH
    xml = tmp_path / "offers.xml"
    xml.write_bytes(b"<x/>")
    client.checkauth("catalog")
    client.init("catalog", version="3.1")
    client.upload("catalog", "offers.xml", xml)
    client.complete("catalog")

    root = server.url_root
    assert server.paths[1:] == [
        f"{root}?type=catalog&mode=init&&version=3.1",
        f"{root}?type=catalog&mode=file&filename=offers.xml&",
        f"{root}?type=catalog&mode=complete&",
    ]
    assert server.requests[1].headers["cookie"] == "exchange_auth=abc123"


def test_checkauth_tolerates_bom_crlf_and_windows_1251(server, client):
    server.checkauth_body = codecs.BOM_UTF8 + b"success\r\nPHPSESSID\r\nabc123\r\nsessid=tok42\r\n"
    session = client.checkauth("sale")
    assert (session.cookie_name, session.cookie_value, session.url_token) == (
        "PHPSESSID",
        "abc123",
        "sessid=tok42",
    )
    assert session.timestamp_line is None

    server.checkauth_body = "success\nPHPSESSID\nзначение\n".encode("cp1251")
    assert client.checkauth("sale").cookie_value == "значение"


def test_checkauth_failure_raises_with_the_servers_text(server, client):
    server.checkauth_body = "failure\nОшибка авторизации. Неверное имя пользователя или пароль.".encode("cp1251")
    with pytest.raises(ExchangeFailure) as caught:
        client.checkauth("catalog")

    assert caught.value.mode == "checkauth"
    assert caught.value.text == "Ошибка авторизации. Неверное имя пользователя или пароль."
    assert client.session is None


def test_checkauth_success_without_cookie_lines_is_a_protocol_error(server, client):
    server.checkauth_body = b"success\n"
    with pytest.raises(ProtocolError, match="cookie"):
        client.checkauth("catalog")


# --- init ------------------------------------------------------------------------------------


def test_init_parses_zip_file_limit_sessid_and_version(server, client):
    server.init_body = b"zip=yes\r\nfile_limit=204800\r\nsessid=tok42\r\nversion=2.09\r\n"
    client.checkauth("sale")
    result = client.init("sale", version="2.08")

    assert (result.zip, result.file_limit, result.sessid, result.version) == (
        True,
        204800,
        "tok42",
        "2.09",
    )


def test_init_without_file_limit_is_a_protocol_error(server, client):
    server.init_body = b"zip=no\n"
    client.checkauth("catalog")
    with pytest.raises(ProtocolError, match="file_limit"):
        client.init("catalog")


# --- upload ----------------------------------------------------------------------------------


def test_upload_splits_the_file_into_file_limit_parts_with_the_same_name(server, client, tmp_path):
    data = bytes(range(256)) * 10  # 2560 bytes
    source = tmp_path / "import.xml"
    source.write_bytes(data)
    client.checkauth("catalog")
    client.init("catalog")  # file_limit=1000

    result = client.upload("catalog", "import.xml", source)

    posts = server.by_mode("file")
    assert [r.method for r in posts] == ["POST"] * 3
    assert [r.body_size for r in posts] == [1000, 1000, 560]
    assert [int(r.headers["content-length"]) for r in posts] == [1000, 1000, 560]
    assert all("transfer-encoding" not in r.headers for r in posts)
    assert all(r.headers["content-type"] == "application/octet-stream" for r in posts)
    assert {r.filename for r in posts} == {"import.xml"}
    assert bytes(server.files["import.xml"]) == data
    assert result.part_sizes == (1000, 1000, 560)


def test_upload_sends_the_whole_file_when_file_limit_is_not_positive(server, client, tmp_path):
    server.init_body = b"zip=no\nfile_limit=0"
    source = tmp_path / "import.xml"
    source.write_bytes(b"x" * 5000)
    client.checkauth("catalog")
    client.init("catalog")

    client.upload("catalog", "import.xml", source)

    assert [r.body_size for r in server.by_mode("file")] == [5000]


def test_upload_streams_from_disk_without_holding_the_file(server, client, tmp_path):
    size = 24 * 1024 * 1024
    source = tmp_path / "big.xml"
    with source.open("wb") as stream:
        for _ in range(size // (1024 * 1024)):
            stream.write(b"\x01" * (1024 * 1024))
    server.keep_bodies = False
    client.checkauth("catalog")

    tracemalloc.start()
    try:
        client.upload("catalog", "big.xml", source, file_limit=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [r.body_size for r in server.by_mode("file")] == [size]
    assert peak < size // 8


def test_upload_keeps_sub_paths_with_slashes(server, client):
    client.checkauth("catalog")
    client.upload("catalog", "import_files/ab/ab01 фото.jpg", b"jpeg")

    (post,) = server.by_mode("file")
    assert post.path.endswith("&mode=file&filename=import_files/ab/ab01%20%D1%84%D0%BE%D1%82%D0%BE.jpg&sessid=tok42")
    assert post.filename == "import_files/ab/ab01 фото.jpg"


def test_upload_can_send_windows_style_names(server):
    with OneCClient(server.base_url, USER, PASSWORD, windows_filenames=True) as one_c:
        one_c.checkauth("catalog")
        one_c.upload("catalog", "import_files/ab/x.jpg", b"jpeg")

    (post,) = server.by_mode("file")
    assert post.filename == "import_files\\ab\\x.jpg"


def test_upload_failure_surfaces_the_text(server, client):
    server.overrides["file"] = (200, {}, "failure\nНе удалось записать файл".encode())
    client.checkauth("catalog")
    with pytest.raises(ExchangeFailure, match="Не удалось записать файл"):
        client.upload("catalog", "import.xml", b"<x/>")


# --- import ----------------------------------------------------------------------------------


def test_import_repeats_the_same_request_while_progress(server, client):
    server.progress_per_import = 3
    client.checkauth("catalog")

    result = client.import_file("import0_1.xml")

    imports = server.by_mode("import")
    assert len(imports) == 4
    assert len({r.path for r in imports}) == 1
    assert result.progress == ("Шаг 1", "Шаг 2", "Шаг 3")
    assert result.message == "Импорт успешно завершен."
    assert result.polls == 4


def test_import_failure_raises_with_the_servers_text(server, client):
    server.overrides["import"] = (
        200,
        {"Content-Type": "text/plain; charset=windows-1251"},
        "failure\nОшибка импорта метаданных.".encode("cp1251"),
    )
    client.checkauth("catalog")
    with pytest.raises(ExchangeFailure) as caught:
        client.import_file("import.xml")

    assert caught.value.mode == "import"
    assert caught.value.text == "Ошибка импорта метаданных."


def test_import_gives_up_after_max_progress_polls(server):
    server.progress_per_import = 1000
    with OneCClient(server.base_url, USER, PASSWORD, max_progress_polls=5) as one_c:
        one_c.checkauth("catalog")
        with pytest.raises(ProgressLimitExceeded):
            one_c.import_file("import.xml")

    assert len(server.by_mode("import")) == 5


# --- protocol errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ((302, {"Location": "/login/"}, b""), "redirect 302"),
        ((200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html>Oops</html>"), "HTML"),
        ((500, {}, b"failure\nInternal error"), "HTTP status 500"),
        ((200, {}, b""), "empty answer"),
        ((200, {}, b"\r\n"), "empty answer"),
        ((200, {}, b"ok\n"), "first line 'ok'"),
        ((200, {}, b"progress\n"), "first line 'progress'"),
    ],
    ids=["redirect", "html", "status-500", "empty", "blank", "unknown-word", "progress-on-init"],
)
def test_broken_answers_are_protocol_errors(server, client, response, message):
    server.overrides["complete"] = response
    client.checkauth("catalog")
    with pytest.raises(ProtocolError, match=message):
        client.complete("catalog")

    # The redirect was not followed: the server saw exactly one complete request.
    assert [r.mode for r in server.requests] == ["checkauth", "complete"]
    assert client.records[-1].error is not None


def test_unreachable_server_is_a_protocol_error():
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/1c/exchange"
    with (
        OneCClient(url, USER, PASSWORD, timeout=2) as one_c,
        pytest.raises(ProtocolError, match="transport error"),
    ):
        one_c.checkauth("catalog")

    assert one_c.records[-1].status is None


def test_html_login_page_on_checkauth_is_a_protocol_error(server, client):
    server.checkauth_body = b"<html><body>Login</body></html>"
    with pytest.raises(ProtocolError, match="HTML"):
        client.checkauth("catalog")


# --- records ---------------------------------------------------------------------------------


def test_every_request_is_recorded(server, client):
    server.progress_per_import = 1

    def slow_checkauth(request: Recorded) -> Response:
        time.sleep(0.2)
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, BITRIX_CHECKAUTH

    server.overrides["checkauth"] = slow_checkauth
    client.checkauth("catalog")
    client.import_file("import.xml")

    assert [(r.method, r.mode, r.status, r.first_line) for r in client.records] == [
        ("GET", "checkauth", 200, "success"),
        ("GET", "import", 200, "progress"),
        ("GET", "import", 200, "success"),
    ]
    assert client.records[1].url == server.base_url + "?type=catalog&mode=import&filename=import.xml&sessid=tok42"
    assert client.records[1].detail == "Шаг 1"
    assert client.records[0].elapsed >= 0.2  # the time the request took, as the server made it wait
    assert all(r.elapsed > 0 for r in client.records)


# --- catalog scenario ------------------------------------------------------------------------


def test_import_order_puts_import_before_offers_prices_and_rests():
    names = [
        "rests.xml",
        "zzz.xml",
        "prices.xml",
        "offers0_1.xml",
        "import0_10.xml",
        "import0_2.xml",
    ]
    assert sorted(names, key=import_order_key) == [
        "import0_2.xml",
        "import0_10.xml",
        "offers0_1.xml",
        "prices.xml",
        "rests.xml",
        "zzz.xml",
    ]


def test_package_collection_keeps_relative_names_and_ignores_stray_files(package):
    names = [f.name for f in collect_catalog_files(package)]
    assert names == [
        "import0_1.xml",
        "import0_2.xml",
        "offers0_1.xml",
        "prices0_1.xml",
        "rests0_1.xml",
        "import_files/ab/ab01_photo.jpg",
        "import_files/cd/cd02_photo.png",
    ]


def test_catalog_exchange_without_zip_uploads_each_file_then_imports_xml_in_order(server, client, package):
    server.init_body = b"zip=no\nfile_limit=1000"
    server.progress_per_import = 2

    report = client.run_catalog_exchange(package)

    modes = [r.mode for r in server.requests]
    assert modes[:2] == ["checkauth", "init"]
    uploads = [r.filename for r in server.by_mode("file")]
    # import0_1.xml is 2603 bytes: three parts with file_limit=1000.
    assert uploads == [
        "import0_1.xml",
        "import0_1.xml",
        "import0_1.xml",
        "import0_2.xml",
        "offers0_1.xml",
        "prices0_1.xml",
        "rests0_1.xml",
        "import_files/ab/ab01_photo.jpg",
        "import_files/cd/cd02_photo.png",
    ]
    assert server.files["import_files/ab/ab01_photo.jpg"] == b"\xff\xd8jpeg-a"
    assert server.files["import0_1.xml"] == (package / "import0_1.xml").read_bytes()
    import_names = [r.filename for r in server.by_mode("import")]
    assert import_names == [name for name in uploads[2:7] for _ in range(3)]
    assert modes[-1] == "complete"
    assert "deactivate" not in modes
    assert report.requests == len(server.requests)
    assert len(report.progress_texts) == 10
    assert [i.filename for i in report.imports] == uploads[2:7]


def test_catalog_exchange_with_zip_uploads_one_archive_with_relative_paths(server, client, package):
    server.init_body = b"zip=yes\nfile_limit=500"

    client.run_catalog_exchange(package)

    uploads = server.by_mode("file")
    assert {r.filename for r in uploads} == {"import.zip"}
    assert len(uploads) > 1  # the archive too is split by file_limit
    archive = zipfile.ZipFile(io.BytesIO(bytes(server.files["import.zip"])))
    assert sorted(archive.namelist()) == [
        "import0_1.xml",
        "import0_2.xml",
        "import_files/ab/ab01_photo.jpg",
        "import_files/cd/cd02_photo.png",
        "offers0_1.xml",
        "prices0_1.xml",
        "rests0_1.xml",
    ]
    assert archive.read("import_files/cd/cd02_photo.png") == b"\x89PNG-b"
    assert [r.filename for r in server.by_mode("import")] == [
        "import0_1.xml",
        "import0_2.xml",
        "offers0_1.xml",
        "prices0_1.xml",
        "rests0_1.xml",
    ]


def test_catalog_exchange_archive_name_is_a_parameter(server, client, package):
    server.init_body = b"zip=yes\nfile_limit=0"
    client.run_catalog_exchange(package, archive_name="webdata.zip")
    assert [r.filename for r in server.by_mode("file")] == ["webdata.zip"]


def test_no_zip_overrides_the_servers_zip_yes(server, client, package):
    server.init_body = b"zip=yes\nfile_limit=0"
    client.run_catalog_exchange(package, use_zip=False)
    assert "import.zip" not in {r.filename for r in server.by_mode("file")}
    assert len(server.by_mode("file")) == 7


def test_deactivate_carries_the_checkauth_timestamp_line(server, client, package):
    client.run_catalog_exchange(package, deactivate=True, version="3.1")

    assert [r.mode for r in server.requests[-2:]] == ["deactivate", "complete"]
    assert server.requests[-2].path == (
        f"{server.url_root}?type=catalog&mode=deactivate&sessid=tok42&timestamp=1700000000"
    )
    assert server.by_mode("init")[0].path.endswith("&mode=init&sessid=tok42&version=3.1")


def test_catalog_exchange_stops_at_the_first_import_failure(server, client, package):
    def fail_offers(request: Recorded) -> Response:
        if request.filename.startswith("offers"):
            return 200, {}, "failure\nНет товара с Ид 42".encode()
        return 200, {}, b"success\n"

    server.overrides["import"] = fail_offers
    with pytest.raises(ExchangeFailure, match="Нет товара с Ид 42"):
        client.run_catalog_exchange(package)

    assert [r.filename for r in server.by_mode("import")] == [
        "import0_1.xml",
        "import0_2.xml",
        "offers0_1.xml",
    ]
    assert "complete" not in [r.mode for r in server.requests]


# --- sale scenario ---------------------------------------------------------------------------


def test_sale_exchange_new_scheme_queries_confirms_then_uploads_and_imports(server, client, tmp_path):
    server.checkauth_body = b"success\nPHPSESSID\nabc123\nsessid=tok42\n"
    server.init_body = b"zip=no\nfile_limit=204800\nsessid=tok42\nversion=2.09\n"
    server.progress_per_import = 1
    changes = tmp_path / "documents___1.xml"
    changes.write_bytes("<КоммерческаяИнформация/>".encode())
    out = tmp_path / "orders.xml"

    result = client.run_sale_exchange([changes], orders_path=out)

    root = server.url_root
    assert server.paths == [
        f"{root}?type=sale&mode=checkauth",
        f"{root}?type=sale&mode=init&sessid=tok42&version=2.08",
        f"{root}?type=sale&mode=query&sessid=tok42",
        f"{root}?type=sale&mode=success&sessid=tok42",
        f"{root}?type=sale&mode=file&filename=documents___1.xml&sessid=tok42",
        f"{root}?type=sale&mode=import&filename=documents___1.xml&sessid=tok42",
        f"{root}?type=sale&mode=import&filename=documents___1.xml&sessid=tok42",
    ]
    assert result.orders.content == ORDERS_XML_1251
    assert out.read_bytes() == ORDERS_XML_1251
    assert result.orders.encoding == "windows-1251"
    assert "Позвонить до обеда" in result.orders.text
    assert result.orders.root_tag == "КоммерческаяИнформация"
    assert result.report.progress_texts == ["Шаг 1"]


def test_sale_exchange_legacy_scheme_uploads_changes_without_import(server, client, tmp_path):
    server.checkauth_body = CLASSIC_CHECKAUTH
    changes = tmp_path / "orders-1.xml"
    changes.write_bytes(b"<x/>")

    client.run_sale_exchange([changes], version=None)

    root = server.url_root
    assert server.paths[1:] == [
        f"{root}?type=sale&mode=init&",
        f"{root}?type=sale&mode=query&",
        f"{root}?type=sale&mode=success&",
        f"{root}?type=sale&mode=file&filename=orders-1.xml&",
    ]


def test_query_keeps_the_bom_and_decodes_utf8(server, client):
    body = codecs.BOM_UTF8 + '<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация/>'.encode()
    server.orders_body = body
    client.checkauth("sale")

    orders = client.query("sale")

    assert orders.content == body
    assert orders.has_bom
    assert orders.text.startswith("<?xml")


@pytest.mark.parametrize(
    "body",
    [b"<?xml version='1.0'?><a><b></a>", b"<html><body>Fatal error</body></html>", b""],
    ids=["broken-xml", "html", "empty"],
)
def test_unusable_query_answer_is_a_protocol_error_and_is_not_confirmed(server, client, body):
    server.orders_body = body
    with pytest.raises(ProtocolError):
        client.run_sale_exchange()

    assert "success" not in [r.mode for r in server.requests]


def test_query_failure_raises_exchange_failure(server, client):
    server.orders_body = "failure\nНет доступа".encode()
    client.checkauth("sale")
    with pytest.raises(ExchangeFailure, match="Нет доступа"):
        client.query("sale")


# --- command line ----------------------------------------------------------------------------


def test_cli_catalog_exchange_prints_steps_and_exits_0(server, package, capsys):
    code = main(
        [
            "catalog",
            "--url",
            server.base_url,
            "--user",
            USER,
            "--password",
            PASSWORD,
            "--no-zip",
            str(package),
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "checkauth" in out and "complete" in out
    assert "catalog exchange finished" in out


def test_cli_reads_the_password_from_the_environment(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXCHANGE_PASSWORD", PASSWORD)
    out_file = tmp_path / "orders.xml"

    code = main(["sale", "--url", server.base_url, "--user", USER, "--out", str(out_file)])

    assert code == 0
    assert server.requests[0].headers["authorization"] == BASIC
    assert out_file.read_bytes() == ORDERS_XML_1251


def test_cli_exits_1_and_prints_the_failure_text(server, package, capsys):
    server.checkauth_body = "failure\nНеверный пароль".encode()
    code = main(["catalog", "--url", server.base_url, "--user", USER, "--password", "x", str(package)])

    assert code == 1
    assert "Неверный пароль" in capsys.readouterr().err


def test_cli_exits_2_on_protocol_errors(server, package, capsys):
    server.overrides["init"] = (500, {}, b"Internal Server Error")
    code = main(["catalog", "--url", server.base_url, "--user", USER, "--password", PASSWORD, str(package)])

    assert code == 2
    assert "HTTP status 500" in capsys.readouterr().err


def test_a_zipped_query_answer_is_unpacked_and_its_orders_listed(server, client):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("orders.xml", ORDERS_XML_1251)
    server.orders_body = archive.getvalue()
    client.checkauth("sale")

    orders = client.query("sale", zip=True)

    assert server.requests[-1].query["zip"] == ["yes"]
    assert orders.archive == archive.getvalue()
    assert orders.content == ORDERS_XML_1251
    assert [document.id for document in orders.documents] == ["1"]


def test_a_query_archive_with_two_files_is_a_protocol_error(server, client):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.xml", ORDERS_XML_1251)
        zipped.writestr("b.xml", ORDERS_XML_1251)
    server.orders_body = archive.getvalue()
    client.checkauth("sale")

    with pytest.raises(ProtocolError, match="2 files"):
        client.query("sale")


def test_the_reply_document_reads_back_as_1c_s_changes(tmp_path):
    from commerceml import iter_records
    from commerceml.records import Document
    from emulator import OrderSummary, order_changes_document

    path = tmp_path / "documents___1.xml"
    order = OrderSummary(id="000001", number="000001", amount="10.00", buyer="Анна", lines=("p#1",))
    path.write_bytes(order_changes_document([order], status_id="confirmed", paid=True))

    (document,) = [record for record in iter_records(path) if isinstance(record, Document)]

    assert (document.id, document.onec_number) == ("000001", "ЗК-000001")
    assert ("Статуса заказа ИД", "confirmed") in document.requisites
    assert ("Оплачен", "true") in document.requisites
