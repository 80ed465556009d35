"""The beat task removes upload folders nothing needs any more, and never one an import reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from exchange.conf import exchange_settings
from exchange.models import ExchangeSession, ImportSession
from exchange.services.uploads import session_upload_dir, uploads_remove_stale
from exchange.tasks import expire_sessions
from tests.exchange.conftest import PASSWORD, OneC

pytestmark = pytest.mark.django_db


def started(exchange_user, content: bytes = b"<x/>") -> tuple[OneC, ExchangeSession]:
    onec = OneC(Client(), username=exchange_user.email, password=PASSWORD)
    onec.checkauth()
    onec.init()
    onec.post_file("import.xml", content)
    return onec, ExchangeSession.objects.get(key=onec.session_key)


def test_folders_of_active_sessions_stay(exchange_user) -> None:
    _, session = started(exchange_user)

    assert uploads_remove_stale() == 0
    assert (session_upload_dir(session) / "import.xml").exists()


def test_folders_of_expired_sessions_go_with_the_beat_task(exchange_user) -> None:
    _, session = started(exchange_user)
    ExchangeSession.objects.filter(pk=session.pk).update(last_seen_at=timezone.now() - timedelta(hours=3))

    result = expire_sessions.run()

    assert result == {"expired": 1, "folders_removed": 1}
    assert not session_upload_dir(session).exists()


def test_folders_of_completed_sessions_go_unless_an_import_reads_them(exchange_user) -> None:
    onec, session = started(exchange_user)
    onec.get("complete")
    reading = ImportSession.objects.create(
        exchange_session=session, base_dir=str(session_upload_dir(session)), status=ImportSession.Status.IN_PROGRESS
    )

    uploads_remove_stale()
    assert (session_upload_dir(session) / "import.xml").exists()

    ImportSession.objects.filter(pk=reading.pk).update(status=ImportSession.Status.COMPLETED)
    uploads_remove_stale()
    assert not session_upload_dir(session).exists()


def test_an_earlier_generation_goes_once_its_import_ends(exchange_user) -> None:
    onec, session = started(exchange_user)
    old = session_upload_dir(session)
    reading = ImportSession.objects.create(
        exchange_session=session, base_dir=str(old), status=ImportSession.Status.IN_PROGRESS
    )
    onec.init()
    onec.post_file("import.xml", b"<new/>")

    uploads_remove_stale()
    assert old.exists()

    ImportSession.objects.filter(pk=reading.pk).update(status=ImportSession.Status.FAILED)
    uploads_remove_stale()
    session.refresh_from_db()
    assert not old.exists()
    assert (session_upload_dir(session) / "import.xml").read_bytes() == b"<new/>"


def test_the_trash_is_emptied(exchange_user) -> None:
    onec, _ = started(exchange_user)
    onec.init()
    assert any(exchange_settings().trash_dir.iterdir())

    uploads_remove_stale()

    assert list(exchange_settings().trash_dir.iterdir()) == []


def test_the_log_folder_and_foreign_folders_are_not_touched(exchange_user) -> None:
    started(exchange_user)
    foreign = exchange_settings().data_dir / "keep-me"
    foreign.mkdir()
    ExchangeSession.objects.update(status=ExchangeSession.Status.EXPIRED)

    uploads_remove_stale()

    assert foreign.exists()
    assert any(exchange_settings().logs_dir.rglob("import.xml"))
