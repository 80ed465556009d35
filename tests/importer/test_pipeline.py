from __future__ import annotations

import pytest

from exchange.catalog.pipeline import read_ahead


def test_read_ahead_yields_everything_in_order() -> None:
    assert list(read_ahead(range(2345), chunk=100, depth=2)) == list(range(2345))


def test_read_ahead_raises_the_producers_error_after_the_items_before_it() -> None:
    def items():
        yield from range(250)
        raise ValueError("broken at 250")

    seen = []
    with pytest.raises(ValueError, match="broken at 250"):
        for item in read_ahead(items(), chunk=100):
            seen.append(item)
    assert seen == list(range(250))


def test_stopping_early_releases_the_reader_thread() -> None:
    import threading

    before = threading.active_count()
    for item in read_ahead(iter(range(10**9)), chunk=10, depth=1):
        if item == 50:
            break
    assert threading.active_count() == before
