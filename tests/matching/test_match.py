"""Matcher: augmentation per direction, retrieval, reranking, verified explanations, errors.

Real encoder (the packaged MiniLM) and FAISS; a scripted fake LLM and a fake reranker.
"""

from __future__ import annotations

import dataclasses

import pytest

from agentic_match.data import Document, render
from agentic_match.errors import ConfigError
from agentic_match.matching import MatchConfig, Matcher, QueryNotFoundError, UnavailableError
from agentic_match.retrieval.index import IndexMismatchError, VectorIndex
from tests._match_fakes import FABRICATED, FakeLLM


class ReverseReranker:
    """Scores a pair by the resume id, so the reranked order is predictable."""

    def __init__(self):
        self.pairs = []

    def score(self, pairs):
        self.pairs.extend(pairs)
        return [-int(r.id.rsplit("-", 1)[1]) for _, r in pairs]


def test_job_query_hyre_retrieve_and_explain(encoder, corpus):
    llm = FakeLLM()
    m = Matcher(encoder, corpus, llm=llm, config=MatchConfig(k=4, explain_method="llm_quotes"))
    events = []
    res = m.match("demo-j-01", kind="job", explain=True, on_event=events.append)
    assert res.query_kind == "job" and res.candidate_kind == "resume"
    assert res.augmentation.method == "hyre" and res.augmentation.applied and res.augmentation.generated
    assert llm.calls["hyre"] == 1
    assert [c.rank for c in res.candidates] == [1, 2, 3, 4]
    scores = [c.score for c in res.candidates]
    assert scores == sorted(scores, reverse=True) and all(c.id in corpus.resumes for c in res.candidates)
    for c in res.candidates:
        text = render(corpus.resumes[c.id])
        e = c.explanation
        assert e is not None and e.problem is None and e.resume_id == c.id and e.job_id == "demo-j-01"
        assert [x.requirement for x in e.met] == ["relevant background"] and e.met[0].quote in text
        assert [x.requirement for x in e.unverified] == ["surgery"] and e.dropped_quotes == 1
        assert FABRICATED not in e.model_dump_json()
    kinds = [e["event"] for e in events]
    assert kinds[:2] == ["augmented", "retrieved"] and kinds.count("explanation") == 4
    assert set(res.timings) >= {"augment_s", "retrieve_s", "explain_s", "total_s"}


def test_augmentation_changes_the_query_but_not_what_is_explained(encoder, corpus):
    m = Matcher(encoder, corpus, llm=FakeLLM())
    plain = m.match("demo-j-02", kind="job", k=5, augment=False)
    assert plain.augmentation.method is None and not plain.augmentation.applied
    aug = m.match("demo-j-02", kind="job", k=5)
    assert aug.augmentation.applied
    assert [c.score for c in aug.candidates] != [c.score for c in plain.candidates]


def test_resume_query_irc_only_with_interactions(encoder, corpus):
    llm = FakeLLM()
    m = Matcher(encoder, corpus, llm=llm, config=MatchConfig(explain_method="llm_quotes"))
    with_hist = m.match("demo-r-012", kind="resume", k=3, explain=True)
    assert with_hist.augmentation.method == "irc" and with_hist.augmentation.applied
    assert with_hist.candidate_kind == "job" and all(c.id in corpus.jobs for c in with_hist.candidates)
    assert llm.calls["complete"] == 1
    # The explanation reads the resume as written: the inferred text is no evidence.
    assert all("Candidate interested" not in s for s in llm.explained)
    for c in with_hist.candidates:
        assert c.explanation.resume_id == "demo-r-012" and c.explanation.job_id == c.id
    no_hist = m.match("demo-r-007", kind="resume", k=3)
    assert not no_hist.augmentation.applied and no_hist.augmentation.note == "no interactions for IRC"
    assert llm.calls["complete"] == 1


def test_rerank_reorders_the_first_stage(encoder, corpus):
    rr = ReverseReranker()
    m = Matcher(encoder, corpus, reranker=rr, config=MatchConfig(k=3, rerank_depth=8))
    first = m.match("demo-j-03", kind="job", k=8)
    res = m.match("demo-j-03", kind="job", rerank=True)
    assert res.reranked and len(res.candidates) == 3 and len(rr.pairs) == 8
    pool = sorted((c.id for c in first.candidates), key=lambda r: int(r.rsplit("-", 1)[1]))
    assert [c.id for c in res.candidates] == pool[:3]
    by_id = {c.id: c.score for c in first.candidates}
    assert all(c.retrieval_score == pytest.approx(by_id[c.id]) for c in res.candidates)
    assert all(j.kind == "job" and r.kind == "resume" for j, r in rr.pairs)


def test_ad_hoc_query_and_errors(encoder, corpus):
    m = Matcher(encoder, corpus)
    job = Document("new-job", "job", text="Registered nurse for an intensive care unit.")
    res = m.match(job, k=2)
    assert res.query_id == "new-job" and len(res.candidates) == 2
    assert res.augmentation.note == "no LLM configured"
    with pytest.raises(QueryNotFoundError, match="no job with id 'nope'"):
        m.match("nope", kind="job")
    with pytest.raises(ConfigError, match="k must be between 1 and 100"):
        m.match("demo-j-01", kind="job", k=0)
    # Evidence explanations need no LLM; the LLM methods do.
    assert all(
        c.explanation.method == "evidence" for c in m.match("demo-j-01", kind="job", k=2, explain=True).candidates
    )
    for method in ("evidence+llm", "llm_quotes"):
        with pytest.raises(UnavailableError, match="needs an LLM"):
            Matcher(encoder, corpus, config=MatchConfig(explain_method=method)).match("demo-j-01", explain=True)
    with pytest.raises(UnavailableError, match="no reranker"):
        m.match("demo-j-01", kind="job", rerank=True)
    assert m.resolve("demo-j-01").kind == "job"  # kind looked up when not given


def test_prebuilt_index_is_checked(encoder, corpus):
    m = Matcher(encoder, corpus).prepare()
    index = m.index("resume")
    other = VectorIndex(index.dim, encoder_fingerprint="another-encoder")
    with pytest.raises(IndexMismatchError):
        Matcher(encoder, corpus, indexes={"resume": other})
    shared = Matcher(encoder, corpus, indexes={"resume": index})
    assert shared.index("resume") is index
    a = m.match("demo-j-04", kind="job", k=5)
    b = shared.match("demo-j-04", kind="job", k=5)
    assert [c.id for c in a.candidates] == [c.id for c in b.candidates]


def test_config_validation():
    with pytest.raises(ConfigError):
        MatchConfig(k=0)
    with pytest.raises(ConfigError):
        dataclasses.replace(MatchConfig(), explain_workers=0)
