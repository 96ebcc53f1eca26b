"""Graph ``augment_jobs``: HyRe for every job (or, reversed, a hypothetical job per resume).

::

    START -> prepare --Send(batch)--> hyre_batch (parallel) -> write -> END

Example::

    from graphs.augment_jobs import build_graph, inputs_for
    from graphs.batching import open_checkpointer, run_graph

    graph = build_graph(llm, HyReConfig(), checkpointer=open_checkpointer("runs/graphs.sqlite"))
    final = run_graph(graph, inputs_for(jobs, examples, output_path="data/jobs.hyre.jsonl"), "run-1")

Each document's generation is checked and retried (:mod:`agentic_match.augment.generation`);
a document that still fails keeps its original text and is listed in ``failures``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from agentic_match.augment.generation import ChatModel, GenerationPolicy, bind_model
from agentic_match.augment.hyre import HyReConfig, hyre_document
from agentic_match.data.render import RenderConfig
from agentic_match.data.schema import DocKind, Document
from agentic_match.errors import DataError
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


class AugmentState(TypedDict, total=False):
    """State of ``augment_jobs``.

    Attributes:
        docs: Input document rows (``document_to_row``), jobs or (reverse) resumes.
        kind: ``"job"`` (a hypothetical resume per job) or ``"resume"`` (a hypothetical job).
        examples: Few-shot accepted pairs as ``[job_row, resume_row]``.
        batch_size: Documents per parallel task.
        output_path: Where ``write`` puts the augmented documents (``None``: not written).
        fingerprint: Hash of the input and settings (a reused run id is detected).
        results: ``{id: augmented row}`` (merged across batches).
        failures: ``{id: problem}`` of documents whose generation failed every attempt.
        written: The path written.
    """

    docs: list[dict]
    kind: DocKind
    examples: list[list[dict]]
    batch_size: int
    output_path: str | None
    fingerprint: str
    results: Annotated[dict[str, dict], merge_dicts]
    failures: Annotated[dict[str, str], merge_dicts]
    written: str


class HyReTask(BatchTask):
    """One batch plus what HyRe needs for it (sent with ``Send``)."""

    examples: list[list[dict]]
    kind: DocKind


def inputs_for(
    docs: Sequence[Document],
    examples: Sequence[tuple[Document, Document]],
    *,
    output_path: str | None = None,
    batch_size: int = 4,
) -> AugmentState:
    """The input state of a run over ``docs`` (all jobs, or all resumes for the reverse)."""
    kinds = {d.kind for d in docs}
    if len(kinds) > 1:
        raise DataError("augment_jobs: the documents of one run must all be jobs or all resumes")
    return AugmentState(
        docs=rows_of(list(docs)),
        kind=next(iter(kinds), "job"),
        examples=[[*rows_of([j, r])] for j, r in examples],
        batch_size=batch_size,
        output_path=output_path,
    )


def build_graph(
    llm: ChatModel,
    config: HyReConfig = HyReConfig(),
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    render_config: RenderConfig = RenderConfig(),
    retry: RetryPolicy = DEFAULT_RETRY,
    adapter: str | None = None,
    checkpointer: Any = None,
):
    """The compiled ``augment_jobs`` graph over the injected client and settings.

    ``adapter`` names a LoRA adapter served beside the base model (``agentic-match serve
    --adapter NAME=PATH``): every generation of the run then uses it instead of the base.
    """
    settings_key = digest(config.__dict__, policy.__dict__, render_config.fingerprint())
    if adapter:
        # Another generator: a run id reused with another adapter is refused, not mixed.
        settings_key = digest(settings_key, adapter)
        llm = bind_model(llm, adapter)

    def prepare(state: AugmentState) -> dict:
        check_unique_ids(state["docs"], "augment_jobs input")
        if not state.get("examples"):
            raise DataError("augment_jobs needs at least one few-shot example pair (examples)")
        fp = digest(state["docs"], state["examples"], state.get("kind", "job"), settings_key)
        check_fingerprint(state, fp)
        get_stream_writer()(
            {"event": "start", "documents": len(state["docs"]), "done": len(state.get("results") or {})}
        )
        return {"fingerprint": fp}

    def hyre_batch(task: HyReTask) -> dict:
        writer = get_stream_writer()
        kind = task["kind"]
        pairs = [(doc_of(j, "job"), doc_of(r, "resume")) for j, r in task["examples"]]
        results, failures = {}, {}
        for row in task["batch"]:
            doc = doc_of(row, kind)
            out, outcome = hyre_document(llm, doc, pairs, config, policy=policy, render_config=render_config)
            if outcome.ok:
                results[doc.id] = rows_of([out])[0]
            else:
                failures[doc.id] = outcome.problem or "failed"
            writer(
                {
                    "event": "document",
                    "id": doc.id,
                    "ok": outcome.ok,
                    "problem": outcome.problem,
                    "attempts": outcome.attempts,
                }
            )
        writer({"event": "batch", "index": task["index"], "batches": task["batches"]})
        return {"results": results, "failures": failures}

    graph = StateGraph(AugmentState)
    graph.add_node("prepare", prepare)
    graph.add_node("hyre_batch", hyre_batch, retry_policy=retry)
    graph.add_node("write", lambda s: write_outputs(s, s.get("kind", "job"), "hyre_failed"))
    graph.add_edge(START, "prepare")
    graph.add_conditional_edges(
        "prepare",
        lambda s: plan_sends(s, "hyre_batch", "write", examples=s["examples"], kind=s.get("kind", "job")),
        ["hyre_batch", "write"],
    )
    graph.add_edge("hyre_batch", "write")
    graph.add_edge("write", END)
    return graph.compile(checkpointer=checkpointer, name="augment_jobs")


def make_graph(config: dict | None = None):
    """Factory for ``langgraph.json`` / the LangGraph server: a client from the settings.

    Uses ``llm.base_url`` when configured, else starts (or reuses) the managed vLLM server.
    The LangGraph server supplies its own checkpointer.
    """
    from graphs.runtime import settings_client

    return build_graph(settings_client())
