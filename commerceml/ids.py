"""The 1C Ид conventions, parsed in one place.

An offer of a product with characteristics has the Ид ``<product Ид>#<characteristic Ид>``
(protocol.md §5.4); an offer of a simple product has the product's Ид. An offers package's own
Ид is ``<catalog Ид>#``. Ид values are opaque strings: GUIDs usually, but 1C also sends things like
``Обмен с WEB - сайтом (Товары)00001`` (protocol.md §4.15), so nothing here assumes a format.
"""

from __future__ import annotations

OFFER_ID_SEPARATOR = "#"


def split_offer_id(offer_id: str) -> tuple[str, str | None]:
    """Split an offer Ид into (product Ид, variant Ид or None).

    Splits once, at the first ``#``: whatever follows belongs to the variant. A trailing ``#``
    with nothing after it means "no variant".
    """
    product_id, _, variant_id = offer_id.partition(OFFER_ID_SEPARATOR)
    return product_id, (variant_id or None)


def join_offer_id(product_id: str, variant_id: str | None) -> str:
    """The offer Ид 1C would write for a product and an optional variant (characteristic)."""
    if not variant_id:
        return product_id
    return f"{product_id}{OFFER_ID_SEPARATOR}{variant_id}"
