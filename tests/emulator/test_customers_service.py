"""The fake 1C customers service: the contract's behaviour a site relies on, and its command."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.customers_service import CustomersService

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def service() -> Iterator[CustomersService]:
    fake = CustomersService(seed=1)
    fake.serve()
    yield fake
    fake.stop()


def test_a_repeated_export_gets_the_same_1c_id(service: CustomersService) -> None:
    first = httpx.post(service.url, json={"site_id": "7", "onec_id": None, "email": "a@example.com"})
    again = httpx.post(service.url, json={"site_id": "7", "onec_id": None, "email": "b@example.com"})

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["onec_id"] == again.json()["onec_id"]
    assert len(service.customers) == 1
    assert service.customers[first.json()["onec_id"]]["email"] == "b@example.com"


def test_an_unknown_1c_id_and_a_missing_site_id_are_client_errors(service: CustomersService) -> None:
    assert httpx.post(service.url, json={"site_id": "7", "onec_id": "nope"}).status_code == 404
    assert httpx.post(service.url, json={"email": "a@example.com"}).status_code == 400
    assert httpx.post(service.url, content=b"{broken").status_code == 400


def test_import_pages_oldest_change_first(service: CustomersService) -> None:
    ids = [service.add_counterparty(email=f"c{n}@example.com", price_type_id="pt") for n in range(3)]

    page1 = httpx.get(service.url, params={"offset": 0, "limit": 2}).json()
    page2 = httpx.get(service.url, params={"offset": 2, "limit": 2}).json()

    assert [c["onec_id"] for c in page1["customers"]] == ids[:2] and page1["has_more"] is True
    assert [c["onec_id"] for c in page2["customers"]] == ids[2:] and page2["has_more"] is False
    assert page1["customers"][0]["price_type_id"] == "pt"


def test_fail_rate_fails_about_that_share(service: CustomersService) -> None:
    service.fail_rate = 0.2
    statuses = [httpx.post(service.url, json={"site_id": str(n)}).status_code for n in range(200)]

    failures = sum(status >= 500 for status in statuses)
    assert 20 <= failures <= 60
    assert service.stats.failures == failures


def test_basic_auth_when_configured(service: CustomersService) -> None:
    service.user, service.password = "site", "secret"
    assert httpx.get(service.url).status_code == 401
    assert httpx.get(service.url, auth=("site", "secret")).status_code == 200


def test_the_command_serves_the_contract() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "customers-service", "--port", str(port), "--fail-rate", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/customers"
        deadline = time.monotonic() + 15
        while True:
            try:
                answer = httpx.post(url, json={"site_id": "1"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.1)
        assert answer.status_code == 201 and answer.json()["onec_id"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
