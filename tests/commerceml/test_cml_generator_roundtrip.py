"""The catalog generator writes what 1C writes, and the reader reads back exactly what was written."""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.generate_catalog import (
    NS_2,
    NS_3,
    UNITS,
    CatalogParams,
    GenOffer,
    GenProduct,
    build_reference,
    generate_catalog,
    write_import_2x,
    write_offers_2x,
    write_part_31,
)
from commerceml import (
    FileKind,
    Offer,
    OfferPrice,
    OfferStock,
    Product,
    ProductUnit,
    PropertyValue,
    Section,
    SectionHeader,
    iter_records,
    sort_for_import,
)

REFERENCE = build_reference(CatalogParams(groups=4, properties=3, values_per_property=2, price_types=2, warehouses=2))

# Any character XML 1.0 can carry (no surrogates, no C0 controls but tab/newline/CR, no U+FFFE/FFFF).
_NOT_XML = "".join(chr(c) for c in range(0x20) if c not in (0x9, 0xA, 0xD)) + "\ufffe\uffff"
# The Unicode Tags block (U+E0000-U+E007F) is left out: libxml2's windows-1251 serializer drops
# those characters silently instead of writing character references (an emoji becomes &#128512;,
# U+E0001 vanishes). A writer quirk for characters no 1C name holds; the reader round-trips them.
_TAGS_BLOCK = frozenset(chr(c) for c in range(0xE0000, 0xE0080))
_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters=_NOT_XML).filter(
        lambda c: c not in _TAGS_BLOCK
    ),
    max_size=30,
)
_markup = st.sampled_from(["&", "<", ">", '"', "'", "&amp;", "]]>", "<Товар>", "Ёж", "😀", "€", " ", "\t", "\r\n"])
free_text = st.one_of(_text, st.lists(st.one_of(_text, _markup), max_size=6).map("".join))
identifiers = st.text(alphabet="0123456789abcdef-АБВгдЁ_.() ", min_size=1, max_size=36).map(str.strip).filter(bool)
optional_ids = st.none() | identifiers
amounts = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def products(draw: st.DrawFn) -> GenProduct:
    product_id = draw(identifiers)
    has_variants = draw(st.booleans())
    offers = []
    for _ in range(draw(st.integers(1, 2)) if has_variants else 1):
        variant = draw(identifiers) if has_variants else None
        stocks = tuple((w.id, draw(amounts)) for w in REFERENCE.warehouses)
        offers.append(
            GenOffer(
                id=f"{product_id}#{variant}" if variant else product_id,
                name=draw(free_text),
                characteristics=tuple(draw(st.lists(st.tuples(free_text, free_text), max_size=2))),
                prices=tuple((pt.id, draw(amounts)) for pt in REFERENCE.price_types),
                quantity=sum((q for _, q in stocks), Decimal(0)),
                stocks=stocks,
                version=draw(optional_ids),
            )
        )
    return GenProduct(
        id=product_id,
        name=draw(free_text),
        article=draw(optional_ids),
        barcode=draw(optional_ids),
        description=draw(st.none() | free_text),
        group_ids=tuple(draw(st.lists(identifiers, max_size=2))),
        unit=draw(st.sampled_from(UNITS)),
        images=tuple(draw(st.lists(identifiers.map(lambda name: f"import_files/ab/{name}.jpg"), max_size=2))),
        property_values=tuple(
            draw(st.lists(st.tuples(identifiers, st.lists(free_text, max_size=2).map(tuple)), max_size=3))
        ),
        requisites=tuple(draw(st.lists(st.tuples(free_text, free_text), max_size=3))),
        manufacturer=draw(st.none() | free_text),
        country=draw(st.none() | identifiers),
        deleted=draw(st.booleans()),
        version=draw(optional_ids),
        offers=tuple(offers),
    )


