"""RankPO / SimRankPO / SFT losses: the formula, edge cases, gradients."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from agentic_match.align.losses import (
    PairwiseSFTLoss,
    PreferenceSFTLoss,
    RankPOLoss,
    pairwise_sft_loss,
    preference_margins,
    preference_sft_loss,
    rankpo_loss,
)


def _emb(seed: int, n: int = 4, d: int = 8) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_margins_are_cosine_differences():
    q, c, r = _emb(0), _emb(1), _emb(2)
    want = F.cosine_similarity(q, c) - F.cosine_similarity(q, r)
    assert torch.allclose(preference_margins(q, c, r), want, atol=1e-6)


def test_rankpo_sigmoid_matches_formula_by_hand():
    q, c, r = _emb(0), _emb(1), _emb(2)
    ref = torch.tensor([0.1, -0.2, 0.0, 0.3])
    tau, beta, gamma, eps = 0.1, 2.0, 0.5, 0.1
    delta = F.cosine_similarity(q, c) - F.cosine_similarity(q, r) - ref
    z = delta / tau - gamma
    want = (-(1 - eps) * F.logsigmoid(beta * z) - eps * F.logsigmoid(-beta * z)).mean()
    got = rankpo_loss(q, c, r, ref, tau=tau, beta=beta, gamma=gamma, label_smoothing=eps)
    assert torch.allclose(got, want, atol=1e-6)


def test_at_the_reference_the_loss_is_log2():
    q, c, r = _emb(0), _emb(1), _emb(2)
    ref = preference_margins(q, c, r)  # the policy equals the reference
    assert rankpo_loss(q, c, r, ref).item() == pytest.approx(math.log(2), abs=1e-5)
    assert rankpo_loss(q, c, r, ref, loss_type="hinge").item() == pytest.approx(1.0, abs=1e-5)


def test_simrankpo_ignores_the_reference_and_hinge_formula():
    q, c, r = _emb(3), _emb(4), _emb(5)
    z = preference_margins(q, c, r) / 0.1
    assert torch.allclose(rankpo_loss(q, c, r, None, loss_type="hinge"), torch.relu(1 - 2 * z).mean(), atol=1e-6)


def test_contrastive_term_is_added_with_its_weight():
    q, c, r = _emb(0), _emb(1), _emb(2)
    base = rankpo_loss(q, c, r, None)
    both = rankpo_loss(q, c, r, None, contrastive_weight=0.5)
    assert torch.allclose(both, base + 0.5 * preference_sft_loss(q, c, r), atol=1e-6)


def test_gradient_pushes_chosen_closer():
    q, r = _emb(0), _emb(2)
    c = _emb(1).requires_grad_(True)
    rankpo_loss(q, c, r, torch.zeros(4)).backward()
    # moving chosen along the query lowers the loss: the gradient points away from q
    assert (F.normalize(q, dim=-1) * c.grad).sum() < 0


def test_sft_loss_mask_removes_candidates():
    q, c, r = _emb(0), _emb(1), _emb(2)
    mask = torch.zeros(4, 8, dtype=torch.bool)
    mask[0, 1] = True
    assert preference_sft_loss(q, c, r, temperature=1.0, mask=mask) < preference_sft_loss(q, c, r, temperature=1.0)


def test_pairwise_sft_is_cross_entropy_over_each_pairs_two_passages():
    q, c, r = _emb(0), _emb(1), _emb(2)
    t = 0.05
    pos, neg = F.cosine_similarity(q, c) / t, F.cosine_similarity(q, r) / t
    want = -(pos - torch.logaddexp(pos, neg)).mean()
    assert torch.allclose(pairwise_sft_loss(q, c, r, temperature=t), want, atol=1e-5)
    # no in-batch negative: replacing another row's passages leaves row 0's loss alone
    c2, r2 = c.clone(), r.clone()
    c2[1:], r2[1:] = _emb(5)[1:], _emb(6)[1:]
    one = lambda cc, rr: pairwise_sft_loss(q[:1], cc[:1], rr[:1], temperature=t)  # noqa: E731
    assert torch.allclose(one(c, r), one(c2, r2))
    # and unlike the in-batch SFT it is log 2 when the two passages tie
    assert math.isclose(pairwise_sft_loss(q, c, c).item(), math.log(2), rel_tol=1e-5)


class _Toy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 8)

    def forward(self, f):
        return {"sentence_embedding": self.lin(f["x"])}


def test_modules_follow_sentence_transformers_call_shape():
    m = _Toy()
    feats = [{"x": torch.randn(4, 3)} for _ in range(3)]
    loss = RankPOLoss(m)(feats, torch.zeros(4))
    loss.backward()
    assert m.lin.weight.grad is not None
    assert RankPOLoss(m, reference_free=True)(feats).item() > 0
    assert PreferenceSFTLoss(m)(feats).item() > 0
    assert PairwiseSFTLoss(m)(feats).item() > 0
    with pytest.raises(ValueError, match="three columns"):
        PairwiseSFTLoss(m)(feats[:2])
    with pytest.raises(ValueError, match="reference margins"):
        RankPOLoss(m)(feats)
    with pytest.raises(ValueError, match="three columns"):
        RankPOLoss(m)(feats[:2], torch.zeros(4))
    with pytest.raises(ValueError):
        RankPOLoss(m, loss_type="ipo")
    assert RankPOLoss(m).get_config_dict()["beta"] == 2.0
