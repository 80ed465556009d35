"""The importer's database work is a fixed number of statements per batch, whatever the rows.

Pinned counts: a change that adds a statement per batch shows up here (and is a decision, not an
accident). A batch's statements, not its rows, are what a 100k-product import pays per batch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.generate_catalog import generate_catalog, write_reexport
from commerceml.reader import iter_records
from exchange.catalog.importer import CatalogImporter
from exchange.report import ImportReport

pytestmark = pytest.mark.django_db


def import_queries(folder: Path) -> int:
    """Statements the importer sends for import.xml then offers.xml (one batch of each kind)."""
    importer = CatalogImporter(base_dir=folder, report=ImportReport())
    with CaptureQueriesContext(connection) as queries:
        for name in ("import.xml", "offers.xml"):
            importer.import_records(iter_records(folder / name, on_invalid="yield"), file_label=name, totals={})
    return len(queries)


@pytest.mark.parametrize("products", [60, 150])
def test_a_first_import_takes_the_same_statements_for_any_number_of_rows(tmp_path: Path, products: int) -> None:
    generate_catalog(tmp_path, products=products, seed=3)

    assert import_queries(tmp_path) == FIRST_IMPORT


@pytest.mark.parametrize("products", [60, 150])
def test_an_unchanged_re_import_only_reads(tmp_path: Path, products: int) -> None:
    generate_catalog(tmp_path, products=products, seed=3)
    import_queries(tmp_path)

    assert import_queries(tmp_path) == UNCHANGED_REIMPORT


def test_a_re_export_with_a_few_changes_adds_only_the_statements_that_write_them(tmp_path: Path) -> None:
    generate_catalog(tmp_path / "first", products=60, seed=3)
    write_reexport(tmp_path / "first", tmp_path / "next", generated_at="2024-03-02T10:00:00", price_share=0.05)
    import_queries(tmp_path / "first")

    assert import_queries(tmp_path / "next") == CHANGED_REIMPORT


# Counted with Django's query capture inside the test transaction (savepoints instead of
# BEGIN/COMMIT; COPY is not captured). One batch of each kind: 50 groups, 20 properties, 3 price
# types, 5 warehouses, the products, the offers. PostgreSQL sends more: each batch relaxes its
# commit (SET LOCAL synchronous_commit) and a merge of more than SMALL_BATCH rows goes through a
# staging table (TRUNCATE, then the merge; COPY is not captured); SQLite merges with one
# executemany.
_COUNTS = {"postgresql": (52, 33, 36), "sqlite": (48, 26, 29)}
FIRST_IMPORT, UNCHANGED_REIMPORT, CHANGED_REIMPORT = _COUNTS[connection.vendor]
