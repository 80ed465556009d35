"""What a full package deactivates, and when: only what no file of the whole exchange contained,
never in the middle of the exchange (issue 10 items 3-4, issue 11 item 17)."""

from __future__ import annotations

import pytest

from catalog.models import Product
from tests.exchange.conftest import OneC, assert_answer
from tests.importer.cml import Prod, import_xml
from tests.importer.conftest import run_queued

pytestmark = pytest.mark.django_db


def _active() -> set[str]:
    return set(Product.objects.filter(is_active=True).values_list("onec_id", flat=True))


def _import(catalog: OneC, queued: list[int], name: str, text: str) -> None:
    catalog.post_file(name, text.encode())
    catalog.import_file(name)
    run_queued(queued)
    assert_answer(catalog.import_file(name), "success", "Импорт успешно завершен.")


def test_two_full_catalog_files_imported_one_after_the_other_keep_each_others_products(
    catalog: OneC, queued: list[int]
) -> None:
    Product.objects.create(onec_id="stray", name="Не из этой выгрузки")

    _import(catalog, queued, "import1.xml", import_xml([Prod("a"), Prod("b")]))
    _import(catalog, queued, "import2.xml", import_xml([Prod("c"), Prod("d")]))
    assert {"a", "b", "c", "d"} <= _active()  # the second import did not forget the first

    assert catalog.get("complete").lines[0] == "success"
    assert _active() == {"a", "b", "c", "d"}
