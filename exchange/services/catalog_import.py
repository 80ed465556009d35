"""Catalog import orchestration behind ``type=catalog`` ``mode=import|complete|deactivate``.

An ImportSession belongs to one exchange session (or to a manual run) and holds the files to
import; a worker processes them in dependency order (classifier, products, offers, prices,
stock) whatever order they arrived in, re-reading the list after each file so that files 1C asks
for while it runs are picked up. At most one catalog import is pending or running at a time: the
partial unique constraint on ImportSession is the lock (see exchange.models).

1C calls ``import`` once per file and repeats it while we answer ``progress``. In the ``wait``
behaviour (default) the first call queues the import of every XML file uploaded so far, and
each call answers ``progress`` with the current stage until that file is done, then ``success``
or ``failure`` with the reason, so the operator in 1C sees the real outcome. In the
``background`` behaviour the call answers ``success`` as soon as the file is queued.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from commerceml.detect import detect_file_kind, import_rank
from commerceml.errors import CommerceMLError
from commerceml.pipe import iter_records_in_subprocess
from commerceml.reader import iter_records
from commerceml.records import Record
from commerceml.scan import scan_file
from exchange.conf import exchange_settings
from exchange.importers.catalog import CatalogImporter, SeenSet, catalog_state, pictures_sent
from exchange.importers.report import ImportReport
from exchange.models import ExchangeSession, ExchangeType, ImportFile, ImportSession
from exchange.protocol import IMPORT_ALREADY_RUNNING, Answer, ExchangeError, failure, progress, success

logger = logging.getLogger(__name__)

ACTIVE = ImportSession.ACTIVE_STATUSES
# A claimed import whose worker has not reported for this long may be taken over by a redelivered
# task (the worker died); the hourly stale cleanup is the backstop for imports nobody resumes.
TAKEOVER_AFTER = dt.timedelta(minutes=10)
# Write the progress line at most this often (a batch is ~1000 objects, a few per second).
PROGRESS_EVERY = dt.timedelta(seconds=1)

SUCCESS_TEXT = "Импорт успешно завершен."
# CommerceML files without catalog data (commerceml.detect.FileKind), passed over by the catalog
# import. "unknown" (not CommerceML) and "unreadable" are not among them: such a file fails, with
# the parser's line and reason when it is broken.
NOT_CATALOG_KINDS = frozenset({"documents", "contragents", "empty"})


class ImportAlreadyRunning(ExchangeError):
    reason = IMPORT_ALREADY_RUNNING


class ImportWaiting(Exception):
    """This exchange's previous import (of an earlier upload folder) must finish first."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


# --- creating and extending imports ----------------------------------------------------------
def _describe(base_dir: Path, name: str) -> tuple[str, int]:
    """The file's content kind and its rank in dependency order (detected by content)."""
    try:
        kind = detect_file_kind(base_dir / name)
    except (CommerceMLError, OSError):
        # Broken or unreadable: keep it last; importing it reports the error with its line.
        return "unreadable", 99
    return str(kind), import_rank(kind)


def _add_files(import_session: ImportSession, names: Iterable[str]) -> list[ImportFile]:
    base_dir = Path(import_session.base_dir)
    known = set(import_session.files.values_list("name", flat=True))
    created = []
    for name in names:
        if name in known:
            continue
        kind, rank = _describe(base_dir, name)
        created.append(ImportFile(import_session=import_session, name=name, kind=kind, rank=rank))
        known.add(name)
    ImportFile.objects.bulk_create(created)
    return created


