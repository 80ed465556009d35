"""Catalog import orchestration behind ``type=catalog`` ``mode=import|complete|deactivate``.

The catalog is one kind of import job (exchange.jobs runs the job: claim, heartbeat, progress,
the file loop, close, the one-job lock, lost workers). This module plugs in what is catalog's own:
what a file holds and its place in the import order (classifier, products, offers, prices,
stock, whatever order the files arrived in), the importer that writes the catalog tables, the
unchanged-file skip, and when a full package deactivates what it did not contain. Its bookkeeping
lives in CatalogImportState / CatalogFileState beside the generic job rows.

1C calls ``import`` once per file and repeats it while we answer ``progress``. In the ``wait``
behaviour (default) the first call queues the import of every XML file uploaded so far, and
each call answers ``progress`` with the current stage until that file is done, then ``success``
or ``failure`` with the reason, so the operator in 1C sees the real outcome. In the
``background`` behaviour the call answers ``success`` as soon as the file is queued.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import cast

from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from catalog.sync import catalog_state
from commerceml.detect import FileKind, detect_file_kind, import_rank
from commerceml.digests import CATALOG_ID_LENGTH, SealedOffer, SealedProduct
from commerceml.errors import CommerceMLError
from commerceml.pipe import ChildRecords, iter_records_in_subprocess
from commerceml.reader import iter_records
from commerceml.records import InvalidElement, Record, Section, SectionHeader
from commerceml.scan import scan_file
from exchange.catalog.importer import CatalogImporter, SeenSet, pictures_sent
from exchange.conf import exchange_settings
from exchange.jobs import (
    FileOutcome,
    JobAlreadyRunning,
    JobKind,
    JobProgress,
    JobWaiting,
    ProgressListener,
    job_create,
    job_file_answer,
    job_kind_register,
    job_queue_file,
    job_run,
)
from exchange.models import (
    CatalogFileState,
    CatalogImportState,
    ExchangeFile,
    ExchangeRequestLog,
    ExchangeSession,
    ExchangeType,
    ImportFile,
    ImportSession,
)
from exchange.protocol import (
    DEACTIVATION_OFF,
    IMPORT_NOT_CATALOG,
    IMPORT_SUCCESS,
    Answer,
    failure,
    progress,
    success,
)
from exchange.report import ImportReport

logger = logging.getLogger(__name__)

# CommerceML files without catalog data (commerceml.detect.FileKind), passed over by the catalog
# import. "unknown" (not CommerceML) and "unreadable" are not among them: such a file fails, with
# the parser's line and reason when it is broken.
# How long mode=deactivate waits for this exchange's own import to finish before deferring.
DEACTIVATE_WAIT_SECONDS = 10

NOT_CATALOG_KINDS = frozenset({"documents", "contragents", "empty"})
# Контрагенты files (3.1 contragents___*.xml) 1C sends with the catalog are imported by the
# customer sync, in this job, in their place in the import order.
COUNTERPARTIES_KIND = "contragents"

# Kept for callers of the catalog import (the import_1c command, tests).
ImportAlreadyRunning = JobAlreadyRunning


# --- creating imports -------------------------------------------------------------------------
def _describe(base_dir: Path, name: str) -> tuple[str, int]:
    """The file's content kind and its rank in dependency order (detected by content)."""
    try:
        kind = detect_file_kind(base_dir / name)
    except (CommerceMLError, OSError):
        # Broken or unreadable: keep it last; importing it reports the error with its line.
        return "unreadable", 99
    return str(kind), import_rank(kind)


def import_session_create(
    *,
    base_dir: Path,
    files: Sequence[str],
    exchange_session: ExchangeSession | None = None,
    source: str = ImportSession.Source.EXCHANGE,
) -> ImportSession:
    """Create a pending catalog import of ``files`` (relative to ``base_dir``); raises ImportAlreadyRunning."""
    return job_create(
        kind=ExchangeType.CATALOG, base_dir=base_dir, files=files, exchange_session=exchange_session, source=source
    )


