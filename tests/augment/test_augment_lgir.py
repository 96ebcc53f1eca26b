"""LGIR modules on small synthetic embeddings (fast, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agentic_match.augment.lgir import (
    AdversarialLoss,
    AlignedUser,
    BPRLoss,
    Discriminator,
    Generator,
    LGIRConfig,
    PairScorer,
    ShotClassifier,
    fit_lgir,
    sample_triples,
    shot_labels,
    train_classifier,
    train_gan,
)
from agentic_match.data.schema import Interaction
from agentic_match.errors import DataError

DIM = 8


def test_shot_labels_thresholds():
    cfg = LGIRConfig(few_max=1, many_min=3)
    assert shot_labels({"a": 0, "b": 1, "c": 2, "d": 3, "e": 9}, cfg) == {"a": 0, "b": 0, "d": 1, "e": 1}
    with pytest.raises(ValueError):
        LGIRConfig(few_max=3, many_min=3)


def test_formulas():
    z, x = torch.randn(4, DIM), torch.randn(4, DIM)
    s = PairScorer(DIM)
    manual = s.w(torch.cat([z + x, z - x, z * x], -1)).squeeze(-1)
    assert torch.allclose(s(z, x), manual)
    pos, neg = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 0.0])
    assert torch.isclose(
        BPRLoss()(pos, neg), -(torch.log(torch.sigmoid(torch.tensor(2.0))) + torch.log(torch.tensor(0.5))) / 2
    )
    g = Generator(DIM)
    torch.nn.init.zeros_(g.net[-1].weight), torch.nn.init.zeros_(g.net[-1].bias)
    assert torch.allclose(g(x), x)  # residual: starts at the identity
    d = Discriminator(DIM)
    ld, lg = AdversarialLoss()(d, g, z, x)
    assert ld > 0 and lg > 0


def test_aligned_user_switches_on_classifier():
    c = ShotClassifier(DIM)
    g = Generator(DIM)
    x = torch.randn(6, DIM)
    with torch.no_grad():
        c.net[-1].bias.fill_(100.0)  # everyone many-shot: z = x
        assert torch.allclose(AlignedUser(c, g)(x), x)
        c.net[-1].bias.fill_(-100.0)  # everyone few-shot: z = G(x)
        assert torch.allclose(AlignedUser(c, g)(x), g(x))


def test_gan_moves_few_shot_towards_many_shot():
    torch.manual_seed(0)
    many = torch.randn(256, DIM) * 0.3 + 1.0
    few = torch.randn(256, DIM) * 0.3 - 1.0
    cfg = LGIRConfig(gan_epochs=60, hidden=32, lr=2e-3)
    g, _, hist = train_gan(many, few, cfg)
    with torch.no_grad():
        before = (few.mean(0) - many.mean(0)).norm()
        after = (g(few).mean(0) - many.mean(0)).norm()
    assert after < 0.5 * before and len(hist.loss_d) == 60
    with pytest.raises(DataError):
        train_gan(many, few[:0], cfg)


def test_classifier_separates():
    x = torch.cat([torch.randn(100, DIM) + 2, torch.randn(300, DIM) - 2])
    y = torch.cat([torch.ones(100), torch.zeros(300)])
    c = train_classifier(x, y, LGIRConfig(classifier_epochs=10, hidden=16))
    with torch.no_grad():
        assert ((c(x) >= 0.5).float() == y).float().mean() > 0.95


def test_sample_triples_negatives_are_untouched():
    t = sample_triples({0: {1, 2}, 1: {0}}, n_jobs=5, negatives=3, seed=1)
    assert t.shape == (9, 3)
    for u, _, n in t.tolist():
        assert n not in ({1, 2} if u == 0 else {0})


def test_fit_lgir_ranks_interacted_jobs_higher():
    rng = np.random.default_rng(0)
    jobs = {f"j{k}": rng.normal(size=DIM).astype(np.float32) for k in range(20)}
    resumes, inter = {}, []
    for u in range(60):
        liked = [f"j{k}" for k in rng.choice(20, size=1 + (u % 6), replace=False)]
        resumes[f"r{u}"] = (np.mean([jobs[j] for j in liked], 0) + 0.1 * rng.normal(size=DIM)).astype(np.float32)
        inter += [Interaction(f"r{u}", j) for j in liked]
    model = fit_lgir(
        resumes,
        jobs,
        inter,
        LGIRConfig(few_max=2, many_min=4, gan_epochs=5, classifier_epochs=5, scorer_epochs=40, hidden=16, lr=5e-3),
    )
    assert model.scorer_losses[-1] < model.scorer_losses[0]
    scores = model.score(np.stack(list(resumes.values())), np.stack(list(jobs.values())))
    assert scores.shape == (60, 20)
    jidx = {j: k for k, j in enumerate(jobs)}
    pos = {(int(i.resume_id[1:]), jidx[i.job_id]) for i in inter}
    pos_mean = np.mean([scores[u, j] for u, j in pos])
    neg_mean = np.mean([scores[u, j] for u in range(60) for j in range(20) if (u, j) not in pos])
    assert pos_mean > neg_mean

    # As a Ranker: resume queries over jobs, and job queries over resumes (same scores).
    from agentic_match.augment.lgir import LGIRRanker
    from agentic_match.data.schema import Document

    vecs = {**resumes, **jobs}

    class Lookup:
        def encode(self, docs):
            return np.stack([vecs[d.id] for d in docs])

    rdocs = [Document(r, "resume", text=r) for r in list(resumes)[:3]]
    jdocs = [Document(j, "job", text=j) for j in jobs]
    ranker = LGIRRanker(model, Lookup())
    by_resume = ranker.rank(rdocs, jdocs, k=5)
    assert len(by_resume["r0"]) == 5 and list(by_resume["r0"].values()) == sorted(
        by_resume["r0"].values(), reverse=True
    )
    by_job = ranker.rank(jdocs[:2], rdocs, k=10)
    assert by_job["j0"]["r1"] == pytest.approx(float(scores[1, 0]))
    with pytest.raises(DataError, match="without an embedding"):
        fit_lgir(resumes, jobs, [Interaction("ghost", "j1")])
