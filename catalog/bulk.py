"""Set-based upserts keyed by unique columns, on PostgreSQL and SQLite.

PostgreSQL: rows are COPYed into a per-connection staging table and merged with one
``INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE changed`` — the fastest path measured in
../shared/reference/performance.md (≈100k rows/s); a handful of rows (``SMALL_BATCH``) skip the
staging table. SQLite (the embedded default) and small batches: one ``executemany`` of
``INSERT … ON CONFLICT DO UPDATE``. Either way a batch is a fixed, small
number of statements, never one per row.

Rows are tuples in the order of ``Table.columns``; ``created_at``/``updated_at`` are filled
here, and ``updated_at`` only moves when a value really changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections
from django.utils import timezone

# Up to this many rows a merge is one pipelined ``executemany`` of row statements instead of
# TRUNCATE + COPY into the staging table + one merge: a re-export changes a few rows per batch
# of 1000, and on the benchmark machine the three staging statements cost more than ~50 row
# statements sent in one pipeline.
SMALL_BATCH = 50


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    # Columns rewritten on conflict; the rest (e.g. created_at) keep their first value.
    update: tuple[str, ...] = ()
    timestamps: bool = True
    json_columns: frozenset[str] = field(default_factory=frozenset)

    def key_of(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(row[self.columns.index(column)] for column in self.key)


def _dedupe(table: Table, rows: Iterable[Sequence[Any]]) -> list[Sequence[Any]]:
    """Last row wins per key: one statement may not update the same row twice."""
    positions = [table.columns.index(column) for column in table.key]
    by_key: dict[tuple[Any, ...], Sequence[Any]] = {}
    for row in rows:
        by_key[tuple(row[p] for p in positions)] = row
    return list(by_key.values())


class BulkWriter:
    """Executes batched statements on one database connection (inside the caller's transaction)."""

    def __init__(self, using: str = "default") -> None:
        self.connection = connections[using]
        self.vendor = self.connection.vendor
        self._staged: set[str] = set()

    def relax_commit(self) -> None:
        """Let this transaction's commit return before its WAL reaches the disk (PostgreSQL).

        An import commits once per batch; waiting for every flush costs more than the batch's
        own work on a slow disk. A server crash can lose the last batches, never corrupt them,
        and the next import writes them again (their hashes will not match).
        """
        if self.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")

    # --- reads -----------------------------------------------------------------------------
    def select_in(
        self, table: str, columns: Sequence[str], key_column: str, keys: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        """``SELECT columns FROM table WHERE key_column IN keys`` in one statement."""
        if not keys:
            return []
        qn = self.connection.ops.quote_name
        cols = ", ".join(qn(c) for c in columns)
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(f"SELECT {cols} FROM {qn(table)} WHERE {qn(key_column)} = ANY(%s)", [list(keys)])
            else:
                marks = ", ".join(["%s"] * len(keys))
                cursor.execute(f"SELECT {cols} FROM {qn(table)} WHERE {qn(key_column)} IN ({marks})", list(keys))
            return [tuple(row) for row in cursor.fetchall()]

    # --- writes ----------------------------------------------------------------------------
    def upsert(self, table: Table, rows: Iterable[Sequence[Any]]) -> int:
        """Insert rows, or update the existing row with the same key where a value differs."""
        batch = _dedupe(table, rows)
        if not batch:
            return 0
        if self.vendor == "postgresql" and len(batch) > SMALL_BATCH:
            return self._upsert_postgresql(table, batch)
        return self._upsert_generic(table, batch)

    def update_in(
        self,
        table: str,
        assignments: dict[str, Any],
        key_column: str,
        keys: Sequence[Any],
        *,
        where: str = "",
        touch: bool = True,
    ) -> int:
        """``UPDATE table SET … WHERE key_column IN keys [AND where]`` in one statement."""
        if not keys:
            return 0
        qn = self.connection.ops.quote_name
        values = dict(assignments)
        if touch:
            values["updated_at"] = timezone.now()
        sets = ", ".join(f"{qn(column)} = %s" for column in values)
        params = [self._adapt(v) for v in values.values()]
        extra = f" AND ({where})" if where else ""
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {qn(table)} SET {sets} WHERE {qn(key_column)} = ANY(%s){extra}",
                    [*params, list(keys)],
                )
            else:
                marks = ", ".join(["%s"] * len(keys))
                cursor.execute(
                    f"UPDATE {qn(table)} SET {sets} WHERE {qn(key_column)} IN ({marks}){extra}",
                    [*params, *keys],
                )
            return int(cursor.rowcount)

    def delete_in(
        self, table: str, key_column: str, keys: Sequence[Any], *, where: str = "", params: Sequence[Any] = ()
    ) -> int:
        if not keys:
            return 0
        qn = self.connection.ops.quote_name
        extra = f" AND ({where})" if where else ""
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    f"DELETE FROM {qn(table)} WHERE {qn(key_column)} = ANY(%s){extra}", [list(keys), *params]
                )
            else:
                marks = ", ".join(["%s"] * len(keys))
                cursor.execute(f"DELETE FROM {qn(table)} WHERE {qn(key_column)} IN ({marks}){extra}", [*keys, *params])
            return int(cursor.rowcount)

    def insert(self, table: Table, rows: Iterable[Sequence[Any]]) -> int:
        """Plain insert of rows that have no natural key (e.g. a product's property values)."""
        batch = list(rows)
        if not batch:
            return 0
        qn = self.connection.ops.quote_name
        columns = self._all_columns(table)
        col_sql = ", ".join(qn(c) for c in columns)
        prepared = self._prepare(table, batch)
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {qn(table.name)} ({col_sql}) FROM STDIN") as copy:
                    for row in prepared:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {qn(table.name)} ({col_sql}) VALUES ({marks})", prepared)
        return len(batch)

    def update_rows(self, table: Table, rows: Iterable[Sequence[Any]]) -> int:
        """Set ``table.update`` columns of existing rows found by ``table.key``; one statement."""
        batch = _dedupe(table, rows)
        if not batch:
            return 0
        qn = self.connection.ops.quote_name
        now = timezone.now()
        positions = {c: i for i, c in enumerate(table.columns)}
        assigned = [*table.update, *(("updated_at",) if table.timestamps else ())]
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql" and len(batch) > SMALL_BATCH:
                stage = f"_upd_{table.name}_{'_'.join(table.update)}"[:60]
                cols = [*table.columns, *(("updated_at",) if table.timestamps else ())]
                col_sql = ", ".join(qn(c) for c in cols)
                self._empty_stage(cursor, stage, table.name, col_sql)
                with cursor.cursor.copy(f"COPY {qn(stage)} ({col_sql}) FROM STDIN") as copy:
                    for row in self._prepare(table, batch, stamps=(now,) if table.timestamps else ()):
                        copy.write_row(row)
                sets = ", ".join(f"{qn(c)} = s.{qn(c)}" for c in assigned)
                match = " AND ".join(f"t.{qn(c)} = s.{qn(c)}" for c in table.key)
                cursor.execute(f"UPDATE {qn(table.name)} AS t SET {sets} FROM {qn(stage)} AS s WHERE {match}")
            else:
                sets = ", ".join(f"{qn(c)} = %s" for c in assigned)
                match = " AND ".join(f"{qn(c)} = %s" for c in table.key)
                stamp = (self._adapt(now),) if table.timestamps else ()
                params = [
                    tuple(self._adapt(row[positions[c]]) for c in table.update)
                    + stamp
                    + tuple(self._adapt(row[positions[c]]) for c in table.key)
                    for row in batch
                ]
                cursor.executemany(f"UPDATE {qn(table.name)} SET {sets} WHERE {match}", params)
        return len(batch)

    # --- implementation --------------------------------------------------------------------
    def adapt(self, value: Any) -> Any:
        """A Python value as this backend's driver takes it in a statement parameter."""
        return self._adapt(value)

    def _adapt(self, value: Any) -> Any:
        if self.vendor == "postgresql":
            return value
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dt.datetime):
            return self.connection.ops.adapt_datetimefield_value(value)
        return value

    def _prepare(
        self, table: Table, rows: Sequence[Sequence[Any]], stamps: tuple[Any, ...] | None = None
    ) -> list[tuple[Any, ...]]:
        """Rows ready for the driver: JSON encoded, values adapted, timestamps appended."""
        if stamps is None:
            now = timezone.now()
            stamps = (now, now) if table.timestamps else ()
        json_positions = {i for i, c in enumerate(table.columns) if c in table.json_columns}
        if self.vendor == "postgresql":
            if not json_positions:
                return [(*row, *stamps) for row in rows]
            return [
                tuple(json.dumps(v, ensure_ascii=False) if i in json_positions else v for i, v in enumerate(row))
                + stamps
                for row in rows
            ]
        adapted_stamps = tuple(self._adapt(v) for v in stamps)
        return [
            tuple(
                json.dumps(v, ensure_ascii=False) if i in json_positions else self._adapt(v) for i, v in enumerate(row)
            )
            + adapted_stamps
            for row in rows
        ]

    def _conflict_sql(self, table: Table, excluded: str) -> str:
        qn = self.connection.ops.quote_name
        key = ", ".join(qn(c) for c in table.key)
        if not table.update:
            return f"ON CONFLICT ({key}) DO NOTHING"
        sets = [f"{qn(c)} = {excluded}.{qn(c)}" for c in table.update]
        if table.timestamps:
            sets.append(f"{qn('updated_at')} = {excluded}.{qn('updated_at')}")
        mine = ", ".join(f"{qn(table.name)}.{qn(c)}" for c in table.update)
        theirs = ", ".join(f"{excluded}.{qn(c)}" for c in table.update)
        # Row-value comparison: NULL-safe on PostgreSQL (IS DISTINCT FROM) and SQLite (IS NOT).
        differs = "IS DISTINCT FROM" if self.vendor == "postgresql" else "IS NOT"
        condition = f"{mine} {differs} {theirs}" if len(table.update) == 1 else f"({mine}) {differs} ({theirs})"
        return f"ON CONFLICT ({key}) DO UPDATE SET {', '.join(sets)} WHERE {condition}"

    def _all_columns(self, table: Table) -> list[str]:
        return [*table.columns, *(("created_at", "updated_at") if table.timestamps else ())]

    def _empty_stage(self, cursor: Any, stage: str, table: str, col_sql: str) -> None:
        """An empty per-connection temp table with ``table``'s column types, made once, reused."""
        qn = self.connection.ops.quote_name
        if stage not in self._staged:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {qn(stage)} AS SELECT {col_sql} FROM {qn(table)} WITH NO DATA"
            )
            self._staged.add(stage)
        cursor.execute(f"TRUNCATE {qn(stage)}")

    def _upsert_postgresql(self, table: Table, rows: list[Sequence[Any]]) -> int:
        qn = self.connection.ops.quote_name
        stage = f"_stage_{table.name}"
        col_sql = ", ".join(qn(c) for c in self._all_columns(table))
        with self.connection.cursor() as cursor:
            self._empty_stage(cursor, stage, table.name, col_sql)
            with cursor.cursor.copy(f"COPY {qn(stage)} ({col_sql}) FROM STDIN") as copy:
                for row in self._prepare(table, rows):
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {qn(table.name)} ({col_sql}) SELECT {col_sql} FROM {qn(stage)} "
                + self._conflict_sql(table, "EXCLUDED")
            )
            return int(cursor.rowcount)

    def _upsert_generic(self, table: Table, rows: list[Sequence[Any]]) -> int:
        qn = self.connection.ops.quote_name
        columns = self._all_columns(table)
        col_sql = ", ".join(qn(c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {qn(table.name)} ({col_sql}) VALUES ({marks}) " + self._conflict_sql(table, "excluded")
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, self._prepare(table, rows))
            return int(cursor.rowcount)
