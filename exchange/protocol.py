"""Answers of the "Обмен с сайтом" protocol, built in one place.

1C reads the body line by line: line 1 is the status word (``success``, ``progress`` or
``failure``), later lines are parameters or a message it shows to the operator
(../shared/reference/protocol.md §1.4). Failures are always HTTP 200 with a ``failure`` body
(§1.5): a non-200 status or an HTML page is shown in 1C only as "ошибка обмена".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["success", "progress", "failure"]


@dataclass(frozen=True, slots=True)
class Answer:
    status: Status
    lines: tuple[str, ...] = ()

    def render(self) -> str:
        # Lines never contain a newline of their own: a message with one would shift every
        # later line 1C reads.
        parts = [self.status, *(" ".join(line.splitlines()) for line in self.lines)]
        return "\n".join(parts) + "\n"

    @property
    def message(self) -> str:
        return "\n".join(self.lines)


def success(*lines: str) -> Answer:
    return Answer("success", tuple(lines))


def progress(text: str) -> Answer:
    return Answer("progress", (text,))


def failure(reason: str) -> Answer:
    return Answer("failure", (reason,))


class ExchangeError(Exception):
    """An error 1C should see: the endpoint answers ``failure\\n<reason>``."""

    reason: str = "Exchange error"

    def __init__(self, reason: str | None = None) -> None:
        if reason is not None:
            self.reason = reason
        super().__init__(self.reason)

    def answer(self) -> Answer:
        return failure(self.reason)


# Failure reasons 1C shows to its operator. Kept together so their wording stays consistent.
IMPORT_ALREADY_RUNNING = "Import already in progress"
