"""GET /health tells a load balancer or a person whether the shop can work: database and broker."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.db import OperationalError, connections
from django.test import Client
from pytest_django.fixtures import Settings

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on (bound once to find a free one, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_healthy_shop_answers_200_with_each_part_ok(client: Client) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_unreachable_broker_answers_503_naming_the_broker(
    client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    # Celery's configuration reads through to Django's settings and prefers the environment
    # variable, so its own value is saved first and all three point at the closed port; all
    # three are put back after the test.
    monkeypatch.setattr(celery_app.conf, "broker_url", url)
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    settings.CELERY_BROKER_URL = url

    response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("unavailable", "ok")
    assert body["broker"].startswith("error: ")


def test_unreachable_database_answers_503_naming_the_database(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "error: OperationalError", "broker": "ok"}


def test_broker_is_reachable_again_after_the_broker_test(client: Client) -> None:
    """Guards the restore above: a leaked broker URL would break every later test that queues."""
    assert client.get("/health").json()["broker"] == "ok"


def test_health_is_read_only(client: Client) -> None:
    assert client.post("/health").status_code == 405