def import_session_run(
    *, import_session_id: int, task_id: str = "", worker: str = "", on_progress: ProgressListener | None = None
) -> ImportSession | None:
    """Run (or resume) a catalog import in this process (exchange.jobs.job_run)."""
    return job_run(job_id=import_session_id, task_id=task_id, worker=worker, on_progress=on_progress)


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


# --- the endpoint's three entry points --------------------------------------------------------
def catalog_import_step(*, session: ExchangeSession, filename: str) -> Answer:
    """One ``mode=import`` call for ``filename`` (normalised, relative to the upload folder)."""
    base_dir = _upload_dir(session)
    background = exchange_settings().import_mode == "background"
    try:
        file = job_queue_file(
            kind=ExchangeType.CATALOG,
            session=session,
            filename=filename,
            base_dir=base_dir,
            initial_files=lambda: _uploaded_xml_files(base_dir),
        )
    except JobWaiting as waiting:
        if background:
            raise JobAlreadyRunning from waiting
        return progress(waiting.stage)
    return job_file_answer(
        file,
        done_text=IMPORT_SUCCESS,
        skipped_text=IMPORT_NOT_CATALOG,
        queued_text="Импорт поставлен в очередь." if background else None,
    )


def catalog_deactivate(*, session: ExchangeSession, params: Mapping[str, str]) -> Answer:
    """``mode=deactivate``: deactivate what the imports of this exchange did not contain, in the
    catalogs they named.

    1C sends it after a full package exchange (protocol.md §2.5); it is refused when any import
    of this exchange failed, so a broken upload can never empty the shop.
    """
    imports = _package_imports(session)
    active = [i for i in imports if i.is_active]
    if active and exchange_settings().import_mode == "wait":
        # Every file was answered success, but the job may still be finishing (default variants,
        # closing): give it a moment rather than answer progress, which 1C is not known to repeat
        # for mode=deactivate (protocol.md §2.5 lists only success/failure).
        deadline = time.monotonic() + DEACTIVATE_WAIT_SECONDS
        while active and time.monotonic() < deadline:
            time.sleep(0.25)
            imports = _package_imports(session)
            active = [i for i in imports if i.is_active]
    if active:
        # Deactivated when the import ends, and only if it succeeds (CatalogImportState).
        for job in active:  # the row may not exist yet for an import no worker has started
            CatalogImportState.objects.get_or_create(job=job)
        CatalogImportState.objects.filter(job__in=[i.pk for i in active]).update(deactivate_requested=True)
        return success("Деактивация будет выполнена после завершения импорта.")
    if any(i.status == ImportSession.Status.FAILED for i in imports):
        return failure("Ошибка деактивации элементов: импорт завершился с ошибкой.")
    if not imports:
        return success("Деактивация не выполнялась: в этом обмене ничего не импортировано.")
    if not exchange_settings().deactivate_missing:
        return success(DEACTIVATION_OFF)
    _package_claim(imports)
    products, variants = _package_deactivate(imports, explicit=True, label="mode=deactivate")
    return success("Деактивация элементов завершена.", f"Товаров: {products}, предложений: {variants}")


def catalog_complete(*, session: ExchangeSession) -> Answer:
    """``mode=complete``: the last call of a catalog exchange. A full package of this exchange
    deactivates what it did not contain now that it is whole (or, when an import still runs in
    the background, when that import ends)."""
    package_close(session=session, ended_by="complete")
    return success("Завершение процедуры импорта")


# --- the package: what one exchange deactivates, once it is whole ------------------------------
# A full catalog may come in parts (import0_1.xml, import0_2.xml, …), uploaded all first or one at
# a time with an import after each (protocol.md §2.6). Each part contains only some products, so
# deactivating "what the part did not contain" would hide the rest of the catalog for the length
# of the exchange, or for good when the exchange stops after a part. A package is deactivated only
# when it is known whole: at mode=complete or mode=deactivate, or when the exchange has ended (its
# session expired) with every file it received imported, if this 1C never sends complete.


def _package_imports(session: ExchangeSession) -> list[ImportSession]:
    return list(
        ImportSession.objects.filter(exchange_session=session, kind=ExchangeType.CATALOG).select_related("catalog")
    )


