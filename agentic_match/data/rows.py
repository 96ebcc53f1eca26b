"""Turning one raw row into a document, label or interaction, or into the problems that prevent it.

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

import math
from collections.abc import Mapping
from typing import Any

from agentic_match.data.report import MAX_DOC_CHARS
from agentic_match.data.schema import DocKind, Document, Interaction, Label
from agentic_match.errors import Problem

_DOC_KEYS = frozenset({"id", "kind", "text", "fields", "metadata"})


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


def remap(
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
        problems.append(Problem(path, line, "label", f"must be a number, got {type(raw).__name__}"))
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


def _pair_from_row(row: Mapping[str, Any], where: tuple[str, int | None]) -> tuple[str, str] | list[Problem]:
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
