"""What an import did: totals per entity and outcome, plus per-element problems with their Ид."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Element problems kept in full on the ImportSession; the counters count all of them.
MAX_ISSUES = 1000

ENTITY_LABELS = {
    "groups": "Группы",
    "properties": "Свойства",
    "price_types": "Типы цен",
    "warehouses": "Склады",
    "products": "Товары",
    "images": "Картинки",
    "offers": "Предложения",
    "prices": "Цены",
    "stock": "Остатки",
    "orders": "Заказы",
    "counterparties": "Контрагенты",
    "other": "Прочее",
}


@dataclass
class EntityCounters:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    removed: int = 0  # rows deleted, e.g. a picture 1C no longer lists
    skipped: int = 0
    errors: int = 0

    def add(self, outcome: str, count: int = 1) -> None:
        setattr(self, outcome, getattr(self, outcome) + count)

    def summary(self) -> str:
        parts = [
            f"{label} {value}"
            for label, value in (
                ("создано", self.created),
                ("изменено", self.updated),
                ("без изменений", self.unchanged),
                ("деактивировано", self.deactivated),
                ("удалено", self.removed),
                ("пропущено", self.skipped),
                ("ошибок", self.errors),
            )
            if value
        ]
        return ", ".join(parts) or "нет"


@dataclass
class ImportReport:
    entities: dict[str, EntityCounters] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    issues_dropped: int = 0

    def entity(self, name: str) -> EntityCounters:
        counters = self.entities.get(name)
        if counters is None:
            counters = self.entities[name] = EntityCounters()
        return counters

    def _issue(self, level: str, entity: str, onec_id: str | None, reason: str, file: str, line: int | None) -> None:
        if len(self.issues) >= MAX_ISSUES:
            self.issues_dropped += 1
            return
        self.issues.append(
            {"level": level, "entity": entity, "id": onec_id, "reason": reason, "file": file, "line": line}
        )

    def error(self, entity: str, onec_id: str | None, reason: str, *, file: str, line: int | None = None) -> None:
        """A bad element: skipped, counted as an error, recorded with its Ид."""
        self.entity(entity).errors += 1
        self._issue("error", entity, onec_id, reason, file, line)

    def warning(self, entity: str, onec_id: str | None, reason: str, *, file: str, line: int | None = None) -> None:
        """Something skipped that the operator should know of (e.g. an offer of an unknown product)."""
        self._issue("warning", entity, onec_id, reason, file, line)

    def counters_dict(self) -> dict[str, dict[str, int]]:
        return {name: asdict(counters) for name, counters in self.entities.items()}

    def summary_lines(self) -> list[str]:
        return [f"{ENTITY_LABELS.get(name, name)}: {counters.summary()}" for name, counters in self.entities.items()]
