"""Loading and writing documents, labels and interactions.

Sources: JSON Lines (``.jsonl`` / ``.ndjson``), CSV (``.csv``, ``.tsv``), a Hugging Face
``datasets.Dataset`` object or a folder written by ``Dataset.save_to_disk``, and the
benchmark directory layout (``resumes.jsonl``, ``jobs.jsonl``, ``splits.json``,
``labels/*.jsonl``, ``qrels/*.json``, ``interactions.jsonl``).

Every problem is located as ``path:line [field]`` (for datasets ``line`` is the 1-based row
number). ``on_error="raise"`` (the default) collects *all* problems of a load and raises them
together in one :class:`~agentic_match.errors.DataError`; ``on_error="skip"`` drops the bad
rows, logs a warning with their count and keeps the problems on a :class:`LoadReport`
(``result.report`` for lists, ``corpus.report`` for a corpus), so nothing disappears silently.

Row formats
-----------
Documents (JSONL or dataset rows):
``{"id": "r1", "text": "..."}``, ``{"id": "j1", "fields": {"title": "...", ...}}`` or flat
``{"id": "j1", "title": "...", "location": "..."}`` (string values become fields, other
values go to metadata), each with an optional ``"metadata": {...}``.
CSV: an ``id`` column, a ``text`` column and/or other columns (fields); ``metadata.<name>``
columns go to metadata; empty cells count as absent.

Labels: ``{"resume_id", "job_id", "label"}`` with a finite numeric label (1/0, or a grade).
Interactions: ``{"resume_id", "job_id"}``.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from agentic_match.data.schema import (
    Corpus,
    DocKind,
    Document,
    Interaction,
    Label,
    Qrels,
)
from agentic_match.errors import DataError, Problem

log = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]
PathLike = str | os.PathLike[str]

MAX_DOC_CHARS = 1_000_000
"""A document with more characters (text plus fields) is rejected as absurd."""
MAX_LINE_BYTES = 10 * 1024 * 1024
"""A physical line longer than this (bytes, newline included) is rejected unread."""

JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv", ".tsv")
_DOC_KEYS = frozenset({"id", "kind", "text", "fields", "metadata"})
_KINDS = ("resume", "job")

T = TypeVar("T")


# --------------------------------------------------------------------------- reports


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


def _check_on_error(on_error: str) -> None:
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")


def _finish(report: LoadReport, on_error: OnError, what: str) -> None:
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


def _check_kind(kind: str) -> None:
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'resume' or 'job', not {kind!r}")


# --------------------------------------------------------------------------- raw rows


def _is_dataset(obj: object) -> bool:
    """A ``datasets`` Dataset or DatasetDict, recognised without importing ``datasets``."""
    # Importing `datasets` takes seconds; only pay for it when one is actually used.
    return type(obj).__module__.split(".")[0] == "datasets"


def _skip_rest_of_line(f: Any, chunk: bytes) -> None:
    # Drain an over-long line in bounded reads so a 1 GB line never sits in memory.
    while chunk and not chunk.endswith(b"\n"):
        chunk = f.readline(1 << 20)


def _utf8_problem(raw: bytes, err: UnicodeDecodeError) -> str:
    return f"not valid UTF-8: byte 0x{raw[err.start]:02x} at column {err.start + 1}"


def _physical_lines(path: Path) -> Iterator[tuple[int, bytes | None, str | None]]:
    """Yield ``(line_no, raw_bytes, None)`` or ``(line_no, None, problem)`` per physical line."""
    with open(path, "rb") as f:
        line_no = 0
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            line_no += 1
            if len(raw) > MAX_LINE_BYTES:
                _skip_rest_of_line(f, raw)
                yield line_no, None, f"line longer than {MAX_LINE_BYTES:,} bytes"
                continue
            if line_no == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            yield line_no, raw, None


def _jsonl_rows(path: Path, report: LoadReport) -> Iterator[tuple[int, dict[str, Any]]]:
    src = str(path)
    for line_no, raw, problem in _physical_lines(path):
        if problem is not None:
            report.rows[src] = report.rows.get(src, 0) + 1
            report.add(src, line_no, None, problem)
            continue
        assert raw is not None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            report.rows[src] = report.rows.get(src, 0) + 1
            report.add(src, line_no, None, _utf8_problem(raw, e))
            continue
        if not text.strip():
            continue
        report.rows[src] = report.rows.get(src, 0) + 1
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            report.add(src, line_no, None, f"malformed JSON: {e.msg} (column {e.colno})")
            continue
        if not isinstance(obj, dict):
            report.add(src, line_no, None, f"expected a JSON object, got {type(obj).__name__}")
            continue
        yield line_no, obj


def _csv_rows(path: Path, report: LoadReport) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV/TSV file keyed by header; a record's line is where it starts."""
    src = str(path)
    bad_lines: dict[int, str] = {}

    def decoded() -> Iterator[str]:
        # Decode per physical line so a bad byte is reported with its line, and the csv
        # module still sees quoted newlines (binary readline keeps "\r\n" like newline="").
        for line_no, raw, problem in _physical_lines(path):
            if problem is not None:
                bad_lines[line_no] = problem
                yield "\n"
                continue
            assert raw is not None
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as e:
                bad_lines[line_no] = _utf8_problem(raw, e)
                yield raw.decode("utf-8", "replace")

    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    old_limit = csv.field_size_limit()
    # The default 128 KiB field limit is far below legitimate resume sizes.
    csv.field_size_limit(max(old_limit, MAX_LINE_BYTES))
    try:
        reader = csv.reader(decoded(), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            report.add(src, reader.line_num, None, f"malformed CSV header: {e}")
            return
        if bad_lines:
            for n, msg in sorted(bad_lines.items()):
                report.add(src, n, None, msg)
            return
        header = [h.strip() for h in header]
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            report.add(src, 1, None, f"duplicate column name(s): {', '.join(dupes)}")
            return
        prev = reader.line_num
        try:
            for rec in reader:
                start, end = prev + 1, reader.line_num
                prev = end
                if not rec or all(not c.strip() for c in rec):
                    continue
                report.rows[src] = report.rows.get(src, 0) + 1
                bad = [(n, bad_lines[n]) for n in range(start, end + 1) if n in bad_lines]
                if bad:
                    for n, msg in bad:
                        report.add(src, n, None, msg)
                    continue
                if len(rec) != len(header):
                    report.add(
                        src, start, None, f"expected {len(header)} columns, found {len(rec)}"
                    )
                    continue
                yield start, dict(zip(header, rec, strict=True))
        except csv.Error as e:
            report.rows[src] = report.rows.get(src, 0) + 1
            report.add(src, reader.line_num, None, f"malformed CSV: {e}")
    finally:
        csv.field_size_limit(old_limit)


def _open_dataset(source: Any, split: str | None, name: str) -> Any:
    """A ``datasets.Dataset`` from an object or a ``save_to_disk`` folder (picking a split)."""
    if not _is_dataset(source):
        import datasets

        try:
            source = datasets.load_from_disk(str(source))
        except Exception as e:  # noqa: BLE001 - datasets raises many unrelated types here
            raise DataError(
                Problem(name, None, None, f"cannot read as a Hugging Face datasets folder: {e}")
            ) from None
    if isinstance(source, dict):  # a DatasetDict
        splits = list(source.keys())
        if split is None and len(splits) == 1:
            split = splits[0]
        if split not in source:
            raise DataError(
                Problem(name, None, None, f"choose a split with split=...; found {splits}")
            )
        source = source[split]
    return source


def _dataset_rows(ds: Any, report: LoadReport, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for i, row in enumerate(ds, 1):
        report.rows[name] = report.rows.get(name, 0) + 1
        yield i, dict(row)


def _rows(
    source: Any, report: LoadReport, split: str | None = None
) -> tuple[str, str, Iterator[tuple[int, dict[str, Any]]]]:
    """``(name, format, rows)`` for a path or dataset; raises DataError if unreadable.

    ``format`` is ``"jsonl"``, ``"csv"`` (every cell a string) or ``"dataset"``.
    """
    if _is_dataset(source):
        name = "<dataset>"
        return name, "dataset", _dataset_rows(_open_dataset(source, split, name), report, name)
    path = Path(source)
    name = str(path)
    if not path.exists():
        raise DataError(Problem(name, None, None, "no such file or directory"))
    if path.is_dir():
        ds = _open_dataset(path, split, name)
        return name, "dataset", _dataset_rows(ds, report, name)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return name, "jsonl", _jsonl_rows(path, report)
    if suffix in CSV_SUFFIXES:
        return name, "csv", _csv_rows(path, report)
    raise DataError(
        Problem(
            name,
            None,
            None,
            f"unsupported format {suffix or '(no suffix)'!r}: use JSON Lines (.jsonl), "
            "CSV (.csv/.tsv) or a Hugging Face datasets folder",
        )
    )


# --------------------------------------------------------------------------- row -> item


def _as_id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _id_problem(value: Any, name: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"missing {name}"
    return f"{name} must be a string or an integer, got {type(value).__name__}"


def _remap(
    row: dict[str, Any],
    id_column: str,
    text_column: str | None,
    field_columns: list[str] | None,
) -> dict[str, Any]:
    """Rename user-named columns to the canonical row keys."""
    if id_column == "id" and text_column is None and field_columns is None:
        return row
    out: dict[str, Any] = {"id": row.get(id_column)}
    if text_column is None and field_columns is None:
        out.update({k: v for k, v in row.items() if k != id_column})
        return out
    # Explicit text/field columns: every other column is metadata, never rendered.
    used = {id_column, text_column, *(field_columns or [])}
    if text_column is not None:
        out["text"] = row.get(text_column)
    if field_columns:
        out["fields"] = {c: row.get(c) for c in field_columns}
    meta: dict[str, Any] = {}
    for k, v in row.items():
        if k in used or v is None:
            continue
        if k == "metadata" and isinstance(v, dict):
            meta.update(v)
        else:
            meta[k.removeprefix("metadata.")] = v
    out["metadata"] = meta
    return out


def document_from_row(
    row: Mapping[str, Any],
    kind: DocKind,
    *,
    where: tuple[str, int | None] = ("<row>", None),
    strings_only: bool = False,
) -> Document | list[Problem]:
    """Turn one raw row into a :class:`Document`, or return the problems that prevent it.

    Args:
        row: A JSONL object, CSV record or dataset row (see the module docstring).
        kind: ``"resume"`` or ``"job"``.
        where: ``(path, line)`` used to locate problems.
        strings_only: The row came from CSV, where every cell is a string and an empty
            cell means "absent".
    """
    path, line = where
    problems: list[Problem] = []

    def bad(field_: str | None, message: str) -> None:
        problems.append(Problem(path, line, field_, message))

    raw_id = row.get("id")
    doc_id = _as_id(raw_id)
    if doc_id is None:
        bad("id", _id_problem(raw_id, "id"))
    row_kind = row.get("kind")
    if row_kind not in (None, "", kind):
        bad("kind", f"row says kind {row_kind!r} but it is loaded as {kind!r}")

    text = row.get("text")
    if strings_only and text == "":
        text = None
    if text is not None and not isinstance(text, str):
        bad("text", f"must be a string, got {type(text).__name__}")
        text = None

    fields: dict[str, str] = {}
    raw_fields = row.get("fields")
    if raw_fields is not None:
        if not isinstance(raw_fields, Mapping):
            bad("fields", f"must be an object of name -> text, got {type(raw_fields).__name__}")
        else:
            for k, v in raw_fields.items():
                if v is None:
                    continue
                if not isinstance(v, str):
                    bad(f"fields.{k}", f"must be a string, got {type(v).__name__}")
                else:
                    fields[str(k)] = v

    metadata: dict[str, Any] = {}
    raw_meta = row.get("metadata")
    if raw_meta is not None:
        if not isinstance(raw_meta, Mapping):
            bad("metadata", f"must be an object, got {type(raw_meta).__name__}")
        else:
            metadata.update(raw_meta)

    for k, v in row.items():
        if k in _DOC_KEYS or v is None or (strings_only and v == ""):
            continue
        if k.startswith("metadata."):
            metadata[k.removeprefix("metadata.")] = v
        elif isinstance(v, str):
            if k in fields:
                bad(k, "given both as a column and inside 'fields'")
            else:
                fields[k] = v
        else:
            metadata[k] = v

    if problems:
        return problems
    assert doc_id is not None
    size = len(text or "") + sum(len(v) for v in fields.values())
    if size > MAX_DOC_CHARS:
        bad(None, f"document has {size:,} characters, more than the limit of {MAX_DOC_CHARS:,}")
        return problems
    doc = Document(id=doc_id, kind=kind, fields=fields, text=text, metadata=metadata)
    if doc.is_empty:
        bad("text", "empty document: no text and no non-blank field")
        return problems
    return doc


def label_from_row(
    row: Mapping[str, Any],
    *,
    where: tuple[str, int | None] = ("<row>", None),
    strings_only: bool = False,
) -> Label | list[Problem]:
    """Turn one raw row into a :class:`Label`, or return the problems that prevent it."""
    pair = _pair_from_row(row, where)
    path, line = where
    problems = [] if isinstance(pair, tuple) else pair
    raw = row.get("label")
    value: float | None = None
    if raw is None or (strings_only and isinstance(raw, str) and not raw.strip()):
        problems.append(Problem(path, line, "label", "missing label"))
    elif strings_only and isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            problems.append(Problem(path, line, "label", f"not a number: {raw[:40]!r}"))
    elif isinstance(raw, bool) or not isinstance(raw, (int, float)):
        problems.append(
            Problem(path, line, "label", f"must be a number, got {type(raw).__name__}")
        )
    else:
        try:
            value = float(raw)
        except OverflowError:  # an integer too large for a float
            value = math.inf
    if value is not None and not math.isfinite(value):
        problems.append(Problem(path, line, "label", f"not a finite number: {raw!r}"))
    if problems:
        return problems
    assert isinstance(pair, tuple) and value is not None
    return Label(resume_id=pair[0], job_id=pair[1], label=value)


def _pair_from_row(
    row: Mapping[str, Any], where: tuple[str, int | None]
) -> tuple[str, str] | list[Problem]:
    problems = []
    ids = []
    for key in ("resume_id", "job_id"):
        value = _as_id(row.get(key))
        if value is None:
            problems.append(Problem(where[0], where[1], key, _id_problem(row.get(key), key)))
        ids.append(value)
    return problems if problems else (ids[0], ids[1])


def interaction_from_row(
    row: Mapping[str, Any], *, where: tuple[str, int | None] = ("<row>", None)
) -> Interaction | list[Problem]:
    """Turn one raw row into an :class:`Interaction`, or return its problems."""
    pair = _pair_from_row(row, where)
    if isinstance(pair, list):
        return pair
    return Interaction(resume_id=pair[0], job_id=pair[1])


# --------------------------------------------------------------------------- loaders


def _collect(
    source: Any,
    report: LoadReport,
    convert: Callable[[dict[str, Any], tuple[str, int], bool], T | list[Problem]],
    split: str | None = None,
    required: tuple[str, ...] = (),
) -> tuple[str, list[tuple[int, T]]]:
    """Read every row of ``source``, convert it, record problems; ``(name, [(line, item)])``."""
    name, fmt, rows = _rows(source, report, split)
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


def _read_documents(
    source: Any,
    kind: DocKind,
    report: LoadReport,
    *,
    id_column: str = "id",
    text_column: str | None = None,
    field_columns: list[str] | None = None,
    split: str | None = None,
) -> tuple[str, list[tuple[int, Document]]]:
    _check_kind(kind)
    def convert(row: dict[str, Any], where: tuple[str, int], strings: bool) -> Any:
        return document_from_row(
            _remap(row, id_column, text_column, field_columns),
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


def _read_labels(source: Any, report: LoadReport, split: str | None = None) -> tuple[str, list[tuple[int, Label]]]:
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


def _read_interactions(
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
    _check_on_error(on_error)
    report = LoadReport()
    name, items = _read_documents(
        source,
        kind,
        report,
        id_column=id_column,
        text_column=text_column,
        field_columns=field_columns,
        split=split,
    )
    _finish(report, on_error, name)
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
    if not _is_dataset(ds):
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


def load_labels(
    source: PathLike | Any, *, on_error: OnError = "raise", split: str | None = None
) -> Loaded[Label]:
    """Load ``{"resume_id", "job_id", "label"}`` rows (JSONL, CSV, datasets).

    The label must be a finite number: 1/0 for accepted/rejected or a graded relevance.
    A repeated ``(resume_id, job_id)`` pair is a problem (the first one is kept).
    """
    _check_on_error(on_error)
    report = LoadReport()
    name, items = _read_labels(source, report, split)
    _finish(report, on_error, name)
    return Loaded((x for _, x in items), report)


def load_interactions(
    source: PathLike | Any, *, on_error: OnError = "raise", split: str | None = None
) -> Loaded[Interaction]:
    """Load ``{"resume_id", "job_id"}`` rows (JSONL, CSV, datasets); repeats are allowed."""
    _check_on_error(on_error)
    report = LoadReport()
    name, items = _read_interactions(source, report, split)
    _finish(report, on_error, name)
    return Loaded((x for _, x in items), report)


# --------------------------------------------------------------------------- cross-checks


def _check_pairs(
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
    if isinstance(source, (str, os.PathLike)) or _is_dataset(source):
        return _read_documents(source, kind, report)
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
    if isinstance(source, (str, os.PathLike)) or _is_dataset(source):
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
    _check_on_error(on_error)
    report = LoadReport()
    rname, rdocs = _as_docs(resumes, "resume", report)
    jname, jdocs = _as_docs(jobs, "job", report)
    res = {d.id: d for _, d in rdocs}
    job = {d.id: d for _, d in jdocs}
    lname, labs = _as_items(labels, _read_labels, report, "labels")
    labs = _check_pairs(lname, labs, res, job, report)
    iname, inter = _as_items(interactions, _read_interactions, report, "interactions")
    inter = _check_pairs(iname, inter, res, job, report)
    _finish(report, on_error, f"corpus ({rname}, {jname})")
    return Corpus(
        resumes=res,
        jobs=job,
        labels=[x for _, x in labs],
        interactions=[x for _, x in inter],
        source=f"{rname} + {jname}",
        report=report,
    )


# --------------------------------------------------------------------------- benchmark


def _read_json(path: Path, report: LoadReport) -> Any:
    src = str(path)
    report.rows[src] = report.rows.get(src, 0) + 1
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        report.add(src, raw.count(b"\n", 0, e.start) + 1, None, _utf8_problem(raw, e))
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        report.add(src, e.lineno, None, f"malformed JSON: {e.msg} (column {e.colno})")
        return None
    report.loaded[src] = report.loaded.get(src, 0) + 1
    return value


def _check_splits(
    path: str,
    value: Any,
    ids: Mapping[str, Mapping[str, Any]],
    report: LoadReport,
) -> dict[str, dict[str, list[str]]]:
    """Validate ``{"resumes": {split: [ids]}, "jobs": {...}}``: known ids, one split each."""
    if not isinstance(value, dict):
        report.add(path, None, None, 'expected {"resumes": {split: [ids]}, "jobs": {...}}')
        return {}
    out: dict[str, dict[str, list[str]]] = {}
    for key in ("resumes", "jobs"):
        per = value.get(key)
        if not isinstance(per, dict):
            report.add(path, None, key, "missing, or not an object of split -> list of ids")
            continue
        seen: dict[str, str] = {}
        out[key] = {}
        for split, members in per.items():
            if not isinstance(members, list):
                report.add(path, None, f"{key}.{split}", "expected a list of ids")
                continue
            good = []
            for i, ref in enumerate(members):
                where = f"{key}.{split}[{i}]"
                if not isinstance(ref, str) or ref not in ids[key]:
                    report.add(path, None, where, f"unknown {key[:-1]} id {ref!r}")
                elif ref in seen:
                    report.add(path, None, where, f"{ref!r} is also in split {seen[ref]!r}")
                else:
                    seen[ref] = split
                    good.append(ref)
            out[key][split] = good
        missing = [i for i in ids[key] if i not in seen]
        if missing:
            report.add(
                path,
                None,
                key,
                f"{len(missing)} {key} in no split, e.g. {', '.join(map(repr, missing[:3]))}",
            )
    return out


def _check_qrels(
    path: str,
    task: str,
    value: Any,
    resumes: Mapping[str, Any],
    jobs: Mapping[str, Any],
    splits: Mapping[str, Mapping[str, list[str]]],
    report: LoadReport,
) -> Qrels:
    """Validate ``{query_id: {doc_id: grade}}`` for a ``<split>_rank_<resume|job>`` task."""
    split, _, target = task.partition("_rank_")
    if target not in ("resume", "job"):
        report.add(path, None, None, "qrels file name must be <split>_rank_resume|job.json")
        return {}
    if not isinstance(value, dict):
        report.add(path, None, None, "expected {query_id: {doc_id: grade}}")
        return {}
    # rank_resume: job queries over resumes; rank_job: resume queries over jobs.
    qkey, dkey = ("jobs", "resumes") if target == "resume" else ("resumes", "jobs")
    known = {"resumes": resumes, "jobs": jobs}
    in_split = {k: set(splits.get(k, {}).get(split, ())) for k in ("resumes", "jobs")} if splits else {}
    out: Qrels = {}
    for qid, docs in value.items():
        where = str(qid)
        if qid not in known[qkey]:
            report.add(path, None, where, f"unknown {qkey[:-1]} id {qid!r}")
            continue
        if in_split and qid not in in_split[qkey]:
            report.add(path, None, where, f"query {qid!r} is not in split {split!r}")
            continue
        if not isinstance(docs, dict):
            report.add(path, None, where, "expected {doc_id: grade}")
            continue
        graded: dict[str, int] = {}
        for did, grade in docs.items():
            fwhere = f"{qid}.{did}"
            if did not in known[dkey]:
                report.add(path, None, fwhere, f"unknown {dkey[:-1]} id {did!r}")
            elif isinstance(grade, bool) or not isinstance(grade, int) or grade < 0:
                report.add(path, None, fwhere, f"grade must be a non-negative integer, got {grade!r}")
            elif in_split and did not in in_split[dkey]:
                report.add(path, None, fwhere, f"{did!r} is not in split {split!r}")
            else:
                graded[did] = grade
        out[qid] = graded
    return out


def load_benchmark(root: PathLike, *, on_error: OnError = "raise") -> Corpus:
    """Load a directory in the benchmark layout (``../shared/data/benchmark/v1``).

    Required: ``resumes.jsonl``, ``jobs.jsonl``. Optional: ``splits.json``, ``labels/<split>.jsonl``
    (or a flat ``labels.jsonl``), ``qrels/<split>_rank_<resume|job>.json``,
    ``interactions.jsonl``. ``corpus.labels`` are the train labels (all labels when there
    is no ``train`` file), ``corpus.label_splits`` holds every labels file by split, and
    ``corpus.qrels`` is keyed by the qrels file stem (``"test_rank_resume"``...).
    Everything is cross-checked: ids in splits, labels and qrels must exist, split labels
    and qrels must stay inside their split, and every document must be in one split.
    """
    _check_on_error(on_error)
    base = Path(root)
    report = LoadReport()
    if not base.is_dir():
        raise DataError(Problem(str(base), None, None, "not a directory"))
    missing = [n for n in ("resumes.jsonl", "jobs.jsonl") if not (base / n).is_file()]
    if missing:
        raise DataError(Problem(str(base), None, None, f"missing {', '.join(missing)}"))

    _, rdocs = _read_documents(base / "resumes.jsonl", "resume", report)
    _, jdocs = _read_documents(base / "jobs.jsonl", "job", report)
    resumes = {d.id: d for _, d in rdocs}
    jobs = {d.id: d for _, d in jdocs}

    splits: dict[str, dict[str, list[str]]] = {}
    if (base / "splits.json").is_file():
        value = _read_json(base / "splits.json", report)
        if value is not None:
            ids = {"resumes": resumes, "jobs": jobs}
            splits = _check_splits(str(base / "splits.json"), value, ids, report)

    label_splits: dict[str, list[Label]] = {}
    flat_labels: list[Label] = []
    if (base / "labels").is_dir():
        for path in sorted((base / "labels").glob("*.jsonl")):
            name, labs = _read_labels(path, report)
            split = path.stem if path.stem in splits.get("resumes", {}) else None
            labs = _check_pairs(name, labs, resumes, jobs, report, split, splits)
            label_splits[path.stem] = [x for _, x in labs]
    elif (base / "labels.jsonl").is_file():
        name, labs = _read_labels(base / "labels.jsonl", report)
        flat_labels = [x for _, x in _check_pairs(name, labs, resumes, jobs, report)]

    qrels: dict[str, Qrels] = {}
    if (base / "qrels").is_dir():
        for path in sorted((base / "qrels").glob("*.json")):
            value = _read_json(path, report)
            if value is not None:
                qrels[path.stem] = _check_qrels(
                    str(path), path.stem, value, resumes, jobs, splits, report
                )

    interactions: list[Interaction] = []
    if (base / "interactions.jsonl").is_file():
        name, inter = _read_interactions(base / "interactions.jsonl", report)
        interactions = [x for _, x in _check_pairs(name, inter, resumes, jobs, report)]

    _finish(report, on_error, str(base))
    if label_splits:
        labels = label_splits.get("train") or [x for v in label_splits.values() for x in v]
    else:
        labels = flat_labels
    return Corpus(
        resumes=resumes,
        jobs=jobs,
        labels=list(labels),
        interactions=interactions,
        splits=splits,
        qrels=qrels,
        label_splits=label_splits,
        source=str(base),
        report=report,
    )


DEMO_FILES = ("resumes.jsonl", "jobs.jsonl", "labels.jsonl", "interactions.jsonl")


def demo_dir() -> Path:
    """The folder of the packaged demo corpus (a real path in a normal install)."""
    return Path(str(resources.files("agentic_match.data") / "demo"))


def load_demo() -> Corpus:
    """The packaged synthetic demo corpus (made up; see ``data/demo/README.md``).

    Besides documents, labels and interactions it derives what the demo files encode in
    metadata (never rendered): ``splits`` from ``metadata.split``, ``label_splits`` by the
    split of each labelled pair, and graded ``qrels`` (``"<split>_rank_resume"`` /
    ``"<split>_rank_job"``: 2 same family, 1 related family) for ``dev`` and ``test``.
    """
    from agentic_match.data.demo_build import RELATED_FAMILIES

    base = resources.files("agentic_match.data") / "demo"
    with ExitStack() as stack:
        paths = [stack.enter_context(resources.as_file(base / n)) for n in DEMO_FILES]
        corpus = load_corpus(*paths)
    corpus.source = "agentic_match demo corpus (synthetic)"

    def split_of(doc: Document) -> str:
        return str(doc.metadata.get("split", "train"))

    for key, docs in (("resumes", corpus.resumes), ("jobs", corpus.jobs)):
        per: dict[str, list[str]] = {}
        for doc in docs.values():
            per.setdefault(split_of(doc), []).append(doc.id)
        corpus.splits[key] = per
    for lab in corpus.labels:
        s = split_of(corpus.resumes[lab.resume_id])
        corpus.label_splits.setdefault(s, []).append(lab)

    def grade(resume: Document, job: Document) -> int:
        rf, jf = resume.metadata.get("family"), job.metadata.get("family")
        if rf == jf:
            return 2
        return 1 if frozenset((rf, jf)) in RELATED_FAMILIES else 0

    for split in ("dev", "test"):
        res = [corpus.resumes[i] for i in corpus.splits["resumes"].get(split, [])]
        jbs = [corpus.jobs[i] for i in corpus.splits["jobs"].get(split, [])]
        by_job = {j.id: {r.id: g for r in res if (g := grade(r, j))} for j in jbs}
        by_res = {r.id: {j.id: g for j in jbs if (g := grade(r, j))} for r in res}
        corpus.qrels[f"{split}_rank_resume"] = {q: d for q, d in by_job.items() if d}
        corpus.qrels[f"{split}_rank_job"] = {q: d for q, d in by_res.items() if d}
    return corpus


# --------------------------------------------------------------------------- writers


def _atomic_write_lines(path: PathLike, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write JSON Lines through a temp file + ``os.replace``: readers never see half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would have.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False, allow_nan=False))
                f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def document_to_row(doc: Document) -> dict[str, Any]:
    """The JSONL row of a document (empty parts left out); the inverse of the loader."""
    row: dict[str, Any] = {"id": doc.id}
    if doc.fields:
        row["fields"] = dict(doc.fields)
    if doc.text is not None:
        row["text"] = doc.text
    if doc.metadata:
        row["metadata"] = dict(doc.metadata)
    return row


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def write_documents(path: PathLike, docs: Iterable[Document]) -> Path:
    """Write documents as JSON Lines, atomically; returns the path written."""
    return _atomic_write_lines(path, (document_to_row(d) for d in docs))


def write_labels(path: PathLike, labels: Iterable[Label]) -> Path:
    """Write labels as JSON Lines (integral labels as integers), atomically."""
    return _atomic_write_lines(
        path,
        ({"resume_id": x.resume_id, "job_id": x.job_id, "label": _number(x.label)} for x in labels),
    )


def write_interactions(path: PathLike, interactions: Iterable[Interaction]) -> Path:
    """Write interactions as JSON Lines, atomically."""
    return _atomic_write_lines(
        path, ({"resume_id": x.resume_id, "job_id": x.job_id} for x in interactions)
    )
