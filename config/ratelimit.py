"""Fixed-window rate limits counted on the shared cache.

Every web process counts against the same counters when the default cache is shared (Redis in
production): a per-process cache would multiply every limit by the number of workers. A slot is
taken with the cache's ``incr``, which is atomic on Redis (and within one process on the local
memory cache), so concurrent requests cannot all slip under the limit together.

Rates are written as DRF writes them: ``"20/hour"``, ``"5/min"``, ``"1000/day"``; an empty
rate means no limit.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.cache import cache

from config.env import ImproperEnvironment

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


def parse_rate(text: str, *, name: str = "rate") -> Rate | None:
    """``"20/hour"`` -> Rate(20, 3600); ``""`` -> None (no limit). Raises ImproperEnvironment."""
    if not text.strip():
        return None
    count, _, period = text.strip().partition("/")
    seconds = _PERIODS.get(period.strip()[:1].lower())
    if not count.strip().isdigit() or int(count) < 1 or seconds is None:
        raise ImproperEnvironment(f"{name} must look like 20/hour (count/second|minute|hour|day), got {text!r}")
    return Rate(count=int(count), seconds=seconds)


class RateLimited(Exception):
    """A limit is reached; ``wait`` is the number of seconds until its window ends."""

    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


@dataclass(frozen=True, slots=True)
class Limit:
    """One counter: ``rate`` for ``ident`` (a client address, a customer) within ``scope``."""

    scope: str
    ident: str
    rate: Rate | None


def rate_take(*limits: Limit) -> list[str]:
    """Take a slot of each limit; returns the cache keys taken, to give them back with
    ``rate_give_back`` when what was counted did not happen after all. Raises RateLimited (having
    given back what it took) when any limit is reached."""
    taken: list[str] = []
    for limit in limits:
        if limit.rate is None:
            continue
        now = time.time()
        window = int(now // limit.rate.seconds)
        digest = hashlib.sha256(limit.ident.encode()).hexdigest()[:32]
        key = f"ratelimit:{limit.scope}:{limit.rate}:{digest}:{window}"
        if _incr(key, timeout=limit.rate.seconds + 1) > limit.rate.count:
            rate_give_back([*taken, key])
            raise RateLimited(wait=(window + 1) * limit.rate.seconds - now)
        taken.append(key)
    return taken


def rate_give_back(keys: Sequence[str]) -> None:
    for key in keys:
        with contextlib.suppress(ValueError):  # the window has ended meanwhile: nothing to give back
            cache.decr(key)


def _incr(key: str, *, timeout: int) -> int:
    for _ in range(3):
        cache.add(key, 0, timeout=timeout)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            continue
    return cache.incr(key)
