"""Case-insensitive text search that also works for Cyrillic on SQLite.

SQLite's LIKE and LOWER() fold only ASCII letters, so ``icontains`` would not find "Ёлка" for
"ёлка" there. Both sides are folded the same way instead: the column through ``SearchFold`` (in
SQL), the query through ``search_fold`` (in Python). PostgreSQL's LOWER() is Unicode-aware under
any UTF-8 locale (C.UTF-8, en_US.UTF-8, ru_RU.UTF-8); on SQLite the fold is a Python function
registered on every new connection (see CatalogConfig.ready).

No stored search column: the catalog importer writes products with bulk upserts, and a derived
column it had to keep in step would be one more thing to get wrong.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Func, Value
from django.db.models.functions import Lower

SQLITE_FUNCTION = "shop_search_fold"


def search_fold(text: str) -> str:
    """Lowercase, with ё read as е (shoppers rarely type ё)."""
    return text.lower().replace("ё", "е")


class SearchFold(Func):
    """``search_fold`` of a text column, computed by the database."""

    function = "REPLACE"
    output_field = CharField()

    def __init__(self, expression: Any) -> None:
        super().__init__(Lower(expression), Value("ё"), Value("е"))

    def as_sqlite(self, compiler: Any, connection: BaseDatabaseWrapper, **extra_context: Any) -> Any:
        column = self.get_source_expressions()[0].get_source_expressions()[0]  # inside Lower()
        return Func(column, function=SQLITE_FUNCTION, output_field=CharField()).as_sql(compiler, connection)


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: teaches a new SQLite connection ``shop_search_fold``."""
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(
        SQLITE_FUNCTION, 1, lambda text: None if text is None else search_fold(text), deterministic=True
    )
