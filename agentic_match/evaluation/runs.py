"""Run files: ``{query_id: {doc_id: score}}`` as JSON, gzipped when the name ends in ``.gz``.

A run keeps each query's top documents (100 by default), so runs of different systems can be
re-scored, compared and fused later without re-running the systems.
"""

from __future__ import annotations

import gzip
import heapq
import json
from pathlib import Path

from agentic_match.errors import DataError
from agentic_match.files import atomic_write_bytes
from agentic_match.types import Run

RUN_TOP_K = 100


def top_k(run: Run, k: int = RUN_TOP_K) -> Run:
    """Each query's ``k`` best documents, best first (ties broken by doc id for determinism)."""
    out: Run = {}
    for qid, docs in run.items():
        best = heapq.nsmallest(k, docs.items(), key=lambda kv: (-kv[1], kv[0]))
        out[str(qid)] = {str(d): float(s) for d, s in best}
    return out


def write_run(path: str | Path, run: Run, k: int = RUN_TOP_K) -> Path:
    """Write the top ``k`` of ``run`` to ``path`` atomically (gzip when it ends in ``.gz``)."""
    path = Path(path)
    data = json.dumps(top_k(run, k), separators=(",", ":")).encode("utf-8")
    if path.name.endswith(".gz"):
        # mtime=0 keeps the bytes reproducible for the same run.
        data = gzip.compress(data, mtime=0)
    atomic_write_bytes(path, data)
    return path


def read_run(path: str | Path) -> Run:
    """Read a run file written by :func:`write_run` (or any ``{qid: {docid: score}}`` JSON).

    Raises:
        DataError: missing file, invalid JSON/gzip, or a shape other than the run format.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        data = json.loads(raw)
    except FileNotFoundError:
        raise DataError(f"run file not found: {path}") from None
    except (OSError, EOFError, gzip.BadGzipFile, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: unreadable run file ({e})") from e
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise DataError(f"{path}: a run file must map query ids to {{doc_id: score}} objects")
    try:
        return {str(q): {str(d): float(s) for d, s in docs.items()} for q, docs in data.items()}
    except (TypeError, ValueError) as e:
        raise DataError(f"{path}: non-numeric score ({e})") from e


__all__ = ["RUN_TOP_K", "Run", "atomic_write_bytes", "read_run", "top_k", "write_run"]
