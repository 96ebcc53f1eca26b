"""Graph ``match``: streams partial results, same answers as the Matcher, resumes after a dead LLM."""

from __future__ import annotations

import pytest
from langgraph.types import RetryPolicy

from agentic_match.data import render
from agentic_match.errors import LLMUnavailableError
from agentic_match.matching import MatchConfig, Matcher, UnavailableError
from graphs.batching import checkpointer_at
from graphs.match import build_graph, inputs_for, run_match
from tests._match_fakes import FakeLLM

NO_RETRY = RetryPolicy(max_attempts=1, retry_on=LLMUnavailableError)


def test_graph_streams_partial_results_and_matches_the_matcher(encoder, corpus):
    m = Matcher(encoder, corpus, llm=FakeLLM(), config=MatchConfig(explain_workers=2, explain_method="llm_quotes"))
    graph = build_graph(m)
    seen: list[tuple[str, object]] = []
    res = run_match(
        graph, inputs_for("demo-j-01", kind="job", k=3, explain=True), on_event=lambda mode, p: seen.append((mode, p))
    )
    custom = [p["event"] for mode, p in seen if mode == "custom"]
    # Candidates are streamed before any explanation, each explanation as it is ready.
    assert custom[0] == "augmented" and custom[1] == "retrieved" and custom[-1] == "done"
    assert custom.count("explanation") == 3
    retrieved = next(p for mode, p in seen if mode == "custom" and p["event"] == "retrieved")
    assert [c["id"] for c in retrieved["candidates"]] == [c.id for c in res.candidates]
    nodes = [next(iter(p)) for mode, p in seen if mode == "updates"]
    assert nodes[:3] == ["prepare", "augment", "retrieve"] and nodes.count("explain") == 3 and nodes[-1] == "finish"
    # The graph and the API path give the same ranking (HyRe output is deterministic here).
    direct = m.match("demo-j-01", kind="job", k=3, explain=True)
    assert [(c.id, round(c.score, 5)) for c in res.candidates] == [(c.id, round(c.score, 5)) for c in direct.candidates]
    assert all(c.explanation and c.explanation.met for c in res.candidates)
    assert res.augmentation.applied and "explain_llm_s" in res.timings


def test_graph_without_explanations_and_with_rerank(encoder, corpus):
    class ByLength:
        def score(self, pairs):
            return [float(len(r.text or "") + sum(map(len, r.fields.values()))) for _, r in pairs]

    m = Matcher(encoder, corpus, reranker=ByLength(), config=MatchConfig(rerank_depth=6))
    graph = build_graph(m)
    res = run_match(graph, inputs_for("demo-r-001", kind="resume", k=3, augment=False))
    assert res.candidate_kind == "job" and len(res.candidates) == 3
    assert all(c.explanation is None for c in res.candidates)
    from agentic_match.data import Document

    q = Document("adhoc", "job", text="Line cook for a busy restaurant kitchen.")
    res = run_match(graph, inputs_for(q, k=2, rerank=True))
    assert res.reranked and res.query_id == "adhoc" and len(res.candidates) == 2
    scores = [c.score for c in res.candidates]
    assert scores == sorted(scores, reverse=True)
    # Evidence explanations need no LLM.
    res = run_match(graph, inputs_for("demo-j-01", kind="job", k=2, explain=True))
    assert all(c.explanation is not None and c.explanation.method == "evidence" for c in res.candidates)
    strict = Matcher(encoder, corpus, config=MatchConfig(explain_method="llm_quotes"))
    with pytest.raises(UnavailableError):
        run_match(build_graph(strict), inputs_for("demo-j-01", kind="job", explain=True))


def test_dead_llm_mid_explanations_resumes_without_redoing_finished_ones(encoder, corpus, tmp_path):
    llm = FakeLLM()
    m = Matcher(encoder, corpus, llm=llm, config=MatchConfig(explain_method="llm_quotes"))
    ranked = m.match("demo-j-02", kind="job", k=3, augment=False)
    victim = ranked.candidates[1].id
    llm.fail_on = render(corpus.resumes[victim])[:300]  # explanations of this resume fail
    inputs = inputs_for("demo-j-02", kind="job", k=3, augment=False, explain=True)
    with checkpointer_at(tmp_path / "ckpt.sqlite") as saver:
        graph = build_graph(m, retry=NO_RETRY, checkpointer=saver)
        with pytest.raises(LLMUnavailableError):
            run_match(graph, inputs, run_id="run-1")
        assert llm.calls["explain"] == 2  # the other two finished
        llm.fail_on = None
        res = run_match(graph, inputs, run_id="run-1")
    assert llm.calls["explain"] == 3  # only the failed one was redone
    assert [c.id for c in res.candidates] == [c.id for c in ranked.candidates]
    assert all(c.explanation is not None for c in res.candidates)
