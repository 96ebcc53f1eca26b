"""Runner-Up Mining on toy score matrices, band choice, BM25 and rejected negatives."""

from __future__ import annotations

import numpy as np
import pytest

from agentic_match.data.schema import Corpus, Document, Label
from agentic_match.errors import ConfigError, DataError
from agentic_match.retrieval.mining import (
    PairNegatives,
    band_candidates,
    band_ranks,
    bm25_negatives,
    choose_band,
    load_negatives,
    mine_runner_up,
    parse_band,
    rejected_negatives,
    sample_band_negatives,
    save_negatives,
)
from tests._retrieval_toy import toy_corpus


def test_band_ranks_and_candidates():
    assert band_ranks(100, (3, 4)).tolist() == [3]
    assert band_ranks(200, (3, 4)).tolist() == [6, 7]
    assert band_ranks(10, (3, 4)).tolist() == [0]  # never empty: falls back to the band's start
    scores = np.linspace(1, 0, 100)[::-1]  # candidate 99 best ... candidate 0 worst
    assert band_candidates(scores, (0, 3)) == [99, 98, 97]
    # positives keep their rank slot and are then dropped
    assert band_candidates(scores, (0, 3), exclude=[98]) == [99, 97]


def test_sample_band_negatives_is_seeded_and_drops_positives():
    rng = np.random.default_rng(0)
    scores = rng.random((3, 200))
    cands = [f"c{i}" for i in range(200)]
    top = np.argsort(-scores, axis=1)
    positives = {"q0": {cands[top[0, 10]]}}  # a known positive inside q0's 5-10% band
    out = sample_band_negatives(["q0", "q1", "q2"], cands, scores, (5, 10), positives, n=3, seed=1)
    for qi, q in enumerate(["q0", "q1", "q2"]):
        band = {cands[c] for c in top[qi, 10:20]}
        assert len(out[q]) == 3 and set(out[q]) <= band
    assert cands[top[0, 10]] not in out["q0"]
    again = sample_band_negatives(["q2", "q0", "q1"], cands, scores[[2, 0, 1]], (5, 10), positives, n=3, seed=1)
    assert again == out  # a query's sample depends on the seed and its id only
    other = sample_band_negatives(["q0", "q1", "q2"], cands, scores, (5, 10), positives, n=3, seed=2)
    assert other != out


class _FakeEncoder:
    """Vectors by document id: resume/job i share direction i (their topic); resume i also
    leans towards topic i + 1, so job i + 1 (and, seen from job i, resume i - 1) is the runner-up."""

    def __init__(self, n: int) -> None:
        self.n = n

    def encode(self, docs):
        out = np.zeros((len(docs), self.n), dtype=np.float32)
        for row, d in enumerate(docs):
            i = int(d.id.split("-")[1])
            out[row, i] = 1.0
            if d.kind == "resume":
                out[row, (i + 1) % self.n] = 0.5
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _numbered(n=20, dev=False):
    resumes = {f"r-{i}": Document(f"r-{i}", "resume", text=f"resume {i}") for i in range(n)}
    jobs = {f"j-{i}": Document(f"j-{i}", "job", text=f"job {i}") for i in range(n)}
    labels = [Label(f"r-{i}", f"j-{i}", 1) for i in range(n)]
    corpus = Corpus(resumes=resumes, jobs=jobs, labels=labels)
    if dev:
        corpus.qrels = {
            "dev_rank_resume": {f"j-{i}": {f"r-{i}": 1} for i in range(n)},
            "dev_rank_job": {f"r-{i}": {f"j-{i}": 1} for i in range(n)},
        }
        corpus.splits = {"resumes": {"dev": list(resumes)}, "jobs": {"dev": list(jobs)}}
    return corpus


def test_mine_runner_up_picks_the_band_and_never_a_positive():
    corpus = _numbered(20)
    negs, report = mine_runner_up(_FakeEncoder(20), corpus, (5, 10), per_pair=1, seed=0)
    assert report.pairs == 20
    for i in range(20):
        pn = negs[(f"r-{i}", f"j-{i}")]
        # rank 0 is the positive (dropped), rank 1 (5% of 20) is the next topic
        assert pn.jobs == (f"j-{(i + 1) % 20}",)
        assert pn.resumes == (f"r-{(i - 1) % 20}",)
    top, _ = mine_runner_up(_FakeEncoder(20), corpus, (0, 5), per_pair=1)
    assert all(not v.jobs for v in top.values())  # the band held only the positive


def test_choose_band_skips_bands_full_of_positives():
    corpus = _numbered(20, dev=True)
    band, shares = choose_band(_FakeEncoder(20), corpus, [(0, 5), (5, 10), (10, 20)], max_positive_share=0.2)
    assert shares["0-5"] == 1.0 and shares["5-10"] == 0.0
    assert band == (5, 10)
    with pytest.raises(DataError):
        choose_band(_FakeEncoder(20), _numbered(20), [(0, 5)])


def test_rejected_negatives_and_file_roundtrip(tmp_path):
    corpus = toy_corpus()
    negs = rejected_negatives(corpus.labels)
    assert negs[("r-nurse", "j-nurse")] == PairNegatives(("j-chef",), ("r-law",))
    path = save_negatives(tmp_path / "n.jsonl", negs)
    assert load_negatives(path, corpus) == negs
    (tmp_path / "bad.jsonl").write_text('{"resume_id": "r-x", "job_id": "j-nurse"}\n')
    with pytest.raises(DataError, match="unknown id"):
        load_negatives(tmp_path / "bad.jsonl", corpus)
    with pytest.raises(DataError, match="not found"):
        load_negatives(tmp_path / "missing.jsonl")


def test_bm25_negatives_skip_positives():
    corpus = toy_corpus()
    negs = bm25_negatives(corpus, top_k=3, per_pair=1)
    for (r, j), pn in negs.items():
        assert j not in pn.jobs and r not in pn.resumes
        assert len(pn.jobs) <= 1 and len(pn.resumes) <= 1


def test_parse_band():
    assert parse_band("3-4") == (3.0, 4.0)
    assert parse_band("0.5-1%") == (0.5, 1.0)
    for bad in ("4-3", "x", "3", "0-101"):
        with pytest.raises(ConfigError):
            parse_band(bad)
