"""End to end: the ``match`` graph with explanations on the real vLLM server (SmolLM2-135M).

Real encoder, FAISS and LangGraph; two candidates to keep it short. A 135M model explains
poorly, so the test checks the contract, not the quality: the stream order, and that every
quote shown is a real span of the resume (fabricated ones were dropped).
"""

from __future__ import annotations

import pytest

from agentic_match.augment.hyre import HyReConfig
from agentic_match.config import load_settings
from agentic_match.data import render
from agentic_match.llm import open_llm
from agentic_match.matching import MatchConfig, Matcher
from agentic_match.matching.explain import ExplainConfig
from agentic_match.retrieval.encoder import BiEncoder
from graphs.match import build_graph, inputs_for, run_match
from tests._match_fakes import small_corpus

pytestmark = pytest.mark.e2e


def test_match_graph_with_explanations_on_a_real_model(tmp_path):
    settings = load_settings(overrides={"cache_dir": str(tmp_path / "cache"), "llm": {"max_concurrency": 4}})
    corpus = small_corpus()
    config = MatchConfig(
        hyre=HyReConfig(max_tokens=64, example_chars=500, job_chars=800),
        explain=ExplainConfig(max_tokens=400, job_chars=800, resume_chars=1200),
    )
    events: list[dict] = []
    with open_llm(settings) as llm:
        matcher = Matcher(BiEncoder.load("all-minilm-l6-v2"), corpus, llm=llm, config=config)
        graph = build_graph(matcher)
        res = run_match(
            graph,
            inputs_for("demo-j-01", kind="job", k=2, explain=True),
            on_event=lambda mode, part: events.append(part) if mode == "custom" else None,
        )
    kinds = [e["event"] for e in events]
    assert kinds[:2] == ["augmented", "retrieved"] and kinds.count("explanation") == 2 and kinds[-1] == "done"
    assert len(res.candidates) == 2 and res.augmentation.method == "hyre"
    for c in res.candidates:
        e = c.explanation
        assert e is not None and e.job_id == "demo-j-01" and e.resume_id == c.id
        text = render(corpus.resumes[c.id])
        for ev in e.met + e.missing + e.unverified:
            assert ev.quote is None or text[ev.start : ev.end] == ev.quote
        assert all(ev.quote for ev in e.met)
        print(c.id, e.model_dump_json(indent=1))  # for the record (-s)
