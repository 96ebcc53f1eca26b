"""Loading documents, labels and interactions, and cross-checking a corpus.

Each loader reads a path (JSON Lines, CSV, a ``datasets`` folder) or a ``datasets.Dataset``
(see :mod:`~agentic_match.data.readers`), turns rows into items (see
:mod:`~agentic_match.data.rows` for the row formats) and applies ``on_error`` (see
:mod:`~agentic_match.data.report`). :func:`load_corpus` also checks that labels and
interactions point at loaded documents. The benchmark layout and the demo corpus are in
:mod:`~agentic_match.data.benchmark`, writers in :mod:`~agentic_match.data.writers`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from agentic_match.data.readers import is_dataset, raw_rows
from agentic_match.data.report import (
    MAX_LINE_BYTES,
    Loaded,
    LoadReport,
    OnError,
    PathLike,
    check_kind,
    check_on_error,
    finish,
)
from agentic_match.data.rows import document_from_row, interaction_from_row, label_from_row, remap
from agentic_match.data.schema import Corpus, DocKind, Document, Interaction, Label
from agentic_match.errors import Problem

T = TypeVar("T")


# --------------------------------------------------------------------------- loaders


def _collect(
    source: Any,
    report: LoadReport,
    convert: Callable[[dict[str, Any], tuple[str, int], bool], T | list[Problem]],
    split: str | None = None,
    required: tuple[str, ...] = (),
) -> tuple[str, list[tuple[int, T]]]:
    """Read every row of ``source``, convert it, record problems; ``(name, [(line, item)])``."""
    # The limit is read here, at call time, so `io.MAX_LINE_BYTES` stays the loaders' setting.
    name, fmt, rows = raw_rows(source, report, split, max_line_bytes=MAX_LINE_BYTES)
    strings_only = fmt == "csv"
    items: list[tuple[int, T]] = []
    checked_columns = fmt == "jsonl"  # JSONL rows may differ; CSV and datasets cannot
    for line, row in rows:
        if not checked_columns:
            # A missing column would otherwise give the same problem on every row.
            checked_columns = True
            missing = [c for c in required if c not in row]
            if missing:
                report.add(name, 1, None, f"missing column(s): {', '.join(missing)}")
                report.rows[name] = 0
                report.loaded[name] = 0
                return name, []
        result = convert(row, (name, line), strings_only)
        if isinstance(result, list):
            report.problems.extend(result)
        else:
            items.append((line, result))
    if not report.rows.get(name):
        report.add(name, None, None, "no rows")
    report.rows.setdefault(name, 0)
    report.loaded[name] = len(items)
    return name, items


def read_documents(
    source: Any,
    kind: DocKind,
    report: LoadReport,
    *,
    id_column: str = "id",
    text_column: str | None = None,
    field_columns: list[str] | None = None,
    split: str | None = None,
) -> tuple[str, list[tuple[int, Document]]]:
    check_kind(kind)

    def convert(row: dict[str, Any], where: tuple[str, int], strings: bool) -> Any:
        return document_from_row(
            remap(row, id_column, text_column, field_columns),
            kind,
            where=where,
            strings_only=strings,
        )

    required = (id_column, *([text_column] if text_column else []), *(field_columns or []))
    name, items = _collect(source, report, convert, split, required)
    # Keep the first of duplicated ids so line numbers in messages point at the repeat.
    seen: dict[str, int] = {}
    kept: list[tuple[int, Document]] = []
    for line, doc in items:
        if doc.id in seen:
            report.add(name, line, "id", f"duplicate id {doc.id!r} (first at line {seen[doc.id]})")
            continue
        seen[doc.id] = line
        kept.append((line, doc))
    report.loaded[name] = len(kept)
    return name, kept


def read_labels(source: Any, report: LoadReport, split: str | None = None) -> tuple[str, list[tuple[int, Label]]]:
    def convert(row: dict[str, Any], where: tuple[str, int], strings: bool) -> Any:
        return label_from_row(row, where=where, strings_only=strings)

    name, items = _collect(source, report, convert, split, ("resume_id", "job_id", "label"))
    seen: dict[tuple[str, str], int] = {}
    kept: list[tuple[int, Label]] = []
    for line, lab in items:
        key = (lab.resume_id, lab.job_id)
        if key in seen:
            report.add(name, line, None, f"duplicate label for this pair (first at line {seen[key]})")
            continue
        seen[key] = line
        kept.append((line, lab))
    report.loaded[name] = len(kept)
    return name, kept


def read_interactions(
    source: Any, report: LoadReport, split: str | None = None
) -> tuple[str, list[tuple[int, Interaction]]]:
    def convert(row: dict[str, Any], where: tuple[str, int], strings: bool) -> Any:
        return interaction_from_row(row, where=where)

    return _collect(source, report, convert, split, ("resume_id", "job_id"))


def load_documents(
    source: PathLike | Any,
    kind: DocKind,
    *,
    on_error: OnError = "raise",
    id_column: str = "id",
    text_column: str | None = None,
    field_columns: list[str] | None = None,
    split: str | None = None,
) -> Loaded[Document]:
    """Load resumes or jobs from JSONL, CSV, a datasets folder or a ``datasets.Dataset``.

    Args:
        source: A ``.jsonl``/``.ndjson``/``.csv``/``.tsv`` file, a ``save_to_disk`` folder,
            or a ``datasets.Dataset`` / ``DatasetDict`` object.
        kind: ``"resume"`` or ``"job"``.
        on_error: ``"raise"``: raise one DataError with every problem; ``"skip"``: drop
            bad rows (and later duplicates of an id), warn, keep problems on ``.report``.
        id_column: Column holding the id (renamed to ``id``).
        text_column: Column holding free text. When it or ``field_columns`` is given, only
            those columns are text and every other column becomes metadata.
        field_columns: Columns to use as named fields, in this order.
        split: Split to read when the source is a ``DatasetDict`` with several splits.

    Returns:
        The documents in file order, as a list with a ``.report`` attribute.
    """
    check_on_error(on_error)
    report = LoadReport()
    name, items = read_documents(
        source,
        kind,
        report,
        id_column=id_column,
        text_column=text_column,
        field_columns=field_columns,
        split=split,
    )
    finish(report, on_error, name)
    return Loaded((doc for _, doc in items), report)


def documents_from_dataset(
    ds: Any,
    kind: DocKind,
    id_column: str = "id",
    text_column: str | None = None,
    field_columns: list[str] | None = None,
    *,
    on_error: OnError = "raise",
    split: str | None = None,
) -> Loaded[Document]:
    """Documents from an in-memory ``datasets.Dataset`` (or ``DatasetDict`` with ``split``).

    Without ``text_column``/``field_columns`` rows are read like JSONL rows (``text``,
    ``fields``, string columns as fields, the rest metadata); with them, only the named
    columns are text and the other columns become metadata.
    """
    if not is_dataset(ds):
        raise TypeError(f"expected a datasets.Dataset, got {type(ds).__name__}")
    return load_documents(
        ds,
        kind,
        on_error=on_error,
        id_column=id_column,
        text_column=text_column,
        field_columns=field_columns,
        split=split,
    )


def load_labels(source: PathLike | Any, *, on_error: OnError = "raise", split: str | None = None) -> Loaded[Label]:
    """Load ``{"resume_id", "job_id", "label"}`` rows (JSONL, CSV, datasets).

    The label must be a finite number: 1/0 for accepted/rejected or a graded relevance.
    A repeated ``(resume_id, job_id)`` pair is a problem (the first one is kept).
    """
    return _load_pairs(read_labels, source, on_error, split)


def load_interactions(
    source: PathLike | Any, *, on_error: OnError = "raise", split: str | None = None
) -> Loaded[Interaction]:
    """Load ``{"resume_id", "job_id"}`` rows (JSONL, CSV, datasets); repeats are allowed."""
    return _load_pairs(read_interactions, source, on_error, split)


def _load_pairs(reader: Any, source: PathLike | Any, on_error: OnError, split: str | None) -> Loaded:
    check_on_error(on_error)
    report = LoadReport()
    name, items = reader(source, report, split)
    finish(report, on_error, name)
    return Loaded((x for _, x in items), report)


# --------------------------------------------------------------------------- cross-checks


def check_pairs(
    name: str,
    items: list[tuple[int, T]],
    resumes: Mapping[str, Any],
    jobs: Mapping[str, Any],
    report: LoadReport,
    split: str | None = None,
    splits: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> list[tuple[int, T]]:
    """Drop (and report) pairs that point at unknown ids, or at another split's documents."""
    split_of: dict[str, dict[str, str]] = {}
    if split is not None and splits:
        for key in ("resumes", "jobs"):
            split_of[key] = {i: s for s, ids in splits.get(key, {}).items() for i in ids}
    kept: list[tuple[int, T]] = []
    for line, item in items:
        ok = True
        for attr, known, key in (("resume_id", resumes, "resumes"), ("job_id", jobs, "jobs")):
            ref = getattr(item, attr)
            if ref not in known:
                report.add(name, line, attr, f"unknown {attr.removesuffix('_id')} id {ref!r}")
                ok = False
            elif split_of.get(key) and split_of[key].get(ref) != split:
                report.add(
                    name,
                    line,
                    attr,
                    f"{ref!r} is in split {split_of[key].get(ref)!r}, not {split!r}",
                )
                ok = False
        if ok:
            kept.append((line, item))
    if name in report.loaded:
        report.loaded[name] -= len(items) - len(kept)
    return kept


