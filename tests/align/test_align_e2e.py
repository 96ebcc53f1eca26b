"""End to end on a real vLLM server (SmolLM2-135M): the judge graph, and the LLM reranker.

One server for the module (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import pytest

from agentic_match.align.judge import JudgeConfig, JudgePair
from agentic_match.align.preferences import load_preferences
from agentic_match.llm import Completion, client_for, request_count
from tests._served import managed_server

pytestmark = pytest.mark.e2e

JOB = "Registered nurse for the intensive care unit. Requires a nursing licence and ICU experience."
NURSE = "Registered nurse, 6 years in intensive care, nursing licence, ventilator and triage skills."
CHEF = "Head chef, 10 years running restaurant kitchens, menu design, food cost control."


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    for settings, _server, info in managed_server(tmp_path_factory, concurrency=4):
        yield settings, info


def test_judge_graph_on_a_real_model_and_cached_rerun(served, tmp_path):
    from graphs.batching import checkpointer_at, run_graph
    from graphs.judge_pairs import build_graph, inputs_for

    settings, info = served
    pairs = [
        JudgePair("j1", "r-nurse", "r-chef", JOB, NURSE, CHEF),
        JudgePair("j1", "r-chef", "r-nurse", JOB, CHEF, NURSE),
    ]
    out = tmp_path / "prefs.jsonl"
    with checkpointer_at(tmp_path / "g.sqlite") as saver:
        final = run_graph(
            build_graph(client_for(settings, info), JudgeConfig(), checkpointer=saver),
            inputs_for(pairs, output_path=str(out)),
            "e2e",
        )
    c = final["counts"]
    # A 135M model may be position-biased or fail the schema: all of it must be counted.
    assert c["pairs"] == 2 and c["preferences"] + c["ties"] + c["failures"] == 2
    if c["preferences"]:
        assert len(load_preferences(out)) == c["preferences"]
    before = request_count(info.root_url)
    with checkpointer_at(tmp_path / "g2.sqlite") as saver:  # a fresh run id store: only the cache helps
        run_graph(
            build_graph(client_for(settings, info), JudgeConfig(), checkpointer=saver), inputs_for(pairs), "e2e-again"
        )
    assert request_count(info.root_url) == before


def test_llm_reranker_p_yes_on_a_real_model(served):
    if "top_logprobs" not in Completion.__dataclass_fields__:
        pytest.skip("LLMClient does not return logprobs yet (Completion.top_logprobs)")
    from agentic_match.data.schema import Document
    from agentic_match.retrieval.rerank import LLMReranker

    settings, info = served
    rr = LLMReranker(client_for(settings, info), top_logprobs=20)
    job = Document("j1", "job", text=JOB)
    scores = rr.score([(job, Document("r1", "resume", text=NURSE)), (job, Document("r2", "resume", text=CHEF))])
    assert all(0.0 <= s <= 1.0 for s in scores)


@pytest.mark.parametrize("mode", ["graded", "pairwise-logprob"])
def test_probability_judges_on_a_real_model(served, mode):
    from agentic_match.align.judge import judge_pairs

    settings, info = served
    pairs = [JudgePair("j1", "r-nurse", "r-chef", JOB, NURSE, CHEF)]
    llm = client_for(settings, info)
    rep = judge_pairs(llm, pairs, JudgeConfig(mode=mode, tie_margin=0.0))
    o = rep.outcomes[0]
    # A 135M model may leave the answer tokens out of its top 10: then it is a counted failure.
    if o.preferred is None:
        assert "among the answer's top tokens" in (o.problem or "")
        return
    assert o.score is not None and (o.preferred == "A") == (o.score > 0) or o.preferred == "tie"
    bound = 4.0 if mode == "graded" else 0.5
    assert -bound <= o.score <= bound
    assert (o.flipped is None) == (mode == "graded")
    before = request_count(info.root_url)
    judge_pairs(llm, pairs, JudgeConfig(mode=mode))  # every answer cached
    assert request_count(info.root_url) == before