def import_session_create(
    *,
    base_dir: Path,
    files: Sequence[str],
    exchange_session: ExchangeSession | None = None,
    source: str = ImportSession.Source.EXCHANGE,
) -> ImportSession:
    """Create a pending import of ``files`` (relative to ``base_dir``); raises ImportAlreadyRunning."""
    try:
        with transaction.atomic():
            import_session = ImportSession.objects.create(
                kind=ExchangeType.CATALOG,
                source=source,
                exchange_session=exchange_session,
                base_dir=str(base_dir),
                stage="Ожидает запуска",
            )
            _add_files(import_session, files)
    except IntegrityError as exc:  # the partial unique constraint: another import is active
        raise ImportAlreadyRunning from exc
    return import_session


def import_session_enqueue(*, import_session: ImportSession) -> None:
    """Queue the worker task once the creating transaction commits."""
    from exchange.tasks import run_catalog_import  # the task module imports this one

    pk = import_session.pk
    transaction.on_commit(lambda: run_catalog_import.delay(pk))


def _uploaded_xml_files(base_dir: Path) -> list[str]:
    if not base_dir.is_dir():
        return []
    names = []
    for path in base_dir.rglob("*"):
        relative = path.relative_to(base_dir)
        if relative.parts[0] in ("import_files", "logs") or relative.name.startswith("."):
            continue
        if path.is_file() and path.suffix.lower() == ".xml":
            names.append(relative.as_posix())
    return sorted(names)


def _upload_dir(session: ExchangeSession) -> Path:
    from exchange.services.uploads import session_upload_dir

    return session_upload_dir(session)


def _file_for(session: ExchangeSession, filename: str, base_dir: Path) -> ImportFile | None:
    """The import of this very upload of ``filename``: same upload folder, and the file on disk not
    written after that import was created. 1C may run init again within a session and upload a
    file of the same name; that upload must be imported, not answered from the earlier import."""
    found = (
        ImportFile.objects.filter(
            import_session__exchange_session=session, import_session__base_dir=str(base_dir), name=filename
        )
        .select_related("import_session")
        .order_by("-import_session_id")
        .first()
    )
    if found is None or found.status in (ImportFile.Status.PENDING, ImportFile.Status.IN_PROGRESS):
        return found  # not read yet: it will read what is on disk now
    try:
        written = (base_dir / filename).stat().st_mtime
    except OSError:
        return found
    started = found.started_at or found.import_session.created_at
    return found if written <= started.timestamp() else None


def _queue_file(session: ExchangeSession, filename: str) -> ImportFile:
    """Make sure ``filename`` is part of an import of this exchange; start one if needed."""
    base_dir = _upload_dir(session)
    with transaction.atomic():
        active = ImportSession.objects.select_for_update().filter(kind=ExchangeType.CATALOG, status__in=ACTIVE).first()
        if active is not None and active.exchange_session_id != session.pk:
            raise ImportAlreadyRunning
        existing = _file_for(session, filename, base_dir)
        if existing is not None:
            return existing
        if active is not None and active.base_dir != str(base_dir):
            # 1C ran init again while an import of its previous upload still runs: that import
            # reads the old folder; this file is imported once it has finished.
            raise ImportWaiting(active.stage or "Ожидание завершения предыдущего импорта")
        if active is not None:
            # The worker re-reads pending files under the same row lock before it finishes, so a
            # file added here is either seen by it or finds the import finished (and starts a new one).
            _add_files(active, [filename])
        else:
            names = [name for name in _uploaded_xml_files(base_dir) if _file_for(session, name, base_dir) is None]
            if filename not in names:
                names.append(filename)
            import_session = import_session_create(base_dir=base_dir, files=names, exchange_session=session)
            import_session_enqueue(import_session=import_session)
    found = _file_for(session, filename, base_dir)
    assert found is not None
    return found


# --- the endpoint's three entry points --------------------------------------------------------
def catalog_import_step(*, session: ExchangeSession, filename: str) -> Answer:
    """One ``mode=import`` call for ``filename`` (normalised, relative to the upload folder)."""
    try:
        file = _queue_file(session, filename)
    except ImportWaiting as waiting:
        if exchange_settings().import_mode == "background":
            raise ImportAlreadyRunning from waiting
        return progress(waiting.stage)
    if exchange_settings().import_mode == "background":
        if file.status == ImportFile.Status.FAILED:
            return failure(file.error_message or file.import_session.error_message)
        return success("Импорт поставлен в очередь.")
    return _answer_for(file)


