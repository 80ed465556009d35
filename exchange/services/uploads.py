"""Files 1C uploads: name checks, streaming append under a cross-process lock, size limits, and
guarded unpacking of archives.

Layout under EXCHANGE_DATA_DIR (private, never under MEDIA_ROOT, never served):

    <session id>/                  the upload folder of a session (generation 0)
    <session id>.<n>/              a later generation, when a new init found an import still
                                   reading the previous folder
    .locks/                        lock files of uploads in progress (removed after each use)
    .trash/                        folders moved aside by init, removed by the cleanup task
    logs/                          copies of every file received or sent (exchange.services.audit)

The importer reads files under ``session_upload_dir(session)`` and must never modify them in
place: the audit copy of an upload may share its inode (see audit.audit_incoming_part).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import logging
import lzma
import os
import re
import shutil
import socket
import stat
import struct
import time
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from exchange.conf import exchange_settings
from exchange.models import ExchangeFile, ExchangeSession, ImportSession
from exchange.protocol import (
    DISK_SPACE_LOW,
    FILE_BUSY,
    FILE_TOO_LARGE,
    FILE_WRITE_FAILED,
    FILENAME_CONFLICT,
    FILENAME_UNSAFE,
    SESSION_TOO_LARGE,
    UPLOAD_INTERRUPTED,
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
    Answer,
    ExchangeError,
    progress,
)

logger = logging.getLogger(__name__)

# Bytes read from the request and written to disk per call: one reused buffer per request,
# whatever the file size. 1 MiB makes 1024 write calls per GiB, whose Python overhead is lost in
# the copying; the bare recv+write app of benchmarks/bench_upload.py reaches 0.87 of the disk
# loop's rate with it.
BLOCK_SIZE = 1024 * 1024

# Most bytes of a refused request body still read and thrown away, so that 1C gets to read the
# failure answer instead of a connection reset while it is still sending. Parts are file_limit
# bytes; anything far larger is not worth receiving.
DRAIN_LIMIT = 64 * 1024 * 1024

# The first bytes of a zip archive (local file header). 1C chooses the archive's name, so archives
# are recognised by content, not by extension (protocol.md §2.3).
ZIP_MAGIC = b"PK\x03\x04"

# Bytes the archives of one session may unpack beyond EXCHANGE_MAX_ZIP_RATIO times their size:
# a small file of repeated text compresses far more than 200 times (400 KB of "<a/>" 950 times)
# and is no bomb, while CommerceML files 1C writes compress 9 to 28 times (tests/data/cml).
# Shared by the whole session, not given per entry or per archive, so that many small entries or
# many small archives cannot add up to gigabytes (2.26 MB once unpacked to 2.0 GB that way).
ZIP_RATIO_ALLOWANCE = 1024 * 1024

# Inodes unpacking always leaves free. Empty entries cost no bytes but one inode each: 200 000 of
# them are a 20 MB archive, so a few such archives would run a disk out of inodes (16.7 M on the
# 270 GB test machine) while its bytes stay free. Real exchanges make one file per image.
MIN_FREE_INODES = 100_000

# Names 1C never sends and that would be dangerous if the folder were ever served or executed:
# scripts, server configuration, executables. Checked on every dot-separated part of the last
# path component, so "x.php.jpg" (run as PHP by some Apache setups) is refused too.
_FORBIDDEN_EXTENSIONS = frozenset(
    {
        "php", "php3", "php4", "php5", "php7", "php8", "phtml", "phar", "pht", "phps",
        "py", "pyc", "pyo", "pl", "pm", "cgi", "fcgi", "sh", "bash", "zsh", "ksh", "csh",
        "asp", "aspx", "asa", "ashx", "asmx", "cer", "jsp", "jspx", "shtml", "shtm",
        "exe", "dll", "bat", "cmd", "com", "vbs", "ps1", "scr", "msi", "htaccess", "htpasswd",
    }
)  # fmt: skip
_FORBIDDEN_NAMES = frozenset({"web.config", ".htaccess", ".htpasswd", ".user.ini", "php.ini"})
_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:/|//)")
# Bitrix strips these before anything else: "This check for 1c server on linux" (BX-CAT).
_LINUX_TEMP_PREFIX = re.compile(r"^(?:/tmp/|/?upload/1c/webdata(?=/|$))")
_MAX_NAME_LENGTH = 1024  # ExchangeFile.name
_MAX_COMPONENT_BYTES = 255  # one path component on Linux file systems
_IMAGES_FOLDER = "import_files"


class UploadError(ExchangeError):
    """An upload or an archive refused; the text tells 1C's operator why."""


class UnsafeFileName(UploadError):
    pass


class ArchiveRefused(UploadError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"{ZIP_ERROR} {detail}")


