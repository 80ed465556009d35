"""Typed readers for environment variables.

Every variable the project reads goes through one of these functions, which also records it in
``REGISTRY`` (name, default, meaning). README's configuration table is checked against the
registry by a test, so a new knob cannot be added without being documented.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    default: str
    help: str


REGISTRY: dict[str, EnvVar] = {}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ImproperEnvironment(ValueError):
    """An environment variable has a value the project cannot use."""


def _register(name: str, default: object, help: str) -> str | None:
    REGISTRY[name] = EnvVar(name=name, default=str(default), help=help)
    return os.environ.get(name)


def env_str(name: str, default: str, help: str) -> str:
    raw = _register(name, default, help)
    return default if raw is None else raw


def env_int(name: str, default: int, help: str) -> int:
    raw = _register(name, default, help)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip().replace("_", ""))
    except ValueError as exc:
        raise ImproperEnvironment(f"{name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float, help: str) -> float:
    raw = _register(name, default, help)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw.strip())
    except ValueError as exc:
        raise ImproperEnvironment(f"{name} must be a number, got {raw!r}") from exc


def env_bool(name: str, default: bool, help: str) -> bool:
    raw = _register(name, "1" if default else "0", help)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperEnvironment(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_list(name: str, default: str, help: str) -> list[str]:
    raw = env_str(name, default, help)
    return [item.strip() for item in raw.split(",") if item.strip()]