def _package_scopes(imports: Sequence[ImportSession]) -> tuple[dict[str, bool], dict[str, bool]]:
    """The catalogs the package's sections named, for products and for offers: catalog Ид -> full."""
    products: dict[str, bool] = {}
    offers: dict[str, bool] = {}
    for scopes in CatalogFileState.objects.filter(
        file__import_session__in=[i.pk for i in imports], file__status=ImportFile.Status.DONE
    ).values_list("catalog_scopes", flat=True):
        for kind, found in (("products", products), ("offers", offers)):
            for catalog_id, full in (scopes or {}).get(kind, {}).items():
                found[catalog_id] = found.get(catalog_id, False) or bool(full)
    return products, offers


def _state(job: ImportSession) -> CatalogImportState:
    try:
        return job.catalog
    except CatalogImportState.DoesNotExist:
        return CatalogImportState(job=job)


def _package_deactivate(
    imports: Sequence[ImportSession], *, explicit: bool, label: str, importer: CatalogImporter | None = None
) -> tuple[int, int]:
    """Deactivate the 1C products / offers of the package's catalogs that none of ``imports``
    contained: of the catalogs with a full section, or of every catalog the package named when
    1C asked (mode=deactivate). An empty union deactivates nothing: an exchange that imported
    nothing never empties the shop. Products of no known catalog (imported before catalogs were
    recorded) are in every scope until their next import records theirs."""
    if not exchange_settings().deactivate_missing:
        return 0, 0
    products, offers = _package_scopes(imports)
    if explicit:
        product_catalogs = variant_catalogs = set(products) | set(offers)
    else:
        product_catalogs = {catalog_id for catalog_id, full in products.items() if full}
        variant_catalogs = {catalog_id for catalog_id, full in offers.items() if full}
    seen_products, seen_variants = SeenSet(), SeenSet()
    for item in imports:
        seen_products.update(SeenSet.unpack(_state(item).seen_products))
        seen_variants.update(SeenSet.unpack(_state(item).seen_variants))
    running = importer is not None  # the import's own importer: its report counts what is deactivated
    importer = importer or CatalogImporter(base_dir=Path(), report=ImportReport())
    deactivated_products = deactivated_variants = 0
    if product_catalogs and seen_products:
        deactivated_products = importer.deactivate_missing_products(seen_products, catalogs=product_catalogs)
    if variant_catalogs and seen_variants:
        deactivated_variants = importer.deactivate_missing_variants(seen_variants, catalogs=variant_catalogs)
    if not running and (deactivated_products or deactivated_variants):
        last = max(imports, key=lambda item: item.pk)
        line = f"Деактивация ({label}): товаров {deactivated_products}, предложений {deactivated_variants}"
        ImportSession.objects.filter(pk=last.pk).update(report=Concat(F("report"), Value("\n" + line)))
        logger.info("Import %s: %s", last.pk, line)
    return deactivated_products, deactivated_variants


def _package_claim(imports: Sequence[ImportSession]) -> bool:
    """Mark the package closed; False when another caller already closed it."""
    pks = [i.pk for i in imports]
    for pk in pks:  # an import no worker ever started has no row yet: closed all the same
        CatalogImportState.objects.get_or_create(job_id=pk)
    closed = CatalogImportState.objects.filter(job__in=pks, package_closed_at=None)
    return bool(closed.update(package_closed_at=timezone.now()))


def _received_all_imported(session: ExchangeSession, imports: Sequence[ImportSession]) -> bool:
    """Every XML file 1C uploaded in the exchange was imported (not failed, not left out)."""
    imported = set(
        ImportFile.objects.filter(
            import_session__in=[i.pk for i in imports], status__in=(ImportFile.Status.DONE, ImportFile.Status.SKIPPED)
        ).values_list("name", flat=True)
    )
    for name in ExchangeFile.objects.filter(session=session, is_archive=False).values_list("name", flat=True):
        if name.lower().endswith(".xml") and not name.startswith("import_files/") and name not in imported:
            return False
    return True


