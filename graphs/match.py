"""Graph ``match``: a job (or a resume) to ranked, explained candidates, streamed as they come.

::

    START -> prepare -> augment -> retrieve -> [rerank] --Send(candidate)--> explain (xk) -> finish -> END
                                                       \\-------------------------------------/  (explain=False)

``prepare`` resolves the query (a corpus id or a document) and refuses a request the matcher
cannot serve before any work is done.

Every node is a thin adapter over one step of the match workflow
(:func:`~agentic_match.matching.matcher.start_match`, ``augment_query``,
``retrieve_candidates``, ``rerank_candidates``, ``explain_candidate``, ``match_result``);
:meth:`~agentic_match.matching.Matcher.match` (the HTTP API, plain Python) calls the same
functions in sequence, so both report the same results and timings. The matcher is the
graph's runtime context (:class:`MatchContext`). Partial results are streamed with ``stream_mode="custom"``:
``{"event": "augmented" | "retrieved" | "reranked" | "explanation" | "done", ...}``; the
``updates`` stream carries each node's state update as well.

Example::

    from graphs.match import build_graph, inputs_for, run_match

    graph = build_graph(matcher)
    result = run_match(graph, inputs_for("demo-j-01", kind="job", k=5, explain=True),
                       on_event=lambda mode, part: print(mode, part))

With a checkpointer (``build_graph(matcher, checkpointer=...)``) and a run id, a run whose
LLM server died part-way resumes without redoing finished explanations.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import RetryPolicy, Send

from agentic_match.data.schema import DocKind, Document
from agentic_match.events import AugmentedEvent, CandidatesEvent, DoneEvent, ExplanationEvent
from agentic_match.matching import Augmentation, Explanation, Matcher, MatchResult
from agentic_match.matching.matcher import (
    MatchRequest,
    augment_query,
    candidate_rows,
    explain_candidate,
    match_result,
    rerank_candidates,
    retrieve_candidates,
    start_match,
)
from graphs.batching import DEFAULT_RETRY, BoundGraph, doc_of, merge_dicts, rows_of


class MatchState(TypedDict, total=False):
    """State of ``match``.

    Attributes:
        query_id: A corpus id to match (or give ``query``).
        query: The query document row (set from ``query_id`` by ``prepare``).
        query_kind: ``"job"`` (rank resumes) or ``"resume"`` (rank jobs).
        k: Candidates wanted.
        augment / rerank / explain: Which optional steps run.
        augmented: The query row used for retrieval (augmented, or the query itself).
        augmentation: What augmentation did (``Augmentation`` as a dict).
        hits: First-stage ``{"id", "score"}`` rows, best first.
        ranked: The final top ``k`` rows (reranked when asked).
        explanations: ``{candidate id: Explanation dict}`` (merged across parallel tasks).
        explain_spans: ``{candidate id: [start, end]}`` (epoch seconds) of each explanation.
        started_at: When ``prepare`` ran (epoch seconds).
        timings: Seconds per step.
        result: The final ``MatchResult`` as a dict.
    """

    query_id: str
    query: dict
    query_kind: DocKind
    k: int
    augment: bool
    rerank: bool
    explain: bool
    augmented: dict
    augmentation: dict
    hits: list[dict]
    ranked: list[dict]
    explanations: Annotated[dict[str, dict], merge_dicts]
    explain_spans: Annotated[dict[str, list[float]], merge_dicts]
    started_at: float
    timings: Annotated[dict[str, float], merge_dicts]
    result: dict


class ExplainTask(TypedDict):
    """One candidate to explain (sent with ``Send``)."""

    query: dict
    query_kind: DocKind
    candidate_id: str
    k: int | None


def inputs_for(
    query: Document | str,
    *,
    kind: DocKind | None = None,
    k: int = 10,
    augment: bool = True,
    rerank: bool = False,
    explain: bool = False,
) -> MatchState:
    """The input state for a query document, or a corpus id (then ``kind`` is needed)."""
    state = MatchState(k=k, augment=augment, rerank=rerank, explain=explain)
    if isinstance(query, Document):
        state.update(query=rows_of([query])[0], query_kind=query.kind)
    else:
        if kind is None:
            raise ValueError("inputs_for: give kind='job' or 'resume' with a query id")
        state.update(query_id=str(query), query_kind=kind)
    return state


@dataclass
class MatchContext:
    """Runtime context of ``match``: the matcher (encoder, indexes, reranker, LLM) that serves it.

    ``None`` (a run started by the LangGraph server): one built from the settings
    (:func:`settings_matcher`).
    """

    matcher: Matcher | None = None


def _matcher(runtime: Runtime[MatchContext]) -> Matcher:
    ctx = runtime.context
    return ctx.matcher if ctx is not None and ctx.matcher is not None else settings_matcher()


def _request(state: MatchState, matcher: Matcher) -> MatchRequest:
    query = doc_of(state["query"], state["query_kind"])
    return MatchRequest(
        query,
        matcher.check_k(state.get("k")),
        bool(state.get("augment", True)),
        bool(state.get("rerank")),
        bool(state.get("explain")),
        matcher.config.rerank_depth,
    )


def _pairs(rows: list[dict]) -> list[tuple[str, float]]:
    return [(r["id"], float(r["score"])) for r in rows]


def prepare(state: MatchState, runtime: Runtime[MatchContext]) -> dict:
    """Resolve the query and refuse a request the matcher cannot serve, before any work."""
    matcher = _matcher(runtime)
    query: Document | str = doc_of(state["query"], state["query_kind"]) if state.get("query") else state["query_id"]
    req = start_match(
        matcher,
        query,
        kind=state.get("query_kind"),
        k=state.get("k"),
        augment=state.get("augment", True),
        rerank=bool(state.get("rerank")),
        explain=bool(state.get("explain")),
    )
    return {"query": rows_of([req.query])[0], "query_kind": req.query.kind, "started_at": time.time()}


def augment(state: MatchState, runtime: Runtime[MatchContext]) -> dict:
    """HyRe for a job, IRC for a resume with interactions (when asked)."""
    matcher = _matcher(runtime)
    req = _request(state, matcher)
    t = time.perf_counter()
    used, aug = augment_query(matcher, req)
    get_stream_writer()(AugmentedEvent(event="augmented", query_id=req.query.id, augmentation=aug.model_dump()))
    timings = {"augment_s": time.perf_counter() - t} if req.augment else {}
    return {"augmented": rows_of([used])[0], "augmentation": aug.model_dump(), "timings": timings}


def retrieve(state: MatchState, runtime: Runtime[MatchContext]) -> dict:
    """The first stage's candidates for the (augmented) query."""
    matcher = _matcher(runtime)
    req = _request(state, matcher)
    t = time.perf_counter()
    hits = retrieve_candidates(matcher, req, doc_of(state["augmented"], state["query_kind"]))
    get_stream_writer()(CandidatesEvent(event="retrieved", candidates=candidate_rows(hits[: req.k])))
    return {
        "hits": candidate_rows(hits),
        "ranked": candidate_rows(hits[: req.k]),
        "timings": {"retrieve_s": time.perf_counter() - t},
    }