def _answer_for(file: ImportFile) -> Answer:
    import_session = file.import_session
    if file.status == ImportFile.Status.DONE:
        return success(SUCCESS_TEXT)
    if file.status == ImportFile.Status.SKIPPED:
        return success("Файл не содержит данных каталога.")
    if file.status == ImportFile.Status.FAILED:
        return failure(file.error_message or import_session.error_message or "Ошибка импорта")
    if import_session.status == ImportSession.Status.FAILED:
        return failure(import_session.error_message or "Ошибка импорта")
    if import_session.status == ImportSession.Status.COMPLETED:
        # Finished without reaching this file: cannot happen unless the file vanished.
        return failure(f"Файл {file.name} не был обработан")
    return progress(import_session.stage or "Импорт выполняется")


def catalog_deactivate(*, session: ExchangeSession, params: Mapping[str, str]) -> Answer:
    """``mode=deactivate``: deactivate what the imports of this exchange did not contain.

    1C sends it after a full package exchange (protocol.md §2.5); it is refused when any import
    of this exchange failed, so a broken upload can never empty the shop.
    """
    imports = list(ImportSession.objects.filter(exchange_session=session, kind=ExchangeType.CATALOG))
    active = [i for i in imports if i.is_active]
    if active:
        if exchange_settings().import_mode == "background":
            ImportSession.objects.filter(pk__in=[i.pk for i in active]).update(deactivate_requested=True)
            return success("Деактивация будет выполнена после завершения импорта.")
        return progress(active[0].stage or "Ожидание завершения импорта")
    if any(i.status == ImportSession.Status.FAILED for i in imports):
        return failure("Ошибка деактивации элементов: импорт завершился с ошибкой.")
    if not imports:
        return success("Деактивация не выполнялась: в этом обмене ничего не импортировано.")
    importer = CatalogImporter(base_dir=Path(), report=ImportReport())
    products, variants = _deactivate_unseen(importer, imports, products=True, variants=True)
    return success("Деактивация элементов завершена.", f"Товаров: {products}, предложений: {variants}")


def catalog_complete(*, session: ExchangeSession) -> Answer:
    """``mode=complete``: the last call of a catalog exchange."""
    return success("Завершение процедуры импорта")


# --- the worker ------------------------------------------------------------------------------
def _deactivate_unseen(
    importer: CatalogImporter, imports: Sequence[ImportSession], *, products: bool, variants: bool
) -> tuple[int, int]:
    """Deactivate the 1C products / offers that none of ``imports`` contained (an empty union
    deactivates nothing: an exchange that imported nothing never empties the shop)."""
    seen_products: set[int] = set()
    seen_variants: set[int] = set()
    for item in imports:
        seen_products |= SeenSet.unpack(item.seen_products)
        seen_variants |= SeenSet.unpack(item.seen_variants)
    return (
        importer.deactivate_missing_products(seen_products) if products and seen_products else 0,
        importer.deactivate_missing_variants(seen_variants) if variants and seen_variants else 0,
    )


def _claim(import_session_id: int, task_id: str) -> ImportSession | None:
    now = timezone.now()
    with transaction.atomic():
        item = ImportSession.objects.select_for_update().filter(pk=import_session_id).first()
        if item is None:
            return None
        if item.status == ImportSession.Status.IN_PROGRESS:
            last = item.heartbeat_at or item.started_at or item.created_at
            if now - last < TAKEOVER_AFTER:
                return None  # another worker is on it
            logger.warning("Taking over import %s: no progress since %s", item.pk, last)
        elif item.status != ImportSession.Status.PENDING:
            return None
        item.status = ImportSession.Status.IN_PROGRESS
        item.started_at = item.started_at or now
        item.heartbeat_at = now
        item.task_id = task_id
        item.stage = "Импорт начат"
        item.save(update_fields=["status", "started_at", "heartbeat_at", "task_id", "stage"])
    return item


