"""Archives (zip=yes) are unpacked at the first mode=import, a bounded time per request,
answering progress as Bitrix does; corrupt archives, zip-slip, links, too many entries and zip
bombs are refused with nothing left half-unpacked."""

from __future__ import annotations

import io
import os
import stat
import zipfile

import pytest

from exchange.models import ExchangeFile, ExchangeSession
from exchange.protocol import (
    ZIP_CORRUPT,
    ZIP_DONE,
    ZIP_ENCRYPTED,
    ZIP_ERROR,
    ZIP_LINK_ENTRY,
    ZIP_PROGRESS,
    ZIP_RATIO_TOO_HIGH,
    ZIP_TOO_LARGE,
    ZIP_TOO_MANY_ENTRIES,
    ZIP_UNSAFE_ENTRY,
)
from exchange.services.uploads import session_upload_dir
from tests.exchange.conftest import OneC, assert_answer

pytestmark = pytest.mark.django_db

IMPORT_DONE = "Импорт успешно завершен."


@pytest.fixture(autouse=True)
def fake_importer(monkeypatch):
    """The importer is another component; here it only has to be reached with the right file."""
    calls: list[str] = []

    def step(*, session, filename):
        calls.append(filename)
        assert (session_upload_dir(session) / filename).is_file()
        from exchange.protocol import success

        return success(IMPORT_DONE)

    monkeypatch.setattr("exchange.services.catalog_import.catalog_import_step", step)
    return calls


def make_zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def folder(onec: OneC):
    return session_upload_dir(ExchangeSession.objects.get(key=onec.session_key))


def files_in(onec: OneC) -> dict[str, bytes]:
    base = folder(onec)
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


CATALOG = {
    "import.xml": b"<import/>",
    "offers.xml": b"<offers/>",
    "import_files/ab/ab12.jpg": b"\xff\xd8jpeg",
}


def test_an_archive_is_unpacked_at_the_first_import_then_the_import_runs(catalog: OneC, fake_importer) -> None:
    catalog.post_file("import.zip", make_zip(CATALOG))

    answers = catalog.import_until_done("import.xml")

    assert [a.text for a in answers] == [f"progress\n{ZIP_DONE}\n", f"success\n{IMPORT_DONE}\n"]
    assert fake_importer == ["import.xml"]
    assert files_in(catalog) == {**CATALOG, "import.zip": make_zip(CATALOG)}
    assert ExchangeFile.objects.get().unpacked_at is not None
    assert_answer(catalog.import_file("offers.xml"), "success", IMPORT_DONE)  # not unpacked again


def test_unpacking_is_spread_over_requests_when_it_takes_long(catalog: OneC, settings) -> None:
    settings.EXCHANGE_UNZIP_STEP_SECONDS = 0  # one entry per request
    catalog.post_file("import.zip", make_zip(CATALOG))

    answers = [a.text for a in catalog.import_until_done("import.xml")]

    assert answers == [
        f"progress\n{ZIP_PROGRESS}\n",
        f"progress\n{ZIP_PROGRESS}\n",
        f"progress\n{ZIP_DONE}\n",
        f"success\n{IMPORT_DONE}\n",
    ]
    assert set(files_in(catalog)) == {*CATALOG, "import.zip"}


def test_an_archive_with_any_name_is_recognised_by_its_content(catalog: OneC, fake_importer) -> None:
    catalog.post_file("v8_exchange_1", make_zip(CATALOG))

    catalog.import_until_done("offers.xml")

    assert fake_importer == ["offers.xml"]


def test_archive_parts_are_joined_before_unpacking(catalog: OneC) -> None:
    archive = make_zip({"import.xml": os.urandom(50_000)}, zipfile.ZIP_STORED)
    catalog.upload("import.zip", archive, part_size=8000)

    assert catalog.import_until_done("import.xml")[-1].lines[0] == "success"


def refused(catalog: OneC, archive: bytes, detail: str) -> None:
    catalog.post_file("import.zip", archive)

    response = catalog.import_file("import.xml")

    assert_answer(response, "failure", f"{ZIP_ERROR} {detail}")
    assert files_in(catalog) == {"import.zip": archive}  # the archive is kept for the operator
    stored = ExchangeFile.objects.get()
    assert (stored.unpacked_at, stored.unpack_position, stored.unpacked_size) == (None, 0, 0)


def test_a_corrupt_archive_is_refused(catalog: OneC) -> None:
    refused(catalog, b"PK\x03\x04" + os.urandom(2000), ZIP_CORRUPT.format(name="import.zip"))


