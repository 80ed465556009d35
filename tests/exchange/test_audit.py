"""Copies of every file received or sent, kept in <EXCHANGE_DATA_DIR>/logs, and the retention
policy (days, total size) applied by a beat task."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from exchange.conf import exchange_settings
from exchange.models import ExchangeFile, ExchangeRequestLog, ExchangeSession
from exchange.services import audit
from exchange.services.uploads import session_upload_dir, uploads_remove_stale
from exchange.tasks import prune_exchange_logs
from tests.exchange.conftest import OneC

pytestmark = pytest.mark.django_db


def logs() -> Path:
    return exchange_settings().logs_dir


def test_a_received_file_is_kept_in_the_log_folder_with_all_its_parts(catalog: OneC) -> None:
    data = os.urandom(5000)
    catalog.upload("import_files/ab/x.jpg", data, part_size=2000)

    stored = ExchangeFile.objects.get()
    session = ExchangeSession.objects.get()
    copy = logs() / stored.log_name
    assert stored.log_name == f"{timezone.localdate().isoformat()}/{session.id}/in/import_files/ab/x.jpg"
    assert copy.read_bytes() == data


def test_the_copy_outlives_the_upload_folder(catalog: OneC) -> None:
    catalog.post_file("import.xml", b"<import/>")
    copy = logs() / ExchangeFile.objects.get().log_name

    catalog.init()  # the folder goes to the trash
    uploads_remove_stale()  # and the trash is emptied

    assert copy.read_bytes() == b"<import/>"


def test_a_second_file_of_the_same_name_gets_its_own_copy(catalog: OneC) -> None:
    catalog.post_file("import.xml", b"<first/>")
    first = logs() / ExchangeFile.objects.get().log_name
    catalog.init()

    catalog.post_file("import.xml", b"<second/>")

    second = logs() / ExchangeFile.objects.get().log_name
    assert first != second
    assert (first.read_bytes(), second.read_bytes()) == (b"<first/>", b"<second/>")


def test_parts_are_copied_when_a_link_is_impossible(catalog: OneC, monkeypatch) -> None:
    def no_links(*_: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr("exchange.services.audit.os.link", no_links)
    data = os.urandom(7000)

    catalog.upload("offers.xml", data, part_size=3000)

    copy = logs() / ExchangeFile.objects.get().log_name
    assert copy.read_bytes() == data
    assert not copy.samefile(session_upload_dir(ExchangeSession.objects.get()) / "offers.xml")


def test_a_refused_part_is_not_in_the_copy_of_a_kept_file(catalog: OneC, settings) -> None:
    catalog.post_file("offers.xml", b"part-one;")
    copy = logs() / ExchangeFile.objects.get().log_name
    settings.EXCHANGE_MAX_SESSION_SIZE = 10

    catalog.post_file("offers.xml", b"part-two;")

    assert copy.read_bytes() == b"part-one;"  # what was received before the refusal is kept


def test_the_request_log_masks_the_session_secrets_in_answers(onec: OneC) -> None:
    onec.checkauth()

    row = ExchangeRequestLog.objects.get()
    assert row.answer.split("\n")[:4] == ["success", "exchange_session", "***", "sessid=***"]


# --- retention ------------------------------------------------------------------------------


def write(path: Path, size: int, age_days: float = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    stamp = time.time() - age_days * 86400
    os.utime(path, (stamp, stamp))
    return path


def test_days_older_than_the_retention_are_removed(settings) -> None:
    settings.EXCHANGE_LOG_RETENTION_DAYS = 30
    today = timezone.localdate()
    old = write(logs() / (today - timedelta(days=31)).isoformat() / "s" / "in" / "import.xml", 10)
    kept = write(logs() / (today - timedelta(days=30)).isoformat() / "s" / "in" / "import.xml", 10)
    unrelated = write(logs() / "README", 1)

    result = audit.audit_prune()

    assert not old.exists() and not old.parent.parent.parent.exists()
    assert kept.exists() and unrelated.exists()
    assert (result.days_removed, result.files_removed) == (1, 1)


def test_the_oldest_files_go_until_the_total_fits(settings) -> None:
    settings.EXCHANGE_LOG_MAX_BYTES = 2500
    day = logs() / timezone.localdate().isoformat() / "s"
    oldest = write(day / "in" / "a.xml", 1000, age_days=3)
    middle = write(day / "in" / "b.xml", 1000, age_days=2)
    newest = write(day / "out" / "c.xml", 1000, age_days=1)

    result = audit.audit_prune()

    assert not oldest.exists()
    assert middle.exists() and newest.exists()
    assert result.bytes_left == 2000


def test_the_beat_task_applies_the_policy(settings) -> None:
    settings.EXCHANGE_LOG_RETENTION_DAYS = 1
    old = write(logs() / (timezone.localdate() - timedelta(days=5)).isoformat() / "s" / "in" / "x.xml", 5)

    assert prune_exchange_logs.run()["days_removed"] == 1
    assert not old.exists()


def test_prune_without_a_log_folder_does_nothing() -> None:
    assert audit.audit_prune() == audit.PruneResult(0, 0, 0)


# --- the request log: retention and bounded rows ---------------------------------------------


def test_request_log_rows_older_than_the_retention_are_pruned_by_the_beat_task(settings, catalog: OneC) -> None:
    settings.EXCHANGE_LOG_RETENTION_DAYS = 30
    ExchangeRequestLog.objects.update(created_at=timezone.now() - timedelta(days=31))
    kept = catalog.init()  # a request of today
    assert kept.status_code == 200

    result = prune_exchange_logs.run()

    assert result["requests_removed"] == 2  # checkauth and the first init
    assert list(ExchangeRequestLog.objects.values_list("mode", flat=True)) == ["init"]


def test_pruning_goes_in_batches_until_every_old_row_is_gone(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "_PRUNE_BATCH", 3)
    ExchangeRequestLog.objects.bulk_create([ExchangeRequestLog(method="GET", mode=f"m{n}") for n in range(10)])
    ExchangeRequestLog.objects.update(created_at=timezone.now() - timedelta(days=400))

    assert audit.audit_requests_prune() == 10
    assert not ExchangeRequestLog.objects.exists()


def test_old_login_counters_are_pruned_with_the_logs(db: None) -> None:
    from customers.models import LoginThrottle

    LoginThrottle.objects.create(key="old", count=5, window_start=int(time.time()) - 3 * 24 * 3600)
    LoginThrottle.objects.create(key="fresh", count=5, window_start=int(time.time()) - 600)

    assert prune_exchange_logs.run()["login_counters_removed"] == 1
    assert list(LoginThrottle.objects.values_list("key", flat=True)) == ["fresh"]


def test_an_unknown_client_flooding_huge_query_strings_leaves_small_rows(db: None) -> None:
    from django.test import Client

    junk = "&".join(f"p{n}={'x' * 2000}" for n in range(200))
    for _ in range(3):
        Client().get(f"/1c/exchange?type=catalog&mode=init&filename={'y' * 5000}&{junk}")

    rows = list(ExchangeRequestLog.objects.all())
    assert len(rows) == 3
    for row in rows:
        assert len(json.dumps(row.params, ensure_ascii=False)) < 1000
        assert set(row.params) == {"type", "mode", "filename", "…"}
        assert row.params["…"] == "200 more parameters not kept"


def test_a_known_client_keeps_its_parameters_within_bounds(catalog: OneC) -> None:
    catalog.get("init", **{f"p{n}": "v" * 3000 for n in range(40)})

    row = ExchangeRequestLog.objects.filter(mode="init").latest("id")
    assert len(row.params) == 17  # 16 kept and the note of how many were not
    assert max(len(value) for value in row.params.values()) == 1024
