"""LGIR's recommender on small synthetic embeddings (fast, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agentic_match.augment.lgir import (
    AdversarialLoss,
    AlignedUser,
    Discriminator,
    Generator,
    LGIRConfig,
    PairScorer,
    RecommendationLoss,
    ShotClassifier,
    Tower,
    fit_lgir,
    sample_triples,
    shot_labels,
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


def test_adversarial_step_moves_few_shot_towards_many_shot():
    """Equations 9-10 alone: G learns to map the few-shot cloud onto the many-shot one."""
    torch.manual_seed(0)
    many = torch.randn(256, DIM) * 0.3 + 1.0
    few = torch.randn(256, DIM) * 0.3 - 1.0
    g, d, adv = Generator(DIM, 32), Discriminator(DIM, 32), AdversarialLoss()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-3, betas=(0.5, 0.999))
    for _ in range(600):
        idx = torch.randint(256, (64,))
        loss_d, loss_g = adv(d, g, many[idx], few[idx])
        opt_d.zero_grad()
        loss_d.backward(inputs=list(d.parameters()))
        opt_g.zero_grad()
        loss_g.backward(inputs=list(g.parameters()))
        opt_d.step()
        opt_g.step()
    with torch.no_grad():
        before = (few.mean(0) - many.mean(0)).norm()
        after = (g(few).mean(0) - many.mean(0)).norm()
    assert after < 0.5 * before


def test_tower_reads_id_and_text_and_unknown_ids_are_zero():
    tower = Tower(n_ids=3, text_dim=DIM, id_dim=4, hidden=16, dim=5)
    text = torch.randn(2, DIM)
    assert tower(torch.tensor([0, 3]), text).shape == (2, 5)
    assert torch.all(tower.ids.weight[3] == 0)  # the unknown id: text alone
    manual = tower.mlp(torch.cat([torch.zeros(1, 4), text[1:]], -1))
    assert torch.allclose(tower(torch.tensor([3]), text[1:]), manual)
    text_only = Tower(n_ids=3, text_dim=DIM, id_dim=0, hidden=16, dim=5)
    assert text_only.ids is None and text_only(torch.tensor([0]), text[:1]).shape == (1, 5)


def test_recommendation_loss_is_bpr_plus_l2():
    pos, neg = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 0.0])
    w = torch.ones(3)
    bpr = -(torch.log(torch.sigmoid(torch.tensor(2.0))) + torch.log(torch.tensor(0.5))) / 2
    assert torch.isclose(RecommendationLoss(l2=0.0)(pos, neg, [w]), bpr)
    assert torch.isclose(RecommendationLoss(l2=0.1)(pos, neg, [w]), bpr + 0.3)


def test_sample_triples_negatives_are_untouched():
    t = sample_triples({0: {1, 2}, 1: {0}}, n_jobs=5, negatives=3, seed=1)
    assert t.shape == (9, 3)
    for u, _, n in t.tolist():
        assert n not in ({1, 2} if u == 0 else {0})


def _synthetic(n_users: int = 80, n_jobs: int = 20, seed: int = 0):
    """Users whose resume vector is near the mean of the jobs they interacted with."""
    rng = np.random.default_rng(seed)
    jobs = {f"j{k}": rng.normal(size=DIM).astype(np.float32) for k in range(n_jobs)}
    resumes, inter = {}, []
    for u in range(n_users):
        liked = [f"j{k}" for k in rng.choice(n_jobs, size=1 + (u % 6), replace=False)]
        resumes[f"r{u}"] = (np.mean([jobs[j] for j in liked], 0) + 0.1 * rng.normal(size=DIM)).astype(np.float32)
        inter += [Interaction(f"r{u}", j) for j in liked]
    return resumes, jobs, inter


FAST = {"few_max": 2, "many_min": 4, "hidden": 16, "tower_hidden": 16, "dim": 8, "lr": 5e-3, "batch_size": 64}


def test_fit_lgir_ranks_interacted_jobs_higher():
    resumes, jobs, inter = _synthetic()
    model = fit_lgir(resumes, jobs, inter, LGIRConfig(epochs=40, **FAST))
    hist = model.history
    assert hist.loss_rec[-1] < hist.loss_rec[0]
    assert len(hist.loss_d) == 40 and all(x > 0 for x in hist.loss_d)  # the GAN trained beside it
    scores = model.score(np.stack(list(resumes.values())), np.stack(list(jobs.values())), list(resumes), list(jobs))
    assert scores.shape == (80, 20)
    jidx = {j: k for k, j in enumerate(jobs)}
    pos = {(int(i.resume_id[1:]), jidx[i.job_id]) for i in inter}
    pos_mean = np.mean([scores[u, j] for u, j in pos])
    neg_mean = np.mean([scores[u, j] for u in range(80) for j in range(20) if (u, j) not in pos])
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
    assert by_job["j0"]["r1"] == pytest.approx(float(scores[1, 0]), rel=1e-5)
    with pytest.raises(DataError, match="without an embedding"):
        fit_lgir(resumes, jobs, [Interaction("ghost", "j1")])


def test_unseen_users_are_scored_from_their_text():
    """A new candidate (no ID row) still ranks the jobs near their resume first."""
    resumes, jobs, inter = _synthetic(seed=1)
    model = fit_lgir(resumes, jobs, inter, LGIRConfig(epochs=40, id_dropout=0.3, **FAST))
    jv = np.stack(list(jobs.values()))
    hits = 0
    for k in range(20):
        new_user = jv[k : k + 1] + 0.05  # a resume that reads like job k
        scores = model.score(new_user, jv, ["new"], list(jobs))[0]
        hits += int(np.argsort(-scores)[:5].tolist().count(k))
    assert hits >= 12  # well above the 5 of 20 a random order would give


def test_early_stopping_keeps_the_best_validation_epoch():
    resumes, jobs, inter = _synthetic(n_users=150, seed=2)
    val = inter[::4]
    train = [i for k, i in enumerate(inter) if k % 4]
    # Text only: these likes are random, so ID embeddings could only memorise them, and the
    # held-out ones are predictable from the resume text alone.
    cfg = LGIRConfig(epochs=200, patience=5, id_embeddings=False, **FAST)
    model = fit_lgir(resumes, jobs, train, cfg, validation=val)
    hist = model.history
    assert len(hist.val_auc) < 200  # stopped early
    assert hist.best_epoch == int(np.argmax(hist.val_auc)) and len(hist.val_auc) == hist.best_epoch + 6
    assert max(hist.val_auc) > 0.6  # held-out interactions above sampled jobs
    with pytest.raises(DataError, match="many-shot and few-shot"):
        fit_lgir(resumes, jobs, [Interaction("r0", "j0")], LGIRConfig(**FAST))


def test_score_is_equation_12_plus_the_text_prior():
    from agentic_match.augment.lgir import LGIRNet

    net = LGIRNet(n_users=3, n_jobs=4, text_dim=DIM, config=LGIRConfig(**FAST))
    u_text, j_text = torch.randn(2, DIM), torch.randn(2, DIM)
    uid, jid = torch.tensor([0, 1]), torch.tensor([2, 3])
    _, z = net.represent_user(uid, u_text)
    manual = net.scorer(z, net.job(jid, j_text)) + net.text_scale * torch.cosine_similarity(u_text, j_text, dim=-1)
    assert torch.allclose(net.score(z, u_text, jid, j_text), manual)
    plain = LGIRNet(3, 4, DIM, LGIRConfig(text_prior=False, **FAST))
    assert plain.text_scale is None


def test_completions_are_fused_into_the_users_text_vector():
    from agentic_match.augment.completion import INFERRED_FIELD
    from agentic_match.augment.lgir import embed_completed_resumes, fuse_completions
    from agentic_match.data.schema import Document

    base = {"a": np.array([1.0, 0.0], dtype=np.float32), "b": np.array([0.0, 1.0], dtype=np.float32)}
    fused = fuse_completions(base, {"a": np.array([0.0, 1.0])}, weight=0.5)
    assert np.allclose(fused["a"], [2**-0.5, 2**-0.5]) and np.array_equal(fused["b"], base["b"])
    with pytest.raises(ValueError, match="weight"):
        fuse_completions(base, {}, weight=1.5)

    from agentic_match.data.render import render

    class Words:  # one dimension per word of the rendered document: "nurse", "icu"
        def encode(self, docs):
            return np.stack([[float("nurse" in t), float("icu" in t)] for t in (render(d).lower() for d in docs)])

    done = Document("a", "resume", {"summary": "Nurse", INFERRED_FIELD: "ICU"}, "Nurse")
    plain = Document("b", "resume", text="ICU")
    vecs = embed_completed_resumes(Words(), [done, plain], weight=0.5)
    # the inferred text is read apart (never as if the user wrote it) and fused in
    assert np.allclose(vecs["a"], [2**-0.5, 2**-0.5]) and np.allclose(vecs["b"], [0.0, 1.0])
