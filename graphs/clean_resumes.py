"""Graph ``clean_resumes``: every resume turned into structured fields (CV clean-up).

::

    START -> prepare --Send(batch)--> clean_batch (parallel) -> write -> END

See :mod:`agentic_match.augment.clean` for the record and the output document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from agentic_match.augment.clean import CleanConfig, clean_resume
from agentic_match.augment.esco import EscoStandardizer, standardize_documents
from agentic_match.augment.generation import ChatModel, GenerationPolicy
from agentic_match.data.render import RenderConfig
from agentic_match.data.schema import Document
from agentic_match.files import digest
from graphs.batching import (
    DEFAULT_RETRY,
    BatchTask,
    check_fingerprint,
    check_unique_ids,
    doc_of,
    merge_dicts,
    plan_sends,
    rows_of,
    write_outputs,
)


class CleanState(TypedDict, total=False):
    """State of ``clean_resumes``.

    Attributes:
        docs: Resume rows.
        batch_size: Resumes per parallel task.
        output_path: Where ``write`` puts the cleaned resumes (``None``: not written).
        fingerprint: Hash of the input and settings.
        results: ``{id: cleaned row}``.
        failures: ``{id: problem}``.
        written: The path written.
    """

    docs: list[dict]
    batch_size: int
    output_path: str | None
    fingerprint: str
    results: Annotated[dict[str, dict], merge_dicts]
    failures: Annotated[dict[str, str], merge_dicts]
    written: str


def inputs_for(resumes: Sequence[Document], *, output_path: str | None = None, batch_size: int = 4) -> CleanState:
    """The input state of a run."""
    return CleanState(docs=rows_of(list(resumes)), batch_size=batch_size, output_path=output_path)


def build_graph(
    llm: ChatModel,
    config: CleanConfig = CleanConfig(),
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    render_config: RenderConfig = RenderConfig(),
    retry: RetryPolicy = DEFAULT_RETRY,
    esco: EscoStandardizer | None = None,
    checkpointer: Any = None,
):
    """The compiled ``clean_resumes`` graph over the injected client and settings.

    With ``esco``, each cleaned resume's current title is also mapped to its nearest ESCO
    occupation and that occupation's skills (``metadata["esco"]``).
    """
    settings_key = digest(config.__dict__, policy.__dict__, render_config.fingerprint(), esco is not None)

    def prepare(state: CleanState) -> dict:
        check_unique_ids(state["docs"], "clean_resumes input")
        fp = digest(state["docs"], settings_key)
        check_fingerprint(state, fp)
        get_stream_writer()(
            {"event": "start", "documents": len(state["docs"]), "done": len(state.get("results") or {})}
        )
        return {"fingerprint": fp}

    def clean_batch(task: BatchTask) -> dict:
        writer = get_stream_writer()
        cleaned, failures = [], {}
        for row in task["batch"]:
            resume = doc_of(row, "resume")
            out, outcome = clean_resume(llm, resume, config, policy=policy, render_config=render_config)
            if outcome.ok:
                cleaned.append(out)
            else:
                failures[resume.id] = outcome.problem or "failed"
            writer(
                {
                    "event": "document",
                    "id": resume.id,
                    "ok": outcome.ok,
                    "problem": outcome.problem,
                    "attempts": outcome.attempts,
                }
            )
        if esco is not None and cleaned:
            cleaned = standardize_documents(esco, cleaned)
        results = {d.id: row for d, row in zip(cleaned, rows_of(cleaned))}
        writer({"event": "batch", "index": task["index"], "batches": task["batches"]})
        return {"results": results, "failures": failures}

    graph = StateGraph(CleanState)
    graph.add_node("prepare", prepare)
    graph.add_node("clean_batch", clean_batch, retry_policy=retry)
    graph.add_node("write", lambda s: write_outputs(s, "resume", "clean_failed"))
    graph.add_edge(START, "prepare")
    graph.add_conditional_edges("prepare", lambda s: plan_sends(s, "clean_batch", "write"), ["clean_batch", "write"])
    graph.add_edge("clean_batch", "write")
    graph.add_edge("write", END)
    return graph.compile(checkpointer=checkpointer, name="clean_resumes")


def make_graph(config: dict | None = None):
    """Factory for ``langgraph.json``: a client from the settings."""
    from graphs.runtime import settings_client

    return build_graph(settings_client())
