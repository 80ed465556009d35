"""The import-job engine is generic: another kind plugs in its importer and gets the claim, the
file loop in rank order, progress, close, failures answered for every file, and its own
one-job-per-kind lock (exchange.jobs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from exchange import jobs
from exchange.catalog.service import import_session_create
from exchange.jobs import FileOutcome, JobAlreadyRunning, JobKind, JobProgress, job_create, job_file_answer, job_run
from exchange.models import ExchangeType, ImportFile, ImportSession
from exchange.report import ImportReport

pytestmark = pytest.mark.django_db


@dataclass
class Calls:
    log: list[str] = field(default_factory=list)


class DocumentsImporter:
    """A stand-in for the sale flow's importer: each file is a document to apply."""

    def __init__(self, *, job: ImportSession, report: ImportReport, progress: JobProgress, calls: Calls) -> None:
        self.report, self.calls = report, calls

    def import_file(self, job: ImportSession, file: ImportFile, progress: JobProgress) -> FileOutcome:
        self.calls.log.append(f"import {file.name}")
        text = (Path(job.base_dir) / file.name).read_text()
        if text == "broken":
            return FileOutcome.failed(f"{file.name}: документ не прочитан")
        if text == "unknown order":
            self.report.warning("documents", "42", "заказ не найден на сайте", file=file.name)
        self.report.entity("documents").add("updated")
        progress("Документы", 1, 1)
        return FileOutcome.done()

    def finish(self, job: ImportSession) -> None:
        self.calls.log.append("finish")

    def close(self, job: ImportSession, *, failed: bool) -> None:
        self.calls.log.append(f"close failed={failed}")

    def closed(self, job: ImportSession) -> None:
        self.calls.log.append("closed")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    found = Calls()

    def importer(*, job: ImportSession, report: ImportReport, progress: JobProgress) -> DocumentsImporter:
        return DocumentsImporter(job=job, report=report, progress=progress, calls=found)

    def describe(base_dir: Path, name: str) -> tuple[str, int]:
        return "documents", 1 if name.startswith("first") else 2

    monkeypatch.setitem(jobs.KINDS, ExchangeType.SALE, JobKind(ExchangeType.SALE, describe, importer))
    return found


def _files(folder: Path, **contents: str) -> list[str]:
    for name, text in contents.items():
        (folder / f"{name}.xml").write_text(text)
    return [f"{name}.xml" for name in contents]


def test_a_kind_plugs_in_its_importer_and_the_engine_runs_the_files_in_rank_order(tmp_path: Path, calls: Calls) -> None:
    names = _files(tmp_path, later="ok", first="unknown order")
    job = job_create(kind=ExchangeType.SALE, base_dir=tmp_path, files=names)

    result = job_run(job_id=job.pk)

    assert result is not None and result.status == ImportSession.Status.COMPLETED
    assert calls.log == ["import first.xml", "import later.xml", "finish", "close failed=False", "closed"]
    assert result.counters["documents"]["updated"] == 2
    first = result.files.get(name="first.xml")
    assert job_file_answer(first, done_text="Готово", skipped_text="-").lines == (
        "Готово",
        "Замечание: first.xml: documents Ид=42: заказ не найден на сайте",
    )


def test_a_failed_file_fails_the_job_and_every_file_is_answered_failure(tmp_path: Path, calls: Calls) -> None:
    names = _files(tmp_path, first="ok", later="broken", last="ok")
    job = job_create(kind=ExchangeType.SALE, base_dir=tmp_path, files=names)

    result = job_run(job_id=job.pk)

    assert result is not None and result.status == ImportSession.Status.FAILED
    assert "finish" not in calls.log and "close failed=True" in calls.log
    for file in result.files.all():
        answer = job_file_answer(file, done_text="Готово", skipped_text="-")
        assert (answer.status, answer.lines) == ("failure", ("later.xml: документ не прочитан",))


def test_each_kind_has_its_own_one_job_lock(tmp_path: Path, calls: Calls) -> None:
    import_session_create(base_dir=tmp_path, files=[])  # a catalog import is running
    job_create(kind=ExchangeType.SALE, base_dir=tmp_path, files=[])  # a sale job may run beside it

    with pytest.raises(JobAlreadyRunning):
        job_create(kind=ExchangeType.SALE, base_dir=tmp_path, files=[])
