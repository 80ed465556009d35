"""The nginx site of deploy/ in front of a real gunicorn and a real worker: 1C's Basic auth passes
through, big parts are accepted and buffered, the import runs, and the exchange folder is never
served. Skips (fails with REQUIRE_SERVICES=1) where nginx is not installed."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import global_settings
from prometheus_client.parser import text_string_to_metric_families

from catalog.models import Product
from emulator.client import OneCClient
from exchange.models import ExchangeFile, ExchangeRequestLog, ExchangeSession, ImportSession
from exchange.services.uploads import session_upload_dir
from tests.e2e.servers import free_port, gunicorn, stop_process, wait_until_up
from tests.exchange.conftest import PASSWORD, make_exchange_user
from tests.services import ROOT, need

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SITE = ROOT / "deploy" / "nginx" / "shop1c.conf"
SAMPLES = ROOT / "tests" / "data" / "cml" / "cml207-dobromyslov"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def render_site(*, listen_port: int, app_port: int, static_root: Path, media_root: Path) -> str:
    """deploy/nginx/shop1c.conf with this test's addresses and folders; each value the docs tell
    an operator to edit must be there exactly once, so the test follows the file."""
    text = SITE.read_text()
    for old, new in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("listen 80;", f"listen 127.0.0.1:{listen_port};"),
        ("alias /srv/shop1c/var/static/;", f"alias {static_root}/;"),
        ("alias /srv/shop1c/var/media/;", f"alias {media_root}/;"),
    ):
        assert text.count(old) == 1, f"{old!r} is not in {SITE.name} exactly once"
        text = text.replace(old, new)
    return text


@dataclass
class Nginx:
    base_url: str
    port: int
    access_log: Path
    error_log: Path


@contextmanager
def nginx(folder: Path, *, app_port: int, static_root: Path, media_root: Path) -> Iterator[Nginx]:
    binary = nginx_binary()
    need(binary is not None, "needs nginx (Debian package nginx; .ci/run installs it)")
    assert binary is not None
    folder.mkdir()
    port = free_port()
    (folder / "site.conf").write_text(
        render_site(listen_port=port, app_port=app_port, static_root=static_root, media_root=media_root)
    )
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    # Run as root, nginx's workers would switch to "nobody", who may not enter the test's folders.
    user = "user root;" if os.geteuid() == 0 else ""
    mime_types = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    (folder / "nginx.conf").write_text(
        f"""
        {user}
        worker_processes 1;
        daemon off;
        pid {folder}/nginx.pid;
        error_log {folder}/error.log info;
        events {{ worker_connections 64; }}
        http {{
            {mime_types}
            log_format ids '$request_id $status "$request"';
            access_log {folder}/access.log ids;
            client_body_temp_path {temp["body"]};
            proxy_temp_path {temp["proxy"]};
            fastcgi_temp_path {temp["fastcgi"]};
            uwsgi_temp_path {temp["uwsgi"]};
            scgi_temp_path {temp["scgi"]};
            include {folder}/site.conf;
        }}
        """
    )
    log = folder / "stderr.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base_url}/health", process, log, "nginx")
        yield Nginx(base_url=base_url, port=port, access_log=folder / "access.log", error_log=folder / "error.log")
    finally:
        stop_process(process)


def _catalog_with_a_big_image(folder: Path) -> Path:
    """The sample catalog plus 3 MiB of incompressible image: a zip over nginx's default 1 MiB."""
    folder.mkdir()
    for name in ("import0_1.xml", "offers0_1.xml"):
        shutil.copy(SAMPLES / name, folder / name)
    images = folder / "import_files" / "ab"
    images.mkdir(parents=True)
    (images / "noise.jpg").write_bytes(os.urandom(3 * 1024 * 1024))
    return folder


