"""Sealed products and offers (commerceml.digests) open to exactly the record they were sealed from."""

from __future__ import annotations

from pathlib import Path

import pytest

from commerceml.digests import seal_offer, seal_product
from commerceml.reader import iter_records
from commerceml.records import Offer, Product

DATA = Path(__file__).resolve().parents[1] / "data" / "cml"
SAMPLES = sorted(DATA.rglob("*.xml"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(DATA)))
def test_every_product_and_offer_of_real_1c_files_opens_as_it_was_read(path: Path) -> None:
    for record in iter_records(path, on_invalid="yield"):
        if isinstance(record, Product):
            sealed = seal_product(record, "catalog", packed=True)
            assert sealed.record is None and sealed.open() == record
            assert sealed.digest == seal_product(record, "catalog", packed=False).digest
        elif isinstance(record, Offer):
            packed = seal_offer(record, packed=True)
            assert packed.record is None and packed.open() == record
            plain = seal_offer(record, packed=False)
            assert (packed.digest, packed.prices_digest, packed.stock_digest) == (
                plain.digest,
                plain.prices_digest,
                plain.stock_digest,
            )