ProgressListener = Callable[[str, int, int | None], None]


class _Progress:
    def __init__(
        self, import_session: ImportSession, report: ImportReport, listener: ProgressListener | None = None
    ) -> None:
        self.import_session = import_session
        self.report = report
        self.listener = listener
        self.finished_lines: list[str] = []
        self.file = ""
        self.last_write = timezone.now() - PROGRESS_EVERY

    def __call__(self, label: str, done: int, total: int | None, *, force: bool = False) -> None:
        if self.listener is not None:
            self.listener(f"{self.file}: {label}" if self.file else label, done, total)
        now = timezone.now()
        if not force and now - self.last_write < PROGRESS_EVERY:
            return
        self.last_write = now
        line = f"{label}: {done} из {total}" if total else f"{label}: {done}"
        stage = f"{self.file}: {line}" if self.file else line
        ImportSession.objects.filter(pk=self.import_session.pk).update(
            stage=stage[:255],
            progress_done=done,
            progress_total=total or 0,
            heartbeat_at=now,
            counters=self.report.counters_dict(),
            report="\n".join([*self.finished_lines, stage]),
        )

    def file_done(self, name: str) -> None:
        self.finished_lines.append(f"{name}: обработан")


def import_session_run(
    *, import_session_id: int, task_id: str = "", on_progress: ProgressListener | None = None
) -> ImportSession | None:
    """Run (or resume) an import: the body of the Celery task, callable without Celery.

    ``on_progress(stage, done, total)`` is called after every batch (the manual command draws
    its progress bar with it); the ImportSession row is updated at most once a second.
    """
    import_session = _claim(import_session_id, task_id)
    if import_session is None:
        return None
    report = ImportReport()
    tracker = _Progress(import_session, report, on_progress)
    importer = CatalogImporter(base_dir=Path(import_session.base_dir), report=report, progress=tracker)
    error = ""
    try:
        while True:
            file = _next_file(import_session)
            if file is None:
                # Deactivate while still holding the lock, then finish unless 1C added a file.
                _finish(import_session, importer)
                if _close(import_session, importer, report, tracker, error=""):
                    break
                continue
            tracker.file = file.name
            error = _import_file(importer, import_session, file, tracker)
            if error:
                break
    except Exception as exc:
        logger.exception("Import %s failed", import_session.pk)
        _close(import_session, importer, report, tracker, error=f"Внутренняя ошибка импорта: {type(exc).__name__}")
        raise
    if error:
        _close(import_session, importer, report, tracker, error=error)
    import_session.refresh_from_db()
    return import_session


def _pending_files(import_session: ImportSession) -> QuerySet[ImportFile]:
    return import_session.files.filter(status__in=(ImportFile.Status.PENDING, ImportFile.Status.IN_PROGRESS))


def _next_file(import_session: ImportSession) -> ImportFile | None:
    file = _pending_files(import_session).order_by("rank", "id").first()
    if file is not None:
        file.status = ImportFile.Status.IN_PROGRESS
        file.started_at = timezone.now()
        file.save(update_fields=["status", "started_at"])
    return file