def _as_docs(
    source: PathLike | Iterable[Document] | Any, kind: DocKind, report: LoadReport
) -> tuple[str, list[tuple[int, Document]]]:
    if isinstance(source, (str, os.PathLike)) or is_dataset(source):
        return read_documents(source, kind, report)
    name = f"<{kind}s>"
    items: list[tuple[int, Document]] = []
    seen: set[str] = set()
    for i, doc in enumerate(source, 1):
        if doc.id in seen:
            report.add(name, i, "id", f"duplicate id {doc.id!r}")
            continue
        seen.add(doc.id)
        items.append((i, doc))
    return name, items


def _as_items(
    source: Any, reader: Callable[..., tuple[str, list[tuple[int, T]]]], report: LoadReport, what: str
) -> tuple[str, list[tuple[int, T]]]:
    if source is None:
        return f"<{what}>", []
    if isinstance(source, (str, os.PathLike)) or is_dataset(source):
        return reader(source, report)
    return f"<{what}>", list(enumerate(source, 1))


def load_corpus(
    resumes: PathLike | Iterable[Document] | Any,
    jobs: PathLike | Iterable[Document] | Any,
    labels: PathLike | Iterable[Label] | Any | None = None,
    interactions: PathLike | Iterable[Interaction] | Any | None = None,
    *,
    on_error: OnError = "raise",
) -> Corpus:
    """Load and cross-check a corpus; each argument is a path, a Dataset or loaded items.

    Labels and interactions must point at loaded resume and job ids. With ``on_error="skip"``
    bad rows and dangling references are dropped and listed on ``corpus.report``.
    """
    check_on_error(on_error)
    report = LoadReport()
    rname, rdocs = _as_docs(resumes, "resume", report)
    jname, jdocs = _as_docs(jobs, "job", report)
    res = {d.id: d for _, d in rdocs}
    job = {d.id: d for _, d in jdocs}
    lname, labs = _as_items(labels, read_labels, report, "labels")
    labs = check_pairs(lname, labs, res, job, report)
    iname, inter = _as_items(interactions, read_interactions, report, "interactions")
    inter = check_pairs(iname, inter, res, job, report)
    finish(report, on_error, f"corpus ({rname}, {jname})")
    return Corpus(
        resumes=res,
        jobs=job,
        labels=[x for _, x in labs],
        interactions=[x for _, x in inter],
        source=f"{rname} + {jname}",
        report=report,
    )
