"""The fairness loss (values and gradients), its composition with ConFit, and a tiny training run."""

from __future__ import annotations

import pytest
import torch

from agentic_match.errors import ConfigError
from agentic_match.fairness.mitigation import (
    FairConFitLoss,
    FairnessLoss,
    FairTrainConfig,
    batch_fairness_inputs,
    train_fair_confit,
)
from tests._retrieval_toy import toy_corpus


def test_dp_value_and_gradient():
    s = torch.tensor([2.0, 0.0, -1.0, 1.0], requires_grad=True)
    g = torch.tensor([0, 0, 1, 1])
    loss = FairnessLoss("dp")(s, g)
    p = torch.sigmoid(s.detach())
    m0, m1 = p[:2].mean(), p[2:].mean()
    assert loss.item() == pytest.approx(abs(m0 - m1).item())
    loss.backward()
    d = p * (1 - p) / 2  # d mean / d s_i within a group of two
    sign = 1.0 if m0 > m1 else -1.0
    assert torch.allclose(s.grad, torch.stack([sign * d[0], sign * d[1], -sign * d[2], -sign * d[3]]))
    # descending the gradient narrows the gap
    with torch.no_grad():
        s2 = s - 0.5 * s.grad
    assert FairnessLoss("dp")(s2, g).item() < loss.item()


def test_eo_eodds_and_unknown_groups():
    s = torch.tensor([3.0, -3.0, 0.0, 0.0, 5.0])
    g = torch.tensor([0, 1, 0, 1, -1])  # the last row has no group and is ignored
    y = torch.tensor([1, 1, 0, 0, 1])
    p = torch.sigmoid(s)
    assert FairnessLoss("eo")(s, g, y).item() == pytest.approx((p[0] - p[1]).item())
    assert FairnessLoss("eodds")(s, g, y).item() == pytest.approx((p[0] - p[1]).item())  # FPR gap is 0
    assert FairnessLoss("dp", squared=True)(s, g).item() == pytest.approx(
        (((p[0] + p[2]) / 2 - (p[1] + p[3]) / 2) ** 2).item()
    )
    one_group = FairnessLoss("dp")(s.clone().requires_grad_(), torch.tensor([0, 0, 0, 0, -1]))
    assert one_group.item() == 0.0
    with pytest.raises(ValueError, match="needs labels"):
        FairnessLoss("eo")(s, g)
    with pytest.raises(ConfigError):
        FairnessLoss("parity")


def test_batch_inputs_centre_rows_and_label_positives():
    jobs, resumes = torch.randn(3, 8), torch.randn(5, 8)
    logits, y = batch_fairness_inputs(
        jobs, resumes, 0.05, torch.zeros(3, 5, dtype=torch.bool).index_fill_(1, torch.tensor([4]), True)
    )
    assert logits.shape == (3, 5) and torch.allclose(logits.mean(dim=1), torch.zeros(3), atol=1e-5)
    assert y[:, 4].all() and y[0, 0] and y[1, 1] and not y[0, 1]


@pytest.fixture(scope="module")
def minilm():
    from agentic_match.models import resolve_encoder
    from agentic_match.retrieval.encoder import load_sentence_transformer as _load_st

    model = _load_st(resolve_encoder("all-minilm-l6-v2"), "cpu")
    model.max_seq_length = 32
    return model


def test_fair_confit_loss_composes_and_backpropagates(minilm):
    from agentic_match.retrieval.losses import ConFitLoss

    texts_r = ["nurse caring for patients", "python developer", "accountant for audits"]
    texts_j = ["hospital nurse", "backend engineer", "staff accountant"]
    feats = [minilm.preprocess(texts_r), minilm.preprocess(texts_j)]
    base = ConFitLoss(minilm)
    zero = FairConFitLoss(base, FairnessLoss("dp"), beta=0.0)
    plain = zero(feats, resume_groups=torch.tensor([0, 1, 1]))
    ref = base(feats)
    assert plain.item() == pytest.approx(ref.item(), rel=1e-5)
    assert zero.last_terms["fair"] > 0  # logged, not added
    minilm.zero_grad()
    fair = FairConFitLoss(base, FairnessLoss("dp"), beta=10.0)
    total = fair(feats, resume_groups=torch.tensor([0, 1, 1]))
    assert total.item() == pytest.approx(fair.last_terms["utility"] + 10.0 * fair.last_terms["fair"], rel=1e-4)
    assert fair.last_terms["fair"] > 0
    total.backward()
    grads = [p.grad for p in minilm.parameters() if p.requires_grad and p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    minilm.zero_grad()


def test_train_fair_confit_tiny(tmp_path):
    from agentic_match.retrieval.encoder import BiEncoder
    from agentic_match.retrieval.training import ConFitConfig

    corpus = toy_corpus()
    groups = {rid: ("a" if i % 2 else "b") for i, rid in enumerate(sorted(corpus.resumes))}
    cfg = FairTrainConfig(
        confit=ConFitConfig(epochs=1, batch_size=4, max_seq_length=32, eval_split=None),
        beta=1.0,
        criterion="dp",
        cda=True,
    )
    result = train_fair_confit(corpus, cfg, tmp_path / "run", groups=groups, progress=False)
    assert result.history[0]["steps"] >= 2 and result.history[0]["fair"] >= 0
    assert result.n_pairs == 8 and result.group_counts == {"a": 4, "b": 4}
    enc = BiEncoder.load(result.model_dir)
    assert enc.encode(["nurse"]).shape == (1, 384) and enc.max_seq_length == 32
    again = train_fair_confit(corpus, cfg, tmp_path / "run", groups=groups, progress=False)
    assert again.history == result.history  # a finished run is reused
