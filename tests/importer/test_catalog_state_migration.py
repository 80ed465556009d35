"""Upgrading keeps the catalog's deactivation bookkeeping: migrations 0009/0010 move it off the
generic job rows into CatalogImportState / CatalogFileState without losing a byte."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from exchange.models import CatalogFileState, CatalogImportState

BEFORE = [("exchange", "0008_import_package_scope")]


@pytest.mark.django_db(transaction=True)
def test_the_catalog_bookkeeping_of_earlier_imports_survives_the_upgrade() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    closed = timezone.now()
    job = old.get_model("exchange", "ImportSession").objects.create(
        kind="catalog",
        base_dir="/srv/exchange/1",
        status="completed",
        seen_products=bytes(range(8)),
        seen_variants=bytes(range(8, 16)),
        full_catalog=True,
        deactivate_requested=True,
        package_closed_at=closed,
        catalog_state={"catalog_product": [3, None]},
    )
    file = old.get_model("exchange", "ImportFile").objects.create(
        import_session=job,
        name="import.xml",
        seen_products=bytes(range(8)),
        full_offers=True,
        catalog_scopes={"products": {"cat": True}},
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    state = CatalogImportState.objects.get(job_id=job.pk)
    assert bytes(state.seen_products) == bytes(range(8)) and bytes(state.seen_variants) == bytes(range(8, 16))
    assert state.full_catalog and not state.full_offers and state.deactivate_requested
    assert state.package_closed_at == closed
    assert state.catalog_state == {"catalog_product": [3, None]}
    contained = CatalogFileState.objects.get(file_id=file.pk)
    assert bytes(contained.seen_products) == bytes(range(8)) and contained.full_offers
    assert contained.catalog_scopes == {"products": {"cat": True}}
