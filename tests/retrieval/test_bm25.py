"""BM25 ranking (bm25s + PyStemmer) and top-k mining."""

from __future__ import annotations

import pytest

from agentic_match.data.schema import Document
from agentic_match.errors import ConfigError
from agentic_match.retrieval import Ranker
from agentic_match.retrieval.bm25 import BM25Config, BM25Ranker, bm25_top_k
from tests._retrieval_toy import toy_corpus


def test_bm25_ranks_each_topic_first_both_directions() -> None:
    corpus = toy_corpus()
    ranker = BM25Ranker()
    assert isinstance(ranker, Ranker)
    jobs, resumes = list(corpus.jobs.values()), list(corpus.resumes.values())
    run = ranker.rank(jobs, resumes, k=3)
    for job in jobs:
        top = max(run[job.id], key=run[job.id].get)
        assert top == "r-" + job.id[2:], (job.id, run[job.id])
        assert len(run[job.id]) <= 3
    run = ranker.rank(resumes, jobs, k=100)
    assert all(max(run[r.id], key=run[r.id].get) == "j-" + r.id[2:] for r in resumes)
    assert all(s > 0 for docs in run.values() for s in docs.values())


def test_stemming_and_stopwords() -> None:
    cands = ["she runs marathons", "the and of a", "cooking pasta"]
    hits = bm25_top_k(["running"], cands, k=3)
    assert [i for i, _ in hits[0]] == [0]  # only the stemmed match; stopwords never match
    assert bm25_top_k(["running"], cands, k=3, config=BM25Config(stemmer=None)) == [[]]


def test_bm25_top_k_shapes() -> None:
    cands = ["python developer", "python python engineer", "chef"]
    hits = bm25_top_k(["python engineer", "zzz", ""], cands, k=10)
    assert len(hits) == 3
    assert [i for i, _ in hits[0]] == [1, 0]
    assert hits[0][0][1] > hits[0][1][1] > 0
    assert hits[1] == [] and hits[2] == []
    assert bm25_top_k([], cands, k=2) == []
    assert bm25_top_k(["python"], [], k=2) == [[]]
    assert len(bm25_top_k(["python"], cands, k=1)[0]) == 1


def test_query_with_no_candidates_and_config_errors() -> None:
    q = Document("q", "job", text="python")
    assert BM25Ranker().rank([q], [], k=5) == {"q": {}}
    with pytest.raises(ConfigError):
        BM25Config(b=2.0)
    with pytest.raises(ConfigError):
        BM25Config(method="tfidf")
    with pytest.raises(ConfigError, match="stemmer language"):
        BM25Ranker(config=BM25Config(stemmer="klingon"))
    with pytest.raises(ConfigError):
        bm25_top_k(["a"], ["a"], k=0)
