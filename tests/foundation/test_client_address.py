"""Whose address a request has: X-Forwarded-For counts only behind TRUSTED_PROXIES proxies."""

from __future__ import annotations

import logging

import pytest
from django.test import RequestFactory

import config.http
from config.http import client_address


def request(remote: str = "203.0.113.5", forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_proxies_the_forwarded_header_is_ignored(settings) -> None:
    settings.TRUSTED_PROXIES = 0

    assert client_address(request(forwarded="198.51.100.1")) == "203.0.113.5"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # what the client wrote itself is skipped
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "198.51.100.1"),
        (1, "not-an-address", None),
    ],
)
def test_behind_proxies_the_client_is_counted_from_the_right(settings, proxies, forwarded, expected) -> None:
    settings.TRUSTED_PROXIES = proxies

    assert client_address(request(remote="10.0.0.1", forwarded=forwarded)) == expected


def test_an_unconfigured_proxy_in_front_is_reported_once(
    settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TRUSTED_PROXIES = 0
    monkeypatch.setattr(config.http, "_warned_about_proxy", False)

    with caplog.at_level(logging.WARNING, logger="config.http"):
        for _ in range(3):
            client_address(request(remote="127.0.0.1", forwarded="198.51.100.1"))

    assert len([r for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]) == 1
