"""Archives (zip=yes) are unpacked at the first mode=import, a bounded time per request,
answering progress as Bitrix does; corrupt archives, zip-slip, links, too many entries and zip
bombs are refused with nothing left half-unpacked."""

from __future__ import annotations

import errno
import io
import os
import stat
import struct
import warnings
import zipfile

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from exchange.models import ExchangeFile, ExchangeSession
from exchange.protocol import (
    SESSION_TOO_LARGE,
    ZIP_ARCHIVE_RATIO_TOO_HIGH,
    ZIP_CORRUPT,
    ZIP_DISK_SPACE_LOW,
    ZIP_DONE,
    ZIP_ENCRYPTED,
    ZIP_ERROR,
    ZIP_LINK_ENTRY,
    ZIP_NAME_CONFLICT,
    ZIP_PROGRESS,
    ZIP_RATIO_TOO_HIGH,
    ZIP_SESSION_TOO_LARGE,
    ZIP_TOO_LARGE,
    ZIP_TOO_MANY_ENTRIES,
    ZIP_UNSAFE_ENTRY,
)
from exchange.services import uploads
from exchange.services.uploads import normalise_archive_entry, session_upload_dir
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

    monkeypatch.setattr("exchange.catalog.service.catalog_import_step", step)
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


def session_of(onec: OneC) -> ExchangeSession:
    return ExchangeSession.objects.get(key=onec.session_key)


def refused_later(catalog: OneC, name: str, detail: str) -> None:
    """The archive ``name`` (already uploaded) is refused at mode=import, and every file it
    unpacked is gone again; files and archives the session had before are kept."""
    before = files_in(catalog)
    size_before = session_of(catalog).upload_size

    answers = catalog.import_until_done("import.xml")

    assert_answer(answers[-1], "failure", f"{ZIP_ERROR} {detail}")
    assert files_in(catalog) == before
    assert not [p for p in folder(catalog).rglob("*") if p.is_dir() and not any(p.iterdir())]  # no empty folders
    refused_file = ExchangeFile.objects.get(name=name)
    assert (refused_file.unpacked_at, refused_file.unpack_position, refused_file.unpacked_size) == (None, 0, 0)
    assert session_of(catalog).upload_size == size_before


# --- archives cannot fill the disk ----------------------------------------------------------


def test_many_small_well_compressed_entries_cannot_add_up(catalog: OneC) -> None:
    # What once unpacked 2.26 MB into 2.0 GB: entries of 1 MiB each, all far beyond the ratio.
    bomb = make_zip({f"import_files/{n}.jpg": b"\0" * (1024 * 1024) for n in range(64)})

    refused(catalog, bomb, ZIP_ARCHIVE_RATIO_TOO_HIGH.format(name="import.zip", limit=200))


def test_an_entry_is_checked_however_small_once_the_allowance_is_spent(catalog: OneC) -> None:
    first = make_zip({"a.xml": b"\0" * (900 * 1024)})
    second = make_zip({"import.xml": b"<ok/>", "b.xml": b"\0" * (600 * 1024)})
    catalog.post_file("first.zip", first)
    catalog.post_file("second.zip", second)

    answer = catalog.import_file("import.xml")

    assert_answer(
        answer, "failure", f"{ZIP_ERROR} {ZIP_RATIO_TOO_HIGH.format(name='second.zip', entry='b.xml', limit=200)}"
    )
    assert files_in(catalog) == {"first.zip": first, "second.zip": second, "a.xml": b"\0" * (900 * 1024)}


def test_many_small_archives_share_one_allowance(catalog: OneC) -> None:
    archives = {f"part{n}.zip": make_zip({f"import_files/{n}.jpg": b"\0" * (256 * 1024)}) for n in range(20)}
    for name, archive in archives.items():
        assert_answer(catalog.post_file(name, archive), "success")

    answers = catalog.import_until_done("import.xml")

    assert answers[-1].lines[0] == "failure"
    assert answers[-1].lines[1].startswith(f"{ZIP_ERROR} Архив part")
    unpacked = {name: data for name, data in files_in(catalog).items() if name.startswith("import_files/")}
    assert 0 < len(unpacked) < 8  # a few fit in the 1 MiB allowance, the rest are refused
    assert session_of(catalog).upload_size == sum(map(len, archives.values())) + sum(map(len, unpacked.values()))


