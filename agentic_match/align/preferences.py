"""The preference-file format (judge output, RankPO input): writing, loading, validation.

One JSON object per line::

    {"query_id": "j-1", "passage1_id": "r-7", "passage2_id": "r-3",
     "query": "<job text>", "passage1": "<resume text>", "passage2": "<resume text>",
     "preferred": "A", "reason": "..."}

``preferred`` is ``"A"`` (``passage1`` fits ``query`` better) or ``"B"`` (``passage2``). The
texts are what the judge read and what stage 2 trains on, so a file is self-contained; the
ids tie it back to a corpus (checked when one is given). ``query_kind`` (default ``"job"``)
says whether the query is a job ranked over resumes or the reverse.

Loading never drops a record silently: every bad record is a located :class:`Problem`;
``on_error="raise"`` raises them all at once, ``"skip"`` keeps the good records and reports
the skipped ones in :attr:`PreferenceSet.problems`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agentic_match.data.schema import Corpus, DocKind
from agentic_match.errors import DataError, Problem
from agentic_match.files import atomic_write_lines

REQUIRED_FIELDS: tuple[str, ...] = (
    "query_id",
    "passage1_id",
    "passage2_id",
    "query",
    "passage1",
    "passage2",
    "preferred",
)
OnError = Literal["raise", "skip"]


@dataclass(frozen=True)
class Preference:
    """One judged pair: ``chosen`` fits ``query`` better than ``rejected``.

    Attributes:
        query_id / chosen_id / rejected_id: Document ids.
        query / chosen / rejected: The texts the judge read (and training uses).
        query_kind: ``"job"`` (resumes compared for a job) or ``"resume"`` (jobs for a resume).
        reason: The judge's short reason (may be empty).
    """

    query_id: str
    chosen_id: str
    rejected_id: str
    query: str
    chosen: str
    rejected: str
    query_kind: DocKind = "job"
    reason: str = ""


@dataclass
class PreferenceSet:
    """Preferences loaded from a file, and what was skipped (``on_error="skip"``)."""

    preferences: list[Preference]
    problems: list[Problem] = field(default_factory=list)
    source: str = "<memory>"

    def __len__(self) -> int:
        return len(self.preferences)


def preference_record(
    query_id: str,
    passage1_id: str,
    passage2_id: str,
    query: str,
    passage1: str,
    passage2: str,
    preferred: Literal["A", "B"],
    reason: str = "",
    query_kind: DocKind = "job",
    **extra: Any,
) -> dict[str, Any]:
    """One line of a preference file (the judge's output format)."""
    return {
        "query_id": query_id,
        "passage1_id": passage1_id,
        "passage2_id": passage2_id,
        "query": query,
        "passage1": passage1,
        "passage2": passage2,
        "preferred": preferred,
        "reason": reason,
        "query_kind": query_kind,
        **extra,
    }


def to_preference(record: dict[str, Any]) -> Preference:
    """A validated record as a :class:`Preference` (chosen / rejected resolved from A / B)."""
    a_wins = record["preferred"] == "A"
    return Preference(
        query_id=str(record["query_id"]),
        chosen_id=str(record["passage1_id"] if a_wins else record["passage2_id"]),
        rejected_id=str(record["passage2_id"] if a_wins else record["passage1_id"]),
        query=record["query"],
        chosen=record["passage1"] if a_wins else record["passage2"],
        rejected=record["passage2"] if a_wins else record["passage1"],
        query_kind=record.get("query_kind", "job"),
        reason=str(record.get("reason") or ""),
    )


def record_problems(record: Any, where: str, line: int | None, corpus: Corpus | None = None) -> list[Problem]:
    """Everything wrong with one record (empty when it is valid)."""
    if not isinstance(record, dict):
        return [Problem(where, line, None, f"expected a JSON object, got {type(record).__name__}")]
    problems = [
        Problem(where, line, f, "missing field") for f in REQUIRED_FIELDS if f not in record or record[f] is None
    ]
    for f in ("query", "passage1", "passage2"):
        if f in record and record[f] is not None and (not isinstance(record[f], str) or not record[f].strip()):
            problems.append(Problem(where, line, f, "must be a non-empty string"))
    if record.get("preferred") is not None and record.get("preferred") not in ("A", "B"):
        problems.append(Problem(where, line, "preferred", f"must be 'A' or 'B', got {record['preferred']!r}"))
    kind = record.get("query_kind", "job")
    if kind not in ("job", "resume"):
        problems.append(Problem(where, line, "query_kind", f"must be 'job' or 'resume', got {kind!r}"))
    if record.get("passage1_id") is not None and record.get("passage1_id") == record.get("passage2_id"):
        problems.append(Problem(where, line, "passage2_id", "the two passages are the same document"))
    if corpus is not None and kind in ("job", "resume"):
        q_docs, p_docs = (corpus.jobs, corpus.resumes) if kind == "job" else (corpus.resumes, corpus.jobs)
        p_kind = "resume" if kind == "job" else "job"
        if record.get("query_id") is not None and str(record["query_id"]) not in q_docs:
            problems.append(Problem(where, line, "query_id", f"unknown {kind} id {record['query_id']!r}"))
        for f in ("passage1_id", "passage2_id"):
            if record.get(f) is not None and str(record[f]) not in p_docs:
                problems.append(Problem(where, line, f, f"unknown {p_kind} id {record[f]!r}"))
    return problems


def validate_records(
    records: Iterable[tuple[int | None, Any]],
    *,
    corpus: Corpus | None = None,
    source: str = "<records>",
    on_error: OnError = "raise",
) -> PreferenceSet:
    """Check ``(line, record)`` items; see :func:`load_preferences`."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    prefs: list[Preference] = []
    problems: list[Problem] = []
    for line, rec in records:
        found = record_problems(rec, source, line, corpus)
        if found:
            problems.extend(found)
        else:
            prefs.append(to_preference(rec))
    if problems and on_error == "raise":
        raise DataError(problems)
    return PreferenceSet(prefs, problems, source)


def load_preferences(
    path: str | Path,
    corpus: Corpus | None = None,
    *,
    on_error: OnError = "raise",
) -> PreferenceSet:
    """Read and validate a preference JSONL file.

    Args:
        path: The file (one record per line; blank lines are ignored).
        corpus: When given, every id must name a document of the right kind in it.
        on_error: ``"raise"``: any bad record raises a :class:`DataError` listing all of
            them; ``"skip"``: bad records are left out and listed in ``problems``.

    Raises:
        DataError: the file is missing or empty, or (``on_error="raise"``) holds bad records.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(Problem(str(p), None, None, "preference file not found"))
    items: list[tuple[int | None, Any]] = []
    bad_json: list[Problem] = []
    with p.open(encoding="utf-8") as f:
        for i, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                items.append((i, json.loads(raw)))
            except json.JSONDecodeError as e:
                bad_json.append(Problem(str(p), i, None, f"invalid JSON: {e.msg}"))
    if not items and not bad_json:
        raise DataError(Problem(str(p), None, None, "preference file holds no record"))
    if bad_json and on_error == "raise":
        # Report the JSON errors together with the record errors of the parsable lines.
        try:
            validate_records(items, corpus=corpus, source=str(p), on_error="raise")
        except DataError as e:
            raise DataError(sorted(bad_json + e.problems, key=lambda x: x.line or 0)) from None
        raise DataError(bad_json)
    out = validate_records(items, corpus=corpus, source=str(p), on_error=on_error)
    out.problems = sorted(bad_json + out.problems, key=lambda x: x.line or 0)
    return out


def write_preferences(path: str | Path, records: Iterable[dict[str, Any]]) -> Path:
    """Write preference records atomically (each is validated first; a bad one raises)."""
    rows = list(records)
    validate_records(enumerate(rows, 1), source=str(path), on_error="raise")
    return atomic_write_lines(path, rows)


def split_preferences(
    prefs: Sequence[Preference], held_out: float = 0.2, seed: int = 0
) -> tuple[list[Preference], list[Preference]]:
    """Split by query id (no query in both parts) into ``(train, held_out)``."""
    import random

    queries = sorted({p.query_id for p in prefs})
    random.Random(seed).shuffle(queries)
    n_held = int(round(held_out * len(queries)))
    held = set(queries[:n_held])
    return [p for p in prefs if p.query_id not in held], [p for p in prefs if p.query_id in held]


__all__ = [
    "Preference",
    "PreferenceSet",
    "load_preferences",
    "preference_record",
    "record_problems",
    "split_preferences",
    "to_preference",
    "validate_records",
    "write_preferences",
]
