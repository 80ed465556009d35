from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import psutil
import pytest

from benchmarks.generate_catalog import generate_catalog, write_reexport
from catalog.models import Price
from commerceml.pipe import ChildRecords
from commerceml.reader import iter_records
from commerceml.records import Offer
from exchange.catalog import service as catalog_import
from exchange.catalog.importer import CatalogImporter
from exchange.models import ImportSession

pytestmark = pytest.mark.django_db


def test_big_files_are_parsed_in_a_child_process_with_the_same_result(
    run_import, tmp_path: Path, monkeypatch, settings
) -> None:
    settings.EXCHANGE_IMPORT_SKIP_UNCHANGED_FILES = False  # same bytes twice: parse them both times
    generate_catalog(tmp_path / "in-process", products=40, seed=9)
    generate_catalog(tmp_path / "child", products=40, seed=9)
    run_import(tmp_path / "in-process")
    expected = sorted(Price.objects.values_list("variant__onec_id", "price_type__onec_id", "value"))

    monkeypatch.setattr(catalog_import, "SUBPROCESS_MIN_BYTES", 0)
    spawned = []
    original = catalog_import.iter_records_in_subprocess
    monkeypatch.setattr(
        catalog_import, "iter_records_in_subprocess", lambda path, **kw: spawned.append(path) or original(path, **kw)
    )
    result = run_import(tmp_path / "child")

    assert result.status == ImportSession.Status.COMPLETED, result.error_message
    assert len(spawned) == 2
    assert result.counters["products"] == {**result.counters["products"], "unchanged": 40, "created": 0}
    assert sorted(Price.objects.values_list("variant__onec_id", "price_type__onec_id", "value")) == expected


def test_a_big_file_skipped_as_unchanged_leaves_no_reader_process_behind(
    run_import, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(catalog_import, "SUBPROCESS_MIN_BYTES", 0)
    generate_catalog(tmp_path, products=40, seed=9)
    run_import(tmp_path)

    again = run_import(tmp_path)  # the reader starts before the digest says "unchanged"

    assert again.status == ImportSession.Status.COMPLETED
    assert "пропущен" in again.report
    assert [c for c in psutil.Process().children(recursive=True) if "commerceml.pipe" in " ".join(c.cmdline())] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["import.xml", "offers.xml"])  # no spool left


def test_the_next_file_is_parsed_while_the_current_one_is_written(run_import, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(catalog_import, "SUBPROCESS_MIN_BYTES", 0)
    spooled: list[str] = []
    original = catalog_import.iter_records_in_subprocess

    def spy(path: Path, **kw: object) -> object:
        if kw.get("spool_dir") is not None:
            spooled.append(Path(path).name)
        return original(path, **kw)

    monkeypatch.setattr(catalog_import, "iter_records_in_subprocess", spy)
    generate_catalog(tmp_path, products=40, seed=9)

    result = run_import(tmp_path)

    assert result.status == ImportSession.Status.COMPLETED, result.error_message
    assert spooled == ["offers.xml"]  # started while import.xml was imported
    assert result.counters["offers"]["created"] > 0


def test_a_file_changed_after_its_reading_ahead_began_is_read_again(run_import, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(catalog_import, "SUBPROCESS_MIN_BYTES", 0)
    generate_catalog(tmp_path / "first", products=40, seed=9)
    write_reexport(tmp_path / "first", tmp_path / "next", generated_at="2024-03-02T10:00:00", price_share=0.5)
    folder = tmp_path / "first"
    ahead: list[ChildRecords] = []
    spawn = catalog_import.iter_records_in_subprocess

    def spy(path: Path, **kw: Any) -> ChildRecords:
        reader = spawn(path, **kw)
        if kw.get("spool_dir") is not None:
            ahead.append(reader)
        return reader

    original = CatalogImporter.import_records

    def import_records(self: CatalogImporter, records: Any, *, file_label: str, **kw: Any) -> None:
        if file_label == "import.xml":  # offers.xml was read ahead whole; then 1C replaced it
            ahead[0].process.wait()
            shutil.copyfile(tmp_path / "next" / "offers.xml", folder / "offers.new")
            os.replace(folder / "offers.new", folder / "offers.xml")
        original(self, records, file_label=file_label, **kw)

    monkeypatch.setattr(catalog_import, "iter_records_in_subprocess", spy)
    monkeypatch.setattr(CatalogImporter, "import_records", import_records)

    result = run_import(folder)

    assert result.status == ImportSession.Status.COMPLETED, result.error_message
    sent = {
        (offer.id, price.price_type_id): price.value
        for offer in iter_records(tmp_path / "next" / "offers.xml")
        if isinstance(offer, Offer)
        for price in offer.prices
    }
    stored = {
        (variant, price_type): value
        for variant, price_type, value in Price.objects.values_list("variant__onec_id", "price_type__onec_id", "value")
    }
    assert stored == sent
