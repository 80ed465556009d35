"""The exchange's audit trail: one ExchangeRequestLog row per request, and a copy of every file
received or sent under ``<EXCHANGE_DATA_DIR>/logs/YYYY-MM-DD/<session id>/{in,out}/…``, kept for
EXCHANGE_LOG_RETENTION_DAYS days and within EXCHANGE_LOG_MAX_BYTES.

Copies never pass through Python memory. A received file is copied by a hard link made when its
first part is written: the link shares the upload's inode, so later parts appear in it for free,
and it survives when the upload folder is cleaned. Decided by measuring (benchmarks/bench_upload.py,
1 GiB, 2-core benchmark machine): an in-kernel copy of every received byte (copy_file_range, the
cheapest real copy; a tee in Python costs more) took the durable upload rate from 0.86 to 0.33 of
the floor with 64 MiB parts, and from 0.30 to 0.23 with 8 MiB parts; the link costs nothing
measurable. Where a link is impossible (another file system) the part is copied in the kernel
after it is written (``os.copy_file_range``, falling back to ``sendfile``). The importer must
therefore never modify an upload in place (see exchange.services.uploads).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from exchange.conf import exchange_settings
from exchange.models import ExchangeFile, ExchangeRequestLog, ExchangeSession

if TYPE_CHECKING:
    from exchange.services.uploads import PartWritten

logger = logging.getLogger(__name__)

# Query parameters whose values are secrets of the session: logged as this mask.
MASKED_PARAMETERS = frozenset({"sessid"})
MASK = "***"
# Longest parameter value and answer text kept in a log row.
_MAX_VALUE = 1024
_MAX_ANSWER = 4000
# Errors of os.link that mean "copy instead": another file system, links not supported, too many.
_NO_LINK_ERRNOS = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


def logs_dir() -> Path:
    return exchange_settings().logs_dir


def _storable(text: str, limit: int) -> str:
    # PostgreSQL stores no NUL in text or JSON; 1C (or an attacker) may send one in a file name.
    return text[:limit].replace("\x00", "\\x00")


def masked_params(params: Mapping[str, str]) -> dict[str, str]:
    return {
        _storable(key, _MAX_VALUE): (MASK if key in MASKED_PARAMETERS and value else _storable(value, _MAX_VALUE))
        for key, value in params.items()
    }


def audit_record_request(**fields: Any) -> None:
    """Write one ExchangeRequestLog row; never raises (the answer to 1C matters more)."""
    fields["answer"] = _storable(str(fields.get("answer", "")), _MAX_ANSWER)
    for name in ("exchange_type", "mode", "outcome"):
        fields[name] = _storable(str(fields.get(name, "")), 32)
    fields["username"] = _storable(str(fields.get("username", "")), 255)
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():  # a failed insert must not break the enclosing transaction
                ExchangeRequestLog.objects.create(**fields)
        else:
            ExchangeRequestLog.objects.create(**fields)
    except Exception:
        logger.exception(
            "could not write the exchange request log row for %s/%s", fields["exchange_type"], fields["mode"]
        )


# --- file copies ----------------------------------------------------------------------------


def _day_dir(day: date, session: ExchangeSession) -> Path:
    return logs_dir() / day.isoformat() / str(session.id)


def _free_name(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2``… when a copy of an earlier file of that name is there."""
    candidate, number = path, 0
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = path.with_name(f"{path.name}.{number}")
    return candidate


