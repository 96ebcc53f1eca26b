"""ConFit loss: hand-computed values, masking, gradients, sentence-transformers-style forward."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from agentic_match.retrieval.losses import ConFitLoss, confit_loss

E = math.e


def test_in_batch_value_by_hand():
    r = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    j = torch.tensor([[2.0, 0.0], [0.0, 3.0]])  # scale must not matter: cosine
    # Each row: -log(e^1 / (e^1 + e^0)) with tau = 1, both directions alike.
    expected = math.log(1 + 1 / E)
    got = confit_loss(r, j, temperature=1.0, lam=0.5)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_hard_negatives_and_lambda_by_hand():
    r = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    j = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    neg_j = torch.tensor([[1.0, 0.0]])
    # resume 0: cands [1, 0, 1] -> log(2 + e^-1); resume 1: [0, 1, 0] -> log(1 + 2e^-1)
    to_jobs = (math.log(2 + 1 / E) + math.log(1 + 2 / E)) / 2
    to_resumes = math.log(1 + 1 / E)
    got = confit_loss(r, j, neg_j, None, temperature=1.0, lam=0.25)
    assert got.item() == pytest.approx(0.25 * to_jobs + 0.75 * to_resumes, rel=1e-6)
    # temperature divides the cosines
    got_t = confit_loss(r, j, temperature=0.5, lam=0.5)
    assert got_t.item() == pytest.approx(math.log(1 + math.exp(-2)), rel=1e-6)


def test_mask_removes_known_positive_from_denominator():
    r = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    j = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    neg_j = torch.tensor([[1.0, 0.0]])
    mask = torch.tensor([[False, False, True], [False, False, False]])
    got = confit_loss(r, j, neg_j, None, temperature=1.0, lam=1.0, resume_mask=mask)
    expected = (math.log(1 + 1 / E) + math.log(1 + 2 / E)) / 2
    assert got.item() == pytest.approx(expected, rel=1e-6)


class _Toy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 4)

    def forward(self, features):
        return {"sentence_embedding": self.lin(features["x"])}


def test_module_forward_and_gradient_flow():
    torch.manual_seed(0)
    model = _Toy()
    loss_fn = ConFitLoss(model, temperature=0.05, lam=0.5)
    feats = [{"x": torch.randn(4, 3)}, {"x": torch.randn(4, 3)}, {"x": torch.randn(2, 3)}, None]
    loss = loss_fn(feats, labels=None)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert model.lin.weight.grad is not None and model.lin.weight.grad.abs().sum() > 0
    assert loss_fn.get_config_dict() == {"temperature": 0.05, "lam": 0.5}


def test_fixed_columns_split_between_jobs_and_resumes():
    model = _Toy()
    cols = [{"x": torch.randn(3, 3)} for _ in range(4)]  # resume, job, neg job, neg resume
    a = ConFitLoss(model)(cols)
    emb = [model(c)["sentence_embedding"] for c in cols]
    b = confit_loss(emb[0], emb[1], emb[2], emb[3])
    assert a.item() == pytest.approx(b.item(), rel=1e-5)
    with pytest.raises(ValueError):
        ConFitLoss(model)(cols[:3])  # one extra column: ambiguous


def test_bad_hyper_parameters():
    with pytest.raises(ValueError):
        ConFitLoss(_Toy(), temperature=0)
    with pytest.raises(ValueError):
        ConFitLoss(_Toy(), lam=1.5)
