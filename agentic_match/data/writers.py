"""Writing documents, labels and interactions as JSON Lines, atomically."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentic_match.data.report import PathLike
from agentic_match.data.schema import Document, Interaction, Label
from agentic_match.files import atomic_write_lines


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
    return atomic_write_lines(path, (document_to_row(d) for d in docs))


def write_labels(path: PathLike, labels: Iterable[Label]) -> Path:
    """Write labels as JSON Lines (integral labels as integers), atomically."""
    return atomic_write_lines(
        path,
        ({"resume_id": x.resume_id, "job_id": x.job_id, "label": _number(x.label)} for x in labels),
    )


def write_interactions(path: PathLike, interactions: Iterable[Interaction]) -> Path:
    """Write interactions as JSON Lines, atomically."""
    return atomic_write_lines(path, ({"resume_id": x.resume_id, "job_id": x.job_id} for x in interactions))