def test_an_archive_lying_about_its_packed_sizes_is_refused_by_its_real_size(catalog: OneC) -> None:
    data = b"\0" * (20 * 1024 * 1024)
    archive = bytearray(make_zip({"import.xml": data}))
    # Claim in both headers that the entry is stored as big as it unpacks: ratio 1 on paper.
    local, central = archive.find(b"PK\x03\x04"), archive.find(b"PK\x01\x02")
    struct.pack_into("<I", archive, local + 18, len(data))
    struct.pack_into("<I", archive, central + 20, len(data))

    refused(catalog, bytes(archive), ZIP_RATIO_TOO_HIGH.format(name="import.zip", entry="import.xml", limit=200))


def test_unpacked_bytes_count_against_the_session_limit(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_SESSION_SIZE = 250_000
    archive = make_zip({"import.xml": os.urandom(150_000)}, zipfile.ZIP_STORED)  # 150 KB in, 150 KB out

    refused(catalog, archive, ZIP_SESSION_TOO_LARGE.format(name="import.zip", limit=250_000))


def test_uploads_after_unpacking_count_what_was_unpacked(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_SESSION_SIZE = 400_000
    archive = make_zip({"import.xml": os.urandom(150_000)}, zipfile.ZIP_STORED)
    catalog.post_file("import.zip", archive)
    catalog.import_until_done("import.xml")
    assert session_of(catalog).upload_size == len(archive) + 150_000

    response = catalog.post_file("offers.xml", b"o" * 150_000)

    assert_answer(response, "failure", SESSION_TOO_LARGE.format(name="offers.xml", limit=400_000))
    assert set(files_in(catalog)) == {"import.zip", "import.xml"}


def test_a_second_archive_is_refused_when_both_unpacked_exceed_the_session(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_SESSION_SIZE = 700_000
    first = make_zip({"import.xml": os.urandom(150_000)}, zipfile.ZIP_STORED)
    second = make_zip({"offers.xml": os.urandom(150_000), "prices.xml": os.urandom(100_000)}, zipfile.ZIP_STORED)
    catalog.post_file("first.zip", first)
    catalog.post_file("second.zip", second)

    answer = catalog.import_until_done("import.xml")[-1]

    assert_answer(answer, "failure", f"{ZIP_ERROR} {ZIP_SESSION_TOO_LARGE.format(name='second.zip', limit=700_000)}")
    assert set(files_in(catalog)) == {"first.zip", "second.zip", "import.xml"}
    assert session_of(catalog).upload_size == len(first) + len(second) + 150_000


def test_unpacking_stops_before_the_disk_reserve(catalog: OneC, settings, small_disk) -> None:
    settings.EXCHANGE_MIN_FREE_BYTES = 1_000_000
    entries = {f"import_files/ab/{n}.jpg": os.urandom(100_000) for n in range(5)}
    catalog.post_file("import.zip", make_zip(entries, zipfile.ZIP_STORED))
    small_disk(1_250_000)  # room for two entries above the reserve, not for three

    refused_later(catalog, "import.zip", ZIP_DISK_SPACE_LOW.format(name="import.zip"))


def test_a_disk_that_fills_while_unpacking_leaves_nothing_half_written(catalog: OneC, monkeypatch) -> None:
    big = os.urandom(3 * uploads.BLOCK_SIZE)
    catalog.post_file("import.zip", make_zip({"import.xml": b"<ok/>", "offers.xml": big}, zipfile.ZIP_STORED))
    write_all = uploads._write_all
    written: list[int] = []
    partial_sizes: list[int] = []

    def fills_after_one_block_of_offers(fd: int, data) -> None:
        if len(written) == 2:  # import.xml, then one block of offers.xml
            partial_sizes.extend(p.stat().st_size for p in folder(catalog).glob(".unzip-*.part"))
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(len(data))
        write_all(fd, data)

    monkeypatch.setattr(uploads, "_write_all", fills_after_one_block_of_offers)

    refused_later(catalog, "import.zip", ZIP_DISK_SPACE_LOW.format(name="import.zip"))
    assert written == [len(b"<ok/>"), uploads.BLOCK_SIZE]
    assert partial_sizes == [uploads.BLOCK_SIZE]  # there was a partial file, and it is gone


def test_an_archive_needing_a_newer_zip_version_is_refused_as_corrupt(catalog: OneC) -> None:
    archive = bytearray(make_zip({"import.xml": b"<ok/>"}))
    archive[archive.find(b"PK\x01\x02") + 6] = 84  # "version needed to extract": 8.4

    refused(catalog, bytes(archive), ZIP_CORRUPT.format(name="import.zip"))


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_a_broken_bzip2_or_lzma_stream_is_refused_as_corrupt(catalog: OneC, method: int) -> None:
    archive = bytearray(make_zip({"import.xml": os.urandom(5000)}, method))
    data_at = archive.find(b"import.xml") + len("import.xml")
    archive[data_at + 20 : data_at + 40] = bytes(20)  # inside the compressed stream

    refused(catalog, bytes(archive), ZIP_CORRUPT.format(name="import.zip"))


def test_an_archive_pointing_before_its_start_is_refused_as_corrupt(catalog: OneC) -> None:
    archive = bytearray(make_zip({"import.xml": b"<ok/>"}))
    end_record = archive.rfind(b"PK\x05\x06")
    # The central directory's stated offset is too large: zipfile still finds the directory, and
    # shifts every entry's offset to before the file's start (seeking there: EINVAL).
    (offset,) = struct.unpack_from("<I", archive, end_record + 16)
    struct.pack_into("<I", archive, end_record + 16, offset + 1000)

    refused(catalog, bytes(archive), ZIP_CORRUPT.format(name="import.zip"))


def test_a_corrupt_entry_in_a_new_folder_takes_the_folder_back(catalog: OneC) -> None:
    archive = bytearray(make_zip({"import_files/ab/x.jpg": os.urandom(5000)}, zipfile.ZIP_STORED))
    archive[archive.find(b"x.jpg") + 100] ^= 0xFF  # its CRC no longer matches

    refused(catalog, bytes(archive), ZIP_CORRUPT.format(name="import.zip"))
    assert not (folder(catalog) / "import_files").exists()


def test_unpacking_stops_before_the_disk_runs_out_of_inodes(catalog: OneC, settings, monkeypatch) -> None:
    catalog.post_file("import.zip", make_zip({f"import_files/{n}.jpg": b"" for n in range(20)}))
    files_before = sum(1 for _ in settings.EXCHANGE_DATA_DIR.rglob("*"))
    # A disk with room for 10 more files or folders above the reserve.
    monkeypatch.setattr(
        uploads,
        "_free_inodes",
        lambda folder: (
            uploads.MIN_FREE_INODES + 10 - (sum(1 for _ in settings.EXCHANGE_DATA_DIR.rglob("*")) - files_before)
        ),
    )

    refused_later(catalog, "import.zip", ZIP_DISK_SPACE_LOW.format(name="import.zip"))


def test_free_inodes_are_read_from_the_file_system(tmp_path) -> None:
    free = uploads._free_inodes(tmp_path)

    assert free is None or free > 0


# --- names that are a file and a folder at once ---------------------------------------------


@pytest.mark.parametrize(
    ("entries", "entry", "conflict"),
    [
        ({"a": b"file", "a/b.xml": b"<b/>"}, "a/b.xml", "a"),
        ({"a/b.xml": b"<b/>", "a": b"file"}, "a/b.xml", "a"),
        ({"a/": b"", "a": b"file"}, "a", "a"),
        ({"import_files/ab": b"file", "import_files/ab/x.jpg": b"jpg"}, "import_files/ab/x.jpg", "import_files/ab"),
    ],
)
def test_a_name_that_is_a_file_and_a_folder_is_refused(catalog: OneC, entries, entry: str, conflict: str) -> None:
    refused(
        catalog,
        make_zip({"import.xml": b"<ok/>", **entries}),
        ZIP_NAME_CONFLICT.format(name="import.zip", entry=entry, conflict=conflict),
    )


def test_an_entry_named_like_an_uploaded_folder_is_refused_and_the_folder_kept(catalog: OneC) -> None:
    catalog.post_file("import_files/ab/x.jpg", b"jpg")
    catalog.post_file("import.zip", make_zip({"import.xml": b"<ok/>", "import_files": b"file"}))

    refused_later(
        catalog,
        "import.zip",
        ZIP_NAME_CONFLICT.format(name="import.zip", entry="import_files", conflict="import_files"),
    )
    assert files_in(catalog)["import_files/ab/x.jpg"] == b"jpg"


def test_a_refused_archive_takes_back_the_folders_it_made(catalog: OneC) -> None:
    catalog.post_file("offers.xml", b"<offers/>")
    archive = make_zip({"import_files/ab/x.jpg": b"jpg", "import.xml": b"<ok/>", "offers.xml/y.xml": b"<y/>"})
    catalog.post_file("import.zip", archive)

    refused_later(
        catalog,
        "import.zip",
        ZIP_NAME_CONFLICT.format(name="import.zip", entry="offers.xml/y.xml", conflict="offers.xml"),
    )
    assert not (folder(catalog) / "import_files").exists()
    # The name is free again: a later upload of a file called import_files works.
    assert_answer(catalog.post_file("import_files", b"<x/>"), "success")


def test_after_a_refused_archive_a_new_exchange_with_a_good_archive_works(catalog: OneC, fake_importer) -> None:
    catalog.post_file("import.zip", make_zip({"a": b"file", "a/b.xml": b"<b/>"}))
    assert catalog.import_file("import.xml").lines[0] == "failure"

    catalog.init()
    catalog.post_file("import.zip", make_zip(CATALOG))

    assert catalog.import_until_done("import.xml")[-1].lines[0] == "success"
    assert fake_importer == ["import.xml"]


# --- any archive: a clean answer, and a refused one leaves nothing ------------------------------

_SAFE_SEGMENTS = ["a", "b.xml", "import.xml", "import_files", "ab", "Фото.jpg", "a\\b"]
_ANY_SEGMENTS = [*_SAFE_SEGMENTS, ".", "..", "", " ", "x.php", "C:", ".hidden"]
_entry_data = st.sampled_from([b"", b"<x/>", b"\0" * 300_000, bytes(range(256)) * 40]) | st.binary(max_size=300)
_methods = st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])


def _entry_lists(names: st.SearchStrategy[str]) -> st.SearchStrategy[list[tuple[str, bool, bytes, int]]]:
    return st.lists(st.tuples(names, st.booleans(), _entry_data, _methods), max_size=8)


# Half the archives use only names 1C could send, so that unpacking (and conflicts between
# entries and uploads) is reached as often as the name guards.
_entries = _entry_lists(st.lists(st.sampled_from(_SAFE_SEGMENTS), min_size=1, max_size=4).map("/".join)) | (
    _entry_lists(
        st.lists(st.sampled_from(_ANY_SEGMENTS), min_size=1, max_size=4).map("/".join)
        | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
    )
)
_uploads_before = st.lists(st.sampled_from(["a", "a/b.xml", "import_files/ab/x.jpg", "import.xml"]), max_size=3)
_damage = st.none() | st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255))