def _copy_range(source: Path, destination: Path, start: int, end: int) -> None:
    """Append bytes [start, end) of ``source`` to ``destination`` inside the kernel."""
    src = os.open(source, os.O_RDONLY)
    # Not O_APPEND: copy_file_range refuses such a descriptor; the offset is given instead.
    dst = os.open(destination, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        offset, position = start, os.fstat(dst).st_size
        while offset < end:
            try:
                copied = os.copy_file_range(src, dst, end - offset, offset, position)
            except OSError as exc:
                if exc.errno not in {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP}:
                    raise
                os.lseek(dst, position, os.SEEK_SET)
                copied = os.sendfile(dst, src, offset, end - offset)
            if copied == 0:
                break
            offset += copied
            position += copied
    finally:
        os.close(src)
        os.close(dst)


def audit_incoming_part(*, session: ExchangeSession, part: PartWritten) -> None:
    """Keep a copy of a received part (see the module docstring for how)."""
    try:
        _audit_incoming_part(session=session, part=part)
    except OSError:
        # The audit copy must not make 1C's upload fail; the request log still records the part.
        logger.exception("could not copy %s of session %s to the exchange log", part.file.name, session.pk)


def _audit_incoming_part(*, session: ExchangeSession, part: PartWritten) -> None:
    exchange_file = part.file
    if exchange_file.log_name:
        copy = logs_dir() / exchange_file.log_name
        with contextlib.suppress(FileNotFoundError):
            if copy.samefile(part.path):
                return  # linked: the part is already in the copy
        if copy.exists():
            _copy_range(part.path, copy, part.start, part.end)
            return
    copy = _free_name(_day_dir(timezone.localdate(), session) / "in" / exchange_file.name)
    copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.link(part.path, copy)
    except OSError as exc:
        if exc.errno not in _NO_LINK_ERRNOS:
            raise
        _copy_range(part.path, copy, 0, part.end)
    exchange_file.log_name = copy.relative_to(logs_dir()).as_posix()
    ExchangeFile.objects.filter(pk=exchange_file.pk).update(log_name=exchange_file.log_name)


def audit_outgoing_path(*, session: ExchangeSession, name: str) -> Path:
    """A new, empty place in the log for a file about to be sent to 1C: a producer that streams
    a large document writes it here directly and the response serves it, instead of a copy."""
    now = timezone.localtime()
    path = _free_name(_day_dir(now.date(), session) / "out" / f"{now:%H%M%S}-{name}")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def audit_outgoing_file(*, session: ExchangeSession, name: str, content: Path | Iterable[bytes]) -> Path:
    """Write what is about to be sent to 1C into the log and return that copy, which is then
    what the response streams — so the log holds exactly the bytes 1C received."""
    copy = audit_outgoing_path(session=session, name=name)
    if isinstance(content, Path):
        _copy_range(content, copy, 0, content.stat().st_size)
    else:
        with copy.open("wb") as sink:
            for block in content:
                sink.write(block)
    return copy


# --- retention ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PruneResult:
    days_removed: int
    files_removed: int
    bytes_left: int


def _remove_tree(path: Path) -> int:
    count = 0
    for root, dirs, files in os.walk(path, topdown=False):
        for file_name in files:
            with contextlib.suppress(OSError):
                Path(root, file_name).unlink()
                count += 1
        for dir_name in dirs:
            with contextlib.suppress(OSError):
                Path(root, dir_name).rmdir()
    with contextlib.suppress(OSError):
        path.rmdir()
    return count


def _parse_day(name: str) -> date | None:
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def audit_prune(*, now: datetime | None = None) -> PruneResult:
    """Apply the retention policy to the file copies: whole days older than
    EXCHANGE_LOG_RETENTION_DAYS go first, then the oldest files until the total fits
    EXCHANGE_LOG_MAX_BYTES."""
    conf = exchange_settings()
    root = conf.logs_dir
    if not root.exists():
        return PruneResult(0, 0, 0)
    today = timezone.localdate(now or timezone.now())
    oldest_kept = today - timedelta(days=conf.log_retention_days)
    days_removed = files_removed = 0
    for child in root.iterdir():
        day = _parse_day(child.name)
        if day is not None and day < oldest_kept and child.is_dir() and not child.is_symlink():
            files_removed += _remove_tree(child)
            days_removed += 1

    files: list[tuple[float, int, Path]] = []
    total = 0
    for dir_path, _dirs, file_names in os.walk(root):
        for file_name in file_names:
            path = Path(dir_path, file_name)
            with contextlib.suppress(OSError):
                info = path.lstat()
                files.append((info.st_mtime, info.st_size, path))
                total += info.st_size
    if total > conf.log_max_bytes:
        files.sort()
        for _mtime, size, path in files:
            if total <= conf.log_max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
                files_removed += 1
        for dir_path, _dirs, _files in os.walk(root, topdown=False):
            if Path(dir_path) != root:
                with contextlib.suppress(OSError):
                    Path(dir_path).rmdir()  # only succeeds when empty
    if days_removed or files_removed:
        logger.info(
            "exchange log retention: %d days, %d files removed, %d bytes left", days_removed, files_removed, total
        )
    return PruneResult(days_removed, files_removed, total)