def _pairs(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """An empty name and value pair is written as two empty elements: nothing to read back."""
    return tuple((name, value) for name, value in pairs if name or value)


def expected_product(product: GenProduct, layout: str) -> Product:
    unit = product.unit
    return Product(
        id=product.id,
        name=product.name,
        article=product.article,
        barcode=product.barcode,
        description=product.description or None,
        group_ids=product.group_ids,
        unit=(
            ProductUnit(unit.code, unit.name, unit.full_name, unit.intl_abbr)
            if layout == "2.x"
            else ProductUnit(unit.code, None, None, None)
        ),
        images=product.images,
        property_values=tuple(
            PropertyValue(pid, tuple(v for v in values if v)) for pid, values in product.property_values
        ),
        requisites=_pairs(product.requisites),
        characteristics=(),
        manufacturer=product.manufacturer or None,
        country=product.country,
        deleted=product.deleted,
        version=product.version if layout == "3.1" else None,
    )


def read(path: Path) -> list[object]:
    return list(iter_records(path))


encodings = st.sampled_from([("utf-8", True), ("utf-8", False), ("windows-1251", False)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(products(), min_size=1, max_size=3), encodings, st.sampled_from([NS_2, "", "urn:1C.ru:commerceml_210"]))
def test_2x_products_and_offers_read_back_equal(
    items: list[GenProduct], encoding: tuple[str, bool], namespace: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        import_path, offers_path = Path(folder, "import.xml"), Path(folder, "offers.xml")
        encoding_name, bom = encoding
        write_import_2x(
            import_path, reference=REFERENCE, products=items, encoding=encoding_name, bom=bom, namespace=namespace
        )
        write_offers_2x(
            offers_path, reference=REFERENCE, products=items, encoding=encoding_name, bom=bom, namespace=namespace
        )

        products_read = [r for r in read(import_path) if isinstance(r, Product)]
        offers_read = [r for r in read(offers_path) if isinstance(r, Offer)]

    assert products_read == [expected_product(p, "2.x") for p in items]
    expected_offers = [(p, o) for p in items for o in p.offers]
    assert len(offers_read) == len(expected_offers)
    for offer, (product, written) in zip(offers_read, expected_offers, strict=True):
        assert offer.id == written.id
        assert (offer.product_id, offer.variant_id) == (product.id, written.id.partition("#")[2] or None)
        assert offer.name == written.name
        assert offer.article == product.article
        assert offer.characteristics == _pairs(written.characteristics)
        assert [(p.price_type_id, p.value) for p in offer.prices] == list(written.prices)
        assert offer.stocks == tuple(OfferStock(w, q) for w, q in written.stocks)
        assert offer.quantity == written.quantity
        assert (offer.has_prices, offer.has_stock) == (True, True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(products(), min_size=1, max_size=3), encodings)
def test_31_split_files_read_back_equal(items: list[GenProduct], encoding: tuple[str, bool]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        read_back = {}
        for part in ("goods", "offers", "prices", "rests"):
            path = Path(folder, f"{part}.xml")
            write_part_31(path, part, reference=REFERENCE, products=items, encoding=encoding[0], bom=encoding[1])
            read_back[part] = [r for r in read(path) if not isinstance(r, SectionHeader)]

    assert read_back["goods"] == [expected_product(p, "3.1") for p in items]
    expected_offers = [(p, o) for p in items for o in p.offers]
    for offer, (product, written) in zip(read_back["offers"], expected_offers, strict=True):
        assert isinstance(offer, Offer)
        assert (offer.id, offer.name, offer.version, offer.deleted) == (
            written.id,
            written.name,
            written.version,
            product.deleted,
        )
        assert offer.characteristics == _pairs(written.characteristics)
        assert (offer.has_prices, offer.has_stock, offer.has_characteristics) == (
            False,
            False,
            bool(written.characteristics),
        )
    for offer, (_, written) in zip(read_back["prices"], expected_offers, strict=True):
        assert isinstance(offer, Offer)
        assert offer.prices == tuple(OfferPrice(pt, value, "RUB", None, None) for pt, value in written.prices)
        assert (offer.name, offer.has_prices, offer.has_stock) == (None, True, False)
    for offer, (_, written) in zip(read_back["rests"], expected_offers, strict=True):
        assert isinstance(offer, Offer)
        assert offer.stocks == tuple(OfferStock(w, q) for w, q in written.stocks)
        assert (offer.has_prices, offer.has_stock, offer.quantity) == (False, True, None)


# --- the generator as a whole -------------------------------------------------------------------


def _digests(files: tuple[Path, ...]) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def test_same_seed_gives_byte_identical_catalogs(tmp_path: Path) -> None:
    for layout in ("2.x", "3.1"):
        first = generate_catalog(tmp_path / f"a-{layout}", products=40, layout=layout, seed=3)
        second = generate_catalog(tmp_path / f"b-{layout}", products=40, layout=layout, seed=3)
        other = generate_catalog(tmp_path / f"c-{layout}", products=40, layout=layout, seed=4)

        assert _digests(first.files) == _digests(second.files)
        assert _digests(first.files) != _digests(other.files)


def test_2x_catalog_has_the_requested_shape(tmp_path: Path) -> None:
    generated = generate_catalog(tmp_path, products=50, variant_share=0.4, variants_per_product=3, groups=7, seed=2)

    assert [path.name for path in generated.files] == ["import.xml", "offers.xml"]
    assert (tmp_path / "import.xml").read_bytes().startswith(b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>')
    items = read(tmp_path / "import.xml") + read(tmp_path / "offers.xml")
    counts = Counter(type(r).__name__ for r in items)
    assert counts["Product"] == 50
    assert counts["Group"] == 7
    assert counts["Property"] == 20
    assert counts["PriceType"] == 3 + 3  # in the classifier of import.xml and again in offers.xml
    assert counts["Warehouse"] == 5
    assert counts["Offer"] == generated.offers
    offers = [r for r in items if isinstance(r, Offer)]
    variants = [o for o in offers if o.variant_id is not None]
    assert variants and all(o.characteristics for o in variants)
    assert len(variants) % 3 == 0 and len(offers) - len(variants) + len(variants) // 3 == 50
    assert all(len(o.prices) == 3 and len(o.stocks) == 5 for o in offers)
    assert all(o.quantity == sum(s.quantity for s in o.stocks) for o in offers)
    product = next(r for r in items if isinstance(r, Product))
    assert product.unit == ProductUnit("796", "шт", "Штука", "PCE")
    assert product.images and product.images[0].startswith(f"import_files/{product.id[:2]}/{product.id}_")
    headers = [r for r in items if isinstance(r, SectionHeader)]
    assert [(h.section, h.changes_only) for h in headers] == [
        (Section.CLASSIFIER, False),
        (Section.CATALOG, False),
        (Section.OFFERS, False),
    ]
    assert {h.schema_version for h in headers} == {"2.10"}


def test_31_catalog_files_sort_into_import_order(tmp_path: Path) -> None:
    generated = generate_catalog(tmp_path, products=20, layout="3.1", seed=5)

    names = [path.name.split("___")[0] for path in generated.files]
    assert names == ["import", "import", "import", "offers", "prices", "rests"]
    ordered = sort_for_import(reversed(generated.files))
    assert [kind for _, kind in ordered] == [
        FileKind.CLASSIFIER,
        FileKind.CLASSIFIER,
        FileKind.CATALOG,
        FileKind.OFFERS,
        FileKind.PRICES,
        FileKind.RESTS,
    ]
    first = generated.files[0].read_text(encoding="utf-8-sig")
    assert f'xmlns="{NS_3}"' in first and 'ВерсияСхемы="3.1"' in first and 'Ид="1"' in first


def test_changed_share_keeps_ids_and_changes_only_some_prices(tmp_path: Path) -> None:
    base = generate_catalog(tmp_path / "base", products=200, seed=9)
    changed = generate_catalog(tmp_path / "changed", products=200, seed=9, changed_share=0.25)

    def offers(catalog_dir: Path) -> dict[str, Offer]:
        return {r.id: r for r in read(catalog_dir / "offers.xml") if isinstance(r, Offer)}

    before, after = offers(base.out_dir), offers(changed.out_dir)
    assert before.keys() == after.keys()
    assert (base.out_dir / "import.xml").read_bytes() == (changed.out_dir / "import.xml").read_bytes()
    differing = [key for key in before if before[key].prices != after[key].prices]
    assert 0.1 < len(differing) / len(before) < 0.4
    assert all(before[key].stocks != after[key].stocks for key in differing)


def test_windows_1251_catalog_reads_like_the_utf8_one(tmp_path: Path) -> None:
    utf = generate_catalog(tmp_path / "utf", products=15, seed=6)
    cp = generate_catalog(tmp_path / "cp", products=15, seed=6, encoding="windows-1251", bom=False)

    assert (cp.out_dir / "import.xml").read_bytes().startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    for name in ("import.xml", "offers.xml"):
        assert read(utf.out_dir / name) == read(cp.out_dir / name)


def test_images_are_written_only_when_asked(tmp_path: Path) -> None:
    without = generate_catalog(tmp_path / "a", products=5, seed=1)
    with_images = generate_catalog(tmp_path / "b", products=5, seed=1, images=True)

    assert without.images == () and not (tmp_path / "a" / "import_files").exists()
    products_read = [r for r in read(with_images.out_dir / "import.xml") if isinstance(r, Product)]
    expected = {with_images.out_dir / image for product in products_read for image in product.images}
    assert set(with_images.images) == expected
    assert all(path.read_bytes().startswith(b"\xff\xd8") for path in with_images.images)