def test_a_corrupt_entry_removes_what_was_already_unpacked(catalog: OneC, settings) -> None:
    settings.EXCHANGE_UNZIP_STEP_SECONDS = 0  # a.xml in the first request, b.xml in the second
    damaged = bytearray(make_zip({"a.xml": b"<a/>" * 100, "b.xml": os.urandom(5000)}, zipfile.ZIP_STORED))
    damaged[damaged.find(b"b.xml") + 40] ^= 0xFF  # a byte of b.xml's data: its CRC no longer matches
    catalog.post_file("import.zip", bytes(damaged))

    first = catalog.import_file("import.xml")
    assert "a.xml" in files_in(catalog)
    second = catalog.import_file("import.xml")

    assert first.text == f"progress\n{ZIP_PROGRESS}\n"
    assert_answer(second, "failure", f"{ZIP_ERROR} {ZIP_CORRUPT.format(name='import.zip')}")
    assert files_in(catalog) == {"import.zip": bytes(damaged)}


@pytest.mark.parametrize(
    "entry",
    [
        "../evil.xml",
        "../../outside.xml",
        "/etc/cron.d/evil",
        "C:\\evil.xml",
        "import_files/../../x.xml",
        ".htaccess",
        "shell.php",
    ],
)
def test_zip_slip_entries_are_refused(catalog: OneC, entry: str) -> None:
    refused(
        catalog,
        make_zip({"import.xml": b"<ok/>", entry: b"evil"}),
        ZIP_UNSAFE_ENTRY.format(name="import.zip", entry=entry),
    )
    assert not (folder(catalog).parent / "evil.xml").exists()


def test_links_in_an_archive_are_refused(catalog: OneC) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("import.xml", b"<ok/>")
        link = zipfile.ZipInfo("import_files")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc")

    refused(catalog, buffer.getvalue(), ZIP_LINK_ENTRY.format(name="import.zip", entry="import_files"))


def test_too_many_entries_are_refused(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_ZIP_ENTRIES = 10

    refused(
        catalog,
        make_zip({f"import_files/{n}.jpg": b"x" for n in range(11)}),
        ZIP_TOO_MANY_ENTRIES.format(name="import.zip", limit=10),
    )


def test_an_archive_unpacking_beyond_the_size_limit_is_refused(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_UNZIPPED_SIZE = 100_000

    refused(
        catalog,
        make_zip({"import.xml": os.urandom(60_000), "offers.xml": os.urandom(60_000)}),
        ZIP_TOO_LARGE.format(name="import.zip", limit=100_000),
    )


def test_a_zip_bomb_is_refused_by_its_ratio(catalog: OneC) -> None:
    bomb = make_zip({"import.xml": b"\0" * (20 * 1024 * 1024)})

    refused(catalog, bomb, ZIP_RATIO_TOO_HIGH.format(name="import.zip", entry="import.xml", limit=200))


def test_small_well_compressed_files_are_not_bombs(catalog: OneC) -> None:
    catalog.post_file("import.zip", make_zip({"import.xml": b"<a/>" * 100_000}))

    assert catalog.import_until_done("import.xml")[-1].lines[0] == "success"


def test_encrypted_archives_are_refused(catalog: OneC) -> None:
    archive = bytearray(make_zip({"import.xml": b"<ok/>"}, zipfile.ZIP_STORED))
    # Set the "encrypted" flag in the local and the central header, as an encrypting zip does.
    for header in (b"PK\x03\x04", b"PK\x01\x02"):
        at = archive.find(header)
        flag_at = at + (6 if header == b"PK\x03\x04" else 8)
        archive[flag_at] |= 0x01

    refused(catalog, bytes(archive), ZIP_ENCRYPTED.format(name="import.zip"))


def test_cp866_names_of_windows_archives_are_read(catalog: OneC) -> None:
    # Windows archivers in Russia write non-ASCII names in cp866 without the UTF-8 flag;
    # zipfile cannot write that, so an ASCII placeholder of the same length is patched.
    name, placeholder = "Фото.jpg".encode("cp866"), b"XXXX.jpg"
    archive = make_zip({"import.xml": b"<ok/>", "import_files/" + placeholder.decode(): b"jpg"}).replace(
        placeholder, name
    )
    catalog.post_file("import.zip", archive)

    catalog.import_until_done("import.xml")

    assert files_in(catalog)["import_files/Фото.jpg"] == b"jpg"
