"""What a load found, and what it does about it: :class:`LoadReport`, ``on_error``, limits.

Every problem is located as ``path:line [field]`` (for datasets ``line`` is the 1-based row
number). ``on_error="raise"`` (the default) collects *all* problems of a load and raises them
together in one :class:`~agentic_match.errors.DataError`; ``on_error="skip"`` drops the bad
rows, logs a warning with their count and keeps the problems on a :class:`LoadReport`
(``result.report`` for lists, ``corpus.report`` for a corpus), so nothing disappears silently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from agentic_match.errors import DataError, Problem

# The loaders' warnings keep the logger name they have always had, so logging setups still apply.
log = logging.getLogger("agentic_match.data.io")

OnError = Literal["raise", "skip"]
PathLike = str | os.PathLike[str]

MAX_DOC_CHARS = 1_000_000
"""A document with more characters (text plus fields) is rejected as absurd."""
MAX_LINE_BYTES = 10 * 1024 * 1024
"""A physical line longer than this (bytes, newline included) is rejected unread."""

_KINDS = ("resume", "job")

T = TypeVar("T")


@dataclass
class LoadReport:
    """What a load read, kept and rejected.

    Attributes:
        problems: Every problem found, in file order.
        rows: Rows read per source (blank lines are not rows).
        loaded: Items kept per source.
    """

    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    loaded: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    @property
    def skipped(self) -> int:
        """Rows read but not kept (bad rows, plus items dropped by cross-checks)."""
        return sum(self.rows.values()) - sum(self.loaded.values())

    def add(self, path: str, line: int | None, field_: str | None, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(path, line, field_, message))

    def merge(self, other: LoadReport) -> None:
        """Add another report's problems and counts to this one."""
        self.problems.extend(other.problems)
        for src, n in other.rows.items():
            self.rows[src] = self.rows.get(src, 0) + n
        for src, n in other.loaded.items():
            self.loaded[src] = self.loaded.get(src, 0) + n


class Loaded(list, Generic[T]):
    """A plain list of loaded items that also carries its :class:`LoadReport` (``.report``)."""

    def __init__(self, items: Iterable[T] = (), report: LoadReport | None = None):
        super().__init__(items)
        self.report = report if report is not None else LoadReport()


def check_on_error(on_error: str) -> None:
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")


def finish(report: LoadReport, on_error: OnError, what: str) -> None:
    """Raise every problem at once, or warn how many were skipped."""
    if not report.problems:
        return
    if on_error == "raise":
        raise DataError(report.problems)
    log.warning(
        "%s: skipped %d bad row(s), %d problem(s); first: %s",
        what,
        report.skipped,
        len(report.problems),
        report.problems[0],
    )


def check_kind(kind: str) -> None:
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'resume' or 'job', not {kind!r}")
