"""Writing documents, labels and interactions as JSON Lines, atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from agentic_match.data.report import PathLike
from agentic_match.data.schema import Document, Interaction, Label


def atomic_write_lines(path: PathLike, rows: Iterable[Mapping[str, Any]]) -> Path:
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