def rerank(state: MatchState, runtime: Runtime[MatchContext]) -> dict:
    """The reranker's top ``k`` of the first stage's hits."""
    matcher = _matcher(runtime)
    t = time.perf_counter()
    ranked = rerank_candidates(matcher, _request(state, matcher), _pairs(state["hits"]))
    get_stream_writer()(CandidatesEvent(event="reranked", candidates=candidate_rows(ranked)))
    return {"ranked": candidate_rows(ranked), "timings": {"rerank_s": time.perf_counter() - t}}


def plan_explanations(state: MatchState) -> list[Send] | str:
    """One ``explain`` task per ranked candidate not explained yet (else ``finish``)."""
    if not state.get("explain"):
        return "finish"
    done = set(state.get("explanations") or {})
    todo = [r["id"] for r in state["ranked"] if r["id"] not in done]
    if not todo:
        return "finish"
    return [
        Send(
            "explain",
            ExplainTask(query=state["query"], query_kind=state["query_kind"], candidate_id=d, k=state.get("k")),
        )
        for d in todo
    ]


def route_after_retrieve(state: MatchState) -> list[Send] | str:
    """``rerank`` when asked, else the explanations (or ``finish``)."""
    return "rerank" if state.get("rerank") else plan_explanations(state)


def explain(task: ExplainTask, runtime: Runtime[MatchContext]) -> dict:
    """One candidate's verified explanation (tasks run in parallel)."""
    matcher = _matcher(runtime)
    req = MatchRequest(doc_of(task["query"], task["query_kind"]), matcher.check_k(task.get("k")), explain=True)
    started = time.time()
    expl = explain_candidate(matcher, req, task["candidate_id"])
    get_stream_writer()(ExplanationEvent(event="explanation", id=task["candidate_id"], explanation=expl.model_dump()))
    return {
        "explanations": {task["candidate_id"]: expl.model_dump()},
        "explain_spans": {task["candidate_id"]: [started, time.time()]},
    }