def _sends_complete(session: ExchangeSession) -> bool:
    """Whether this 1C ends its catalog exchanges with complete or deactivate (it has before):
    then an exchange that just stopped died, and its package is not whole."""
    return ExchangeRequestLog.objects.filter(
        user_id=session.user_id,
        exchange_type=ExchangeType.CATALOG,
        mode__in=("complete", "deactivate"),
        outcome="success",
    ).exists()


def package_close(*, session: ExchangeSession, ended_by: str) -> tuple[int, int] | None:
    """Close the package of an exchange that ended (``ended_by``: "complete" or "expired"):
    deactivate what it did not contain if it is whole. None while an import of it still runs
    or when there is nothing to close."""
    imports = _package_imports(session)
    if not imports or any(i.is_active for i in imports) or all(_state(i).package_closed_at for i in imports):
        return None
    whole = all(i.status == ImportSession.Status.COMPLETED for i in imports) and _received_all_imported(
        session, imports
    )
    if ended_by == "expired" and _sends_complete(session):
        whole = False  # this 1C sends complete: an exchange that stopped without it died midway
    if not _package_claim(imports) or not whole:
        return None
    return _package_deactivate(imports, explicit=False, label=f"пакет обмена целиком, {ended_by}")


def catalog_packages_close_ended() -> int:
    """Close the packages of exchanges that ended (completed or expired) without being closed:
    run with the session expiry task. Returns how many were looked at."""
    sessions = ExchangeSession.objects.filter(
        imports__kind=ExchangeType.CATALOG, imports__catalog__package_closed_at=None
    ).exclude(status=ExchangeSession.Status.ACTIVE)
    count = 0
    for session in sessions.distinct():
        ended_by = "complete" if session.status == ExchangeSession.Status.COMPLETED else "expired"
        package_close(session=session, ended_by=ended_by)
        count += 1
    return count


