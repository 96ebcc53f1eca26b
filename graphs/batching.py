"""What the document-batch graphs share: state reducers, batch fan-out, checkpoints, running.

``augment_jobs``, ``complete_resumes`` and ``clean_resumes`` all have the same shape::

    START -> prepare --Send(batch)--> process (xN, in parallel) -> write -> END

``prepare`` checks the input and plans batches of the documents not yet done, ``process``
runs one batch through an ``agentic_match.augment`` function (one LLM call per document,
batches run concurrently), ``write`` writes the data-contract output files. With a
checkpointer keyed by run id (``thread_id``), a run that died (server killed, Ctrl-C) is
resumed by :func:`run_graph` with the same run id: finished batches are kept in the
checkpoint and never run again, and every answer the LLM gave is also in the generation
cache.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import RetryPolicy, Send

from agentic_match.data import document_from_row, document_to_row, write_documents
from agentic_match.data.schema import DocKind, Document
from agentic_match.errors import (
    AgenticMatchError,
    DataError,
    LLMUnavailableError,
    Problem,
)

DEFAULT_RETRY = RetryPolicy(max_attempts=3, initial_interval=2.0, backoff_factor=2.0, retry_on=LLMUnavailableError)
"""Node retry policy: only a server that could not answer is retried (bad input is not)."""


def merge_dicts(left: dict | None, right: dict | None) -> dict:
    """Reducer of ``results`` / ``failures``: parallel batches each add their documents."""
    return {**(left or {}), **(right or {})}


class BatchTask(TypedDict):
    """The input of one ``process`` task (sent with ``Send``)."""

    batch: list[dict]
    index: int
    batches: int


def rows_of(docs: list[Document] | list[dict]) -> list[dict]:
    """Documents as JSON rows (the form graph state holds, so checkpoints can store it)."""
    return [d if isinstance(d, dict) else document_to_row(d) for d in docs]


def doc_of(row: dict, kind: DocKind, where: str = "<state>") -> Document:
    """A document from a state row; bad rows raise a located :class:`DataError`."""
    doc = document_from_row(row, kind, where=(where, None))
    if isinstance(doc, list):
        raise DataError(doc)
    return doc


def check_fingerprint(state: dict, fingerprint: str) -> None:
    """Refuse to mix the results of two different inputs under one run id."""
    old = state.get("fingerprint")
    if old and old != fingerprint and state.get("results"):
        raise AgenticMatchError(
            "this run id was already used with other input (or other settings); "
            "use another --run-id, or the same input to resume it"
        )


def plan_sends(state: dict, node: str, done_node: str, **extra: Any) -> list[Send] | str:
    """``Send`` one task per batch of documents without a result or failure yet.

    ``extra`` is added to every task (what a batch needs besides its documents).
    """
    finished = set(state.get("results") or {}) | set(state.get("failures") or {})
    todo = [r for r in state["docs"] if str(r.get("id")) not in finished]
    size = max(1, int(state.get("batch_size") or 8))
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    if not batches:
        return done_node
    return [Send(node, {**BatchTask(batch=b, index=i, batches=len(batches)), **extra}) for i, b in enumerate(batches)]


def check_unique_ids(rows: list[dict], what: str) -> None:
    """Every input document needs a distinct id (results are keyed by it)."""
    seen: set[str] = set()
    problems = []
    for i, r in enumerate(rows, 1):
        rid = r.get("id")
        if rid is None or str(rid) in seen:
            problems.append(Problem(what, i, "id", "missing id" if rid is None else f"duplicate id {rid!r}"))
        seen.add(str(rid))
    if problems:
        raise DataError(problems)


def write_outputs(state: dict, kind: DocKind, failure_note: str) -> dict:
    """Write ``output_path`` (every input document, in input order) and its failures file.

    A document whose generation failed is written unchanged (its text is never replaced),
    with ``metadata[failure_note]`` saying why; failures are also listed one per line in
    ``<output>.failures.jsonl`` (removed when there are none).
    """
    out = state.get("output_path")
    results, failures = state.get("results") or {}, state.get("failures") or {}
    if not out:
        return {}
    docs = []
    for row in state["docs"]:
        rid = str(row["id"])
        if rid in results:
            docs.append(doc_of(results[rid], kind))
        else:
            d = doc_of(row, kind)
            meta = {**d.metadata, failure_note: failures.get(rid, "not processed")}
            docs.append(Document(d.id, d.kind, d.fields, d.text, meta))
    path = write_documents(out, docs)
    fail_path = failures_path(path)
    if failures:
        from agentic_match.files import atomic_write_lines

        atomic_write_lines(fail_path, ({"id": k, "problem": v} for k, v in sorted(failures.items())))
    else:
        fail_path.unlink(missing_ok=True)
    return {"written": str(path)}


def failures_path(output: str | Path) -> Path:
    """``jobs.hyre.jsonl`` -> ``jobs.hyre.failures.jsonl``."""
    p = Path(output)
    return p.with_name(p.name.removesuffix(".jsonl") + ".failures.jsonl")


def output_path_for(input_path: str | Path, tag: str) -> Path:
    """The output next to the input: ``data/jobs.jsonl`` + ``hyre`` -> ``data/jobs.hyre.jsonl``."""
    p = Path(input_path)
    stem = p.name
    for suffix in (".jsonl", ".ndjson", ".csv", ".tsv"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    out = p.with_name(f"{stem}.{tag}.jsonl")
    if out.resolve() == p.resolve():
        raise AgenticMatchError(f"refusing to write {out} over its input")
    return out


# --------------------------------------------------------------------------- checkpoints


def open_checkpointer(path: str | Path) -> SqliteSaver:
    """A SQLite checkpointer in ``path`` (created with its folder); one file holds many runs."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(p), check_same_thread=False, timeout=60)
    return SqliteSaver(conn)


