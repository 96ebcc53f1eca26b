"""Raw rows from JSON Lines, CSV and Hugging Face ``datasets`` (and whole JSON files).

Sources: JSON Lines (``.jsonl`` / ``.ndjson``), CSV (``.csv``, ``.tsv``), a Hugging Face
``datasets.Dataset`` object or a folder written by ``Dataset.save_to_disk``. Rows come as
``(line, row)``; a line that cannot be read (too long, not UTF-8, malformed) is recorded on
the :class:`~agentic_match.data.report.LoadReport` instead, and every row read is counted there.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentic_match.data.report import MAX_LINE_BYTES, LoadReport
from agentic_match.errors import DataError, Problem

JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv", ".tsv")


def is_dataset(obj: object) -> bool:
    """A ``datasets`` Dataset or DatasetDict, recognised without importing ``datasets``."""
    # Importing `datasets` takes seconds; only pay for it when one is actually used.
    return type(obj).__module__.split(".")[0] == "datasets"


def _skip_rest_of_line(f: Any, chunk: bytes) -> None:
    # Drain an over-long line in bounded reads so a 1 GB line never sits in memory.
    while chunk and not chunk.endswith(b"\n"):
        chunk = f.readline(1 << 20)


def _utf8_problem(raw: bytes, err: UnicodeDecodeError) -> str:
    return f"not valid UTF-8: byte 0x{raw[err.start]:02x} at column {err.start + 1}"


def _physical_lines(path: Path, max_bytes: int) -> Iterator[tuple[int, bytes | None, str | None]]:
    """Yield ``(line_no, raw_bytes, None)`` or ``(line_no, None, problem)`` per physical line."""
    with open(path, "rb") as f:
        line_no = 0
        while True:
            raw = f.readline(max_bytes + 1)
            if not raw:
                return
            line_no += 1
            if len(raw) > max_bytes:
                _skip_rest_of_line(f, raw)
                yield line_no, None, f"line longer than {max_bytes:,} bytes"
                continue
            if line_no == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            yield line_no, raw, None


def _jsonl_rows(path: Path, report: LoadReport, max_line_bytes: int) -> Iterator[tuple[int, dict[str, Any]]]:
    src = str(path)
    for line_no, raw, problem in _physical_lines(path, max_line_bytes):
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


def _csv_rows(path: Path, report: LoadReport, max_line_bytes: int) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV/TSV file keyed by header; a record's line is where it starts."""
    src = str(path)
    bad_lines: dict[int, str] = {}

    def decoded() -> Iterator[str]:
        # Decode per physical line so a bad byte is reported with its line, and the csv
        # module still sees quoted newlines (binary readline keeps "\r\n" like newline="").
        for line_no, raw, problem in _physical_lines(path, max_line_bytes):
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
    csv.field_size_limit(max(old_limit, max_line_bytes))
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
        while True:
            # One bad record (a stray \r in an unquoted cell, a field over the size limit) is
            # one counted, reported row: the reader resumes at the next record.
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                report.rows[src] = report.rows.get(src, 0) + 1
                report.add(src, reader.line_num, None, f"malformed CSV record: {e}")
                prev = reader.line_num
                continue
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
                report.add(src, start, None, f"expected {len(header)} columns, found {len(rec)}")
                continue
            yield start, dict(zip(header, rec, strict=True))
    finally:
        csv.field_size_limit(old_limit)


def _open_dataset(source: Any, split: str | None, name: str) -> Any:
    """A ``datasets.Dataset`` from an object or a ``save_to_disk`` folder (picking a split)."""
    if not is_dataset(source):
        import datasets

        try:
            source = datasets.load_from_disk(str(source))
        except Exception as e:  # noqa: BLE001 - datasets raises many unrelated types here
            raise DataError(Problem(name, None, None, f"cannot read as a Hugging Face datasets folder: {e}")) from None
    if isinstance(source, dict):  # a DatasetDict
        splits = list(source.keys())
        if split is None and len(splits) == 1:
            split = splits[0]
        if split not in source:
            raise DataError(Problem(name, None, None, f"choose a split with split=...; found {splits}"))
        source = source[split]
    return source


def _dataset_rows(ds: Any, report: LoadReport, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for i, row in enumerate(ds, 1):
        report.rows[name] = report.rows.get(name, 0) + 1
        yield i, dict(row)


def raw_rows(
    source: Any, report: LoadReport, split: str | None = None, *, max_line_bytes: int | None = None
) -> tuple[str, str, Iterator[tuple[int, dict[str, Any]]]]:
    """``(name, format, rows)`` for a path or dataset; raises DataError if unreadable.

    ``format`` is ``"jsonl"``, ``"csv"`` (every cell a string) or ``"dataset"``.
    ``max_line_bytes`` defaults to :data:`~agentic_match.data.report.MAX_LINE_BYTES`.
    """
    if max_line_bytes is None:
        max_line_bytes = MAX_LINE_BYTES
    if is_dataset(source):
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
        return name, "jsonl", _jsonl_rows(path, report, max_line_bytes)
    if suffix in CSV_SUFFIXES:
        return name, "csv", _csv_rows(path, report, max_line_bytes)
    raise DataError(
        Problem(
            name,
            None,
            None,
            f"unsupported format {suffix or '(no suffix)'!r}: use JSON Lines (.jsonl), "
            "CSV (.csv/.tsv) or a Hugging Face datasets folder",
        )
    )


def read_json(path: Path, report: LoadReport) -> Any:
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
