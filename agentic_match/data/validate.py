"""Validation of input files without loading them into a model: every problem, located.

:func:`validate_paths` takes files (resumes, jobs, labels, interactions; the kind comes from
the file name, its folder's name or the row keys), Hugging Face ``save_to_disk`` folders and
benchmark-layout directories, and returns one :class:`ValidationReport` listing every
problem as ``path:line [field]: message``. When resume and job files are validated
together, labels and interactions given alongside are checked against their ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentic_match.data.benchmark import load_benchmark
from agentic_match.data.io import check_pairs, read_documents, read_interactions, read_labels
from agentic_match.data.readers import raw_rows, read_json
from agentic_match.data.report import LoadReport
from agentic_match.data.schema import Document
from agentic_match.errors import DataError, Problem

FileKind = str
"""``"resumes"``, ``"jobs"``, ``"labels"``, ``"interactions"``, ``"documents"`` (a document
file whose kind is unknown), ``"splits"``, ``"qrels"``, ``"json"`` or ``"benchmark"`` (a
directory)."""

_NAME_KINDS = (("resume", "resumes"), ("job", "jobs"), ("label", "labels"), ("interaction", "interactions"))
_DATASET_MARKERS = ("dataset_info.json", "dataset_dict.json", "state.json")


@dataclass
class ValidationReport:
    """The outcome of :func:`validate_paths`.

    Attributes:
        problems: Every problem found, grouped by input in the order given.
        rows: Rows read per file.
        counts: Valid items per file (rows minus rejected ones).
        kinds: What each input was validated as (see :data:`FileKind`).
    """

    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, FileKind] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def problems_by_file(self) -> dict[str, int]:
        """Number of problems per file."""
        out: dict[str, int] = {}
        for p in self.problems:
            out[p.path] = out.get(p.path, 0) + 1
        return out

    def _take(self, report: LoadReport) -> None:
        self.problems.extend(report.problems)
        for src, n in report.rows.items():
            self.rows[src] = self.rows.get(src, 0) + n
        for src, n in report.loaded.items():
            self.counts[src] = self.counts.get(src, 0) + n

    def summary(self) -> str:
        """One line: files, valid items, problems."""
        files = len(set(self.rows) | set(self.problems_by_file()))
        return f"{files} file(s), {sum(self.counts.values()):,} valid item(s), {len(self.problems):,} problem(s)"


def kind_from_name(path: str | Path) -> FileKind | None:
    """The kind a file's name (or its folder's name) implies, e.g. ``labels/train.jsonl``."""
    p = Path(path)
    for name in (p.stem.lower(), p.parent.name.lower()):
        for needle, kind in _NAME_KINDS:
            if needle in name:
                return kind
    return None


def kind_from_row(row: dict[str, Any]) -> FileKind:
    """The kind a row's keys imply (labels, interactions, or documents)."""
    if "label" in row:
        return "labels"
    if "resume_id" in row and "job_id" in row:
        return "interactions"
    return "documents"


def infer_kind(path: str | Path) -> FileKind:
    """The kind of an input file: from its name or folder, else from its first row's keys.

    ``.json`` files are ``"splits"``, ``"qrels"`` or ``"json"``.
    """
    p = Path(path)
    if p.suffix.lower() == ".json":
        if "qrels" in (p.stem.lower(), p.parent.name.lower()):
            return "qrels"
        return "splits" if "split" in p.stem.lower() else "json"
    return kind_from_name(p) or _peek_kind(p)


def _peek_kind(path: Path) -> FileKind:
    try:
        _, _, rows = raw_rows(path, LoadReport())
        for _, row in rows:
            return kind_from_row(row)
    except (DataError, OSError):
        pass  # the real load reports why
    return "documents"


def is_dataset_dir(path: Path) -> bool:
    """True for a folder written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``."""
    return any((path / m).is_file() for m in _DATASET_MARKERS)


def _validate_file(
    path: Path,
    report: ValidationReport,
    docs: dict[str, dict[str, Document]],
    pairs: list[tuple[str, list[tuple[int, Any]]]],
) -> None:
    """Validate one file or datasets folder; remember documents and pairs to cross-check."""
    src = str(path)
    if path.is_file() and path.suffix.lower() == ".json":
        load = LoadReport()
        report.kinds[src] = infer_kind(path)
        try:
            read_json(path, load)
        except OSError as e:
            load.add(src, None, None, f"cannot read: {e.strerror or e}")
        report._take(load)
        return
    kind = infer_kind(path)
    report.kinds[src] = kind
    load = LoadReport()
    try:
        if kind in ("resumes", "jobs", "documents"):
            doc_kind = "job" if kind == "jobs" else "resume"
            _, items = read_documents(path, doc_kind, load)
            if kind != "documents":
                docs[kind].update((d.id, d) for _, d in items)
        elif kind == "labels":
            pairs.append(read_labels(path, load))
        else:
            pairs.append(read_interactions(path, load))
    except DataError as e:
        load.problems.extend(e.problems)
    except OSError as e:
        load.add(src, None, None, f"cannot read: {e.strerror or e}")
    report._take(load)


def validate_paths(paths: Iterable[str | Path]) -> ValidationReport:
    """Validate files, datasets folders and benchmark directories; never raises on bad data.

    Checks: malformed JSON/CSV rows, missing or duplicate ids, empty documents, non-UTF-8
    bytes, over-long lines and documents, labels that are not finite numbers, and
    references to unknown ids (within a directory, or across the resume/job files given).
    """
    report = ValidationReport()
    docs: dict[str, dict[str, Document]] = {"resumes": {}, "jobs": {}}
    pairs: list[tuple[str, list[tuple[int, Any]]]] = []
    for raw in paths:
        path = Path(raw)
        src = str(path)
        if not path.exists():
            report.problems.append(Problem(src, None, None, "no such file or directory"))
        elif path.is_dir() and not is_dataset_dir(path):
            report.kinds[src] = "benchmark"
            _validate_dir(path, report)
        else:
            _validate_file(path, report, docs, pairs)
    if docs["resumes"] and docs["jobs"]:
        for name, items in pairs:
            load = LoadReport(loaded={name: 0})
            check_pairs(name, items, docs["resumes"], docs["jobs"], load)
            report.problems.extend(load.problems)
            report.counts[name] = report.counts.get(name, 0) + load.loaded[name]
    # Cross-checks and duplicate checks run after a file's rows: show problems in file order.
    order = {src: i for i, src in enumerate(dict.fromkeys(p.path for p in report.problems))}
    report.problems.sort(key=lambda p: (order[p.path], p.line or 0))
    return report


def _validate_dir(path: Path, report: ValidationReport) -> None:
    try:
        corpus = load_benchmark(path, on_error="skip")
    except DataError as e:
        report.problems.extend(e.problems)
        return
    except OSError as e:
        report.problems.append(Problem(str(path), None, None, f"cannot read: {e.strerror or e}"))
        return
    assert corpus.report is not None
    report._take(corpus.report)
    for src in corpus.report.rows:
        report.kinds[src] = infer_kind(src)
