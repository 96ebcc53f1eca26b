"""Graph ``judge_pairs``: the local LLM judges pairs of resumes for a job, in both orders.

::

    START -> prepare --Send(batch)--> process (parallel) -> write -> END

Example::

    from agentic_match.align.judge import candidate_pairs
    from graphs.judge_pairs import build_graph, inputs_for
    from graphs.batching import open_checkpointer, run_graph

    pairs = candidate_pairs(stage1_encoder, corpus, k=10, pairs_per_query=5)
    graph = build_graph(llm, checkpointer=open_checkpointer("runs/graphs.sqlite"))
    final = run_graph(graph, inputs_for(pairs, output_path="runs/prefs.jsonl"), "judge-1")

``write`` puts the consistent verdicts in the preference file (``A``/``B``); ties (the two
orders disagree) are counted and left out; pairs whose answers failed the schema are listed
in ``<output>.failures.jsonl``. Nothing is dropped without a count in ``counts``. Each batch
is :func:`agentic_match.align.judge.judge_pairs`, the function the train pipeline calls over
all pairs; the report is :class:`~agentic_match.align.judge.JudgeReport` in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentic_match.align.judge import JudgeConfig, JudgePair, JudgeReport, judge_pairs
from agentic_match.events import document_event
from graphs.batching import BatchContext, BatchGraph, BatchState


class JudgeState(BatchState, total=False):
    """State of ``judge_pairs``.

    Attributes:
        counts: ``{"pairs", "preferences", "ties", "failures"}`` after ``write``.
    """

    counts: dict[str, int]


@dataclass
class JudgeContext(BatchContext):
    """Runtime context of ``judge_pairs``: the client and the judge's settings."""

    judge: JudgeConfig = field(default_factory=JudgeConfig)

    what = "judge_pairs"

    def settings_key(self) -> Any:
        return self.judge.__dict__

    def process(self, task: dict, emit: Any) -> dict:
        def on_done(o: Any) -> None:
            emit(document_event(o.pair.key, o.preferred is not None, o.problem, 2 if self.judge.both_orders else 1))

        pairs = [JudgePair.from_row(r) for r in task["batch"]]
        results, failures = judge_pairs(self.client(), pairs, self.judge, concurrency=1, on_done=on_done).results()
        return {"results": results, "failures": failures}

    def write(self, state: dict) -> dict:
        pairs = [JudgePair.from_row(r) for r in state["docs"]]
        report = JudgeReport.from_results(pairs, state.get("results") or {}, state.get("failures") or {})
        out: dict[str, Any] = {"counts": report.counts()}
        if state.get("output_path"):
            out["written"] = str(report.write(state["output_path"]))
        return out


def inputs_for(pairs: Sequence[JudgePair], *, output_path: str | None = None, batch_size: int = 8) -> JudgeState:
    """The input state of a run over ``pairs``."""
    return JudgeState(docs=[p.to_row() for p in pairs], batch_size=batch_size, output_path=output_path)


GRAPH = BatchGraph(JudgeState, JudgeContext, "judge_pairs", "judge")
compile_graph = GRAPH.compile
make_graph = GRAPH.make
build_graph = GRAPH.build
"""``build_graph(llm, config, *, retry, checkpointer, **context)``: the graph, its context bound."""


__all__ = ["JudgeContext", "JudgeState", "build_graph", "compile_graph", "inputs_for", "make_graph"]