def finish(state: MatchState, runtime: Runtime[MatchContext]) -> dict:
    """The :class:`MatchResult`, with the same timings as :meth:`Matcher.match` reports."""
    matcher = _matcher(runtime)
    req = _request(state, matcher)
    timings = dict(state.get("timings") or {})
    spans = list((state.get("explain_spans") or {}).values())
    if spans:
        # Explanations run in parallel: wall time from the first start to the last end,
        # and the LLM time of each summed (what a server's capacity is spent on).
        timings["explain_s"] = max(e for _, e in spans) - min(s for s, _ in spans)
        timings["explain_llm_s"] = sum(e - s for s, e in spans)
    if state.get("started_at"):
        timings["total_s"] = time.time() - state["started_at"]
    result = match_result(
        req,
        _pairs(state.get("hits") or []),
        _pairs(state.get("ranked") or []),
        Augmentation(**(state.get("augmentation") or {})),
        {d: Explanation.model_validate(e) for d, e in (state.get("explanations") or {}).items()},
        timings,
    )
    get_stream_writer()(DoneEvent(event="done", candidates=len(result.candidates)))
    return {"result": result.model_dump()}


def compile_graph(*, retry: RetryPolicy = DEFAULT_RETRY, checkpointer: Any = None):
    """The compiled ``match`` graph; its runtime context (:class:`MatchContext`) comes with each run."""
    graph = StateGraph(MatchState, context_schema=MatchContext)
    graph.add_node("prepare", prepare)
    graph.add_node("augment", augment, retry_policy=retry)
    graph.add_node("retrieve", retrieve)
    graph.add_node("rerank", rerank, retry_policy=retry)
    graph.add_node("explain", explain, retry_policy=retry)
    graph.add_node("finish", finish)
    graph.add_edge(START, "prepare")
    graph.add_edge("prepare", "augment")
    graph.add_edge("augment", "retrieve")
    graph.add_conditional_edges("retrieve", route_after_retrieve, ["rerank", "explain", "finish"])
    graph.add_conditional_edges("rerank", plan_explanations, ["explain", "finish"])
    graph.add_edge("explain", "finish")
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer, name="match")


def build_graph(matcher: Matcher, *, retry: RetryPolicy = DEFAULT_RETRY, checkpointer: Any = None) -> BoundGraph:
    """The ``match`` graph over ``matcher`` (inject a fake LLM or encoder there)."""
    return BoundGraph(compile_graph(retry=retry, checkpointer=checkpointer), MatchContext(matcher))


def run_match(
    graph: Any,
    inputs: MatchState,
    *,
    on_event: Callable[[str, Any], None] | None = None,
    run_id: str | None = None,
) -> MatchResult:
    """Run the graph and return its :class:`MatchResult`; ``on_event(mode, part)`` gets the
    ``custom`` and ``updates`` stream parts as they come.

    With a checkpointer, ``run_id`` names the run (a stopped run with the same id resumes).
    """
    if getattr(graph, "checkpointer", None):
        from graphs.batching import run_graph

        final = run_graph(graph, dict(inputs), run_id or uuid.uuid4().hex, on_event=on_event)
    else:
        final = {}
        for mode, part in graph.stream(inputs, stream_mode=["updates", "custom", "values"]):
            if mode == "values":
                final = part
            elif on_event is not None:
                on_event(mode, part)
    return MatchResult.model_validate(final["result"])


def settings_matcher() -> Matcher:
    """The matcher of a graph run without one (the LangGraph server): built once from the settings.

    ``AGENTIC_MATCH_MATCH_DATA`` names a corpus folder in the benchmark layout (default: the
    demo corpus), ``AGENTIC_MATCH_MATCH_RERANKER`` an optional reranker (``llm`` or a
    cross-encoder folder); the encoder is the ``encoder`` setting, and the LLM comes from
    ``llm.base_url`` or the managed vLLM server.
    """
    import os

    from agentic_match.config import load_settings
    from agentic_match.matching import build_matcher
    from graphs.runtime import settings_client

    with _DEFAULT_LOCK:
        if "matcher" not in _DEFAULT:
            _DEFAULT["matcher"] = build_matcher(
                data=os.environ.get("AGENTIC_MATCH_MATCH_DATA") or None,
                encoder=load_settings().encoder,
                reranker=os.environ.get("AGENTIC_MATCH_MATCH_RERANKER") or None,
                llm=settings_client(),
            )
        return _DEFAULT["matcher"]


_DEFAULT: dict[str, Matcher] = {}
_DEFAULT_LOCK = threading.Lock()


def make_graph(config: dict | None = None):
    """Factory for ``langgraph.json``: the compiled graph; a run's request is its input state
    (:func:`inputs_for`), and the matcher comes from the settings on first use
    (:func:`settings_matcher`), unless the run's context gives one."""
    return compile_graph()


__all__ = [
    "ExplainTask",
    "MatchContext",
    "MatchState",
    "build_graph",
    "compile_graph",
    "inputs_for",
    "make_graph",
    "run_match",
    "settings_matcher",
]
