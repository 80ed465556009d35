"""mode=file: the raw POST body streamed onto the end of <EXCHANGE_DATA_DIR>/<session>/<name>,
parts appended, limits enforced, and nothing half-written on any refusal."""

from __future__ import annotations

import errno
import io
import os
import shutil
import tracemalloc

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from exchange.conf import exchange_settings
from exchange.models import ExchangeFile, ExchangeRequestLog, ExchangeSession
from exchange.protocol import (
    DISK_SPACE_LOW,
    FILE_NEEDS_POST,
    FILE_TOO_LARGE,
    FILE_WRITE_FAILED,
    FILENAME_CONFLICT,
    FILENAME_MISSING,
    FILENAME_UNSAFE,
    SESSION_TOO_LARGE,
    UPLOAD_INTERRUPTED,
)
from exchange.services import audit, uploads
from exchange.services.uploads import BodyReader, normalise_filename, session_upload_dir, upload_append
from tests.exchange.conftest import OneC, Response, assert_answer
from tests.exchange.test_filenames import UNSAFE_NAMES

pytestmark = pytest.mark.django_db


def session_of(onec: OneC) -> ExchangeSession:
    return ExchangeSession.objects.get(key=onec.session_key)


def folder_of(onec: OneC):
    return session_upload_dir(session_of(onec))


def snapshot(onec: OneC) -> dict[str, bytes]:
    folder = folder_of(onec)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_file_is_stored_under_the_session_folder(catalog: OneC) -> None:
    assert_answer(catalog.post_file("import.xml", b"<xml/>"), "success")

    assert (folder_of(catalog) / "import.xml").read_bytes() == b"<xml/>"
    stored = ExchangeFile.objects.get()
    assert (stored.name, stored.size, stored.parts, stored.is_archive) == ("import.xml", 6, 1, False)


def test_the_folder_is_the_private_data_dir_not_media(catalog: OneC, settings) -> None:
    catalog.post_file("import.xml", b"<xml/>")

    folder = folder_of(catalog)
    assert folder.parent == settings.EXCHANGE_DATA_DIR
    assert not folder.resolve().is_relative_to(settings.MEDIA_ROOT.resolve())
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)


def test_parts_with_the_same_name_are_appended(catalog: OneC) -> None:
    data = os.urandom(10_000)

    answers = catalog.upload("offers.xml", data, part_size=3000)

    assert [a.text for a in answers] == ["success\n"] * 4
    assert (folder_of(catalog) / "offers.xml").read_bytes() == data
    stored = ExchangeFile.objects.get()
    assert (stored.size, stored.parts) == (10_000, 4)
    assert session_of(catalog).bytes_received == 10_000


def test_sub_folders_are_kept(catalog: OneC) -> None:
    catalog.post_file("import_files/ab/abcdef.jpg", b"\xff\xd8jpeg")

    assert (folder_of(catalog) / "import_files" / "ab" / "abcdef.jpg").read_bytes() == b"\xff\xd8jpeg"


def test_a_windows_temp_path_is_stored_under_its_name(catalog: OneC) -> None:
    catalog.post_file("C:\\Users\\1C\\AppData\\Local\\Temp\\v8_8789_c.xml", b"<x/>")

    assert snapshot(catalog) == {"v8_8789_c.xml": b"<x/>"}


def test_a_linux_temp_path_is_stored_relative(catalog: OneC) -> None:
    catalog.post_file("/tmp/import_files/ab/x.jpg", b"jpg")

    assert snapshot(catalog) == {"import_files/ab/x.jpg": b"jpg"}


def test_archives_are_recognised_by_content_not_name(catalog: OneC) -> None:
    catalog.post_file("v8_exchange.dat", b"PK\x03\x04 rest of an archive")
    catalog.post_file("fake.zip", b"not an archive")

    assert dict(ExchangeFile.objects.values_list("name", "is_archive")) == {"v8_exchange.dat": True, "fake.zip": False}