def _import_file(importer: CatalogImporter, import_session: ImportSession, file: ImportFile, tracker: _Progress) -> str:
    path = Path(import_session.base_dir) / file.name
    if not path.is_file():
        return _fail_file(file, f"{file.name}: файл не найден")
    if file.kind in NOT_CATALOG_KINDS:
        file.status = ImportFile.Status.SKIPPED
        file.finished_at = timezone.now()
        file.save(update_fields=["status", "finished_at"])
        return ""
    if file.kind == "unknown":
        return _fail_file(file, _not_commerceml(path, file.name))
    scan = scan_file(path, file.kind)
    file.digest = scan.digest
    # Pictures sent with the file may have changed while the XML did not: import it then.
    earlier = None if pictures_sent(Path(import_session.base_dir)) else _unchanged_since(file, import_session)
    if earlier is not None:
        importer.adopt_file(
            seen_products=bytes(earlier.seen_products),
            seen_variants=bytes(earlier.seen_variants),
            full_catalog=earlier.full_catalog,
            full_offers=earlier.full_offers,
        )
        tracker.finished_lines.append(
            f"{file.name}: не изменился с импорта #{earlier.import_session_id} при неизменном каталоге, пропущен"
        )
        file.reused_from = earlier
        file.seen_products, file.seen_variants = earlier.seen_products, earlier.seen_variants
        file.full_catalog, file.full_offers = earlier.full_catalog, earlier.full_offers
    else:
        try:
            importer.import_records(_records(path), file_label=file.name, totals=scan.counts)
        except CommerceMLError as exc:
            exc.file = file.name  # the name 1C knows, not our folder layout
            return _fail_file(file, str(exc))
        tracker.file_done(file.name)
        file.seen_products = importer.file_seen_products.pack()
        file.seen_variants = importer.file_seen_variants.pack()
        file.full_catalog, file.full_offers = importer.file_full_catalog, importer.file_full_offers
    file.status = ImportFile.Status.DONE
    file.finished_at = timezone.now()
    file.save(
        update_fields=[
            "status",
            "finished_at",
            "digest",
            "reused_from",
            "seen_products",
            "seen_variants",
            "full_catalog",
            "full_offers",
        ]
    )
    return ""


# Files at least this big are parsed in a child process (commerceml.pipe) so that parsing runs on
# the other core while this process writes; for small files starting a process costs more.
SUBPROCESS_MIN_BYTES = 4 * 1024 * 1024


def _records(path: Path) -> Iterator[Record]:
    if path.stat().st_size >= SUBPROCESS_MIN_BYTES:
        return iter_records_in_subprocess(path, on_invalid="yield")
    return iter_records(path, on_invalid="yield")


def _unchanged_since(file: ImportFile, import_session: ImportSession) -> ImportFile | None:
    """An earlier import of the very same bytes, if nothing in the catalog changed since it ended.

    Re-importing such a file would only confirm every row (1C resends full, unchanged catalogs
    every few minutes); the catalog state recorded when that import completed must equal the
    current one, so an admin edit, another import or a deactivation in between forces a real
    import.
    """
    if not exchange_settings().import_skip_unchanged_files:
        return None
    candidates = list(
        ImportFile.objects.filter(
            digest=file.digest,
            status=ImportFile.Status.DONE,
            import_session__status=ImportSession.Status.COMPLETED,
        )
        .exclude(import_session=import_session)
        .select_related("import_session")
        .order_by("-import_session__finished_at")[:5]
    )
    if not candidates:
        return None
    current = catalog_state()
    for candidate in candidates:
        if candidate.import_session.catalog_state == current:
            return candidate
    return None


def _not_commerceml(path: Path, name: str) -> str:
    """Why a file detected as not CommerceML cannot be imported: the parser's error if it is
    broken XML, else that its root is not КоммерческаяИнформация."""
    try:
        for _ in iter_records(path):
            break
    except CommerceMLError as exc:
        exc.file = name
        return str(exc)
    return f"{name}: не является файлом CommerceML (нет элемента КоммерческаяИнформация)"


def _fail_file(file: ImportFile, message: str) -> str:
    file.status = ImportFile.Status.FAILED
    file.error_message = message
    file.finished_at = timezone.now()
    file.save(update_fields=["status", "error_message", "finished_at"])
    return message


