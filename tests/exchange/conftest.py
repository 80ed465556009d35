"""Fixtures of the exchange endpoint's tests: an exchange user and a 1C-like client on Django's
test client (the real-process client is the emulator, in tests/e2e)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.test.client import Client as DjangoClient

from customers.models import User

PASSWORD = "Exchange-pass-2024"
ENDPOINT = "/1c/exchange"


def make_exchange_user(email: str = "1c-exchange", password: str = PASSWORD, **extra: object) -> User:
    user = User.objects.create_user(email=email, password=password, **extra)
    user.user_permissions.add(Permission.objects.get(codename="exchange_1c"))
    return user


@pytest.fixture
def exchange_user(db: None) -> User:
    return make_exchange_user()


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class Response:
    """An answer as 1C reads it."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.status_code: int = raw.status_code
        self.content_type: str = raw["Content-Type"]
        self.content: bytes = b"".join(raw.streaming_content) if raw.streaming else raw.content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


class OneC:
    """Sends what 1C sends: Basic only on checkauth, then the cookie from answer lines 2-3 and
    ``"&" + line 4`` appended to every URL (protocol.md §1.3)."""

    def __init__(
        self,
        client: DjangoClient,
        *,
        username: str,
        password: str,
        exchange_type: str = "catalog",
        endpoint: str = ENDPOINT,
    ) -> None:
        self.client = client
        self.username = username
        self.password = password
        self.exchange_type = exchange_type
        self.endpoint = endpoint
        self.suffix = ""  # "&" + line 4 of checkauth
        self.cookie: tuple[str, str] | None = None
        self.checkauth_lines: list[str] = []

    @property
    def session_key(self) -> str:
        assert self.cookie is not None
        return self.cookie[1]

    def url(self, mode: str, **params: str) -> str:
        query = f"type={self.exchange_type}&mode={mode}"
        for key, value in params.items():
            query += f"&{key}={quote(value, safe='')}"
        return f"{self.endpoint}?{query}{self.suffix}"

    def _cookies(self) -> None:
        self.client.cookies.clear()  # 1C ignores Set-Cookie; it sends lines 2-3 itself
        if self.cookie:
            self.client.cookies[self.cookie[0]] = self.session_key

    def checkauth(self, *, password: str | None = None, **extra: Any) -> Response:
        self.client.cookies.clear()
        headers: dict[str, Any] = {
            "HTTP_AUTHORIZATION": basic(self.username, self.password if password is None else password)
        }
        headers.update(extra)
        url = f"{self.endpoint}?type={self.exchange_type}&mode=checkauth"
        response = Response(self.client.get(url, **headers))
        lines = response.lines
        if lines[0] == "success":
            self.checkauth_lines = lines
            self.cookie = (lines[1], lines[2])
            self.suffix = "&" + lines[3]
        return response

    def get(self, mode: str, **params: str) -> Response:
        self._cookies()
        return Response(self.client.get(self.url(mode, **params)))

    def init(self, **params: str) -> Response:
        return self.get("init", **params)

    def post_file(self, filename: str, data: bytes) -> Response:
        self._cookies()
        return Response(
            self.client.generic(
                "POST", self.url("file", filename=filename), data, content_type="application/octet-stream"
            )
        )

    def upload(self, filename: str, data: bytes, part_size: int) -> list[Response]:
        return [self.post_file(filename, data[i : i + part_size]) for i in range(0, max(len(data), 1), part_size)]

    def import_file(self, filename: str) -> Response:
        return self.get("import", filename=filename)

    def import_until_done(self, filename: str, limit: int = 50) -> list[Response]:
        answers = []
        for _ in range(limit):
            answers.append(self.import_file(filename))
            if answers[-1].lines[0] != "progress":
                return answers
        raise AssertionError(f"still progress after {limit} import calls")


@pytest.fixture
def onec(exchange_user: User) -> OneC:
    return OneC(Client(), username=exchange_user.email, password=PASSWORD)


@pytest.fixture
def catalog(onec: OneC) -> OneC:
    """A catalog exchange after checkauth and init."""
    assert onec.checkauth().lines[0] == "success"
    assert onec.init().status_code == 200
    return onec


@pytest.fixture
def sale_onec(exchange_user: User) -> Iterator[OneC]:
    client = OneC(Client(), username=exchange_user.email, password=PASSWORD, exchange_type="sale")
    assert client.checkauth().lines[0] == "success"
    assert client.init(version="2.08").status_code == 200
    yield client


def assert_answer(response: Response, *lines: str) -> None:
    """HTTP 200, text/plain UTF-8, and exactly these lines (plus the final newline)."""
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.text == "\n".join(lines) + "\n", response.text


@pytest.fixture
def small_disk(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Callable[[int], None]:
    """``small_disk(free)``: from now on the exchange folder sits on a disk with ``free`` bytes
    left, and every byte then written under EXCHANGE_DATA_DIR takes from them (what the upload
    guards see as free space)."""
    from exchange.services import uploads

    def used() -> int:
        data_dir = Path(settings.EXCHANGE_DATA_DIR)
        return sum(p.lstat().st_size for p in data_dir.rglob("*") if p.is_file())

    def install(free: int) -> None:
        capacity = used() + free
        monkeypatch.setattr(uploads, "_free_bytes", lambda folder: capacity - used())

    return install