@contextmanager
def checkpointer_at(path: str | Path) -> Iterator[SqliteSaver]:
    """:func:`open_checkpointer` as a context manager that closes its connection."""
    saver = open_checkpointer(path)
    try:
        yield saver
    finally:
        saver.conn.close()


def run_graph(
    graph: Any,
    inputs: dict,
    run_id: str,
    *,
    on_event: Callable[[str, Any], None] | None = None,
    max_concurrency: int | None = None,
) -> dict:
    """Run (or resume) ``graph`` for ``run_id`` and return its final state.

    When the checkpoint of ``run_id`` stopped in the middle (a node failed or the process
    died), the run resumes from there and ``inputs`` is not applied again; otherwise the
    graph starts with ``inputs`` (documents already done in an earlier run of the same id
    are skipped). ``on_event(mode, payload)`` receives the ``updates`` and ``custom``
    stream parts as they come (progress).
    """
    config: dict[str, Any] = {"configurable": {"thread_id": run_id}}
    if max_concurrency:
        config["max_concurrency"] = max_concurrency
    payload: dict | None = inputs
    if getattr(graph, "checkpointer", None):
        snap = graph.get_state(config)
        if snap.next:  # stopped mid-run: resume from the checkpoint
            changed = sorted(k for k, v in inputs.items() if k in snap.values and snap.values[k] != v)
            if changed:
                raise AgenticMatchError(
                    f"run {run_id!r} stopped part-way with other input ({', '.join(changed)} differ); "
                    "rerun it with the same input to resume it, or use another --run-id"
                )
            payload = None
    final: dict = {}
    # "sync": a finished batch is on disk before the next step, so a killed process loses none.
    for mode, part in graph.stream(payload, config, stream_mode=["updates", "custom", "values"], durability="sync"):
        if mode == "values":
            final = dict(part)
        elif on_event is not None:
            on_event(mode, part)
    return final
