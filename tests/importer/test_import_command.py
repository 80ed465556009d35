from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product
from exchange.catalog.service import import_session_create
from exchange.models import ImportSession
from tests.importer.conftest import SAMPLES

pytestmark = pytest.mark.django_db


def test_import_1c_loads_a_folder_and_reports_what_it_did() -> None:
    out = StringIO()

    call_command("import_1c", str(SAMPLES / "cml208-bigperson"), stdout=out)

    assert Product.objects.filter(onec_id="ffce323d-c133-11e8-8111-0050569b2b72").exists()
    session = ImportSession.objects.get()
    assert session.source == ImportSession.Source.MANUAL and session.status == ImportSession.Status.COMPLETED
    assert "Товары: создано 2" in out.getvalue()
    assert "Import completed" in out.getvalue()


def test_import_1c_takes_single_files_too() -> None:
    call_command("import_1c", str(SAMPLES / "cml207-dobromyslov" / "import0_1.xml"), stdout=StringIO())

    assert Product.objects.count() == 35


def test_import_1c_refuses_while_another_import_runs(tmp_path: Path) -> None:
    import_session_create(base_dir=tmp_path, files=[])

    with pytest.raises(CommandError, match="Import already in progress"):
        call_command("import_1c", str(SAMPLES / "cml208-bigperson"), stdout=StringIO())
    assert not Product.objects.exists()


def test_import_1c_fails_loudly_on_a_broken_file(tmp_path: Path) -> None:
    (tmp_path / "import.xml").write_text("<КоммерческаяИнформация><Каталог><Товары><Товар>")

    with pytest.raises(CommandError, match=r"import\.xml"):
        call_command("import_1c", str(tmp_path), stdout=StringIO())


def test_import_1c_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_1c", str(tmp_path / "nope"), stdout=StringIO())
