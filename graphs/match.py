"""Graph ``match``: a job (or a resume) to ranked, explained candidates, streamed as they come.

::

    START -> prepare -> augment -> retrieve -> [rerank] --Send(candidate)--> explain (xk) -> finish -> END
                                                       \\-------------------------------------/  (explain=False)

``prepare`` resolves the query (a corpus id or a document) and refuses a request the matcher
cannot serve before any work is done.

Every node calls one step of :class:`agentic_match.matching.Matcher` (the HTTP API calls the
same methods through :meth:`~agentic_match.matching.Matcher.match`), so the graph holds no
matching logic of its own. Partial results are streamed with ``stream_mode="custom"``:
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

import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy, Send

from agentic_match.data.schema import DocKind, Document
from agentic_match.matching import Augmentation, Candidate, Matcher, MatchResult, UnavailableError, other_kind
from graphs.batching import DEFAULT_RETRY, doc_of, merge_dicts, rows_of


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
        hits: First-stage ``[id, cosine]`` pairs, best first.
        ranked: The final ``[id, score]`` top ``k`` (reranked when asked).
        explanations: ``{candidate id: Explanation dict}`` (merged across parallel tasks).
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
    hits: list[list]
    ranked: list[list]
    explanations: Annotated[dict[str, dict], merge_dicts]
    timings: Annotated[dict[str, float], merge_dicts]
    result: dict


class ExplainTask(TypedDict):
    """One candidate to explain (sent with ``Send``)."""

    query: dict
    query_kind: DocKind
    candidate_id: str


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


def _pairs(items: list[tuple[str, float]]) -> list[list]:
    return [[d, float(s)] for d, s in items]


def build_graph(matcher: Matcher, *, retry: RetryPolicy = DEFAULT_RETRY, checkpointer: Any = None):
    """The compiled ``match`` graph over ``matcher`` (inject a fake LLM or encoder there)."""

    def query_doc(state: MatchState) -> Document:
        return doc_of(state["query"], state["query_kind"])

    def prepare(state: MatchState) -> dict:
        matcher.check_k(state.get("k"))
        if state.get("rerank") and matcher.reranker is None:
            raise UnavailableError("rerank=true but no reranker is configured")
        if state.get("explain") and matcher.llm is None:
            raise UnavailableError("explain=true but no LLM is configured")
        if state.get("query"):
            doc = query_doc(state)
        else:
            doc = matcher.resolve(state["query_id"], state.get("query_kind"))
        return {"query": rows_of([doc])[0], "query_kind": doc.kind}

    def augment(state: MatchState) -> dict:
        writer = get_stream_writer()
        doc = query_doc(state)
        t = time.perf_counter()
        if state.get("augment", True):
            used, aug = matcher.augment(doc)
        else:
            used, aug = doc, Augmentation(note="not requested")
        writer({"event": "augmented", "query_id": doc.id, "augmentation": aug.model_dump()})
        return {
            "augmented": rows_of([used])[0],
            "augmentation": aug.model_dump(),
            "timings": {"augment_s": time.perf_counter() - t},
        }

    def retrieve(state: MatchState) -> dict:
        k = matcher.check_k(state.get("k"))
        depth = max(k, matcher.config.rerank_depth) if state.get("rerank") else k
        t = time.perf_counter()
        hits = matcher.retrieve(doc_of(state["augmented"], state["query_kind"]), depth)
        get_stream_writer()({"event": "retrieved", "candidates": [{"id": d, "score": s} for d, s in hits[:k]]})
        return {"hits": _pairs(hits), "ranked": _pairs(hits[:k]), "timings": {"retrieve_s": time.perf_counter() - t}}

    def rerank(state: MatchState) -> dict:
        t = time.perf_counter()
        hits = [(d, s) for d, s in state["hits"]]
        ranked = matcher.rerank(query_doc(state), hits, matcher.check_k(state.get("k")))
        get_stream_writer()({"event": "reranked", "candidates": [{"id": d, "score": s} for d, s in ranked]})
        return {"ranked": _pairs(ranked), "timings": {"rerank_s": time.perf_counter() - t}}

    def plan_explanations(state: MatchState) -> list[Send] | str:
        if not state.get("explain"):
            return "finish"
        done = set(state.get("explanations") or {})
        todo = [d for d, _ in state["ranked"] if d not in done]
        if not todo:
            return "finish"
        return [
            Send("explain", ExplainTask(query=state["query"], query_kind=state["query_kind"], candidate_id=d))
            for d in todo
        ]

    def explain(task: ExplainTask) -> dict:
        t = time.perf_counter()
        expl = matcher.explain(doc_of(task["query"], task["query_kind"]), task["candidate_id"])
        get_stream_writer()({"event": "explanation", "id": task["candidate_id"], "explanation": expl.model_dump()})
        # Parallel tasks' times add up: this is LLM time, not wall time.
        return {
            "explanations": {task["candidate_id"]: expl.model_dump()},
            "timings": {f"explain_s:{task['candidate_id']}": time.perf_counter() - t},
        }

    def finish(state: MatchState) -> dict:
        first = {d: s for d, s in state.get("hits") or []}
        expl = state.get("explanations") or {}
        timings = {n: round(v, 4) for n, v in (state.get("timings") or {}).items() if ":" not in n}
        per_expl = [v for n, v in (state.get("timings") or {}).items() if n.startswith("explain_s:")]
        if per_expl:
            timings["explain_llm_s"] = round(sum(per_expl), 4)
        result = MatchResult(
            query_id=str(state["query"]["id"]),
            query_kind=state["query_kind"],
            candidate_kind=other_kind(state["query_kind"]),
            candidates=[
                Candidate(id=d, rank=i, score=s, retrieval_score=first.get(d, s), explanation=expl.get(d))
                for i, (d, s) in enumerate(state.get("ranked") or [], 1)
            ],
            augmentation=Augmentation(**(state.get("augmentation") or {})),
            reranked=bool(state.get("rerank")),
            timings=timings,
        )
        get_stream_writer()({"event": "done", "candidates": len(result.candidates)})
        return {"result": result.model_dump()}

    graph = StateGraph(MatchState)
    graph.add_node("prepare", prepare)
    graph.add_node("augment", augment, retry_policy=retry)
    graph.add_node("retrieve", retrieve)
    graph.add_node("rerank", rerank, retry_policy=retry)
    graph.add_node("explain", explain, retry_policy=retry)
    graph.add_node("finish", finish)
    graph.add_edge(START, "prepare")
    graph.add_edge("prepare", "augment")
    graph.add_edge("augment", "retrieve")
    graph.add_conditional_edges(
        "retrieve",
        lambda s: "rerank" if s.get("rerank") else plan_explanations(s),
        ["rerank", "explain", "finish"],
    )
    graph.add_conditional_edges("rerank", plan_explanations, ["explain", "finish"])
    graph.add_edge("explain", "finish")
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer, name="match")


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


def make_graph(config: dict | None = None):
    """Factory for ``langgraph.json``: a matcher from the settings and the environment.

    ``AGENTIC_MATCH_MATCH_DATA`` names a corpus folder in the benchmark layout (default: the
    demo corpus), ``AGENTIC_MATCH_MATCH_RERANKER`` an optional reranker (``llm`` or a
    cross-encoder folder); the encoder is the ``encoder`` setting, and the LLM comes from
    ``llm.base_url`` or the managed vLLM server.
    """
    import os

    from agentic_match.config import load_settings
    from agentic_match.matching import build_matcher
    from graphs.runtime import settings_client

    settings = load_settings()
    llm = settings_client()
    matcher = build_matcher(
        data=os.environ.get("AGENTIC_MATCH_MATCH_DATA") or None,
        encoder=settings.encoder,
        reranker=os.environ.get("AGENTIC_MATCH_MATCH_RERANKER") or None,
        llm=llm,
    )
    return build_graph(matcher)


__all__ = ["ExplainTask", "MatchState", "build_graph", "inputs_for", "make_graph", "run_match"]
