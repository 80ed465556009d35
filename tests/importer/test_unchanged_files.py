"""A file byte-identical to one already imported is skipped, but only while the catalog is
untouched since that import; what it contained still counts for deactivation."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from catalog.models import Product
from exchange.models import ImportFile
from tests.importer.cml import Prod, import_xml, write

pytestmark = pytest.mark.django_db


def _folder(tmp_path: Path, *files: tuple[str, list[Prod]]) -> Path:
    folder = tmp_path / "x"
    for name, products in files:
        write(folder, name, import_xml(products))
    return folder


def test_an_identical_file_is_skipped_while_the_catalog_is_unchanged(run_import, tmp_path: Path) -> None:
    folder = _folder(tmp_path, ("import.xml", [Prod("a"), Prod("b")]))
    first = run_import(folder)
    before = list(Product.objects.values_list("onec_id", "name", "is_active", "updated_at"))

    again = run_import(folder)

    skipped = again.files.get()
    assert skipped.status == ImportFile.Status.DONE
    assert skipped.reused_from == first.files.get()
    assert "пропущен" in again.report
    assert list(Product.objects.values_list("onec_id", "name", "is_active", "updated_at")) == before


def test_an_edit_since_the_last_import_forces_a_real_import(run_import, tmp_path: Path) -> None:
    folder = _folder(tmp_path, ("import.xml", [Prod("a", name="Из 1С")]))
    run_import(folder)
    # What the admin does to a 1C product edited by hand: new values, hashes cleared.
    Product.objects.filter(onec_id="a").update(name="Правка", content_hash="", updated_at=timezone.now())

    again = run_import(folder)

    assert again.files.get().reused_from is None
    assert Product.objects.get(onec_id="a").name == "Из 1С"


def test_a_changed_file_is_imported(run_import, tmp_path: Path) -> None:
    folder = _folder(tmp_path, ("import.xml", [Prod("a")]))
    run_import(folder)
    write(folder, "import.xml", import_xml([Prod("a", name="Новое")]))

    again = run_import(folder)

    assert again.files.get().reused_from is None
    assert Product.objects.get(onec_id="a").name == "Новое"


def test_a_skipped_full_catalog_part_still_protects_its_products_from_deactivation(run_import, tmp_path: Path) -> None:
    # A big catalog in two full parts; next time part 1 is identical and part 2 changed.
    folder = _folder(tmp_path, ("import0_1.xml", [Prod("a"), Prod("b")]), ("import0_2.xml", [Prod("c")]))
    run_import(folder)
    write(folder, "import0_2.xml", import_xml([Prod("c"), Prod("d")]))

    again = run_import(folder)

    assert again.files.get(name="import0_1.xml").reused_from is not None
    assert again.files.get(name="import0_2.xml").reused_from is None
    assert dict(Product.objects.values_list("onec_id", "is_active")) == {"a": True, "b": True, "c": True, "d": True}


def test_skipping_can_be_turned_off(run_import, tmp_path: Path, settings) -> None:
    settings.EXCHANGE_IMPORT_SKIP_UNCHANGED_FILES = False
    folder = _folder(tmp_path, ("import.xml", [Prod("a")]))
    run_import(folder)

    again = run_import(folder)

    assert again.files.get().reused_from is None
    assert again.counters["products"]["unchanged"] == 1


def test_a_re_export_that_differs_only_in_its_stamp_is_skipped(run_import, tmp_path: Path) -> None:
    """1C stamps every export with the time: an unchanged catalog comes back with a new stamp."""
    text = import_xml([Prod("a"), Prod("b")])
    folder = tmp_path / "x"
    write(
        folder,
        "import.xml",
        text.replace('ВерсияСхемы="2.07"', 'ВерсияСхемы="2.07" ДатаФормирования="2024-03-01T10:00:00"'),
    )
    first = run_import(folder)
    write(
        folder,
        "import.xml",
        text.replace('ВерсияСхемы="2.07"', 'ВерсияСхемы="2.07" ДатаФормирования="2024-03-02T09:30:00"'),
    )

    again = run_import(folder)

    assert again.files.get().reused_from == first.files.get()
    assert set(Product.objects.filter(is_active=True).values_list("onec_id", flat=True)) == {"a", "b"}


def test_with_pictures_sent_only_the_catalog_file_is_imported_again(run_import, tmp_path: Path) -> None:
    from tests.importer.cml import Offer, offers_xml

    folder = _folder(tmp_path, ("import.xml", [Prod("a"), Prod("b")]))
    write(folder, "offers.xml", offers_xml([Offer("a"), Offer("b")]))
    (folder / "import_files").mkdir()
    run_import(folder)

    again = run_import(folder)

    reused = {file.name: file.reused_from_id is not None for file in again.files.all()}
    # A picture may have changed beside an unchanged import.xml; offers name no pictures.
    assert reused == {"import.xml": False, "offers.xml": True}
