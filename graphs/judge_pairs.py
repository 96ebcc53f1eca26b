"""Graph ``judge_pairs``: the local LLM judges pairs of resumes for a job, in both orders.

::

    START -> prepare --Send(batch)--> judge_batch (parallel) -> write -> END

Example::

    from agentic_match.align.judge import candidate_pairs
    from graphs.judge_pairs import build_graph, inputs_for
    from graphs.batching import open_checkpointer, run_graph

    pairs = candidate_pairs(stage1_encoder, corpus, k=10, pairs_per_query=5)
    graph = build_graph(llm, checkpointer=open_checkpointer("runs/graphs.sqlite"))
    final = run_graph(graph, inputs_for(pairs, output_path="runs/prefs.jsonl"), "judge-1")

``write`` puts the consistent verdicts in the preference file (``A``/``B``); ties (the two
orders disagree) are counted and left out; pairs whose answers failed the schema are listed
in ``<output>.failures.jsonl``. Nothing is dropped without a count in ``counts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from agentic_match.align.judge import JudgeConfig, JudgePair, StructuredModel, judge_pair
from agentic_match.align.preferences import preference_record, write_preferences
from agentic_match.files import digest
from graphs.batching import (
    DEFAULT_RETRY,
    BatchTask,
    check_fingerprint,
    check_unique_ids,
    failures_path,
    merge_dicts,
    plan_sends,
)


class JudgeState(TypedDict, total=False):
    """State of ``judge_pairs``.

    Attributes:
        docs: The pairs as rows (``JudgePair.to_row()``: ``id`` is the pair key).
        batch_size: Pairs per parallel task.
        output_path: The preference JSONL written by ``write`` (``None``: not written).
        fingerprint: Hash of the pairs and the judge settings (a reused run id is detected).
        results: ``{pair key: {"preferred": "A"|"B"|"tie", "reason"}}``.
        failures: ``{pair key: problem}`` of pairs whose answers failed the schema.
        counts: ``{"pairs", "preferences", "ties", "failures"}`` after ``write``.
        written: The path written.
    """

    docs: list[dict]
    batch_size: int
    output_path: str | None
    fingerprint: str
    results: Annotated[dict[str, dict], merge_dicts]
    failures: Annotated[dict[str, str], merge_dicts]
    counts: dict[str, int]
    written: str


def inputs_for(pairs: Sequence[JudgePair], *, output_path: str | None = None, batch_size: int = 8) -> JudgeState:
    """The input state of a run over ``pairs``."""
    return JudgeState(docs=[p.to_row() for p in pairs], batch_size=batch_size, output_path=output_path)


def build_graph(
    llm: StructuredModel,
    config: JudgeConfig = JudgeConfig(),
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    checkpointer: Any = None,
):
    """The compiled ``judge_pairs`` graph over the injected client and judge settings."""
    settings_key = digest(config.__dict__)

    def prepare(state: JudgeState) -> dict:
        check_unique_ids(state["docs"], "judge_pairs input")
        fp = digest(state["docs"], settings_key)
        check_fingerprint(state, fp)
        get_stream_writer()({"event": "start", "pairs": len(state["docs"]), "done": len(state.get("results") or {})})
        return {"fingerprint": fp}

    def judge_batch(task: BatchTask) -> dict:
        writer = get_stream_writer()
        results, failures = {}, {}
        for row in task["batch"]:
            out = judge_pair(llm, JudgePair.from_row(row), config)
            if out.preferred is None:
                failures[row["id"]] = out.problem or "failed"
            else:
                results[row["id"]] = {"preferred": out.preferred, "reason": out.reason}
            writer({"event": "pair", "id": row["id"], "preferred": out.preferred, "problem": out.problem})
        writer({"event": "batch", "index": task["index"], "batches": task["batches"]})
        return {"results": results, "failures": failures}

    def write(state: JudgeState) -> dict:
        results, failures = state.get("results") or {}, state.get("failures") or {}
        records = []
        for row in state["docs"]:
            r = results.get(row["id"])
            if r and r["preferred"] in ("A", "B"):
                p = JudgePair.from_row(row)
                records.append(
                    preference_record(
                        p.query_id,
                        p.passage1_id,
                        p.passage2_id,
                        p.query,
                        p.passage1,
                        p.passage2,
                        r["preferred"],
                        r["reason"],
                        p.query_kind,
                    )
                )
        ties = sum(1 for r in results.values() if r["preferred"] == "tie")
        counts = {"pairs": len(state["docs"]), "preferences": len(records), "ties": ties, "failures": len(failures)}
        out: dict[str, Any] = {"counts": counts}
        if state.get("output_path"):
            path = write_preferences(state["output_path"], records)
            fail_path = failures_path(path)
            if failures:
                from agentic_match.files import atomic_write_lines

                atomic_write_lines(fail_path, ({"id": k, "problem": v} for k, v in sorted(failures.items())))
            else:
                fail_path.unlink(missing_ok=True)
            out["written"] = str(path)
        return out

    graph = StateGraph(JudgeState)
    graph.add_node("prepare", prepare)
    graph.add_node("judge_batch", judge_batch, retry_policy=retry)
    graph.add_node("write", write)
    graph.add_edge(START, "prepare")
    graph.add_conditional_edges("prepare", lambda s: plan_sends(s, "judge_batch", "write"), ["judge_batch", "write"])
    graph.add_edge("judge_batch", "write")
    graph.add_edge("write", END)
    return graph.compile(checkpointer=checkpointer, name="judge_pairs")


def make_graph(config: dict | None = None):
    """Factory for ``langgraph.json`` / the LangGraph server: a client from the settings."""
    from graphs.runtime import settings_client

    return build_graph(settings_client())
