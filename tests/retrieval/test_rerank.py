"""Reranking: the wrapper, P(yes), the LLM reranker over a client, the cross-encoder."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from agentic_match.errors import ConfigError, DataError, LLMError
from agentic_match.retrieval.rerank import (
    CrossEncoderReranker,
    LLMReranker,
    RerankedRanker,
    make_rerank_node,
    p_yes,
    rerank_run,
)
from agentic_match.retrieval.training.cross_encoder import CrossEncoderConfig, train_cross_encoder
from tests._retrieval_toy import toy_corpus


class KeywordReranker:
    """Scores a pair by shared words of job and resume (deterministic)."""

    def __init__(self):
        self.pairs = []

    def score(self, pairs):
        self.pairs.extend(pairs)
        out = []
        for j, r in pairs:
            jw = set(" ".join(j.fields.values()).lower().split())
            out.append(float(len(jw & set((r.text or "").lower().replace(".", "").split()))))
        return out


class Reverse:
    """A first stage that ranks candidates in reverse input order."""

    def rank(self, queries, candidates, k=100):
        ids = [c.id for c in candidates][::-1][:k]
        return {q.id: {d: float(len(ids) - i) for i, d in enumerate(ids)} for q in queries}


def test_reranked_ranker_reorders_the_top_depth_in_both_directions():
    c = toy_corpus()
    jobs, resumes = list(c.jobs.values()), list(c.resumes.values())
    rr = KeywordReranker()
    ranker = RerankedRanker(Reverse(), rr, depth=8)
    run = ranker.rank(jobs[:2], resumes, k=3)
    assert next(iter(run["j-nurse"])) == "r-nurse" and len(run["j-nurse"]) == 3
    assert all(j.kind == "job" and r.kind == "resume" for j, r in rr.pairs)
    back = ranker.rank(resumes[:1], jobs, k=5)  # resume queries: pairs still (job, resume)
    assert next(iter(back["r-nurse"])) == "j-nurse"
    assert all(j.kind == "job" for j, _ in rr.pairs)
    shallow = RerankedRanker(Reverse(), KeywordReranker(), depth=2).rank(jobs[:1], resumes, k=5)
    assert set(shallow["j-nurse"]) == {"r-law", "r-sales"}  # only the first stage's top 2
    with pytest.raises(ConfigError):
        RerankedRanker(Reverse(), rr, depth=0)


def test_rerank_run_refuses_unknown_candidates_and_node_works():
    c = toy_corpus()
    jobs, resumes = list(c.jobs.values()), list(c.resumes.values())
    with pytest.raises(DataError, match="unknown candidate"):
        rerank_run(KeywordReranker(), jobs[:1], resumes, {"j-nurse": {"r-ghost": 1.0}})
    from agentic_match.data.writers import document_to_row

    node = make_rerank_node(KeywordReranker(), depth=8)
    out = node(
        {
            "queries": [document_to_row(jobs[0])],
            "candidates": [document_to_row(r) for r in resumes],
            "run": Reverse().rank(jobs[:1], resumes),
        }
    )
    assert next(iter(out["run"]["j-nurse"])) == "r-nurse"


def test_p_yes_from_top_logprobs():
    assert p_yes({"Yes": math.log(0.6), " no": math.log(0.2), "maybe": math.log(0.2)}) == pytest.approx(0.75)
    assert p_yes({"yes": math.log(0.3), " Yes": math.log(0.3), "No": math.log(0.2)}) == pytest.approx(0.75)
    assert p_yes({"the": 0.0}) is None


@dataclass
class _C:
    text: str
    top_logprobs: list | None


class FakeLogprobLLM:
    def __init__(self, with_logprobs=True):
        self.with_logprobs, self.sent = with_logprobs, []

    def chat_many(self, batch, **kw):
        self.sent.append(kw)
        out = []
        for m in batch:
            content = m[-1]["content"]
            resume = content.split('type="resume"')[1]
            fit = "nurse" in resume
            tops = (
                [{"yes": math.log(0.9 if fit else 0.1), "no": math.log(0.1 if fit else 0.9)}]
                if "paralegal" not in resume
                else [{"x": 0.0}]
            )
            out.append(_C("yes", tops if self.with_logprobs else None))
        return out


def test_llm_reranker_scores_p_yes_and_counts_unanswered():
    c = toy_corpus()
    llm = FakeLogprobLLM()
    rr = LLMReranker(llm, top_logprobs=5)
    scores = rr.score([(c.jobs["j-nurse"], c.resumes[r]) for r in ("r-nurse", "r-chef", "r-law")])
    assert scores == pytest.approx([0.9, 0.1, 0.5])
    assert rr.unanswered == 1
    assert llm.sent[0] == {"max_tokens": 1, "temperature": 0.0, "logprobs": True, "top_logprobs": 5}
    msg = rr.messages(c.jobs["j-nurse"], c.resumes["r-nurse"])[0]["content"]
    assert msg.count("<document type=") == 2
    with pytest.raises(LLMError, match="log-probabilities"):
        LLMReranker(FakeLogprobLLM(with_logprobs=False)).score([(c.jobs["j-nurse"], c.resumes["r-nurse"])])


def test_llm_reranker_through_the_real_client(tmp_path):
    """Needs ``Completion.top_logprobs`` in the client (see the lead's note); skipped before."""
    from agentic_match.llm import Completion, GenerationCache, LLMClient

    if "top_logprobs" not in Completion.__dataclass_fields__:
        pytest.skip("LLMClient does not return logprobs yet (Completion.top_logprobs)")
    from tests.fake_llm_server import FakeLLMServer

    lp = {
        "content": [
            {
                "token": "Yes",
                "logprob": math.log(0.8),
                "bytes": None,
                "top_logprobs": [
                    {"token": "Yes", "logprob": math.log(0.8), "bytes": None},
                    {"token": "No", "logprob": math.log(0.2), "bytes": None},
                ],
            }
        ]
    }
    with FakeLLMServer() as server:
        server.default = ("Yes", "length", lp)
        llm = LLMClient(server.base_url, None, "m", cache=GenerationCache(tmp_path / "c.sqlite"))
        c = toy_corpus()
        rr = LLMReranker(llm, top_logprobs=2)
        assert rr.score([(c.jobs["j-nurse"], c.resumes["r-nurse"])]) == pytest.approx([0.8])
        assert server.requests[0]["logprobs"] is True and server.requests[0]["top_logprobs"] == 2
        assert rr.score([(c.jobs["j-nurse"], c.resumes["r-nurse"])]) == pytest.approx([0.8])  # from the cache
        assert len(server.requests) == 1


@pytest.mark.parametrize("loss", ["bce", "lambda"])
def test_cross_encoder_trains_resumes_and_reranks(tmp_path, loss):
    c = toy_corpus()
    cfg = CrossEncoderConfig(loss=loss, batch_size=4, max_seq_length=32, list_size=3, learning_rate=5e-5)
    model_dir = train_cross_encoder(c, cfg, tmp_path / "ce", progress=False)
    assert (model_dir / "cross_encoder_config.json").is_file()
    mtime = (model_dir / "cross_encoder_config.json").stat().st_mtime
    assert train_cross_encoder(c, cfg, tmp_path / "ce", progress=False) == model_dir  # finished: returns at once
    assert (model_dir / "cross_encoder_config.json").stat().st_mtime == mtime
    with pytest.raises(ConfigError, match="other settings"):
        train_cross_encoder(
            c, CrossEncoderConfig(loss=loss, epochs=2, max_seq_length=32, list_size=3), tmp_path / "ce", progress=False
        )
    rr = CrossEncoderReranker(model_dir)
    scores = rr.score([(c.jobs["j-nurse"], c.resumes["r-nurse"]), (c.jobs["j-nurse"], c.resumes["r-chef"])])
    assert len(scores) == 2 and all(math.isfinite(s) for s in scores)


def test_cross_encoder_bad_input(tmp_path):
    from agentic_match.data.schema import Corpus, Label

    c = toy_corpus()
    no_pos = Corpus(resumes=c.resumes, jobs=c.jobs, labels=[Label("r-nurse", "j-chef", 0)])
    with pytest.raises(DataError, match="no job with an accepted"):
        train_cross_encoder(no_pos, CrossEncoderConfig(), tmp_path / "x", progress=False)
    with pytest.raises(ConfigError):
        CrossEncoderConfig(loss="softmax")
