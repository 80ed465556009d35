"""Fields the site owns (EXCHANGE_SITE_OWNED_FIELDS): once a manager edited them, 1C leaves them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from catalog.models import Product, ProductImage
from catalog.services import product_note_site_edits
from exchange.conf import exchange_settings
from tests.importer.cml import Prod, import_xml, write

pytestmark = pytest.mark.django_db


def edit_on_site(onec_id: str, **values: str) -> None:
    """What the admin does when a manager saves the product page."""
    product = Product.objects.get(onec_id=onec_id)
    for name, value in values.items():
        setattr(product, name, value)
    product.save()
    product_note_site_edits(product=product, fields=list(values))


@pytest.fixture
def folder(run_import, tmp_path: Path) -> Path:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a", name="Из 1С", article="A-1"), Prod("b", name="Тоже из 1С")]))
    run_import(folder)
    return folder


def test_a_site_owned_field_edited_on_the_site_is_not_overwritten_by_1c(run_import, folder: Path, settings) -> None:
    settings.EXCHANGE_SITE_OWNED_FIELDS = ["name", "description"]
    edit_on_site("a", name="Правка менеджера")

    write(folder, "import.xml", import_xml([Prod("a", name="Новое из 1С", article="A-2"), Prod("b", name="Новое b")]))
    run_import(folder)

    a, b = Product.objects.get(onec_id="a"), Product.objects.get(onec_id="b")
    assert a.name == "Правка менеджера"  # owned by the site and edited there
    assert a.article == "A-2"  # every other field 1C owns
    assert b.name == "Новое b"  # not edited on the site: 1C's


def test_an_edit_of_a_field_the_site_does_not_own_is_overwritten(run_import, folder: Path, settings) -> None:
    settings.EXCHANGE_SITE_OWNED_FIELDS = ["description"]
    edit_on_site("a", name="Правка менеджера")

    write(folder, "import.xml", import_xml([Prod("a", name="Новое из 1С"), Prod("b", name="Тоже из 1С")]))
    run_import(folder)

    assert Product.objects.get(onec_id="a").name == "Новое из 1С"


def test_site_owned_pictures_are_left_alone(run_import, folder: Path, settings, tmp_path: Path) -> None:
    settings.EXCHANGE_SITE_OWNED_FIELDS = ["images"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    write(folder, "import_files/aa/a.jpg", "jpeg")
    edit_on_site("a")  # nothing changed: nothing is marked
    product = Product.objects.get(onec_id="a")
    product_note_site_edits(product=product, fields=["images"])

    write(folder, "import.xml", import_xml([Prod("a", images=["import_files/aa/a.jpg"]), Prod("b")]))
    run_import(folder)

    assert not ProductImage.objects.filter(product=product).exists()


def test_an_unknown_site_owned_field_is_a_configuration_error(settings) -> None:
    settings.EXCHANGE_SITE_OWNED_FIELDS = ["name", "price"]

    with pytest.raises(ImproperlyConfigured, match="price"):
        exchange_settings()