def _build_zip(entries: list[tuple[str, bool, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are part of what is tried
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, is_dir, data, method in entries:
                info = zipfile.ZipInfo(name + "/" if is_dir else name)
                info.compress_type = method
                archive.writestr(info, b"" if is_dir else data)
    return buffer.getvalue()


def _folders_in(onec: OneC) -> set[str]:
    base = folder(onec)
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_dir()}


@given(entries=_entries, uploads_before=_uploads_before, damage=_damage)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_archive_is_unpacked_whole_or_refused_leaving_nothing(
    catalog: OneC, entries, uploads_before: list[str], damage
) -> None:
    catalog.init()  # every example starts an exchange with an empty folder
    for name in uploads_before:
        catalog.post_file(name, b"uploaded " + name.encode())
    archive = bytearray(_build_zip(entries))
    if damage is not None:
        at, mask = damage
        archive[at % len(archive)] ^= mask
    archive_bytes = bytes(archive)
    assert_answer(catalog.post_file("import.zip", archive_bytes), "success")
    before, folders_before = files_in(catalog), _folders_in(catalog)
    size_before = session_of(catalog).upload_size

    answer = catalog.import_until_done("import.xml")[-1]

    assert answer.lines[0] in {"success", "failure"}
    assert not answer.lines[1].startswith("Internal error"), answer.text
    assert not list(folder(catalog).rglob(".unzip-*"))
    event(answer.lines[1].split(":")[0][:60])
    if answer.lines[0] == "failure" and answer.lines[1].startswith(ZIP_ERROR):
        assert files_in(catalog) == before
        assert _folders_in(catalog) <= folders_before
        assert session_of(catalog).upload_size == size_before
        return
    if damage is not None:
        return  # a damaged archive may still unpack; what it holds is not known here
    expected = dict(before)
    # A name ending in "/" is a folder entry in a zip, whatever the writer meant (zipfile.is_dir).
    files = [(name, data) for name, is_dir, data, _ in entries if not is_dir and not name.endswith("/")]
    for name, data in files:
        expected[normalise_archive_entry(name)] = data
    assert files_in(catalog) == expected
    unpacked = sum(len(data) for _, data in files)
    assert session_of(catalog).upload_size == size_before + unpacked