def shown_name(name: str, limit: int = 200) -> str:
    """A name for a message to 1C: one line, bounded length."""
    flat = " ".join(name.split()) if any(ch in name for ch in "\r\n\t") else name
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- names ----------------------------------------------------------------------------------


def _check_components(parts: list[str], raw: str) -> str:
    if not parts:
        raise UnsafeFileName(FILENAME_UNSAFE.format(name=shown_name(raw)))
    for part in parts:
        if (
            part.startswith(".")  # "..", ".htaccess", hidden files: never sent by 1C
            or ":" in part  # drive letters and NTFS streams left inside the path
            or len(part.encode("utf-8", "surrogatepass")) > _MAX_COMPONENT_BYTES
            or part.lower() in _FORBIDDEN_NAMES
        ):
            raise UnsafeFileName(FILENAME_UNSAFE.format(name=shown_name(raw)))
    last = parts[-1].lower()
    if any(ext in _FORBIDDEN_EXTENSIONS for ext in last.split(".")[1:]):
        raise UnsafeFileName(FILENAME_UNSAFE.format(name=shown_name(raw)))
    name = "/".join(parts)
    if len(name) > _MAX_NAME_LENGTH:
        raise UnsafeFileName(FILENAME_UNSAFE.format(name=shown_name(raw)))
    return name


def _has_control_characters(name: str) -> bool:
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF for ch in name)


def normalise_filename(raw: str) -> str:
    """The relative path under the upload folder for a ``filename`` 1C sent, or UnsafeFileName.

    Follows what Bitrix does with the names 1C really sends (protocol.md §2.3): a ``/tmp/`` or
    ``upload/1c/webdata`` prefix is dropped, ``\\`` becomes ``/``, outer slashes are trimmed, and
    ``import_files/…`` keeps its sub-folders. A Windows absolute path (``C:\\…\\v8_8789_c.xml``,
    seen from 1C on Windows for sale files) is reduced to its name — or to ``import_files/…`` when
    it runs through that folder. Refused: NUL and control characters, ``..`` and other dot names,
    POSIX absolute paths that remain, script and server-config names, empty names.
    """
    name = raw.strip()
    if not name or _has_control_characters(name):
        raise UnsafeFileName(FILENAME_UNSAFE.format(name=shown_name(repr(raw))))
    name = name.replace("\\", "/")
    if _WINDOWS_ABSOLUTE.match(name):
        parts = [p for p in name.split("/") if p]
        parts = parts[parts.index(_IMAGES_FOLDER) :] if _IMAGES_FOLDER in parts[:-1] else parts[-1:]
        if parts and re.fullmatch(r"[A-Za-z]:", parts[0]):  # "C:/" with nothing after it
            parts = []
    else:
        stripped = _LINUX_TEMP_PREFIX.sub("", name, count=1)
        if stripped == name and name.startswith("/"):  # an absolute path outside 1C's temp folders
            raise UnsafeFileName(FILENAME_UNSAFE.format(name=shown_name(raw)))
        parts = [p for p in stripped.split("/") if p and p != "."]
    return _check_components(parts, raw)


def normalise_archive_entry(raw: str) -> str:
    """The relative path of an archive entry, or UnsafeFileName: stricter than upload names,
    since inside an archive an absolute or drive path can only be an attempt to escape."""
    name = raw.replace("\\", "/")
    if not name.strip() or _has_control_characters(name) or name.startswith("/") or _WINDOWS_ABSOLUTE.match(name):
        raise UnsafeFileName(FILENAME_UNSAFE.format(name=shown_name(raw)))
    if re.match(r"^[A-Za-z]:", name):
        raise UnsafeFileName(FILENAME_UNSAFE.format(name=shown_name(raw)))
    parts = [p for p in name.split("/") if p and p != "."]
    return _check_components(parts, raw)


# --- folders --------------------------------------------------------------------------------


def _private_mkdir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def session_upload_dir(session: ExchangeSession) -> Path:
    """The folder the session's current uploads are in (the importer's ImportSession.base_dir)."""
    data_dir = exchange_settings().data_dir
    if session.upload_generation:
        return data_dir / f"{session.id}.{session.upload_generation}"
    return data_dir / str(session.id)


def upload_path(session: ExchangeSession, name: str) -> Path:
    """The absolute path of an upload; refuses anything that resolves outside the folder (a
    symlink planted on the way included)."""
    base = session_upload_dir(session)
    _private_mkdir(base)
    target = base / name
    resolved_base = base.resolve()
    resolved = target.resolve()
    if resolved == resolved_base or not resolved.is_relative_to(resolved_base):
        raise UnsafeFileName(FILENAME_UNSAFE.format(name=shown_name(name)))
    return target


