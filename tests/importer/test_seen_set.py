"""What an import saw (SeenSet) is exactly the set of keys added, kept through pack/unpack."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.catalog.importer import SeenSet

KEYS = st.sets(st.integers(min_value=1, max_value=5_000_000), max_size=300)


@settings(deadline=None)  # a timing limit is not what this test is about
@given(KEYS, KEYS)
def test_a_seen_set_holds_exactly_what_was_added_and_survives_packing(first: set[int], second: set[int]) -> None:
    seen = SeenSet()
    seen.add_many(first)
    other = SeenSet.unpack(SeenSet.pack(_of(second)))

    seen.update(other)

    assert list(seen) == sorted(first | second)
    assert all(key in seen for key in first | second)
    assert not any(
        key in seen for key in (0, 5_000_001, *(k + 1 for k in first | second if k + 1 not in first | second))
    )
    assert bool(seen) == bool(first | second)
    assert SeenSet.unpack(seen.pack()).pack() == seen.pack()


def _of(keys: set[int]) -> SeenSet:
    seen = SeenSet()
    seen.add_many(keys)
    return seen
