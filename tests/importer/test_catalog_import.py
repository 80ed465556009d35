"""The catalog importer, fed real 1C exports and small hand-written files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.generate_catalog import generate_catalog
from catalog.models import (
    Category,
    Price,
    PriceType,
    Product,
    ProductImage,
    ProductPropertyValue,
    ProductVariant,
    Stock,
    Warehouse,
)
from exchange.catalog.service import ImportAlreadyRunning, import_session_create
from exchange.models import ImportFile, ImportSession
from tests.importer.cml import Offer, Prod, import_xml, offers_xml, write
from tests.importer.conftest import SAMPLES

pytestmark = pytest.mark.django_db


def catalog_dump() -> dict[str, list[tuple[object, ...]]]:
    """Everything an import writes, with timestamps, in a stable order."""
    return {
        "categories": list(
            Category.objects.order_by("onec_id").values_list(
                "onec_id", "name", "parent__onec_id", "is_active", "updated_at"
            )
        ),
        "products": list(
            Product.objects.order_by("onec_id").values_list(
                "onec_id", "article", "name", "category__onec_id", "is_active", "requisites", "updated_at"
            )
        ),
        "variants": list(
            ProductVariant.objects.order_by("onec_id").values_list(
                "onec_id", "name", "characteristics", "is_default", "is_active", "stock_total", "updated_at"
            )
        ),
        "prices": list(
            Price.objects.order_by("variant__onec_id", "price_type__onec_id").values_list(
                "variant__onec_id", "price_type__onec_id", "value", "currency", "updated_at"
            )
        ),
        "stock": list(
            Stock.objects.order_by("variant__onec_id", "warehouse__onec_id").values_list(
                "variant__onec_id", "warehouse__onec_id", "quantity", "updated_at"
            )
        ),
        "values": sorted(ProductPropertyValue.objects.values_list("product__onec_id", "property__onec_id", "value")),
    }


# --- real exports ---------------------------------------------------------------------------
def test_real_2_07_export_fills_products_prices_and_stock_per_warehouse(run_import) -> None:
    result = run_import(SAMPLES / "cml207-dobromyslov", "import0_1.xml", "offers0_1.xml")

    assert result.status == ImportSession.Status.COMPLETED, result.error_message
    mat = Product.objects.get(onec_id="bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1")
    assert mat.article == "PM-421-WP"
    assert mat.name == "Портативный коврик Portable 140x200x1 см, Деревянные лошадки"
    assert mat.category is not None and mat.category.onec_id == "82cfb8dc-18f9-11e7-80c2-0cc47ab29cd1"
    assert mat.unit_code == "796"  # 1C writes Код="796 " with a trailing space
    variant = mat.variants.get()
    assert variant.is_default and variant.onec_id == mat.onec_id
    assert variant.prices.get(price_type__onec_id="279b6812-740b-11e8-80c8-0cc47ab29cd1").value == Decimal("100")
    assert variant.stock_total == Decimal("377")
    assert variant.stocks.get(warehouse__onec_id="6abdb0b5-18fd-11e7-80c2-0cc47ab29cd1").quantity == Decimal("1")
    # 36 products in the file, one of them Статус="Удален": a deletion the site never needs to create.
    assert Product.objects.count() == 35
    assert result.counters["products"]["skipped"] == 1


def test_reference_property_values_are_resolved_to_their_text(run_import) -> None:
    run_import(SAMPLES / "cml207-dobromyslov", "import0_1.xml")

    mat = Product.objects.get(onec_id="bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1")
    country = mat.property_values.get(property__onec_id="3268183f-18fa-11e7-80c2-0cc47ab29cd1")
    assert country.reference is not None
    assert country.value == country.reference.value != "af848a7e-18fa-11e7-80c2-0cc47ab29cd1"
    assert mat.property_values.get(property__onec_id="38409b0c-29da-11e9-80c9-0cc47ab29cd1").value == "1,4"


def test_characteristic_offers_become_variants_and_hide_the_default_one(run_import) -> None:
    result = run_import(SAMPLES / "cml208-bigperson", "classifier.xml", "import.xml", "offers.xml")

    assert result.status == ImportSession.Status.COMPLETED, result.error_message
    product = Product.objects.get(onec_id="ffce323d-c133-11e8-8111-0050569b2b72")
    variant = product.variants.get(onec_id="ffce323d-c133-11e8-8111-0050569b2b72#8a4e5ea9-d129-11e8-8112-0050569b2b72")
    assert variant.characteristics == [{"name": "Цвет", "value": "Бежевый"}]
    assert variant.is_active and not variant.is_default
    assert variant.prices.get(price_type__onec_id="db7b09f3-94c2-11e8-810b-0050569b5454").value == Decimal("10500")
    assert not product.variants.filter(is_default=True, is_active=True).exists()


def test_a_product_is_sellable_through_its_default_variant_until_characteristics_arrive(
    run_import, tmp_path: Path
) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a")]))
    run_import(folder, "import.xml")
    default = ProductVariant.objects.get(onec_id="a")
    assert default.is_default and default.is_active and default.product.onec_id == "a"

    write(folder, "offers.xml", offers_xml([Offer("a#red", characteristics=[("Цвет", "Красный")])]))
    run_import(folder, "offers.xml")

    default.refresh_from_db()
    assert not default.is_active
    assert ProductVariant.objects.get(onec_id="a#red").is_active


def test_3_1_split_files_import_in_dependency_order_whatever_order_they_come_in(run_import, tmp_path: Path) -> None:
    generated = generate_catalog(tmp_path, products=60, layout="3.1", seed=7)
    names = sorted((p.name for p in generated.files), reverse=True)  # rests, prices, offers, import...

    result = run_import(tmp_path, *names)

    assert result.status == ImportSession.Status.COMPLETED, result.error_message
    ranks = list(result.files.order_by("finished_at").values_list("kind", flat=True))
    assert ranks.index("rests") > ranks.index("prices") > ranks.index("offers") > ranks.index("catalog")
    assert Product.objects.count() == 60
    assert ProductVariant.objects.filter(is_active=True).count() == generated.offers
    assert not ProductVariant.objects.filter(is_active=True, prices__isnull=True).exists()
    assert Stock.objects.exists()


def test_windows_1251_files_read_like_utf8_ones(run_import, tmp_path: Path) -> None:
    utf, cp = tmp_path / "utf", tmp_path / "cp"
    generate_catalog(utf, products=30, seed=3)
    generate_catalog(cp, products=30, seed=3, encoding="windows-1251", bom=False)

    run_import(utf)
    first = catalog_dump()
    again = run_import(cp)

    # Same records read from both encodings: every content hash matches, nothing is rewritten.
    assert again.counters["products"] == {**again.counters["products"], "unchanged": 30, "created": 0, "updated": 0}
    assert (
        again.counters["offers"]["unchanged"]
        == ProductVariant.objects.exclude(is_default=True, is_active=False).count()
    )
    assert catalog_dump() == first


# --- idempotence and change detection -----------------------------------------------------
def test_importing_the_same_files_twice_leaves_the_same_database_and_rewrites_nothing(
    run_import, tmp_path: Path, settings
) -> None:
    settings.EXCHANGE_IMPORT_SKIP_UNCHANGED_FILES = False  # the row-by-hash path, not the file skip
    generate_catalog(tmp_path, products=80, seed=1)
    run_import(tmp_path)
    before = catalog_dump()

    again = run_import(tmp_path)

    assert catalog_dump() == before  # including every updated_at
    assert again.counters["products"]["unchanged"] == 80
    assert again.counters["products"]["updated"] == again.counters["products"]["created"] == 0


def test_a_changed_price_rewrites_only_that_price(run_import, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a"), Prod("b")]))
    write(folder, "offers.xml", offers_xml([Offer("a"), Offer("b")]))
    run_import(folder)
    untouched = Price.objects.get(variant__onec_id="b", price_type__onec_id="pt-retail").updated_at

    write(
        folder, "offers.xml", offers_xml([Offer("a", prices={"pt-retail": "120,50", "pt-wholesale": "90"}), Offer("b")])
    )
    run_import(folder)

    assert Price.objects.get(variant__onec_id="a", price_type__onec_id="pt-retail").value == Decimal("120.50")
    assert Price.objects.get(variant__onec_id="b", price_type__onec_id="pt-retail").updated_at == untouched


@pytest.mark.parametrize("changes_only", [False, True], ids=["full", "changes"])
def test_a_new_total_quantity_without_warehouses_changes_the_stock(
    run_import, tmp_path: Path, changes_only: bool
) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a")]))
    write(folder, "offers.xml", offers_xml([Offer("a", stock={}, quantity="5")]))
    run_import(folder)
    assert ProductVariant.objects.get(onec_id="a").stock_total == Decimal("5")

    write(folder, "offers.xml", offers_xml([Offer("a", stock={}, quantity="8")], changes_only=changes_only))
    result = run_import(folder, "offers.xml")

    assert ProductVariant.objects.get(onec_id="a").stock_total == Decimal("8")
    assert result.counters["stock"]["updated"] == 1
    assert not Stock.objects.filter(variant__onec_id="a").exists()


def test_a_re_export_does_not_rewrite_price_types_or_warehouses_that_did_not_change(run_import, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a")]))
    write(folder, "offers.xml", offers_xml([Offer("a")]))
    run_import(folder)
    stamps = sorted(PriceType.objects.values_list("updated_at", flat=True)) + sorted(
        Warehouse.objects.values_list("updated_at", flat=True)
    )

    write(folder, "offers.xml", offers_xml([Offer("a", prices={"pt-retail": "120", "pt-wholesale": "90"})]))
    result = run_import(folder, "offers.xml")

    assert result.counters["price_types"] == {**result.counters["price_types"], "unchanged": 2, "updated": 0}
    assert result.counters["warehouses"] == {**result.counters["warehouses"], "unchanged": 2, "updated": 0}
    assert "Типы цен: без изменений 2" in result.report
    after = sorted(PriceType.objects.values_list("updated_at", flat=True)) + sorted(
        Warehouse.objects.values_list("updated_at", flat=True)
    )
    assert after == stamps


# --- full, partial, deletion ----------------------------------------------------------------
def test_a_full_catalog_deactivates_products_it_does_not_contain(run_import, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a"), Prod("b"), Prod("c")]))
    run_import(folder)

    write(folder, "import.xml", import_xml([Prod("a"), Prod("c")]))
    result = run_import(folder)

    assert dict(Product.objects.values_list("onec_id", "is_active")) == {"a": True, "b": False, "c": True}
    assert result.counters["products"]["deactivated"] == 1
    assert Product.objects.filter(onec_id="b").exists()  # never hard-deleted: orders keep their lines


def test_a_changes_only_catalog_touches_only_what_it_names(run_import, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a"), Prod("b")]))
    run_import(folder)

    write(folder, "import.xml", import_xml([Prod("a", name="Новое имя")], changes_only=True))
    run_import(folder)

    assert dict(Product.objects.values_list("onec_id", "is_active")) == {"a": True, "b": True}
    assert Product.objects.get(onec_id="a").name == "Новое имя"


def test_a_product_missed_once_comes_back_when_1c_sends_it_again(run_import, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a"), Prod("b")]))
    run_import(folder)
    write(folder, "import.xml", import_xml([Prod("a")]))
    run_import(folder)

    write(folder, "import.xml", import_xml([Prod("a"), Prod("b")]))
    run_import(folder)

    assert Product.objects.get(onec_id="b").is_active


@pytest.mark.parametrize(
    "deleted", [Prod("b", status="Удален"), Prod("b", marked_deleted=True)], ids=["status", "mark"]
)
def test_deleted_products_are_deactivated_not_removed(run_import, tmp_path: Path, deleted: Prod) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a"), Prod("b")]))
    run_import(folder)

    write(folder, "import.xml", import_xml([deleted], changes_only=True))
    run_import(folder)

    assert dict(Product.objects.values_list("onec_id", "is_active")) == {"a": True, "b": False}


def test_prices_of_a_type_1c_stopped_sending_go_away_in_a_full_package(run_import, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a")]))
    write(folder, "offers.xml", offers_xml([Offer("a")]))
    run_import(folder)

    write(folder, "offers.xml", offers_xml([Offer("a", prices={"pt-retail": "100"}, stock={"wh-main": "5"})]))
    run_import(folder)

    variant = ProductVariant.objects.get(onec_id="a")
    assert list(variant.prices.values_list("price_type__onec_id", flat=True)) == ["pt-retail"]
    assert list(variant.stocks.values_list("warehouse__onec_id", "quantity")) == [("wh-main", Decimal("5"))]
    assert variant.stock_total == Decimal("5")


# --- bad elements and broken files ------------------------------------------------------------
def test_an_offer_for_an_unknown_product_is_skipped_and_reported(run_import, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a")]))
    write(
        folder,
        "offers.xml",
        offers_xml([Offer("a"), Offer("ghost"), Offer("ghost#red", characteristics=[("Цвет", "Красный")])]),
    )

    result = run_import(folder)

    assert result.status == ImportSession.Status.COMPLETED
    assert result.counters["offers"]["skipped"] == 2
    assert {issue["id"] for issue in result.errors} == {"ghost", "ghost#red"}
    assert not ProductVariant.objects.filter(onec_id__startswith="ghost").exists()


def test_a_price_of_an_unknown_price_type_is_skipped_and_the_rest_imported(run_import, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a")]))
    write(folder, "offers.xml", offers_xml([Offer("a", prices={"pt-retail": "100", "pt-unknown": "1"})]))

    result = run_import(folder)

    assert list(Price.objects.values_list("price_type__onec_id", "value")) == [("pt-retail", Decimal("100"))]
    assert result.counters["prices"]["skipped"] == 1
    assert any("pt-unknown" in issue["reason"] for issue in result.errors)


def test_a_broken_file_fails_the_import_with_file_and_line_and_leaves_whole_products(
    run_import, tmp_path: Path
) -> None:
    generate_catalog(tmp_path, products=2500, seed=5)
    offers = tmp_path / "offers.xml"
    data = offers.read_bytes()
    offers.write_bytes(data[: len(data) * 2 // 3])  # cut mid-way, mid-element

    result = run_import(tmp_path)

    assert result.status == ImportSession.Status.FAILED
    assert "offers.xml:" in result.error_message
    assert result.files.get(name="offers.xml").status == ImportFile.Status.FAILED
    assert result.files.get(name="import.xml").status == ImportFile.Status.DONE
    assert Product.objects.count() == 2500
    # Offers written before the break are whole: every priced variant has all three prices.
    priced = ProductVariant.objects.filter(prices__isnull=False).distinct()
    assert priced.exists()
    assert all(v.prices.count() == 3 for v in priced)


def test_a_file_that_is_not_xml_fails_with_its_name(run_import, tmp_path: Path) -> None:
    (tmp_path / "import.xml").write_bytes(b"\x00\x01 not xml at all")

    result = run_import(tmp_path, "import.xml")

    assert result.status == ImportSession.Status.FAILED
    assert result.error_message.startswith("import.xml")


# --- images ---------------------------------------------------------------------------------
def test_images_are_attached_once_and_copied_to_media(run_import, tmp_path: Path, settings) -> None:
    generated = generate_catalog(tmp_path / "x", products=10, seed=2, images=True)
    run_import(tmp_path / "x")
    count = ProductImage.objects.count()

    run_import(tmp_path / "x")

    assert count == len(generated.images) > 0
    assert ProductImage.objects.count() == count
    image = ProductImage.objects.first()
    assert image is not None and (Path(settings.MEDIA_ROOT) / image.image.name).is_file()
    assert image.source_path.startswith("import_files/")


def test_an_image_1c_did_not_send_is_counted_not_invented(run_import, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a", images=["import_files/aa/missing.jpg", "../../etc/passwd"])]))

    result = run_import(folder)

    assert not ProductImage.objects.exists()
    assert result.counters["images"]["skipped"] == 1


# --- the lock -------------------------------------------------------------------------------
def test_a_second_import_is_refused_while_one_is_active(tmp_path: Path) -> None:
    import_session_create(base_dir=tmp_path, files=[])

    with pytest.raises(ImportAlreadyRunning):
        import_session_create(base_dir=tmp_path, files=[])


def test_samples_are_copied_into_the_repository() -> None:
    # Tests must run on a clean clone without ../shared: the real exports live in tests/data.
    assert (SAMPLES / "cml207-dobromyslov" / "import0_1.xml").is_file()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<broken", "import.xml:1: <broken> is not a CommerceML root element"),
        (b"<?xml version='1.0'?><prices/>", "import.xml:1: <prices> is not a CommerceML root element"),
    ],
    ids=["broken", "foreign-xml"],
)
def test_a_file_that_is_not_commerceml_fails_instead_of_being_skipped(
    run_import, tmp_path: Path, content: bytes, reason: str
) -> None:
    (tmp_path / "import.xml").write_bytes(content)

    result = run_import(tmp_path, "import.xml")

    assert result.status == ImportSession.Status.FAILED
    assert reason in result.error_message


# --- elements that cannot be read -------------------------------------------------------------
@pytest.mark.parametrize("mark", ["Нет", "может быть"])
def test_a_product_whose_element_cannot_be_read_keeps_its_state_in_a_full_catalog(
    run_import, tmp_path: Path, mark: str
) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a"), Prod("b", name="Было"), Prod("c")]))
    run_import(folder)

    write(folder, "import.xml", import_xml([Prod("a"), Prod("b", name="Стало", mark_text=mark), Prod("c")]))
    result = run_import(folder)

    # Never deactivated as "missing": the element was in the file, only unreadable.
    assert dict(Product.objects.values_list("onec_id", "is_active")) == {"a": True, "b": True, "c": True}
    assert result.counters["products"].get("deactivated", 0) == 0
    errors = [issue for issue in result.errors if issue["level"] == "error"]
    if errors:  # "Нет" may be read as false one day; an unreadable element is reported then
        assert [(e["entity"], e["id"], e["file"]) for e in errors] == [("products", "b", "import.xml")]
        assert "other" not in result.counters
        assert Product.objects.get(onec_id="b").name == "Было"  # kept as it was, not half-updated
    else:
        assert mark == "Нет"


def test_an_offer_whose_element_cannot_be_read_keeps_its_state_in_a_full_package(run_import, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    write(folder, "import.xml", import_xml([Prod("a"), Prod("b")]))
    write(folder, "offers.xml", offers_xml([Offer("a"), Offer("b")]))
    run_import(folder)

    text = offers_xml([Offer("a"), Offer("b", prices={"pt-retail": "сто"})])
    write(folder, "offers.xml", text)
    result = run_import(folder, "offers.xml")

    assert dict(ProductVariant.objects.values_list("onec_id", "is_active")) == {"a": True, "b": True}
    assert Price.objects.get(variant__onec_id="b", price_type__onec_id="pt-retail").value == Decimal("100")
    errors = [(i["entity"], i["id"], i["file"]) for i in result.errors if i["level"] == "error"]
    assert errors == [("offers", "b", "offers.xml")]
