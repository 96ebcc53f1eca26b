"""Graph ``augment_jobs``: HyRe for every job (or, reversed, a hypothetical job per resume).

::

    START -> prepare --Send(batch)--> process (parallel) -> write -> END

Example::

    from graphs.augment_jobs import build_graph, inputs_for
    from graphs.batching import open_checkpointer, run_graph

    graph = build_graph(llm, HyReConfig(), checkpointer=open_checkpointer("runs/graphs.sqlite"))
    final = run_graph(graph, inputs_for(jobs, examples, output_path="data/jobs.hyre.jsonl"), "run-1")

Each document's generation is checked and retried (:mod:`agentic_match.augment.generation`);
a document that still fails keeps its original text and is listed in ``failures``. The
nodes are :mod:`graphs.batching`'s; :class:`AugmentContext` holds the client and the run's
settings (LangGraph's runtime context, so the LangGraph server can set them per run).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentic_match.augment.batch import hyre_step, process_documents
from agentic_match.augment.hyre import HyReConfig
from agentic_match.data.schema import DocKind, Document
from agentic_match.errors import DataError
from graphs.batching import (
    BatchGraph,
    BatchState,
    GenerationContext,
    doc_of,
    documents_update,
    rows_of,
    write_documents_output,
)


class AugmentState(BatchState, total=False):
    """State of ``augment_jobs``.

    Attributes:
        kind: ``"job"`` (a hypothetical resume per job) or ``"resume"`` (a hypothetical job).
        examples: Few-shot accepted pairs as ``[job_row, resume_row]``.
    """

    kind: DocKind
    examples: list[list[dict]]


@dataclass
class AugmentContext(GenerationContext):
    """Runtime context of ``augment_jobs``: the client and the HyRe settings of the run.

    Attributes:
        hyre: HyRe settings (examples, mode, budget, copy check).
    """

    hyre: HyReConfig = field(default_factory=HyReConfig)

    what = "augment_jobs"

    def settings_key(self) -> Any:
        return self.generation_key(self.hyre)

    def input_key(self, state: dict) -> Any:
        if not state.get("examples"):
            raise DataError("augment_jobs needs at least one few-shot example pair (examples)")
        return [state["examples"], state.get("kind", "job")]

    def task_extra(self, state: dict, batch: list[dict]) -> dict[str, Any]:
        return {"examples": state["examples"], "kind": state.get("kind", "job")}

    def process(self, task: dict, emit: Any) -> dict:
        kind = task["kind"]
        llm = self.generator()
        pairs = [(doc_of(j, "job"), doc_of(r, "resume")) for j, r in task["examples"]]
        step = hyre_step(llm, pairs, self.hyre, policy=self.policy, render_config=self.render_config)
        return documents_update(process_documents([doc_of(r, kind) for r in task["batch"]], step, on_event=emit))

    def write(self, state: dict) -> dict:
        return write_documents_output(state, state.get("kind", "job"), "hyre_failed")


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


GRAPH = BatchGraph(AugmentState, AugmentContext, "augment_jobs", "hyre")
compile_graph = GRAPH.compile
make_graph = GRAPH.make
build_graph = GRAPH.build
"""``build_graph(llm, config, *, retry, checkpointer, **context)``: the graph, its context bound."""


__all__ = ["AugmentContext", "AugmentState", "build_graph", "compile_graph", "inputs_for", "make_graph"]