# --- the worker: the catalog's importer in the job engine --------------------------------------
class CatalogJobImporter:
    """Imports a catalog job's files into the catalog tables (exchange.jobs.JobImporter)."""

    def __init__(self, *, job: ImportSession, report: ImportReport, progress: JobProgress) -> None:
        self.importer = CatalogImporter(base_dir=Path(job.base_dir), report=report, progress=progress)
        # The row may exist already: mode=deactivate marks a pending import, or a redelivered task
        # resumes one; what files already done contained still counts for deactivation.
        self.state, _ = CatalogImportState.objects.get_or_create(job=job)
        job.catalog = self.state  # one instance: what finish() sets is what the package reads
        for done in CatalogFileState.objects.filter(file__import_session=job, file__status=ImportFile.Status.DONE):
            self.importer.adopt_file(
                seen_products=bytes(done.seen_products),
                seen_variants=bytes(done.seen_variants),
                full_catalog=done.full_catalog,
                full_offers=done.full_offers,
            )
        # The next file's reader, started while this file is written (see _read_ahead).
        self._ahead: tuple[int, tuple[int, int], ChildRecords] | None = None

    def import_file(self, job: ImportSession, file: ImportFile, progress: JobProgress) -> FileOutcome:
        path = Path(job.base_dir) / file.name
        if not path.is_file():
            return FileOutcome.failed(f"{file.name}: файл не найден")
        if file.kind == COUNTERPARTIES_KIND:
            from exchange.counterparties.importer import counterparties_file_job_import

            return counterparties_file_job_import(
                path=path, name=file.name, report=self.importer.report, source=f"exchange: {file.name}"
            )
        if file.kind in NOT_CATALOG_KINDS:
            return FileOutcome.skipped()
        if file.kind == "unknown":
            return FileOutcome.failed(_not_commerceml(path, file.name))
        # A big file's reader process starts first and parses while the file's digest is read.
        with self._take_ahead(file, path) or _open_records(path) as source:
            return self._import_or_skip(job, file, path, source)

    def _take_ahead(self, file: ImportFile, path: Path) -> ChildRecords | None:
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return None
        pk, signature, reader = ahead
        if pk == file.pk and signature == _signature(path):
            return reader
        # 1C added a file that comes first, or the file changed since: read it when its turn comes.
        reader.close()
        return None

    def _read_ahead(self, job: ImportSession, current: ImportFile) -> None:
        """Start parsing the job's next file in a child process that writes to a spool file.

        On two cores the reader of this file, this process writing it and PostgreSQL leave
        room: the next file's parse overlaps this file's import instead of following it (a 2.x
        re-export is products then offers, each about half the parse). Only big catalog files,
        the same that are parsed in a child anyway; a next file found unchanged later is
        skipped all the same and its reader stopped."""
        following = (
            ImportFile.objects.filter(import_session=job, status=ImportFile.Status.PENDING)
            .exclude(pk=current.pk)
            .order_by("rank", "id")
            .first()
        )
        if following is None or following.kind in NOT_CATALOG_KINDS or following.kind == "unknown":
            return
        path = Path(job.base_dir) / following.name
        if not path.is_file() or path.stat().st_size < SUBPROCESS_MIN_BYTES:
            return
        signature = _signature(path)
        self._ahead = (
            following.pk,
            signature,
            iter_records_in_subprocess(path, on_invalid="yield", spool_dir=path.parent),
        )

    def _import_or_skip(
        self, job: ImportSession, file: ImportFile, path: Path, source: Iterator[Record | SealedProduct | SealedOffer]
    ) -> FileOutcome:
        scan = scan_file(path, file.kind)
        file.digest = scan.digest
        contained = CatalogFileState(file=file)
        note = ""
        # Pictures sent with a catalog file may have changed while its XML did not: import it then.
        # Only products name pictures, so offers, prices and rests files are still skipped.
        pictures_may_change = file.kind == FileKind.CATALOG and pictures_sent(Path(job.base_dir))
        earlier = None if pictures_may_change else _unchanged_since(file, job)
        if earlier is not None:
            before = earlier.catalog
            self.importer.adopt_file(
                seen_products=bytes(before.seen_products),
                seen_variants=bytes(before.seen_variants),
                full_catalog=before.full_catalog,
                full_offers=before.full_offers,
            )
            note = f"{file.name}: не изменился с импорта #{earlier.import_session_id} при неизменном каталоге, пропущен"
            file.reused_from = earlier
            contained.seen_products, contained.seen_variants = before.seen_products, before.seen_variants
            contained.full_catalog, contained.full_offers = before.full_catalog, before.full_offers
            contained.catalog_scopes = before.catalog_scopes
        else:
            scopes: dict[str, dict[str, bool]] = {}
            # This file is imported, not skipped: the next file's reader starts now and parses
            # while this one is written (not before: a re-export whose files are all skipped
            # would only lose the core its digests are read on).
            self._read_ahead(job, file)
            try:
                self.importer.import_records(
                    _records(source, file.name, scopes), file_label=file.name, totals=scan.counts
                )
            except CommerceMLError as exc:
                exc.file = file.name  # the name 1C knows, not our folder layout
                return FileOutcome.failed(str(exc))
            contained.seen_products = self.importer.file_seen_products.pack()
            contained.seen_variants = self.importer.file_seen_variants.pack()
            contained.full_catalog = self.importer.file_full_catalog
            contained.full_offers = self.importer.file_full_offers
            contained.catalog_scopes = scopes
        file.save(update_fields=["digest", "reused_from"])
        contained.save()
        return FileOutcome.done(note)

    def finish(self, job: ImportSession) -> None:
        """Default variants for products without offers. A manual import is a whole package: it
        deactivates what its full sections did not contain. An exchange's import deactivates only
        when 1C sent mode=deactivate while it ran (background behaviour); otherwise its package is
        closed when the exchange ends (package_close), never in the middle of it."""
        importer, state = self.importer, self.state
        importer.create_missing_default_variants()
        state.seen_products = importer.seen_products.pack()
        state.seen_variants = importer.seen_variants.pack()
        if job.exchange_session_id is None:
            _package_deactivate([job], explicit=False, label="импорт вручную", importer=importer)
            state.package_closed_at = timezone.now()
            return
        requested = CatalogImportState.objects.filter(pk=job.pk).values_list("deactivate_requested", flat=True)
        if requested and requested[0]:
            others = ImportSession.objects.filter(
                exchange_session_id=job.exchange_session_id, status=ImportSession.Status.COMPLETED
            ).exclude(pk=job.pk)
            imports = [job, *others.select_related("catalog")]
            _package_claim(imports)
            state.package_closed_at = timezone.now()
            _package_deactivate(imports, explicit=True, label="mode=deactivate", importer=importer)

    def close(self, job: ImportSession, *, failed: bool) -> None:
        if self._ahead is not None:  # the job ended before the file read ahead
            self._ahead[2].close()
            self._ahead = None
        importer, state = self.importer, self.state
        state.catalog_state = {} if failed else catalog_state()
        state.seen_products = importer.seen_products.pack()
        state.seen_variants = importer.seen_variants.pack()
        state.full_catalog, state.full_offers = importer.full_catalog, importer.full_offers
        # deactivate_requested and package_closed_at are set by requests of 1C meanwhile: only
        # what this run decided is written.
        fields = ["catalog_state", "seen_products", "seen_variants", "full_catalog", "full_offers"]
        if state.package_closed_at is not None:
            fields.append("package_closed_at")
        state.save(update_fields=fields)

    def closed(self, job: ImportSession) -> None:
        exchange_session = job.exchange_session
        if exchange_session is not None and exchange_session.status != ExchangeSession.Status.ACTIVE:
            # 1C ended the exchange while this import ran (background behaviour): close its package now.
            ended_by = "complete" if exchange_session.status == ExchangeSession.Status.COMPLETED else "expired"
            package_close(session=exchange_session, ended_by=ended_by)


