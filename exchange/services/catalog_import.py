"""Catalog import orchestration behind ``type=catalog`` ``mode=import|complete|deactivate``.

PLACEHOLDER until the catalog importer lands: it records nothing beyond what the endpoint
records and answers as the reference server does for a file it accepted. The endpoint calls
exactly these three functions; their signatures are the contract.
"""

from __future__ import annotations

from collections.abc import Mapping

from exchange.models import ExchangeSession
from exchange.protocol import Answer, success


def catalog_import_step(*, session: ExchangeSession, filename: str) -> Answer:
    """One ``mode=import`` call for ``filename`` (already normalised, relative to the session's
    upload folder, archives already unpacked). Returns progress/success, raises ExchangeError."""
    return success("Импорт успешно завершен.")


def catalog_deactivate(*, session: ExchangeSession, params: Mapping[str, str]) -> Answer:
    """``mode=deactivate`` after a full package exchange (CommerceML 3.1)."""
    return success("Деактивация элементов завершена.")


def catalog_complete(*, session: ExchangeSession) -> Answer:
    """``mode=complete``: the last call of a catalog exchange."""
    return success("Завершение процедуры импорта")