def test_a_catalog_exchange_through_nginx(worker, tmp_path: Path, settings) -> None:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # what the server process checks with
    user = make_exchange_user().email
    static_root = tmp_path / "static"
    static_root.mkdir()
    (static_root / "site.css").write_text("body{}")
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    part = 2 * 1024 * 1024

    with (
        gunicorn(tmp_path / "gunicorn.log", workers=2, TRUSTED_PROXIES="1", EXCHANGE_FILE_LIMIT=str(part)) as app,
        nginx(tmp_path / "nginx", app_port=app.port, static_root=static_root, media_root=media_root) as proxy,
    ):
        metrics_before = _import_jobs_completed(proxy.base_url)
        with OneCClient(f"{proxy.base_url}/1c/exchange", user, PASSWORD, poll_interval=0.2) as onec:
            report = onec.run_catalog_exchange(_catalog_with_a_big_image(tmp_path / "catalog"), use_zip=True)
        session = ExchangeSession.objects.get()
        uploaded = session_upload_dir(session)
        answers = {path: _raw_get(proxy.port, path) for path in _exchange_folder_paths(uploaded, media_root)}
        (media_root / "photo.jpg").write_bytes(b"public image")
        media = _raw_get(proxy.port, "/media/photo.jpg")
        static = httpx.get(f"{proxy.base_url}/static/site.css", timeout=10)
        traced = httpx.get(f"{proxy.base_url}/health", timeout=10)
        metrics_after = _import_jobs_completed(proxy.base_url)
        access_log = proxy.access_log.read_text()

    # Basic auth reached the app through nginx; the archive went in two parts, the first over 1 MiB.
    assert report.auth is not None
    (upload,) = report.uploads
    assert len(upload.part_sizes) == 2 and upload.part_sizes[0] == part
    archive = ExchangeFile.objects.get(session=session, is_archive=True)
    assert (archive.size, archive.parts) == (upload.size, 2)
    assert zipfile.is_zipfile(uploaded / archive.name)
    # The import ran in the worker and 1C heard its outcome; complete closed the exchange.
    assert ImportSession.objects.get().status == ImportSession.Status.COMPLETED
    assert Product.objects.filter(onec_id="bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1", is_active=True).exists()
    assert session.status == ExchangeSession.Status.COMPLETED
    assert set(ExchangeRequestLog.objects.values_list("mode", flat=True)) == {
        "checkauth", "init", "file", "import", "complete",
    }  # fmt: skip
    assert not ExchangeRequestLog.objects.exclude(outcome__in=("success", "progress")).exists()
    # The worker process counted the import: the web's /metrics adds up every process's samples.
    assert metrics_after - metrics_before == 1
    # The exchange folder is never served, whatever path leads there.
    secret = (uploaded / "import0_1.xml").read_bytes()
    assert len(answers) == 6
    for path, (status, body) in answers.items():
        assert status in (400, 404) and secret not in body, path
    assert media == (200, b"public image")  # while media is served, by nginx
    # nginx serves the static folder itself, and its request id is the app's (trusted proxy).
    assert (static.status_code, static.text) == (200, "body{}")
    request_id = traced.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert f'{request_id} 200 "GET /health HTTP/1.1"' in access_log


def _exchange_folder_paths(uploaded: Path, media_root: Path) -> list[str]:
    """Paths an attacker would try: out of the media folder upwards, encoded, and straight."""
    relative = os.path.relpath(uploaded / "import0_1.xml", media_root)  # ../exchange/<session>/import0_1.xml
    data_relative = uploaded.relative_to(uploaded.parent.parent).as_posix()  # exchange/<session>
    return [
        f"/media/{relative}",
        f"/media/{relative.replace('../', '..%2f')}",
        f"/media/{relative.replace('..', '%2e%2e')}",
        f"/static/../{data_relative}/import0_1.xml",
        f"/{data_relative}/import0_1.xml",
        f"/media../{data_relative}/import0_1.xml",
    ]


def _raw_get(port: int, path: str) -> tuple[int, bytes]:
    """GET with the path sent byte for byte (HTTP clients would resolve the dot segments)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _import_jobs_completed(base_url: str) -> float:
    text = httpx.get(f"{base_url}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "import_jobs_total" and sample.labels == {"kind": "catalog", "outcome": "completed"}:
                return sample.value
    return 0.0