def _import_reads(session: ExchangeSession, folder: Path) -> bool:
    """Whether an import that is pending or running may read files of this folder."""
    return ImportSession.objects.filter(
        Q(exchange_session=session) | Q(base_dir__in=[str(folder), str(folder.resolve())]),
        status__in=ImportSession.ACTIVE_STATUSES,
    ).exists()


def upload_dir_reset(*, session: ExchangeSession) -> Path:
    """Give the session an empty upload folder (``mode=init``), like Bitrix wiping its folder.

    Files 1C sent before the new init must not be appended to (append semantics would corrupt
    them, protocol.md §2.3). An import that is still running may be reading them, so the folder
    is never emptied in place: it is moved aside to the trash (removed later by the cleanup task),
    or, when an import of this session is pending or running, left alone and the session moves
    on to a new folder generation.
    """
    conf = exchange_settings()
    current = session_upload_dir(session)
    has_files = current.exists() and any(current.iterdir())
    if has_files or ExchangeFile.objects.filter(session=session).exists():
        if _import_reads(session, current):
            session.upload_generation += 1
            ExchangeSession.objects.filter(pk=session.pk).update(upload_generation=session.upload_generation)
            logger.info("init of session %s: import still reads %s, new folder generation", session.pk, current.name)
        elif current.exists():
            _private_mkdir(conf.trash_dir)
            current.rename(conf.trash_dir / f"{current.name}-{uuid.uuid4().hex}")
        ExchangeFile.objects.filter(session=session).delete()
        ExchangeSession.objects.filter(pk=session.pk).update(upload_size=0)
        session.upload_size = 0
    folder = session_upload_dir(session)
    _private_mkdir(folder)
    return folder


# --- locks ----------------------------------------------------------------------------------


@contextlib.contextmanager
def file_lock(target: Path, *, wait_seconds: float) -> Iterator[bool]:
    """An exclusive lock on ``target`` shared by every process and thread; yields whether it was
    taken within ``wait_seconds``.

    ``flock`` on a lock file under .locks/. The lock file is removed when released so that they do
    not pile up (one per image 1C sends); a waiter that then holds a lock on an unlinked file
    notices the inode changed and tries again, which keeps the lock exclusive.
    """
    locks_dir = exchange_settings().locks_dir
    _private_mkdir(locks_dir)
    lock_path = locks_dir / (hashlib.sha256(str(target).encode("utf-8", "surrogatepass")).hexdigest() + ".lock")
    deadline = time.monotonic() + wait_seconds
    fd = -1
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                yield False
                return
            time.sleep(0.05)
            continue
        try:
            same = lock_path.stat().st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield True
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock_path.unlink()
        os.close(fd)


# --- streaming append -----------------------------------------------------------------------


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class BodyReader:
    """The request body, read into one reused block buffer, counting what was read.

    ``length`` is the Content-Length, or None for a chunked body (read until it ends). A block
    returned by ``read_block`` is valid until the next call.
    """

    def __init__(self, stream: Readable, length: int | None) -> None:
        self._stream = stream
        self.length = length
        self.consumed = 0
        self._buffer = memoryview(bytearray(BLOCK_SIZE))

    @property
    def remaining(self) -> int | None:
        return None if self.length is None else self.length - self.consumed

    def _fill(self, view: memoryview) -> int:
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)

    def read_block(self) -> memoryview:
        """The next block, as full as the body allows (empty at its end)."""
        wanted = BLOCK_SIZE if self.length is None else min(BLOCK_SIZE, self.length - self.consumed)
        filled = 0
        try:
            while filled < wanted:
                count = self._fill(self._buffer[filled:wanted])
                if count == 0:
                    break
                filled += count
        except Exception as exc:  # the client went away: a reset, a timeout, a short body
            raise UploadError(UPLOAD_INTERRUPTED) from exc
        finally:
            self.consumed += filled
        return self._buffer[:filled]

    def drain(self, limit: int = DRAIN_LIMIT) -> None:
        """Read and drop what is left, up to ``limit`` bytes, ignoring transport errors."""
        remaining = self.remaining
        if remaining is not None and remaining > limit:
            return
        dropped = 0
        with contextlib.suppress(UploadError):
            while dropped < limit and (block := self.read_block()):
                dropped += len(block)