def _finish(import_session: ImportSession, importer: CatalogImporter) -> None:
    """Default variants for products without offers; deactivate what a full catalog / offers
    package of this exchange (or a mode=deactivate that came while it ran) did not contain."""
    importer.create_missing_default_variants()
    import_session.seen_products = importer.seen_products.pack()
    import_session.seen_variants = importer.seen_variants.pack()
    requested = ImportSession.objects.filter(pk=import_session.pk).values_list("deactivate_requested", flat=True)
    deactivate_all = bool(requested and requested[0])
    if not (importer.full_catalog or importer.full_offers or deactivate_all):
        return
    imports: list[ImportSession] = [import_session]
    if import_session.exchange_session_id:
        imports += ImportSession.objects.filter(
            exchange_session_id=import_session.exchange_session_id, status=ImportSession.Status.COMPLETED
        ).exclude(pk=import_session.pk)
    _deactivate_unseen(
        importer,
        imports,
        products=importer.full_catalog or deactivate_all,
        variants=importer.full_offers or deactivate_all,
    )


def _close(
    import_session: ImportSession, importer: CatalogImporter, report: ImportReport, tracker: _Progress, *, error: str
) -> bool:
    """Write the outcome and release the lock; False when 1C added a file meanwhile (go on)."""
    now = timezone.now()
    failed = bool(error)
    lines = [*tracker.finished_lines, *report.summary_lines()]
    if report.issues_dropped:
        lines.append(f"Ещё {report.issues_dropped} замечаний не сохранено")
    if failed:
        lines.append(f"Ошибка: {error}")
    with transaction.atomic():
        # Same row lock as _queue_file: a file added concurrently is either seen here or finds
        # this import finished and starts a new one.
        ImportSession.objects.select_for_update().filter(pk=import_session.pk).first()
        if not failed and _pending_files(import_session).exists():
            return False
        if failed:
            # Files never reached stay visible as not processed, not as pending work.
            _pending_files(import_session).update(status=ImportFile.Status.SKIPPED)
        ImportSession.objects.filter(pk=import_session.pk).update(
            catalog_state={} if failed else catalog_state(),
            status=ImportSession.Status.FAILED if failed else ImportSession.Status.COMPLETED,
            finished_at=now,
            heartbeat_at=now,
            stage="Импорт завершён с ошибкой" if failed else "Импорт завершён",
            error_message=error,
            counters=report.counters_dict(),
            errors=report.issues,
            report="\n".join(lines),
            seen_products=importer.seen_products.pack(),
            seen_variants=importer.seen_variants.pack(),
            full_catalog=importer.full_catalog,
            full_offers=importer.full_offers,
        )
    return True


def imports_fail_stale(*, now: dt.datetime | None = None) -> int:
    """Mark imports without progress for EXCHANGE_IMPORT_STALE_MINUTES failed; releases the lock."""
    now = now or timezone.now()
    threshold = now - dt.timedelta(minutes=exchange_settings().import_stale_minutes)
    stale = ImportSession.objects.filter(status__in=ACTIVE).filter(
        Q(heartbeat_at__lt=threshold) | Q(heartbeat_at=None, created_at__lt=threshold)
    )
    count = 0
    for item in stale:
        last = item.heartbeat_at or item.created_at
        message = f"stale: no progress since {timezone.localtime(last):%Y-%m-%d %H:%M:%S}"
        updated = (
            ImportSession.objects.filter(pk=item.pk, status__in=ACTIVE)
            .filter(Q(heartbeat_at__lt=threshold) | Q(heartbeat_at=None))
            .update(status=ImportSession.Status.FAILED, finished_at=now, error_message=message, stage=message)
        )
        if updated:
            item.files.filter(status__in=(ImportFile.Status.PENDING, ImportFile.Status.IN_PROGRESS)).update(
                status=ImportFile.Status.FAILED, error_message=message
            )
            logger.warning("Import %s marked failed: %s", item.pk, message)
            count += 1
    return count
