"""Units of measure (ОКЕИ, the all-Russian classifier 1C uses for БазоваяЕдиница).

Which units are counted in whole pieces lives here and nowhere else: an order for 0.001 of a
kettle is nonsense, while 0.25 kg or 1.5 m is not.
"""

from __future__ import annotations

# ОКЕИ codes of units that only come whole. Multiples such as 797 "сто штук" or 798 "тысяча
# штук" are left out: half a hundred is fifty pieces.
PIECE_UNIT_CODES = frozenset(
    {
        "796",  # штука (шт)
        "642",  # единица (ед)
        "657",  # изделие (изд)
        "704",  # набор
        "715",  # пара (пар)
        "728",  # пачка
        "736",  # рулон (рул)
        "778",  # упаковка (упак)
        "812",  # ящик (ящ)
        "839",  # комплект (компл)
        "868",  # бутылка (бут)
        "870",  # ампула
        "872",  # флакон
        "625",  # лист
    }
)


def unit_is_piece(code: str) -> bool:
    """Is a product with this ОКЕИ code sold in whole units only? 1C sometimes pads the code
    with spaces (protocol.md §4, item 12)."""
    return code.strip() in PIECE_UNIT_CODES
