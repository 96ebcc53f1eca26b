"""Graph ``complete_resumes``: LGIR SRC or IRC completion of every resume.

::

    START -> prepare --Send(batch)--> complete_batch (parallel) -> write -> END

The inferred content goes to a separate ``inferred`` field and ``metadata["inferred"]``
(:mod:`agentic_match.augment.completion`); each completion's skills are checked for support
in the resume and the interacted jobs, and the per-document reports are kept in
``fabrication`` (summarise them with ``compare_fabrication``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from agentic_match.augment.completion import (
    CompletionConfig,
    complete_resume,
    fabrication_report,
)
from agentic_match.augment.generation import ChatModel, GenerationPolicy, bind_model
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


class CompleteState(TypedDict, total=False):
    """State of ``complete_resumes``.

    Attributes:
        docs: Resume rows.
        interacted: ``{resume_id: [job row, ...]}`` - the jobs each user interacted with
            (used by IRC, and by the fabrication check of both methods).
        batch_size: Resumes per parallel task.
        output_path: Where ``write`` puts the completed resumes (``None``: not written).
        fingerprint: Hash of the input and settings.
        results: ``{id: completed row}``.
        failures: ``{id: problem}``.
        fabrication: ``{id: {"method", "supported", "unsupported"}}``.
        written: The path written.
    """

    docs: list[dict]
    interacted: dict[str, list[dict]]
    batch_size: int
    output_path: str | None
    fingerprint: str
    results: Annotated[dict[str, dict], merge_dicts]
    failures: Annotated[dict[str, str], merge_dicts]
    fabrication: Annotated[dict[str, dict], merge_dicts]
    written: str


class CompleteTask(BatchTask):
    """One batch of resumes plus their interacted jobs."""

    interacted: dict[str, list[dict]]


def inputs_for(
    resumes: Sequence[Document],
    interacted: Mapping[str, Sequence[Document]] | None = None,
    *,
    output_path: str | None = None,
    batch_size: int = 4,
) -> CompleteState:
    """The input state of a run (``interacted`` from ``completion.interacted_jobs``)."""
    inter = {rid: rows_of(list(js)) for rid, js in (interacted or {}).items() if any(r.id == rid for r in resumes)}
    return CompleteState(docs=rows_of(list(resumes)), interacted=inter, batch_size=batch_size, output_path=output_path)


def build_graph(
    llm: ChatModel,
    config: CompletionConfig = CompletionConfig(),
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    render_config: RenderConfig = RenderConfig(),
    retry: RetryPolicy = DEFAULT_RETRY,
    adapter: str | None = None,
    checkpointer: Any = None,
):
    """The compiled ``complete_resumes`` graph over the injected client and settings.

    ``adapter`` names a LoRA adapter served beside the base model (``agentic-match serve
    --adapter NAME=PATH``): every generation of the run then uses it instead of the base.
    """
    settings_key = digest(config.__dict__, policy.__dict__, render_config.fingerprint())
    if adapter:
        # Another generator: a run id reused with another adapter is refused, not mixed.
        settings_key = digest(settings_key, adapter)
        llm = bind_model(llm, adapter)

    def prepare(state: CompleteState) -> dict:
        check_unique_ids(state["docs"], "complete_resumes input")
        fp = digest(state["docs"], state.get("interacted") or {}, settings_key)
        check_fingerprint(state, fp)
        get_stream_writer()(
            {"event": "start", "documents": len(state["docs"]), "done": len(state.get("results") or {})}
        )
        return {"fingerprint": fp}

    def complete_batch(task: CompleteTask) -> dict:
        writer = get_stream_writer()
        results, failures, fabrication = {}, {}, {}
        for row in task["batch"]:
            resume = doc_of(row, "resume")
            jobs = [doc_of(j, "job") for j in task["interacted"].get(resume.id, [])]
            out, outcome = complete_resume(llm, resume, jobs, config, policy=policy, render_config=render_config)
            if outcome.ok and outcome.value is not None:
                results[resume.id] = rows_of([out])[0]
                rep = fabrication_report(resume, outcome.value.skills, jobs[: config.max_jobs], config.method)
                fabrication[resume.id] = {
                    "method": rep.method,
                    "supported": rep.supported,
                    "unsupported": rep.unsupported,
                }
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
        writer({"event": "batch", "index": task["index"], "batches": task["batches"]})
        return {"results": results, "failures": failures, "fabrication": fabrication}

    def sends(state: CompleteState) -> Any:
        # Only the interactions of the batch's own resumes travel with it.
        out = plan_sends(state, "complete_batch", "write")
        if isinstance(out, str):
            return out
        inter = state.get("interacted") or {}
        for s in out:
            s.arg["interacted"] = {str(r["id"]): inter.get(str(r["id"]), []) for r in s.arg["batch"]}
        return out

    graph = StateGraph(CompleteState)
    graph.add_node("prepare", prepare)
    graph.add_node("complete_batch", complete_batch, retry_policy=retry)
    graph.add_node("write", lambda s: write_outputs(s, "resume", "completion_failed"))
    graph.add_edge(START, "prepare")
    graph.add_conditional_edges("prepare", sends, ["complete_batch", "write"])
    graph.add_edge("complete_batch", "write")
    graph.add_edge("write", END)
    return graph.compile(checkpointer=checkpointer, name="complete_resumes")


def make_graph(config: dict | None = None):
    """Factory for ``langgraph.json``: SRC completion with a client from the settings."""
    from graphs.runtime import settings_client

    return build_graph(settings_client())