@pytest.mark.parametrize("name", [n for n in UNSAFE_NAMES if n.strip()])
def test_unsafe_names_are_refused_and_nothing_is_written(catalog: OneC, name: str) -> None:
    catalog.post_file("import.xml", b"<kept/>")

    response = catalog.post_file(name, b"payload")

    assert response.lines[0] == "failure"
    assert response.lines[1].startswith(FILENAME_UNSAFE.split("{")[0])
    assert snapshot(catalog) == {"import.xml": b"<kept/>"}
    assert list(ExchangeFile.objects.values_list("name", flat=True)) == ["import.xml"]
    data_dir = exchange_settings().data_dir
    everything = {p.name for p in data_dir.parent.rglob("*")}
    assert "passwd" not in everything and "shell.php" not in everything


def test_a_symlink_planted_in_the_folder_is_not_followed(catalog: OneC, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = folder_of(catalog)
    (folder / "import_files").symlink_to(outside)

    response = catalog.post_file("import_files/x.jpg", b"jpg")

    assert_answer(response, "failure", FILENAME_UNSAFE.format(name="import_files/x.jpg"))
    assert list(outside.iterdir()) == []


def test_a_missing_filename_is_refused(catalog: OneC) -> None:
    catalog._cookies()
    response = Response(catalog.client.generic("POST", catalog.url("file"), b"data"))

    assert_answer(response, "failure", FILENAME_MISSING)


def test_a_file_must_be_posted(catalog: OneC) -> None:
    assert_answer(catalog.get("file", filename="import.xml"), "failure", FILE_NEEDS_POST)
    assert snapshot(catalog) == {}


def test_a_file_larger_than_the_limit_is_refused_and_removed(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_FILE_SIZE = 10_000
    catalog.post_file("import.xml", b"<complete/>")
    catalog.post_file("offers.xml", b"o" * 6000)

    response = catalog.post_file("offers.xml", b"o" * 6000)

    assert_answer(response, "failure", FILE_TOO_LARGE.format(name="offers.xml", limit=10_000))
    assert snapshot(catalog) == {"import.xml": b"<complete/>"}
    assert list(ExchangeFile.objects.values_list("name", "size")) == [("import.xml", 11)]


def test_a_first_part_over_the_limit_is_refused_before_anything_is_written(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_FILE_SIZE = 100

    response = catalog.post_file("import.xml", b"x" * 101)

    assert_answer(response, "failure", FILE_TOO_LARGE.format(name="import.xml", limit=100))
    assert snapshot(catalog) == {}
    assert not ExchangeFile.objects.exists()


def test_uploads_beyond_the_session_limit_are_refused_and_the_partial_file_removed(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_SESSION_SIZE = 10_000
    catalog.post_file("import.xml", b"i" * 6000)
    catalog.post_file("offers.xml", b"o" * 3000)

    response = catalog.post_file("offers.xml", b"o" * 3000)

    assert_answer(response, "failure", SESSION_TOO_LARGE.format(name="offers.xml", limit=10_000))
    assert snapshot(catalog) == {"import.xml": b"i" * 6000}
    assert list(ExchangeFile.objects.values_list("name", "size", "parts")) == [("import.xml", 6000, 1)]
    row = ExchangeRequestLog.objects.filter(mode="file").first()  # newest first
    assert row is not None
    assert row.outcome == "failure"


def test_a_body_that_breaks_off_leaves_the_earlier_parts_whole(catalog: OneC) -> None:
    catalog.post_file("offers.xml", b"part-one;")
    session = session_of(catalog)

    class BrokenStream:
        def __init__(self) -> None:
            self.sent = False

        def read(self, size: int = -1) -> bytes:
            if self.sent:
                raise ConnectionResetError("peer went away")
            self.sent = True
            return b"half-of-part-two"

    with pytest.raises(uploads.UploadError) as refused:
        upload_append(session=session, name="offers.xml", body=BodyReader(BrokenStream(), 1_000_000))

    assert refused.value.reason == UPLOAD_INTERRUPTED
    assert snapshot(catalog) == {"offers.xml": b"part-one;"}
    assert ExchangeFile.objects.get().size == len(b"part-one;")


def test_a_later_part_that_breaks_off_after_whole_blocks_is_cut_back(catalog: OneC) -> None:
    catalog.post_file("offers.xml", b"part-one;")
    session = session_of(catalog)

    class BreaksAfterTwoBlocks:
        """Sends two full blocks and half of a third, then the connection resets."""

        def __init__(self) -> None:
            self.left = 2 * uploads.BLOCK_SIZE + uploads.BLOCK_SIZE // 2

        def read(self, size: int = -1) -> bytes:
            if not self.left:
                raise ConnectionResetError("peer went away")
            size = min(size, self.left)
            self.left -= size
            return b"2" * size

    with pytest.raises(uploads.UploadError) as refused:
        upload_append(session=session, name="offers.xml", body=BodyReader(BreaksAfterTwoBlocks(), 10_000_000))

    assert refused.value.reason == UPLOAD_INTERRUPTED
    assert snapshot(catalog) == {"offers.xml": b"part-one;"}
    stored = ExchangeFile.objects.get()
    assert (stored.size, stored.parts) == (len(b"part-one;"), 1)
    assert session_of(catalog).upload_size == len(b"part-one;")
    assert_answer(catalog.post_file("offers.xml", b"part-two"), "success")  # 1C sends the part again
    assert snapshot(catalog) == {"offers.xml": b"part-one;part-two"}


def test_a_disk_that_fills_during_a_later_part_cuts_the_part_back(catalog: OneC, monkeypatch) -> None:
    catalog.post_file("offers.xml", b"part-one;")
    written_blocks: list[int] = []
    write_all = uploads._write_all

    def fills_after_one_block(fd: int, data) -> None:
        if written_blocks:
            raise OSError(errno.ENOSPC, "No space left on device")
        written_blocks.append(len(data))
        write_all(fd, data)

    monkeypatch.setattr(uploads, "_write_all", fills_after_one_block)

    response = catalog.post_file("offers.xml", b"2" * (2 * uploads.BLOCK_SIZE))

    assert_answer(response, "failure", FILE_WRITE_FAILED.format(name="offers.xml"))
    assert written_blocks == [uploads.BLOCK_SIZE]
    assert snapshot(catalog) == {"offers.xml": b"part-one;"}
    assert ExchangeFile.objects.get().size == len(b"part-one;")


def test_a_later_part_refused_midway_leaves_the_audit_copy_with_the_accepted_parts(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_FILE_SIZE = 3 * uploads.BLOCK_SIZE
    catalog.post_file("offers.xml", b"part-one;")
    body = SyntheticBody(5 * uploads.BLOCK_SIZE)  # chunked: refused at its third block

    with pytest.raises(uploads.UploadError) as refused:
        upload_append(session=session_of(catalog), name="offers.xml", body=BodyReader(body, None))

    assert refused.value.reason == FILE_TOO_LARGE.format(name="offers.xml", limit=3 * uploads.BLOCK_SIZE)
    assert snapshot(catalog) == {}
    copies = list(audit.logs_dir().rglob("offers.xml*"))
    assert [copy.read_bytes() for copy in copies] == [b"part-one;"]


def test_a_short_body_is_an_interrupted_upload(catalog: OneC) -> None:
    session = session_of(catalog)

    with pytest.raises(uploads.UploadError) as refused:
        upload_append(session=session, name="import.xml", body=BodyReader(io.BytesIO(b"only this"), 100))

    assert refused.value.reason == UPLOAD_INTERRUPTED
    assert snapshot(catalog) == {}
    assert not ExchangeFile.objects.exists()


def test_a_chunked_body_without_length_is_read_to_its_end(catalog: OneC) -> None:
    session = session_of(catalog)

    upload_append(session=session, name="import.xml", body=BodyReader(io.BytesIO(b"x" * 3_000_000), None))

    assert (folder_of(catalog) / "import.xml").stat().st_size == 3_000_000


class SyntheticBody:
    """A large body produced on the fly, recording the largest read asked for."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest_read = 0
        self.block = b"\x5a" * uploads.BLOCK_SIZE

    def read(self, size: int = -1) -> bytes:
        self.largest_read = max(self.largest_read, size)
        size = min(size, self.left, len(self.block))
        self.left -= size
        return self.block[:size]


def test_the_body_is_streamed_in_blocks_with_flat_memory(catalog: OneC) -> None:
    session = session_of(catalog)
    size = 256 * 1024 * 1024
    body = SyntheticBody(size)

    tracemalloc.start()
    try:
        upload_append(session=session, name="big.xml", body=BodyReader(body, size))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert body.largest_read <= uploads.BLOCK_SIZE
    assert peak < 8 * 1024 * 1024
    assert (folder_of(catalog) / "big.xml").stat().st_size == size


def test_the_view_never_reads_the_body_whole(catalog: OneC, monkeypatch) -> None:
    def forbidden(self) -> bytes:
        raise AssertionError("request.body was read")

    from django.http import HttpRequest

    monkeypatch.setattr(HttpRequest, "body", property(forbidden))

    assert_answer(catalog.post_file("import.xml", b"<xml/>"), "success")


def test_the_session_limit_counts_the_current_folder_only(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_SESSION_SIZE = 10_000
    catalog.post_file("import.xml", b"i" * 8000)
    catalog.init()  # the earlier files go away with their folder

    assert_answer(catalog.post_file("import.xml", b"i" * 8000), "success")
    session = session_of(catalog)
    assert (session.upload_size, session.bytes_received) == (8000, 16_000)


def test_a_removed_file_no_longer_counts_against_the_session_limit(catalog: OneC, settings) -> None:
    settings.EXCHANGE_MAX_FILE_SIZE = 5000
    settings.EXCHANGE_MAX_SESSION_SIZE = 10_000
    catalog.post_file("offers.xml", b"o" * 4000)
    catalog.post_file("offers.xml", b"o" * 4000)  # refused: the file is removed

    assert_answer(catalog.post_file("import.xml", b"i" * 5000), "success")
    assert_answer(catalog.post_file("prices.xml", b"p" * 5000), "success")
    assert session_of(catalog).upload_size == 10_000


# --- disk space ------------------------------------------------------------------------------


def test_an_upload_that_would_leave_too_little_disk_is_refused_before_writing(catalog: OneC, settings) -> None:
    catalog.post_file("import.xml", b"<kept/>")
    settings.EXCHANGE_MIN_FREE_BYTES = shutil.disk_usage(folder_of(catalog)).total  # never reachable

    response = catalog.post_file("offers.xml", b"o" * 1000)

    assert_answer(response, "failure", DISK_SPACE_LOW.format(name="offers.xml"))
    assert snapshot(catalog) == {"import.xml": b"<kept/>"}
    assert list(ExchangeFile.objects.values_list("name", flat=True)) == ["import.xml"]
    assert session_of(catalog).upload_size == len(b"<kept/>")


def test_the_disk_reserve_counts_the_part_being_sent(catalog: OneC, settings, small_disk) -> None:
    settings.EXCHANGE_MIN_FREE_BYTES = 1_000_000
    small_disk(1_500_000)

    refused = catalog.post_file("offers.xml", b"o" * 600_000)  # would leave 900 000 bytes
    accepted = catalog.post_file("offers.xml", b"o" * 400_000)

    assert_answer(refused, "failure", DISK_SPACE_LOW.format(name="offers.xml"))
    assert_answer(accepted, "success")
    assert snapshot(catalog) == {"offers.xml": b"o" * 400_000}


def test_a_later_part_that_would_cross_the_disk_reserve_removes_the_file(catalog: OneC, settings, small_disk) -> None:
    settings.EXCHANGE_MIN_FREE_BYTES = 1_000_000
    catalog.post_file("import.xml", b"<kept/>")
    small_disk(3_000_000)
    assert_answer(catalog.post_file("offers.xml", b"o" * 1_000_000), "success")

    response = catalog.post_file("offers.xml", b"o" * 1_000_000)

    assert_answer(response, "failure", DISK_SPACE_LOW.format(name="offers.xml"))
    assert snapshot(catalog) == {"import.xml": b"<kept/>"}
    assert list(ExchangeFile.objects.values_list("name", flat=True)) == ["import.xml"]
    assert session_of(catalog).upload_size == len(b"<kept/>")


def test_a_chunked_body_stops_at_the_disk_reserve(catalog: OneC, settings, small_disk) -> None:
    settings.EXCHANGE_MIN_FREE_BYTES = 1_000_000
    small_disk(3 * uploads.BLOCK_SIZE)
    body = SyntheticBody(50 * uploads.BLOCK_SIZE)

    with pytest.raises(uploads.UploadError) as refused:
        upload_append(session=session_of(catalog), name="big.xml", body=BodyReader(body, None))

    assert refused.value.reason == DISK_SPACE_LOW.format(name="big.xml")
    assert body.left > 40 * uploads.BLOCK_SIZE  # stopped early, not at the body's end
    assert snapshot(catalog) == {}
    assert not ExchangeFile.objects.exists()


# --- names taken by the other kind of entry ---------------------------------------------------


def test_a_file_named_like_an_existing_folder_fails_cleanly_and_leaves_nothing(catalog: OneC) -> None:
    catalog.post_file("import_files/ab/x.jpg", b"jpg")
    before = snapshot(catalog)

    first = catalog.post_file("import_files", b"<xml/>")
    retried = catalog.post_file("import_files", b"<xml/>")

    expected = FILENAME_CONFLICT.format(name="import_files", conflict="import_files")
    assert_answer(first, "failure", expected)
    assert_answer(retried, "failure", expected)  # the same clean answer, not an internal error
    assert snapshot(catalog) == before
    assert list(ExchangeFile.objects.values_list("name", flat=True)) == ["import_files/ab/x.jpg"]
    assert session_of(catalog).upload_size == 3
    assert_answer(catalog.post_file("import.xml", b"<xml/>"), "success")  # a good name works
    assert snapshot(catalog) == {**before, "import.xml": b"<xml/>"}


def test_a_path_through_an_uploaded_file_fails_cleanly(catalog: OneC) -> None:
    catalog.post_file("import.xml", b"<xml/>")

    response = catalog.post_file("import.xml/ab/x.jpg", b"jpg")

    assert_answer(response, "failure", FILENAME_CONFLICT.format(name="import.xml/ab/x.jpg", conflict="import.xml"))
    assert snapshot(catalog) == {"import.xml": b"<xml/>"}
    assert list(ExchangeFile.objects.values_list("name", flat=True)) == ["import.xml"]


def test_a_record_left_by_an_older_version_does_not_poison_the_name(catalog: OneC) -> None:
    # Before names were checked, a refused write left a 0-byte record behind.
    catalog.post_file("import_files/ab/x.jpg", b"jpg")
    ExchangeFile.objects.create(session=session_of(catalog), name="import_files")

    response = catalog.post_file("import_files", b"<xml/>")

    assert_answer(response, "failure", FILENAME_CONFLICT.format(name="import_files", conflict="import_files"))
    assert snapshot(catalog) == {"import_files/ab/x.jpg": b"jpg"}


# --- any sequence of names: a clean answer, and a refused upload leaves nothing ------------------

_NAME_PIECES = ["a", "b.xml", "import.xml", "import_files", "ab", "Фото.jpg", "/", "/", "\\", ".", "..", " ", "x.php"]
# Short paths over a few names, so that a file and a folder of one name meet often, and any text
# over the pieces that matter to path handling.
_upload_names = st.lists(st.sampled_from(["a", "b.xml", "import_files"]), min_size=1, max_size=3).map("/".join) | (
    st.lists(st.sampled_from(_NAME_PIECES), min_size=1, max_size=6).map("".join)
)


@given(uploads_sent=st.lists(st.tuples(_upload_names, st.binary(min_size=1, max_size=50)), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_names_are_stored_or_refused_cleanly(catalog: OneC, uploads_sent: list[tuple[str, bytes]]) -> None:
    catalog.init()  # every example starts an exchange with an empty folder
    expected: dict[str, bytes] = {}
    for name, data in uploads_sent:
        response = catalog.post_file(name, data)

        assert response.lines[0] in {"success", "failure"}
        assert not response.lines[1].startswith("Internal error"), response.text
        event(response.lines[1][:24] if response.lines[0] == "failure" else "success")
        if response.lines[0] == "success":
            stored = normalise_filename(name)
            expected[stored] = expected.get(stored, b"") + data
        assert snapshot(catalog) == expected
        assert dict(ExchangeFile.objects.values_list("name", "size")) == {n: len(d) for n, d in expected.items()}
    assert session_of(catalog).upload_size == sum(map(len, expected.values()))
