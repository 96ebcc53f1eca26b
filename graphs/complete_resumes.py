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
from typing import Annotated, Any

from agentic_match.augment.batch import completion_step, process_documents
from agentic_match.augment.completion import CompletionConfig
from agentic_match.data.schema import Document
from graphs.batching import (
    BatchGraph,
    BatchState,
    GenerationContext,
    doc_of,
    documents_update,
    merge_dicts,
    rows_of,
    write_documents_output,
)


class CompleteState(BatchState, total=False):
    """State of ``complete_resumes``.

    Attributes:
        interacted: ``{resume_id: [job row, ...]}`` - the jobs each user interacted with
            (used by IRC, and by the fabrication check of both methods).
        fabrication: ``{id: {"method", "supported", "unsupported"}}``.
    """

    interacted: dict[str, list[dict]]
    fabrication: Annotated[dict[str, dict], merge_dicts]


@dataclass
class CompleteContext(GenerationContext):
    """Runtime context of ``complete_resumes``: the client and the completion settings.

    Attributes:
        completion: SRC / IRC settings.
    """

    completion: CompletionConfig = field(default_factory=CompletionConfig)

    what = "complete_resumes"

    def settings_key(self) -> Any:
        return self.generation_key(self.completion)

    def input_key(self, state: dict) -> Any:
        return state.get("interacted") or {}

    def task_extra(self, state: dict, batch: list[dict]) -> dict[str, Any]:
        # Only the interactions of the batch's own resumes travel with it.
        inter = state.get("interacted") or {}
        return {"interacted": {str(r["id"]): inter.get(str(r["id"]), []) for r in batch}}

    def process(self, task: dict, emit: Any) -> dict:
        llm = self.generator()
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


GRAPH = BatchGraph(CompleteState, CompleteContext, "complete_resumes", "completion")
compile_graph = GRAPH.compile
make_graph = GRAPH.make
build_graph = GRAPH.build
"""``build_graph(llm, config, *, retry, checkpointer, **context)``: the graph, its context bound."""


__all__ = ["CompleteContext", "CompleteState", "build_graph", "compile_graph", "inputs_for", "make_graph"]
