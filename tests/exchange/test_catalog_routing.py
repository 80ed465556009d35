"""type=catalog mode=import|complete|deactivate reach the catalog importer with the normalised
file name and the session, and its answer goes back to 1C unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.models import ExchangeSession
from exchange.protocol import (
    IMPORT_ALREADY_RUNNING,
    IMPORT_FILE_MISSING,
    Answer,
    ExchangeError,
    failure,
    progress,
    success,
)
from tests.exchange.conftest import OneC, assert_answer

pytestmark = pytest.mark.django_db


class FakeImporter:
    """Stands in for exchange.catalog.service (another component) at its contract."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, Answer | Exception] = {}

    def _answer(self, name: str, default: Answer, **kwargs: Any) -> Answer:
        self.calls.append((name, kwargs))
        answer = self.answers.get(name, default)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeImporter:
        module = "exchange.catalog.service"
        monkeypatch.setattr(f"{module}.catalog_import_step", lambda **kw: self._answer("import", success("ok"), **kw))
        monkeypatch.setattr(
            f"{module}.catalog_deactivate", lambda **kw: self._answer("deactivate", success("deact"), **kw)
        )
        monkeypatch.setattr(f"{module}.catalog_complete", lambda **kw: self._answer("complete", success("done"), **kw))
        return self


@pytest.fixture
def importer(monkeypatch: pytest.MonkeyPatch) -> FakeImporter:
    return FakeImporter().install(monkeypatch)


def test_import_calls_the_importer_with_the_normalised_name(catalog: OneC, importer: FakeImporter) -> None:
    catalog.post_file("/tmp/import0_1.xml", b"<import/>")

    assert_answer(catalog.import_file("/tmp/import0_1.xml"), "success", "ok")

    ((name, kwargs),) = importer.calls
    assert name == "import"
    assert kwargs["filename"] == "import0_1.xml"
    assert kwargs["session"] == ExchangeSession.objects.get()


def test_import_of_a_file_never_uploaded_names_it(catalog: OneC, importer: FakeImporter) -> None:
    assert_answer(catalog.import_file("offers.xml"), "failure", IMPORT_FILE_MISSING.format(name="offers.xml"))
    assert importer.calls == []


def test_progress_from_the_importer_makes_1c_repeat(catalog: OneC, importer: FakeImporter) -> None:
    catalog.post_file("import.xml", b"<import/>")
    importer.answers["import"] = progress("Обработано 10 из 100 элементов.")

    assert_answer(catalog.import_file("import.xml"), "progress", "Обработано 10 из 100 элементов.")


def test_an_import_already_running_elsewhere_is_reported(catalog: OneC, importer: FakeImporter) -> None:
    catalog.post_file("import.xml", b"<import/>")
    importer.answers["import"] = ExchangeError(IMPORT_ALREADY_RUNNING)

    assert_answer(catalog.import_file("import.xml"), "failure", "Import already in progress")


def test_the_importers_failure_reaches_the_operator(catalog: OneC, importer: FakeImporter) -> None:
    catalog.post_file("import.xml", b"<import/>")
    importer.answers["import"] = failure("Ошибка импорта метаданных.")

    assert_answer(catalog.import_file("import.xml"), "failure", "Ошибка импорта метаданных.")


def test_deactivate_passes_the_parameters_1c_sent(catalog: OneC, importer: FakeImporter) -> None:
    timestamp = catalog.checkauth_lines[4]

    catalog.suffix += "&" + timestamp
    assert_answer(catalog.get("deactivate"), "success", "deact")

    ((_name, kwargs),) = importer.calls
    assert kwargs["params"]["timestamp"] == timestamp.split("=")[1]
    assert kwargs["params"]["mode"] == "deactivate"


def test_complete_ends_the_session(catalog: OneC, importer: FakeImporter) -> None:
    assert_answer(catalog.get("complete"), "success", "done")

    session = ExchangeSession.objects.get()
    assert session.status == ExchangeSession.Status.COMPLETED
    assert session.finished_at is not None


def test_complete_answered_with_progress_keeps_the_session_open(catalog: OneC, importer: FakeImporter) -> None:
    importer.answers["complete"] = progress("Идет импорт.")

    assert_answer(catalog.get("complete"), "progress", "Идет импорт.")
    assert ExchangeSession.objects.get().status == ExchangeSession.Status.ACTIVE
