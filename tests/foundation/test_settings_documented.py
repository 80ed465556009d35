"""Every environment variable the project reads is in README's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

from config.env import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "catalog", "orders", "customers", "exchange", "observability", "commerceml", "emulator")
# A call such as env_int("PORT", ...): some are made only when a command runs, so the sources are
# read as well as the registry filled by importing the settings.
ENV_CALL = re.compile(r"""\benv_(?:str|int|bool|list)\(\s*["']([A-Z][A-Z0-9_]*)["']""")
TABLE_ROW_NAME = re.compile(r"^\|\s*`?([A-Z][A-Z0-9_]*)`?\s*\|", re.MULTILINE)


def variables_read() -> set[str]:
    import config.run

    config.run.commands()  # registers the variables `make run` reads
    names = set(REGISTRY)
    for package in PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            names |= set(ENV_CALL.findall(source.read_text(encoding="utf-8")))
    return names


def variables_documented() -> set[str]:
    return set(TABLE_ROW_NAME.findall((ROOT / "README.md").read_text(encoding="utf-8")))


def test_the_variable_scan_finds_the_known_ones() -> None:
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SHOP_ORDER_NUMBER_PREFIX", "PORT"} <= variables_read()


def test_every_environment_variable_is_in_the_readme_table() -> None:
    assert sorted(variables_read() - variables_documented()) == []
