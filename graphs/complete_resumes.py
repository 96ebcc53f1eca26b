"""Graph ``complete_resumes``: LGIR SRC or IRC completion of every resume.

::

    START -> prepare --Send(batch)--> process (parallel) -> write -> END

The inferred content goes to a separate ``inferred`` field and ``metadata["inferred"]``
(:mod:`agentic_match.augment.completion`); each completion's skills are checked for support
in the resume and the interacted jobs, and the per-document reports are kept in
``fabrication`` (summarise them with ``compare_fabrication``). The nodes are
:mod:`graphs.batching`'s; :class:`CompleteContext` holds the client and the run's settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langgraph.types import RetryPolicy

from agentic_match.augment.batch import completion_step, process_documents
from agentic_match.augment.completion import CompletionConfig
from agentic_match.augment.generation import ChatModel, GenerationPolicy, bind_model
from agentic_match.data.render import RenderConfig
from agentic_match.data.schema import Document
from graphs.batching import (
    DEFAULT_RETRY,
    BatchContext,
    BoundGraph,
    batch_graph,
    doc_of,
    documents_update,
    merge_dicts,
    rows_of,
    write_documents_output,
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


@dataclass
class CompleteContext(BatchContext):
    """Runtime context of ``complete_resumes``: the client and the completion settings.

    Attributes:
        completion: SRC / IRC settings.
        policy: Attempts and checks of each generation.
        render_config: How documents become prompt text.
        adapter: A LoRA adapter served beside the base model, used for every generation.
    """

    completion: CompletionConfig = field(default_factory=CompletionConfig)
    policy: GenerationPolicy = field(default_factory=GenerationPolicy)
    render_config: RenderConfig = field(default_factory=RenderConfig)
    adapter: str | None = None

    what = "complete_resumes"

    def settings_key(self) -> Any:
        key: list[Any] = [self.completion.__dict__, self.policy.__dict__, self.render_config.fingerprint()]
        if self.adapter:
            key.append(self.adapter)
        return key

    def input_key(self, state: dict) -> Any:
        return state.get("interacted") or {}

    def task_extra(self, state: dict, batch: list[dict]) -> dict[str, Any]:
        # Only the interactions of the batch's own resumes travel with it.
        inter = state.get("interacted") or {}
        return {"interacted": {str(r["id"]): inter.get(str(r["id"]), []) for r in batch}}

    def process(self, task: dict, emit: Any) -> dict:
        llm = self.client()
        if self.adapter:
            llm = bind_model(llm, self.adapter)
        jobs = {rid: [doc_of(j, "job") for j in rows] for rid, rows in task["interacted"].items()}
        step = completion_step(llm, jobs, self.completion, policy=self.policy, render_config=self.render_config)
        docs = [doc_of(r, "resume") for r in task["batch"]]
        return documents_update(process_documents(docs, step, on_event=emit), extra_key="fabrication")

    def write(self, state: dict) -> dict:
        return write_documents_output(state, "resume", "completion_failed")


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


def compile_graph(*, retry: RetryPolicy = DEFAULT_RETRY, checkpointer: Any = None):
    """The compiled graph; its runtime context (:class:`CompleteContext`) comes with each run."""
    return batch_graph(CompleteState, CompleteContext, "complete_resumes", retry=retry, checkpointer=checkpointer)


def build_graph(
    llm: ChatModel,
    config: CompletionConfig = CompletionConfig(),
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    render_config: RenderConfig = RenderConfig(),
    retry: RetryPolicy = DEFAULT_RETRY,
    adapter: str | None = None,
    checkpointer: Any = None,
) -> BoundGraph:
    """The graph with a default context over the injected client and settings."""
    ctx = CompleteContext(llm=llm, completion=config, policy=policy, render_config=render_config, adapter=adapter)
    return BoundGraph(compile_graph(retry=retry, checkpointer=checkpointer), ctx)


def make_graph(config: dict | None = None):
    """Factory for ``langgraph.json``: each run's settings come as its runtime context
    (:class:`CompleteContext`: ``completion.method`` ``src`` or ``irc``, ...)."""
    return compile_graph()


__all__ = ["CompleteContext", "CompleteState", "build_graph", "compile_graph", "inputs_for", "make_graph"]