job_kind_register(JobKind(kind=ExchangeType.CATALOG, describe=_describe, importer=CatalogJobImporter))


# Files at least this big are parsed in a child process (commerceml.pipe) so that parsing runs on
# the other core while this process writes; for small files starting a process costs more.
SUBPROCESS_MIN_BYTES = 4 * 1024 * 1024


def _signature(path: Path) -> tuple[int, int]:
    """Size and modification time: a file read ahead is used only if it is still the same file."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _open_records(path: Path) -> contextlib.AbstractContextManager[Iterator[Record | SealedProduct | SealedOffer]]:
    """The file's records, read in a child process when the file is big; closed on leaving."""
    if path.stat().st_size >= SUBPROCESS_MIN_BYTES:
        return iter_records_in_subprocess(path, on_invalid="yield")
    records = cast("Generator[Record, None, None]", iter_records(path, on_invalid="yield"))
    return contextlib.closing(records)


def _records(
    records: Iterator[Record | SealedProduct | SealedOffer], name: str, scopes: dict[str, dict[str, bool]]
) -> Iterator[Record | SealedProduct | SealedOffer]:
    """The file's records; ``scopes`` collects the catalogs its sections name (CatalogFileState.catalog_scopes)."""
    for record in records:
        if isinstance(record, InvalidElement):
            # The reader names the file it opened (the server's absolute path); reports and 1C's
            # answers name it as 1C did, relative to the exchange folder.
            yield dataclasses.replace(record, file=name)
            continue
        if isinstance(record, SectionHeader):
            _note_scope(record, scopes)
        yield record


def _note_scope(header: SectionHeader, scopes: dict[str, dict[str, bool]]) -> None:
    kind = SCOPE_KINDS.get(header.section)
    if kind is not None:
        found = scopes.setdefault(kind, {})
        catalog_id = (header.catalog_id or "")[:CATALOG_ID_LENGTH]
        found[catalog_id] = found.get(catalog_id, False) or not header.changes_only


# Sections whose elements belong to a catalog, by what their deactivation covers.
SCOPE_KINDS = {Section.CATALOG: "products", Section.OFFERS: "offers", Section.OFFER_CHANGES: "offers"}


def _unchanged_since(file: ImportFile, job: ImportSession) -> ImportFile | None:
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
            import_session__kind=ExchangeType.CATALOG,
            catalog__isnull=False,
        )
        .exclude(import_session=job)
        .select_related("import_session__catalog", "catalog")
        .order_by("-import_session__finished_at")[:5]
    )
    if not candidates:
        return None
    current = catalog_state()
    for candidate in candidates:
        if _state(candidate.import_session).catalog_state == current:
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