class GunicornSocketBodyReader(BodyReader):
    """The body read straight from gunicorn's client socket with ``recv_into``.

    Measured with benchmarks/bench_upload.py on the 2-core benchmark machine (1 GiB in 64 MiB
    parts): reading through ``wsgi.input`` (gunicorn's Body -> Unreader: a fresh bytes object and
    several copies per block) gave the endpoint 458 MB/s, ``recv_into`` one reused buffer 1634
    MB/s — the difference between missing and meeting the upload goal. Only used when gunicorn's
    reader is in the state this relies on (see ``for_environ``); anything else (another server,
    Django's test client) takes the portable path, which the tests cover.
    """

    def __init__(self, sock: socket.socket, length: int, reader: Any, prefix: bytes) -> None:
        super().__init__(stream=io.BytesIO(), length=length)
        self._socket = sock
        self._reader = reader  # gunicorn's LengthReader, kept consistent with what is consumed
        self._prefix = memoryview(prefix)

    @classmethod
    def for_environ(cls, environ: dict[str, Any], length: int) -> GunicornSocketBodyReader | None:
        sock = environ.get("gunicorn.socket")
        body = environ.get("wsgi.input")
        reader: Any = getattr(body, "reader", None)
        unreader: Any = getattr(reader, "unreader", None)
        body_buffer = getattr(body, "buf", None)
        if (
            not isinstance(sock, socket.socket)
            or type(reader).__name__ != "LengthReader"
            or getattr(reader, "length", None) != length  # nothing read through wsgi.input yet
            or not isinstance(body_buffer, io.BytesIO)
            or body_buffer.getbuffer().nbytes
            or not callable(getattr(unreader, "take_buffered", None))
            or not callable(getattr(unreader, "unread", None))
        ):
            return None
        # What gunicorn read past the headers is the start of the body; anything beyond the body
        # (a pipelined next request) goes back to gunicorn.
        buffered = unreader.take_buffered()
        if len(buffered) > length:
            unreader.unread(buffered[length:])
            buffered = buffered[:length]
        return cls(sock, length, reader, buffered)

    def _fill(self, view: memoryview) -> int:
        if self._prefix:
            count = min(len(view), len(self._prefix))
            view[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
        else:
            count = self._socket.recv_into(view, len(view))
        self._reader.length -= count
        return count


@dataclass(frozen=True, slots=True)
class PartWritten:
    file: ExchangeFile
    path: Path
    start: int
    end: int


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _remove_upload(session: ExchangeSession, name: str, path: Path) -> None:
    with contextlib.suppress(IsADirectoryError, NotADirectoryError):  # the name was never ours
        path.unlink(missing_ok=True)
    removed = ExchangeFile.objects.filter(session=session, name=name).values_list("size", flat=True).first()
    if removed is not None:
        ExchangeFile.objects.filter(session=session, name=name).delete()
        ExchangeSession.objects.filter(pk=session.pk).update(upload_size=F("upload_size") - removed)


def _name_conflict(base: Path, name: str, *, is_dir: bool = False) -> str | None:
    """The part of ``name`` (relative to ``base``) already taken by the other kind of entry:
    a folder on the way that is a file, or the name itself when it is a folder (a file to be
    written) or a file (a folder to be made). None when the name can be written."""
    parts = name.split("/")
    for depth in range(1, len(parts) + 1):
        try:
            mode = (base.joinpath(*parts[:depth])).stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        last = depth == len(parts)
        if stat.S_ISDIR(mode) == (last and not is_dir) or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            return "/".join(parts[:depth])
    return None


def _free_bytes(folder: Path) -> int:
    """Bytes the server's user may still write on the file system of ``folder``."""
    return shutil.disk_usage(folder).free


def _free_inodes(folder: Path) -> int | None:
    """Files the server's user may still create there; None where the file system has no fixed
    number (btrfs reports 0 inodes in all)."""
    info = os.statvfs(folder)
    return info.f_favail if info.f_files else None


def upload_append(*, session: ExchangeSession, name: str, body: BodyReader) -> PartWritten:
    """Append one part of ``name`` (already normalised) from the request body.

    A part is all or nothing: if the body breaks off, nothing of it stays and earlier parts are
    kept, so 1C can send it again. Crossing EXCHANGE_MAX_FILE_SIZE or EXCHANGE_MAX_SESSION_SIZE,
    or a part that would leave less than EXCHANGE_MIN_FREE_BYTES on the disk, removes the whole
    file, since it can no longer be completed; other files are not touched. A name that a folder
    already has (or that runs through a file) is refused before anything is recorded, so that 1C
    can retry the exchange with a good name.
    """
    from exchange.services import audit  # audit copies uploads; nothing else ties the two

    conf = exchange_settings()
    path = upload_path(session, name)

    def refuse_conflict(conflict: str) -> UploadError:
        return UploadError(FILENAME_CONFLICT.format(name=shown_name(name), conflict=shown_name(conflict)))

    conflict = _name_conflict(session_upload_dir(session), name)
    if conflict is not None:
        raise refuse_conflict(conflict)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # a file of that name appeared meanwhile
        raise refuse_conflict(name) from None
    with file_lock(path, wait_seconds=conf.upload_lock_wait_seconds) as locked:
        if not locked:
            raise UploadError(FILE_BUSY.format(name=shown_name(name)))
        exchange_file, first_part = ExchangeFile.objects.get_or_create(session=session, name=name)
        try:
            if first_part:
                # A new upload starts a new file (a new inode, so an audit copy linked to an
                # older file of that name stays as it was), even if one is there, say unpacked
                # from an archive: 1C's appends only make sense on top of what this exchange sent.
                path.unlink(missing_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            # Only a race with another request gets here: the name was checked above.
            if first_part:
                _remove_upload(session, name, path)
            if exc.errno in {errno.EISDIR, errno.ENOTDIR, errno.ELOOP, errno.EEXIST}:
                raise refuse_conflict(name) from None
            raise
        others = session.upload_size - exchange_file.size

        def refuse_if_too_large(size: int) -> None:
            if size > conf.max_file_size:
                raise UploadError(FILE_TOO_LARGE.format(name=shown_name(name), limit=conf.max_file_size))
            if others + size > conf.max_session_size:
                raise UploadError(SESSION_TOO_LARGE.format(name=shown_name(name), limit=conf.max_session_size))

        def refuse_if_disk_low(incoming: int) -> None:
            if _free_bytes(path.parent) - incoming < conf.min_free_bytes:
                logger.error("disk space low: %s of session %s refused", name, session.pk)
                raise UploadError(DISK_SPACE_LOW.format(name=shown_name(name)))

        try:
            start = end = os.fstat(fd).st_size
            head = b""
            try:
                if body.length is not None:
                    refuse_if_too_large(start + body.length)
                    refuse_if_disk_low(body.length)
                while block := body.read_block():
                    if start == 0 and len(head) < len(ZIP_MAGIC):
                        head += bytes(block[: len(ZIP_MAGIC) - len(head)])
                    refuse_if_too_large(end + len(block))
                    if body.length is None:  # a chunked body: its size is known only at its end
                        refuse_if_disk_low(len(block))
                    _write_all(fd, block)
                    end += len(block)
                if body.remaining:
                    raise UploadError(UPLOAD_INTERRUPTED)
            except UploadError as exc:
                # Cut back even when the file goes: its audit copy may be the same inode, and
                # keeps the parts that were accepted, not the refused one.
                os.ftruncate(fd, start)
                if exc.reason != UPLOAD_INTERRUPTED or first_part:  # else 1C sends this part again
                    _remove_upload(session, name, path)
                raise
            except BaseException as exc:
                if first_part:
                    _remove_upload(session, name, path)
                else:
                    os.ftruncate(fd, start)
                if is_disk_full(exc):
                    logger.error("disk full while writing %s of session %s", name, session.pk)
                    raise UploadError(FILE_WRITE_FAILED.format(name=shown_name(name))) from exc
                raise
        finally:
            os.close(fd)

        is_archive = head == ZIP_MAGIC if start == 0 else exchange_file.is_archive
        exchange_file.size, exchange_file.parts, exchange_file.is_archive = end, exchange_file.parts + 1, is_archive
        now = timezone.now()
        # One transaction for the part's bookkeeping (one commit per part, not two); the session's
        # touch goes with it, as the view resolved the session without touching it.
        with transaction.atomic():
            ExchangeFile.objects.filter(pk=exchange_file.pk).update(
                size=end, parts=exchange_file.parts, is_archive=is_archive, updated_at=now
            )
            ExchangeSession.objects.filter(pk=session.pk).update(
                bytes_received=F("bytes_received") + (end - start),
                upload_size=F("upload_size") + (end - start),
                last_seen_at=now,
            )
        part = PartWritten(file=exchange_file, path=path, start=start, end=end)
        audit.audit_incoming_part(session=session, part=part)
        return part


# --- archives -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    info: zipfile.ZipInfo
    name: str  # normalised relative path; for a folder, the folder
    is_dir: bool


# What zipfile and its decompressors raise on damaged or unsupported archives (found by the
# hypothesis test over archive shapes): an unknown "version needed" or compression method
# (NotImplementedError), sizes and offsets past what seek accepts (OverflowError), a broken LZMA
# stream (LZMAError, not an OSError), bad names (UnicodeDecodeError is a ValueError).
_ARCHIVE_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    ValueError,
    NotImplementedError,
    OverflowError,
    struct.error,
)


def _entry_raw_name(info: zipfile.ZipInfo) -> str:
    # Without the UTF-8 flag Python decodes names as cp437; archives made on Windows in Russia
    # use cp866 for such names (ASCII names, the usual case, are the same in every one of them).
    if info.flag_bits & 0x800 or info.filename.isascii():
        return info.filename
    raw = info.filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp866")


def _archive_entries(archive: zipfile.ZipFile, archive_name: str) -> list[_Entry]:
    """Every entry, checked before anything is written: names, links, count, total size, and
    names that would have to be a file and a folder at once (``a`` next to ``a/b.xml``)."""
    conf = exchange_settings()
    infos = archive.infolist()
    shown = shown_name(archive_name)
    if len(infos) > conf.max_zip_entries:
        raise ArchiveRefused(ZIP_TOO_MANY_ENTRIES.format(name=shown, limit=conf.max_zip_entries))
    entries: list[_Entry] = []
    total = 0
    for info in infos:
        raw = _entry_raw_name(info)
        if info.flag_bits & 0x1:
            raise ArchiveRefused(ZIP_ENCRYPTED.format(name=shown))
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ArchiveRefused(ZIP_LINK_ENTRY.format(name=shown, entry=shown_name(raw)))
        if stat.S_IFMT(mode) not in {0, stat.S_IFREG, stat.S_IFDIR}:  # devices, fifos, sockets
            raise ArchiveRefused(ZIP_UNSAFE_ENTRY.format(name=shown, entry=shown_name(raw)))
        try:
            name = normalise_archive_entry(raw)
        except UnsafeFileName:
            raise ArchiveRefused(ZIP_UNSAFE_ENTRY.format(name=shown, entry=shown_name(raw))) from None
        is_dir = info.is_dir()
        if not is_dir and name == archive_name:  # would overwrite the archive while it is read
            raise ArchiveRefused(ZIP_UNSAFE_ENTRY.format(name=shown, entry=shown_name(raw)))
        if not is_dir:
            total += info.file_size
            if total > conf.max_unzipped_size:
                raise ArchiveRefused(ZIP_TOO_LARGE.format(name=shown, limit=conf.max_unzipped_size))
        entries.append(_Entry(info=info, name=name, is_dir=is_dir))
    files = {entry.name for entry in entries if not entry.is_dir}
    for entry in entries:
        parts = entry.name.split("/")
        for depth in range(1, len(parts) + (1 if entry.is_dir else 0)):
            folder = "/".join(parts[:depth])
            if folder in files:
                raise ArchiveRefused(
                    ZIP_NAME_CONFLICT.format(name=shown, entry=shown_name(entry.name), conflict=shown_name(folder))
                )
    return entries


def _check_sizes(
    entries: list[_Entry], archive_name: str, *, archive_size: int, session_room: int, ratio_allowance: int
) -> None:
    """Refuse an archive whose entries unpack too much: beyond EXCHANGE_MAX_ZIP_RATIO per entry
    and for the whole archive (past what is left of the session's ZIP_RATIO_ALLOWANCE), or
    beyond the room left under EXCHANGE_MAX_SESSION_SIZE."""
    ratio = exchange_settings().max_zip_ratio
    shown = shown_name(archive_name)
    total = 0
    for entry in entries:
        if entry.is_dir:
            continue
        total += entry.info.file_size
        # The central directory is the archive's own claim: an entry never really takes more
        # than the whole archive.
        packed = min(entry.info.compress_size, archive_size)
        if entry.info.file_size > packed * ratio + ratio_allowance:
            raise ArchiveRefused(ZIP_RATIO_TOO_HIGH.format(name=shown, entry=shown_name(entry.name), limit=ratio))
    if total > archive_size * ratio + ratio_allowance:
        raise ArchiveRefused(ZIP_ARCHIVE_RATIO_TOO_HIGH.format(name=shown, limit=ratio))
    if total > session_room:
        limit = exchange_settings().max_session_size
        raise ArchiveRefused(ZIP_SESSION_TOO_LARGE.format(name=shown, limit=limit))


def _archive_budget(session: ExchangeSession, archive_file: ExchangeFile) -> tuple[int, int]:
    """What the archive may unpack: the bytes left under EXCHANGE_MAX_SESSION_SIZE (the
    session's uploads and what its archives unpacked count) and what is left of the session's
    ZIP_RATIO_ALLOWANCE after the other archives unpacked beyond the ratio."""
    conf = exchange_settings()
    others = (
        ExchangeFile.objects.filter(session=session, is_archive=True, unpacked_size__gt=0)
        .exclude(pk=archive_file.pk)
        .values_list("size", "unpacked_size")
    )
    used = sum(max(0, unpacked - size * conf.max_zip_ratio) for size, unpacked in others)
    upload_size = ExchangeSession.objects.values_list("upload_size", flat=True).get(pk=session.pk)
    # upload_size already counts what earlier steps unpacked of this archive.
    room = conf.max_session_size - (upload_size - archive_file.unpacked_size)
    return room, max(0, ZIP_RATIO_ALLOWANCE - used)


def _extract_entry(archive: zipfile.ZipFile, entry: _Entry, target: Path, budget: int) -> int:
    """Stream one entry to ``target`` through a temporary file; returns its size.

    zipfile never yields more than the size the entry declares (and checks the CRC at the end),
    so the declared sizes checked beforehand bound what lands on disk; ``budget`` is checked as
    well in case that ever changes.
    """
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = target.parent / f".unzip-{uuid.uuid4().hex}.part"
    written = 0
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                source = archive.open(entry.info)
            except OSError as exc:  # a damaged offset: seeking before the file's start
                raise zipfile.BadZipFile(f"unreadable entry: {exc}") from exc
            with source:
                while True:
                    try:
                        block = source.read(BLOCK_SIZE)
                    except OSError as exc:  # bz2 reports a broken stream so; writing is below
                        raise zipfile.BadZipFile(f"unreadable entry: {exc}") from exc
                    if not block:
                        break
                    written += len(block)
                    if written > budget:
                        raise zipfile.BadZipFile("entry larger than declared")
                    _write_all(fd, block)
        finally:
            os.close(fd)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return written


def _unpack_archive(session: ExchangeSession, archive_file: ExchangeFile, deadline: float) -> bool:
    """Unpack ``archive_file`` into the upload folder until done (True) or out of time (False).

    What each step unpacks counts against the session's size at once. A refused archive takes
    back everything unpacked from it, in this step and the earlier ones, files and the folders
    they needed, so that a later upload or archive never trips over its remains.
    """
    conf = exchange_settings()
    base = session_upload_dir(session)
    path = upload_path(session, archive_file.name)
    shown = shown_name(archive_file.name)
    with file_lock(path, wait_seconds=0) as locked:
        if not locked:  # another request is unpacking it right now
            return False
        archive_file.refresh_from_db()
        if archive_file.unpacked_at is not None:
            return True
        try:
            archive = zipfile.ZipFile(path)
            archive_size = path.stat().st_size
        except (*_ARCHIVE_DAMAGED, OSError):
            raise ArchiveRefused(ZIP_CORRUPT.format(name=shown)) from None
        with archive:
            credited = archive_file.unpacked_size  # counted in the session's size by earlier steps
            position, unpacked = archive_file.unpack_position, credited
            entries: list[_Entry] = []

            def abandon() -> None:
                # The entry being written when it failed has no file yet, but maybe its folders.
                _remove_unpacked(base, entries[:position], folders_of=entries[: position + 1])
                with transaction.atomic():
                    ExchangeFile.objects.filter(pk=archive_file.pk).update(unpack_position=0, unpacked_size=0)
                    ExchangeSession.objects.filter(pk=session.pk).update(upload_size=F("upload_size") - credited)

            try:
                entries = _archive_entries(archive, archive_file.name)
                session_room, ratio_allowance = _archive_budget(session, archive_file)
                _check_sizes(
                    entries,
                    archive_file.name,
                    archive_size=archive_size,
                    session_room=session_room,
                    ratio_allowance=ratio_allowance,
                )
                while position < len(entries):
                    entry = entries[position]
                    target = base / entry.name
                    if not target.resolve().is_relative_to(base.resolve()):
                        raise ArchiveRefused(ZIP_UNSAFE_ENTRY.format(name=shown, entry=shown_name(entry.name)))
                    conflict = _name_conflict(base, entry.name, is_dir=entry.is_dir)
                    if conflict is not None:  # with an uploaded file or folder of the session
                        raise ArchiveRefused(
                            ZIP_NAME_CONFLICT.format(
                                name=shown, entry=shown_name(entry.name), conflict=shown_name(conflict)
                            )
                        )
                    free_inodes = _free_inodes(base)
                    if free_inodes is not None and free_inodes < MIN_FREE_INODES:
                        logger.error("inodes low: archive %s of session %s refused", shown, session.pk)
                        raise ArchiveRefused(ZIP_DISK_SPACE_LOW.format(name=shown))
                    if entry.is_dir:
                        target.mkdir(mode=0o700, parents=True, exist_ok=True)
                    else:
                        if _free_bytes(base) - entry.info.file_size < conf.min_free_bytes:
                            logger.error("disk space low: archive %s of session %s refused", shown, session.pk)
                            raise ArchiveRefused(ZIP_DISK_SPACE_LOW.format(name=shown))
                        unpacked += _extract_entry(archive, entry, target, conf.max_unzipped_size - unpacked)
                    position += 1
                    if time.monotonic() >= deadline and position < len(entries):
                        break
            except _ARCHIVE_DAMAGED as exc:
                logger.warning("archive %s of session %s is corrupt: %s", archive_file.name, session.pk, exc)
                abandon()
                raise ArchiveRefused(ZIP_CORRUPT.format(name=shown)) from None
            except ArchiveRefused:
                abandon()
                raise
            except OSError as exc:
                abandon()
                if is_disk_full(exc):
                    logger.error("disk full while unpacking %s of session %s", shown, session.pk)
                    raise ArchiveRefused(ZIP_DISK_SPACE_LOW.format(name=shown)) from exc
                if exc.errno in {errno.EISDIR, errno.ENOTDIR, errno.EEXIST}:  # raced with an upload
                    entry_name = shown_name(entries[position].name if position < len(entries) else "")
                    raise ArchiveRefused(
                        ZIP_NAME_CONFLICT.format(name=shown, entry=entry_name, conflict=entry_name)
                    ) from None
                raise
        done = position >= len(entries)
        with transaction.atomic():
            ExchangeFile.objects.filter(pk=archive_file.pk).update(
                unpack_position=position, unpacked_size=unpacked, unpacked_at=timezone.now() if done else None
            )
            ExchangeSession.objects.filter(pk=session.pk).update(upload_size=F("upload_size") + (unpacked - credited))
        return done


def _remove_unpacked(base: Path, entries: list[_Entry], *, folders_of: list[_Entry]) -> None:
    """Remove the files of ``entries``, then the folders ``folders_of`` needed, once empty."""
    folders: set[Path] = set()
    for entry in folders_of:
        parts = entry.name.split("/")
        folders.update(base.joinpath(*parts[:depth]) for depth in range(1, len(parts) + (1 if entry.is_dir else 0)))
    for entry in entries:
        if not entry.is_dir:
            with contextlib.suppress(IsADirectoryError, NotADirectoryError):
                (base / entry.name).unlink(missing_ok=True)
    for folder in sorted(folders, key=lambda folder: len(folder.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty: something else of the session is in it
            folder.rmdir()


def archives_unpack_step(*, session: ExchangeSession) -> Answer | None:
    """Unpack the session's archives before an import, a bounded time per request.

    Like Bitrix (protocol.md §2.3): ``progress`` "Идет распаковка архива." while unpacking takes
    more requests, then ``progress`` "Распаковка архива завершена." once, and None from then on,
    so the import proceeds on the request 1C repeats.
    """
    pending = list(
        ExchangeFile.objects.filter(session=session, is_archive=True, unpacked_at__isnull=True).order_by(
            "created_at", "id"
        )
    )
    if not pending:
        return None
    deadline = time.monotonic() + exchange_settings().unzip_step_seconds
    for archive_file in pending:
        if not _unpack_archive(session, archive_file, deadline):
            return progress(ZIP_PROGRESS)
    return progress(ZIP_DONE)


def uploaded_file_path(*, session: ExchangeSession, name: str) -> Path | None:
    """The path of an uploaded (or unpacked) regular file, or None when it is not there."""
    path = upload_path(session, name)
    return path if path.is_file() else None


# --- cleanup --------------------------------------------------------------------------------


def _remove_tree(path: Path) -> None:
    def onerror(function: object, failed: str, exc_info: object) -> None:
        logger.warning("could not remove %s during cleanup", failed)

    shutil.rmtree(path, onerror=onerror)


def uploads_remove_stale(*, now: datetime | None = None) -> int:
    """Remove upload folders no exchange and no import needs any more; returns how many.

    Kept: the current folder of each active session, and every folder a pending or running
    import reads. Removed: folders of completed or expired sessions, earlier generations, folders
    of sessions that no longer exist, everything in the trash, and lock files left by a crash.
    """
    conf = exchange_settings()
    now = now or timezone.now()
    if not conf.data_dir.exists():
        return 0
    active_imports = {
        os.path.normpath(base)
        for base in ImportSession.objects.filter(status__in=ImportSession.ACTIVE_STATUSES).values_list(
            "base_dir", flat=True
        )
    }
    live = {
        str(session_id) if generation == 0 else f"{session_id}.{generation}"
        for session_id, generation in ExchangeSession.objects.filter(status=ExchangeSession.Status.ACTIVE).values_list(
            "id", "upload_generation"
        )
    }
    removed = 0
    for child in conf.data_dir.iterdir():
        if not child.is_dir() or child.is_symlink():
            continue
        session_part = child.name.split(".", 1)[0]
        try:
            uuid.UUID(session_part)
        except ValueError:
            continue  # logs/, .locks/, .trash/ and anything not ours
        if child.name in live or os.path.normpath(child) in active_imports or str(child.resolve()) in active_imports:
            continue
        _remove_tree(child)
        removed += 1
    if conf.trash_dir.exists():
        for child in conf.trash_dir.iterdir():
            if child.is_dir() and not child.is_symlink():
                _remove_tree(child)
            else:
                child.unlink(missing_ok=True)
            removed += 1
    if conf.locks_dir.exists():
        stale = (now - timedelta(days=1)).timestamp()
        for child in conf.locks_dir.iterdir():
            with contextlib.suppress(OSError):
                if child.stat().st_mtime < stale:
                    child.unlink()
    return removed


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in {errno.ENOSPC, errno.EDQUOT}
