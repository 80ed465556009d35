"""What a full package deactivates, and when: only what no file of the whole exchange contained,
in the catalogs the package named, never in the middle of the exchange (issue 10 items 3-4,
issue 11 item 17)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from catalog.models import Product, ProductVariant
from exchange.catalog.service import catalog_packages_close_ended
from exchange.jobs import jobs_check
from exchange.models import ExchangeSession
from exchange.protocol import DEACTIVATION_OFF
from exchange.tasks import expire_sessions
from tests.exchange.conftest import OneC, assert_answer
from tests.importer.cml import Offer, Prod, import_xml, offers_xml, write
from tests.importer.conftest import Runner, run_queued

pytestmark = pytest.mark.django_db

# A full catalog of 30 products that 1C splits in three parts (protocol.md §2.6: import0_1.xml, …).
PARTS = {f"import0_{n + 1}.xml": import_xml([Prod(f"p{n * 10 + i}") for i in range(10)]) for n in range(3)}
CATALOG = {f"p{i}" for i in range(30)}


def _active() -> set[str]:
    return set(Product.objects.filter(is_active=True).values_list("onec_id", flat=True))


def _stray() -> Product:
    """A product of the same catalog that 1C no longer sends: a whole full package hides it."""
    return Product.objects.create(onec_id="stray", name="Снят с продажи", catalog_onec_id="cat")


def _import(catalog: OneC, queued: list[int], name: str) -> None:
    catalog.import_file(name)
    run_queued(queued)
    assert_answer(catalog.import_file(name), "success", "Импорт успешно завершен.")


def _expire_the_exchange() -> None:
    ExchangeSession.objects.update(last_seen_at=timezone.now() - dt.timedelta(days=1))
    expire_sessions.run()


def _full_exchange_with_complete(catalog: OneC, queued: list[int]) -> None:
    for name, text in PARTS.items():
        catalog.post_file(name, text.encode())
    for name in PARTS:
        _import(catalog, queued, name)
    assert catalog.get("complete").lines[0] == "success"
    assert catalog.checkauth().lines[0] == "success"  # the next exchange
    assert catalog.init().status_code == 200


# --- when -----------------------------------------------------------------------------------
def test_parts_uploaded_first_deactivate_nothing_until_complete(catalog: OneC, queued: list[int]) -> None:
    stray = _stray()
    for name, text in PARTS.items():
        catalog.post_file(name, text.encode())
    for name in PARTS:
        _import(catalog, queued, name)
    assert _active() == CATALOG | {"stray"}  # the exchange is not over: nothing hidden yet

    assert catalog.get("complete").lines[0] == "success"

    assert _active() == CATALOG
    stray.refresh_from_db()
    assert not stray.is_active


def test_a_part_at_a_time_never_hides_the_rest_of_the_catalog(catalog: OneC, queued: list[int]) -> None:
    _full_exchange_with_complete(catalog, queued)
    _stray()

    for name, text in PARTS.items():  # upload a part, import it, then the next
        catalog.post_file(name, text.encode())
        _import(catalog, queued, name)
        assert _active() == CATALOG | {"stray"}

    assert catalog.get("complete").lines[0] == "success"
    assert _active() == CATALOG


def test_an_exchange_that_dies_after_its_first_part_hides_nothing(catalog: OneC, queued: list[int]) -> None:
    _full_exchange_with_complete(catalog, queued)  # this 1C ends its exchanges with complete
    _stray()

    first = next(iter(PARTS))
    catalog.post_file(first, PARTS[first].encode())
    _import(catalog, queued, first)
    _expire_the_exchange()  # 1C never came back

    assert _active() == CATALOG | {"stray"}


def test_an_exchange_ended_without_complete_deactivates_once_every_file_was_imported(
    catalog: OneC, queued: list[int]
) -> None:
    stray = _stray()  # this 1C has never sent complete or deactivate
    for name, text in PARTS.items():
        catalog.post_file(name, text.encode())
        _import(catalog, queued, name)
    assert "stray" in _active()

    _expire_the_exchange()

    assert _active() == CATALOG
    stray.refresh_from_db()
    assert not stray.is_active


def test_an_exchange_with_a_file_never_imported_deactivates_nothing(catalog: OneC, queued: list[int]) -> None:
    _stray()
    names = list(PARTS)
    catalog.post_file(names[0], PARTS[names[0]].encode())
    _import(catalog, queued, names[0])
    catalog.post_file(names[1], PARTS[names[1]].encode())  # uploaded, never imported

    _expire_the_exchange()

    assert "stray" in _active()


def test_complete_after_a_failed_import_deactivates_nothing(catalog: OneC, queued: list[int]) -> None:
    _stray()
    catalog.post_file("import0_1.xml", PARTS["import0_1.xml"].encode())
    _import(catalog, queued, "import0_1.xml")
    catalog.post_file("import0_2.xml", PARTS["import0_2.xml"].encode()[:-100])
    catalog.import_file("import0_2.xml")
    run_queued(queued)
    assert catalog.import_file("import0_2.xml").lines[0] == "failure"

    assert catalog.get("complete").lines[0] == "success"

    assert "stray" in _active()


def test_two_full_catalog_files_imported_one_after_the_other_keep_each_others_products(
    catalog: OneC, queued: list[int]
) -> None:
    stray = _stray()

    catalog.post_file("import1.xml", import_xml([Prod("a"), Prod("b")]).encode())
    _import(catalog, queued, "import1.xml")
    catalog.post_file("import2.xml", import_xml([Prod("c"), Prod("d")]).encode())
    _import(catalog, queued, "import2.xml")
    assert {"a", "b", "c", "d"} <= _active()  # the second import did not forget the first

    assert catalog.get("complete").lines[0] == "success"
    assert _active() == {"a", "b", "c", "d"}
    stray.refresh_from_db()
    assert not stray.is_active


# --- what: the catalog's own products ---------------------------------------------------------
def test_a_full_catalog_never_deactivates_another_catalogs_products(run_import: Runner, tmp_path: Path) -> None:
    write(tmp_path / "a", "import.xml", import_xml([Prod("a1"), Prod("a2")], catalog="cat-A"))
    write(tmp_path / "b", "import.xml", import_xml([Prod("b1")], catalog="cat-B"))
    write(tmp_path / "a2", "import.xml", import_xml([Prod("a1")], catalog="cat-A"))

    run_import(tmp_path / "a")
    run_import(tmp_path / "b")
    assert _active() == {"a1", "a2", "b1"}  # catalog B's full export did not hide catalog A

    run_import(tmp_path / "a2")
    assert _active() == {"a1", "b1"}
    assert Product.objects.get(onec_id="b1").catalog_onec_id == "cat-B"


def test_a_full_offers_package_never_deactivates_another_catalogs_offers(run_import: Runner, tmp_path: Path) -> None:
    write(tmp_path / "a", "import.xml", import_xml([Prod("a1")], catalog="cat-A"))
    write(tmp_path / "a", "offers.xml", offers_xml([Offer("a1"), Offer("a1#red")], catalog="cat-A"))
    write(tmp_path / "b", "import.xml", import_xml([Prod("b1")], catalog="cat-B"))
    write(tmp_path / "b", "offers.xml", offers_xml([Offer("b1#red")], catalog="cat-B"))
    run_import(tmp_path / "a")
    run_import(tmp_path / "b")

    active = set(ProductVariant.objects.filter(is_active=True, is_default=False).values_list("onec_id", flat=True))
    assert {"a1#red", "b1#red"} <= active


def test_a_setting_keeps_missing_products_active(run_import: Runner, tmp_path: Path, settings) -> None:
    settings.EXCHANGE_DEACTIVATE_MISSING = False
    write(tmp_path / "1", "import.xml", import_xml([Prod("a"), Prod("b")]))
    write(tmp_path / "2", "import.xml", import_xml([Prod("a")]))
    run_import(tmp_path / "1")

    run_import(tmp_path / "2")

    assert _active() == {"a", "b"}


def test_with_the_setting_off_mode_deactivate_deactivates_nothing(catalog: OneC, queued: list[int], settings) -> None:
    settings.EXCHANGE_DEACTIVATE_MISSING = False
    _stray()
    catalog.post_file("import.xml", import_xml([Prod("a")]).encode())
    _import(catalog, queued, "import.xml")

    assert_answer(catalog.get("deactivate"), "success", DEACTIVATION_OFF)
    assert catalog.get("complete").lines[0] == "success"
    assert _active() == {"a", "stray"}


def test_an_exchange_whose_import_never_started_is_closed_once(catalog: OneC, queued: list[int], settings) -> None:
    settings.EXCHANGE_IMPORT_STALE_MINUTES = 1
    _stray()
    catalog.post_file("import.xml", PARTS["import0_1.xml"].encode())
    catalog.import_file("import.xml")  # queued, but no worker ever runs it
    queued.clear()
    assert jobs_check(now=timezone.now() + dt.timedelta(minutes=2)) == 1

    _expire_the_exchange()  # closes the package: nothing whole, nothing deactivated

    assert catalog_packages_close_ended() == 0  # not looked at again every ten minutes
    assert "stray" in _active()
