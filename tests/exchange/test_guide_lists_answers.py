"""The Russian guide for 1C integrators (docs/1c-setup.ru.md) lists every text 1C can show from the
site, so that an integrator can look up what they see: a new answer text needs its row there."""

from __future__ import annotations

import re

from exchange import protocol
from tests.services import ROOT

GUIDE = ROOT / "docs" / "1c-setup.ru.md"
PROTOCOL = ROOT / "exchange" / "protocol.py"


def texts_1c_sees() -> dict[str, str]:
    """The answer texts of exchange/protocol.py (its customer sync texts are for the admin only)."""
    source = PROTOCOL.read_text(encoding="utf-8")
    exchange_part = source[: source.index("# --- The customer sync")]
    names = re.findall(r"^([A-Z][A-Z0-9_]+) = ", exchange_part, re.MULTILINE)
    return {name: getattr(protocol, name) for name in names if isinstance(getattr(protocol, name), str)}


def test_every_answer_text_1c_shows_is_in_the_integrators_guide() -> None:
    guide = " ".join(GUIDE.read_text(encoding="utf-8").split())  # lines wrapped anywhere
    texts = texts_1c_sees()
    assert len(texts) > 40  # the parsing above found the texts

    missing = {}
    for name, text in texts.items():
        # The fixed parts around the values the site fills in ({name}, {limit}, …) appear verbatim.
        parts = [part.strip(" .:") for part in re.split(r"\{[a-z_]+\}", text)]
        absent = [part for part in parts if part and part not in guide]
        if absent:
            missing[name] = absent
    assert missing == {}
