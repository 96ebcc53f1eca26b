"""The counterfactual audit: exact numbers with hand-made scorers, then the real MiniLM."""

from __future__ import annotations

import numpy as np
import pytest

from agentic_match.data.schema import Document
from agentic_match.fairness.counterfactual import (
    AuditConfig,
    CounterfactualConfig,
    EncoderScorer,
    PairScorer,
    RankerScorer,
    counterfactual_audit,
    counterfactual_pair,
    inferred_groups,
    make_counterfactuals,
)
from agentic_match.fairness.lexicon import Lexicon

JOBS = [
    Document("j-nurse", "job", fields={"title": "Registered nurse", "responsibilities": "Care for patients on a ward"}),
    Document("j-dev", "job", fields={"title": "Python developer", "responsibilities": "Build APIs and services"}),
]
RESUMES = [
    Document("r1", "resume", text="She is a registered nurse; her patients praised her care."),
    Document("r2", "resume", text="He writes Python services; his APIs serve millions."),
    Document("r3", "resume", text="Nurse with ten years on surgical wards."),
    Document("r4", "resume", fields={"title": "Developer", "summary": "Backend engineer, Python and Go."}),
]


def _biased(pairs):
    # +1 for any female marker: the audit must report exactly +1 towards "female".
    return [1.0 + (" she " in f" {c.text or ''} ".lower()) for q, c in pairs]


def test_counterfactual_documents():
    lex = Lexicon.load()
    p = counterfactual_pair(RESUMES[0], lex)
    assert p.counterfactual.text == "He is a registered nurse; his patients praised his care."
    assert p.base_side == "female" and p.changed and p.counterfactual.id == "r1"
    assert not counterfactual_pair(RESUMES[2], lex).changed
    injected = make_counterfactuals(RESUMES, lex, CounterfactualConfig(inject_names=True, seed=1))
    assert all(x.changed for x in injected)
    assert injected[0].base.text.startswith("Name: ") and injected[0].base_side == "female"
    assert injected[3].base.fields["title"].startswith("Name: ")  # field-only document
    assert inferred_groups(RESUMES) == {"r1": "female", "r2": "male"}


def test_neutral_scorer_shows_no_shift():
    result = counterfactual_audit(PairScorer(lambda pairs: [1.0] * len(pairs)), JOBS, RESUMES, config=AuditConfig(k=1))
    assert result.n_changed == 2 and result.shift["mean_abs"] == 0.0
    assert result.rank_resume["lists_changed@1"] == 0.0 and result.rank_resume["flips@1"] == 0.0


def test_biased_scorer_direction_and_ranks():
    result = counterfactual_audit(PairScorer(_biased), JOBS, RESUMES, config=AuditConfig(k=1, worst=3))
    # r1 (female) loses 1, r2 (male) gains 1; female - male = +1 for both
    assert result.side_gap["female-male"] == pytest.approx(1.0)
    assert result.shift["mean_abs"] == pytest.approx(1.0) and result.shift["mean"] == pytest.approx(0.0)
    # originally r1 is first for both jobs (score 2 vs 1); swapped, r2 is first: every list changes
    assert result.rank_resume["lists_changed@1"] == 1.0
    worst = {(w.job_id, w.resume_id): w for w in result.worst}
    w = worst[("j-nurse", "r1")]
    # rank = 1 + number of strictly higher scores: swapped alone, r1 ties the others at 1
    assert (w.base_rank, w.cf_rank, w.delta) == (1, 1, -1.0)
    assert worst[("j-nurse", "r2")].cf_rank == 1
    assert result.swap_counts["she->he"] == 1
    assert result.base_run()["j-nurse"]["r1"] == 2.0


def test_real_minilm_audit():
    from agentic_match.retrieval.encoder import BiEncoder

    enc = BiEncoder.load("all-minilm-l6-v2")
    result = counterfactual_audit(enc, JOBS, RESUMES, config=AuditConfig(k=2))
    assert result.n_changed == 2 and result.deltas.shape == (4,)
    assert np.isfinite(result.deltas).all() and result.shift["mean_abs"] > 0  # MiniLM does read pronouns
    assert result.shift["max_abs"] < 5.0  # a pronoun swap is a small move on the cos/τ scale
    assert abs(result.side_gap["female-male"]) <= result.shift["max_abs"]
    # the nurse job ranks a nurse resume first either way
    assert max(result.base_run()["j-nurse"].items(), key=lambda kv: kv[1])[0] in {"r1", "r3"}
    # through the Ranker protocol the scores are the same cos / τ
    via_rank = RankerScorer(enc).score(JOBS, RESUMES)
    assert np.allclose(via_rank, EncoderScorer(enc).score(JOBS, RESUMES), atol=1e-3)
