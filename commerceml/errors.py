"""Errors raised by the CommerceML reader.

Every error carries what a person needs to find the problem in a 1C file: the file name, the
line, the element's local name and its Ид when known, and a reason. ``str(error)`` renders them
as ``import.xml:120: Товар Ид=bd8c…: not a number: 'abc'``, which is also what an importer can
store in its report or show to 1C.
"""

from __future__ import annotations

from typing import Self


class CommerceMLError(Exception):
    """Base class: something in a CommerceML file cannot be read."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        element: str | None = None,
        element_id: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.line = line
        self.element = element
        self.element_id = element_id

    def locate(
        self,
        *,
        file: str | None = None,
        line: int | None = None,
        element: str | None = None,
        element_id: str | None = None,
    ) -> Self:
        """Fill in location details that are still unknown (inner details win) and return self."""
        if self.file is None:
            self.file = file
        if self.line is None:
            self.line = line
        if self.element is None:
            self.element = element
        if self.element_id is None:
            self.element_id = element_id
        return self

    def __str__(self) -> str:
        where = self.file or "<stream>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        what = ""
        if self.element is not None:
            what = self.element
            if self.element_id is not None:
                what = f"{what} Ид={self.element_id}"
            what = f" {what}:"
        elif self.element_id is not None:
            what = f" Ид={self.element_id}:"
        return f"{where}:{what} {self.reason}"


class CommerceMLSyntaxError(CommerceMLError):
    """The file is not well-formed XML: truncated, wrong encoding, not XML at all."""


class CommerceMLUnsafeXMLError(CommerceMLSyntaxError):
    """The file uses XML features CommerceML never needs and attackers do (DOCTYPE, entities)."""


class CommerceMLLimitError(CommerceMLError):
    """The file exceeds a reader guard (nesting depth, size of one text)."""


class CommerceMLValueError(CommerceMLError):
    """Well-formed XML with a value that cannot be read: a bad number, a missing Ид, ..."""
