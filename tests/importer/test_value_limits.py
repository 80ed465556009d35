"""Values from 1C that do not fit their columns are element errors, never a database error or a 500."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from catalog.models import Category, Price, PriceType, Product, ProductVariant, Stock
from customers.roles import CustomerRole
from exchange.catalog.limits import catalog_limits
from exchange.models import ImportSession
from tests.importer.cml import Offer, Prod, import_xml, offers_xml, write

pytestmark = pytest.mark.django_db

LONG_ID = "x" * 600
LONG_NAME = "Очень длинное имя " * 112  # 2016 characters


def errors_by_id(result: ImportSession) -> dict[tuple[str, str], str]:
    return {(e["entity"], e["id"]): e["reason"] for e in result.errors if e["level"] == "error"}


@pytest.fixture
def imported_extremes(run_import, tmp_path: Path) -> ImportSession:
    """A shop with sane values, then a full re-export carrying extreme ones."""
    folder = tmp_path / "x"
    ids = ("ok", "neg", "huge", "tiny", "neg-stock", "huge-stock")
    write(folder, "import.xml", import_xml([Prod(i) for i in ids]))
    write(folder, "offers.xml", offers_xml([Offer(i) for i in ids]))
    run_import(folder)

    write(
        folder,
        "import.xml",
        import_xml([*(Prod(i) for i in ids), Prod("long-name", name=LONG_NAME), Prod(LONG_ID)]),
    )
    write(
        folder,
        "offers.xml",
        offers_xml(
            [
                Offer("ok", prices={"pt-retail": "120", "pt-wholesale": "100.000000"}),
                Offer("neg", prices={"pt-retail": "-5", "pt-wholesale": "90"}),
                Offer("huge", prices={"pt-retail": "99999999999999999999", "pt-wholesale": "90"}),
                Offer("tiny", prices={"pt-retail": "0.00001", "pt-wholesale": "90"}),
                Offer("neg-stock", stock={"wh-main": "-3"}, quantity="1"),
                Offer("huge-stock", stock={}, quantity="99999999999999999999"),
                Offer("long-name", name=LONG_NAME),
                Offer(LONG_ID),
            ]
        ),
    )
    return run_import(folder)


def test_values_that_do_not_fit_are_element_errors_with_their_id(imported_extremes: ImportSession) -> None:
    result = imported_extremes

    assert result.status == ImportSession.Status.COMPLETED
    errors = errors_by_id(result)
    assert set(errors) == {
        ("offers", "neg"),
        ("offers", "huge"),
        ("offers", "tiny"),
        ("offers", "neg-stock"),
        ("offers", "huge-stock"),
        ("products", "long-name"),
        ("offers", "long-name"),
        ("products", LONG_ID[:200]),
        ("offers", LONG_ID[:200]),
    }
    assert "отрицательное" in errors["offers", "neg"]
    assert "больше допустимого" in errors["offers", "huge"]
    assert "знаков после запятой" in errors["offers", "tiny"]
    assert "длина 2016" in errors["products", "long-name"]


def test_an_offer_with_a_value_that_does_not_fit_keeps_what_it_had(imported_extremes: ImportSession) -> None:
    retail = dict(Price.objects.filter(price_type__onec_id="pt-retail").values_list("variant__onec_id", "value"))
    assert retail == {
        "ok": Decimal("120"),  # the sane offer of the same file is applied
        "neg": Decimal("100"),
        "huge": Decimal("100"),
        "tiny": Decimal("100"),
        "neg-stock": Decimal("100"),
        "huge-stock": Decimal("100"),
    }
    assert Stock.objects.get(variant__onec_id="neg-stock", warehouse__onec_id="wh-main").quantity == Decimal("5")
    assert ProductVariant.objects.get(onec_id="huge-stock").stock_total == Decimal("7")
    # Refused elements were in the full package: not deactivated as missing.
    assert set(ProductVariant.objects.filter(is_active=False).values_list("onec_id", flat=True)) == set()
    assert not Product.objects.filter(onec_id__in=["long-name", LONG_ID]).exists()
    assert not Price.objects.filter(value__lt=0).exists()


def test_the_shop_answers_every_catalog_and_order_request_after_extreme_values(
    imported_extremes: ImportSession,
) -> None:
    # A shop's manager maps 1C's retail price type to the retail role: what guests buy at.
    PriceType.objects.filter(onec_id="pt-retail").update(customer_role=CustomerRole.RETAIL)
    api = APIClient()
    answers = [api.get("/api/products/"), api.get("/api/products/", {"search": "Товар"}), api.get("/api/categories/")]
    answers += [api.get(f"/api/categories/{pk}/") for pk in Category.objects.values_list("pk", flat=True)]
    answers += [api.get("/api/products/", {"category": pk}) for pk in Category.objects.values_list("pk", flat=True)]
    for product in Product.objects.all():
        answers.append(api.get(f"/api/products/{product.pk}/"))
        order = api.post(
            "/api/orders/",
            {
                "items": [{"product": product.pk, "quantity": 1}],
                "contact_name": "Борис",
                "contact_phone": "+7 912 000-11-22",
            },
            format="json",
        )
        answers.append(order)
        if order.status_code == 201:
            assert all(Decimal(line["total"]) >= 0 for line in order.json()["items"])
            assert Decimal(order.json()["total"]) >= 0
    assert [a.status_code for a in answers if a.status_code >= 500] == []
    assert sum(1 for a in answers if a.status_code == 201) == 6  # every product is still sold, at its old price


@pytest.mark.parametrize(
    ("limit", "value", "fits"),
    [
        ("price", "0", True),
        ("price", "12.3400", True),
        ("price", "12.340000", True),  # trailing zeros: the same value
        ("price", "0.00001", False),
        ("price", "-0.01", False),
        ("price", "99999999999999.9999", True),
        ("price", "100000000000000", False),
        ("stock", "0.001", True),
        ("stock", "0.0001", False),
    ],
)
def test_decimal_limits_follow_the_columns(limit: str, value: str, fits: bool) -> None:
    checked = getattr(catalog_limits(), limit)

    assert (checked.problem(Decimal(value)) is None) is fits
