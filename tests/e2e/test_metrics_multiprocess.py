"""Metrics of every gunicorn worker add up at /metrics (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.conf import global_settings
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.servers import gunicorn
from tests.exchange.conftest import PASSWORD, make_exchange_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _requests_total(text: str, mode: str, outcome: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "exchange_requests_total" and sample.labels == {
                "type": "catalog", "mode": mode, "outcome": outcome,
            }:  # fmt: skip
                return sample.value
    return 0.0


def test_requests_served_by_two_workers_add_up(tmp_path: Path, settings) -> None:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # what the server process checks with
    user = make_exchange_user().email
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    requests = 24

    with gunicorn(tmp_path / "gunicorn.log", workers=2, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)) as server:
        workers = set(server.worker_pids())
        url = f"{server.base_url}/1c/exchange?type=catalog&mode=checkauth"

        def checkauth(_: int) -> str:
            # A new connection each: sync workers take turns accepting, so both serve some.
            return httpx.get(url, auth=(user, PASSWORD), timeout=60).text.split("\n")[0]

        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(checkauth, range(requests)))
        text = httpx.get(f"{server.base_url}/metrics", timeout=30).text

    assert answers == ["success"] * requests
    assert _requests_total(text, "checkauth", "success") == requests
    per_worker = {pid: _checkauths_in(metrics_dir / f"counter_{pid}.db") for pid in workers}
    assert all(count > 0 for count in per_worker.values()), per_worker  # each worker counted its own
    assert sum(per_worker.values()) == requests


def _checkauths_in(path: Path) -> float:
    """What one process recorded, read from its own sample file."""
    if not path.exists():
        return 0.0
    total = 0.0
    for key, value, _timestamp, _position in MmapedDict.read_all_values_from_file(str(path)):
        _metric, name, labels, _help = json.loads(key)
        if name == "exchange_requests_total" and labels.get("mode") == "checkauth":
            total += value
    return total
