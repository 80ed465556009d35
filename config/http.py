"""Request facts every app reads the same way: the client's address.

Behind N reverse proxies (TRUSTED_PROXIES) the client is the N-th address from the right of
X-Forwarded-For, the one the outermost trusted proxy saw; everything left of it is whatever the
client chose to send. With no proxy configured (the default) the header is ignored entirely, so a
spoofed X-Forwarded-For can never give a client a fresh identity for the login throttles. DRF's
rate throttles use the same rule (REST_FRAMEWORK["NUM_PROXIES"] is set from the same setting).
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest

logger = logging.getLogger(__name__)
_warned_about_proxy = False


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address as a normalised string, or None when there is no usable one."""
    proxies = int(settings.TRUSTED_PROXIES)
    if proxies > 0:
        forwarded = [part for part in str(request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if part.strip()]
        if forwarded:
            return _ip(forwarded[-min(proxies, len(forwarded))])
    address = _ip(str(request.META.get("REMOTE_ADDR") or ""))
    if address and "HTTP_X_FORWARDED_FOR" in request.META:
        _warn_once_about_a_proxy(address)
    return address


def _warn_once_about_a_proxy(address: str) -> None:
    """A forwarded request from a loopback or private address is most likely a proxy of our own:
    without TRUSTED_PROXIES every client then shares its address, and with it one login limit."""
    global _warned_about_proxy
    ip = ipaddress.ip_address(address)
    if not _warned_about_proxy and (ip.is_loopback or ip.is_private):
        _warned_about_proxy = True
        logger.warning(
            "X-Forwarded-For arrives from %s but TRUSTED_PROXIES=0: every client behind that proxy shares "
            "one address in the login throttles; set TRUSTED_PROXIES to the number of proxies in front",
            address,
        )
