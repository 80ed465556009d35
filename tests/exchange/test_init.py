"""mode=init: the upload parameters (protocol.md §2.2, §3.1) and a fresh upload folder that never
pulls files from under an import that is still reading them."""

from __future__ import annotations

import pytest

from exchange.conf import exchange_settings
from exchange.models import ExchangeFile, ExchangeSession, ImportSession
from exchange.services.uploads import session_upload_dir
from tests.exchange.conftest import OneC, assert_answer

pytestmark = pytest.mark.django_db


def session_of(onec: OneC) -> ExchangeSession:
    return ExchangeSession.objects.get(key=onec.session_key)


def test_init_answers_zip_and_file_limit(onec: OneC) -> None:
    onec.checkauth()

    assert_answer(onec.init(), "zip=yes", "file_limit=67108864")


def test_zip_and_file_limit_are_configurable(onec: OneC, settings) -> None:
    settings.EXCHANGE_ZIP = False
    settings.EXCHANGE_FILE_LIMIT = 204800
    onec.checkauth()

    assert_answer(onec.init(), "zip=no", "file_limit=204800")


@pytest.mark.parametrize("version", ["2.03", "2.05", "2.08", "2.09", "2.10", "3.1"])
def test_init_with_a_supported_version_echoes_it_with_the_sessid(onec: OneC, version: str) -> None:
    onec.checkauth()

    response = onec.init(version=version)

    session = session_of(onec)
    assert_answer(response, "zip=yes", "file_limit=67108864", f"sessid={session.csrf_token}", f"version={version}")
    assert session.protocol_version == version


@pytest.mark.parametrize("version", ["2.11", "4.0", "latest"])
def test_init_with_an_unknown_version_answers_2_10(onec: OneC, version: str) -> None:
    onec.checkauth()

    response = onec.init(version=version)

    assert response.lines[3] == "version=2.10"
    assert session_of(onec).protocol_version == "2.10"


def test_init_as_1c_sends_it_with_a_double_ampersand(onec: OneC) -> None:
    onec.checkauth()
    onec.suffix = "&"  # a server without line 4 makes 1C send "...mode=init&&version=2.08"

    response = onec.init(version="2.08")

    assert response.lines[-2] == "version=2.08"


def test_init_counts_calls(onec: OneC) -> None:
    onec.checkauth()
    onec.init()
    onec.init()

    assert session_of(onec).init_count == 2


def test_a_new_init_starts_an_empty_folder(catalog: OneC) -> None:
    catalog.post_file("import.xml", b"<old/>")
    folder = session_upload_dir(session_of(catalog))

    assert_answer(catalog.init(), "zip=yes", "file_limit=67108864")

    assert folder.is_dir()
    assert list(folder.iterdir()) == []
    assert not ExchangeFile.objects.exists()
    catalog.post_file("import.xml", b"<new/>")
    assert (folder / "import.xml").read_bytes() == b"<new/>"


def test_the_old_folder_goes_to_the_trash_for_the_cleanup_task(catalog: OneC) -> None:
    catalog.post_file("import.xml", b"<old/>")

    catalog.init()

    trashed = list(exchange_settings().trash_dir.iterdir())
    assert len(trashed) == 1
    assert (trashed[0] / "import.xml").read_bytes() == b"<old/>"


def test_a_new_init_leaves_the_files_of_a_running_import_alone(catalog: OneC) -> None:
    catalog.post_file("import.xml", b"<being-imported/>")
    session = session_of(catalog)
    reading = session_upload_dir(session)
    ImportSession.objects.create(
        exchange_session=session, base_dir=str(reading), status=ImportSession.Status.IN_PROGRESS
    )

    catalog.init()

    session.refresh_from_db()
    assert (reading / "import.xml").read_bytes() == b"<being-imported/>"
    assert session.upload_generation == 1
    fresh = session_upload_dir(session)
    assert fresh != reading
    assert list(fresh.iterdir()) == []
    catalog.post_file("import.xml", b"<next/>")
    assert (fresh / "import.xml").read_bytes() == b"<next/>"
    assert (reading / "import.xml").read_bytes() == b"<being-imported/>"
