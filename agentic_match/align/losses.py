"""Preference losses for bi-encoders: RankPO / SimRankPO, and two SFT baselines.

* :class:`RankPOLoss` - RankPO (reference-anchored) and SimRankPO (reference-free).
* :class:`PairwiseSFTLoss` - SFT as the RankPO authors define it: cross-entropy over the two
  passages ``[chosen, rejected]`` of each preference (method ``sft2``).
* :class:`PreferenceSFTLoss` - in-batch InfoNCE with the rejected passage as hard negative,
  the stage-1 objective family (method ``sftnce``).

Usable like sentence-transformers losses (``forward(sentence_features, labels)`` with the
columns ``[queries, chosen, rejected]``) and, for code that already holds embeddings, as the
plain functions :func:`rankpo_loss`, :func:`pairwise_sft_loss` and :func:`preference_sft_loss`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LossType = Literal["sigmoid", "hinge"]


def preference_margins(query: Tensor, chosen: Tensor, rejected: Tensor) -> Tensor:
    """``s(q, chosen) − s(q, rejected)`` per row, ``s`` the cosine similarity."""
    q = F.normalize(query, dim=-1)
    return (q * F.normalize(chosen, dim=-1)).sum(-1) - (q * F.normalize(rejected, dim=-1)).sum(-1)


def rankpo_loss(
    query: Tensor,
    chosen: Tensor,
    rejected: Tensor,
    reference_margin: Tensor | None = None,
    *,
    tau: float = 0.1,
    beta: float = 2.0,
    gamma: float = 0.0,
    label_smoothing: float = 0.0,
    loss_type: LossType = "sigmoid",
    contrastive_weight: float = 0.0,
    contrastive_temperature: float = 0.05,
) -> Tensor:
    """The RankPO loss of a batch (see :class:`RankPOLoss` for the formula).

    Args:
        query / chosen / rejected: ``(B, d)`` embeddings; row ``i`` is one preference.
        reference_margin: ``(B,)`` ``Δ_ref`` of the frozen reference model; ``None``:
            SimRankPO (no reference term).
        tau: ``τ``, the similarity temperature.
        beta: ``β``, the sharpness of the preference loss.
        gamma: ``γ``, a target margin subtracted from the logits.
        label_smoothing: ``ε``, the assumed share of wrong preferences (sigmoid only).
        loss_type: ``"sigmoid"`` (DPO) or ``"hinge"`` (SLiC).
        contrastive_weight: ``α`` of the optional InfoNCE term over ``[chosen; rejected]``.
        contrastive_temperature: Temperature of that term.
    """
    delta = preference_margins(query, chosen, rejected)
    if reference_margin is not None:
        delta = delta - reference_margin.to(delta)
    logits = delta / tau - gamma
    if loss_type == "sigmoid":
        loss = -F.logsigmoid(beta * logits) * (1 - label_smoothing) - F.logsigmoid(-beta * logits) * label_smoothing
    elif loss_type == "hinge":
        loss = torch.relu(1 - beta * logits)
    else:
        raise ValueError(f"loss_type must be 'sigmoid' or 'hinge', got {loss_type!r}")
    out = loss.mean()
    if contrastive_weight > 0:
        out = out + contrastive_weight * preference_sft_loss(
            query, chosen, rejected, temperature=contrastive_temperature
        )
    return out


def preference_sft_loss(
    query: Tensor,
    chosen: Tensor,
    rejected: Tensor,
    *,
    temperature: float = 0.05,
    mask: Tensor | None = None,
) -> Tensor:
    """InfoNCE of each query against every chosen and rejected passage of the batch.

    Row ``i``'s target is ``chosen[i]``; ``rejected[i]`` is its hard negative and the other
    rows' passages are in-batch negatives (MultipleNegativesRankingLoss with hard negatives).
    ``mask`` (``(B, 2B)`` boolean, ``True`` = leave out) removes candidates that may be
    positives of the row (another preference of the same query).
    """
    q = F.normalize(query, dim=-1)
    cands = F.normalize(torch.cat([chosen, rejected]), dim=-1)
    logits = q @ cands.T / temperature
    if mask is not None:
        logits = logits.masked_fill(mask.to(torch.bool), float("-inf"))
    return F.cross_entropy(logits, torch.arange(q.shape[0], device=q.device))


def pairwise_sft_loss(query: Tensor, chosen: Tensor, rejected: Tensor, *, temperature: float = 0.05) -> Tensor:
    """Cross-entropy of each query over its own two passages ``[chosen, rejected]`` (target: chosen).

    See :class:`PairwiseSFTLoss` for the formula; no other row's passages take part.
    """
    q = F.normalize(query, dim=-1)
    pos = (q * F.normalize(chosen, dim=-1)).sum(-1)
    neg = (q * F.normalize(rejected, dim=-1)).sum(-1)
    logits = torch.stack([pos, neg], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long, device=q.device))


class RankPOLoss(nn.Module):
    r"""RankPO: DPO re-derived for bi-encoders, anchored to a frozen reference encoder.

    With ``s`` the cosine similarity of the policy encoder and ``s_ref`` that of the frozen
    stage-1 reference, for a query ``q`` whose judged ``chosen`` passage ``p⁺`` beat
    ``rejected`` ``p⁻``:

    .. math::

        \Delta = \big(s(q, p^+) - s(q, p^-)\big) - \big(s_{ref}(q, p^+) - s_{ref}(q, p^-)\big)

        z = \Delta / \tau - \gamma

        L_{sigmoid} = -(1 - \varepsilon) \log \sigma(\beta z) - \varepsilon \log \sigma(-\beta z)

        L_{hinge} = \max(0, 1 - \beta z)

    SimRankPO drops the reference term (``Δ = s(q, p⁺) − s(q, p⁻)``). An optional
    ``α``-weighted InfoNCE term over the batch's passages (chosen = positive, rejected = hard
    negative) can be added. (RankPO, Zhang et al. 2025; defaults ``τ = 0.1``, ``β = 2``.)

    ``sentence_features`` are ``[queries, chosen, rejected]``; ``labels`` carry ``Δ_ref``
    per row (precomputed once with the reference model) and are ignored with
    ``reference_free=True``.

    Args:
        model: The ``SentenceTransformer`` being tuned.
        tau: ``τ``.
        beta: ``β``.
        gamma: ``γ``, a target reward margin.
        label_smoothing: ``ε``.
        loss_type: ``"sigmoid"`` or ``"hinge"``.
        reference_free: SimRankPO.
        contrastive_weight: ``α``.
        contrastive_temperature: Temperature of the InfoNCE term.
    """

    def __init__(
        self,
        model: nn.Module,
        tau: float = 0.1,
        beta: float = 2.0,
        gamma: float = 0.0,
        label_smoothing: float = 0.0,
        loss_type: LossType = "sigmoid",
        reference_free: bool = False,
        contrastive_weight: float = 0.0,
        contrastive_temperature: float = 0.05,
    ) -> None:
        super().__init__()
        if tau <= 0 or beta <= 0:
            raise ValueError(f"tau and beta must be > 0, got tau={tau}, beta={beta}")
        if not 0 <= label_smoothing < 0.5:
            raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")
        if loss_type not in ("sigmoid", "hinge"):
            raise ValueError(f"loss_type must be 'sigmoid' or 'hinge', got {loss_type!r}")
        if contrastive_weight < 0:
            raise ValueError(f"contrastive_weight must be >= 0, got {contrastive_weight}")
        self.model = model
        self.tau, self.beta, self.gamma = float(tau), float(beta), float(gamma)
        self.label_smoothing = float(label_smoothing)
        self.loss_type: LossType = loss_type
        self.reference_free = reference_free
        self.contrastive_weight = float(contrastive_weight)
        self.contrastive_temperature = float(contrastive_temperature)

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        """The loss of one batch; ``labels`` = ``Δ_ref`` per row (unless reference-free)."""
        feats = list(sentence_features)
        if len(feats) != 3:
            raise ValueError(f"RankPOLoss needs three columns (query, chosen, rejected), got {len(feats)}")
        if not self.reference_free and labels is None:
            raise ValueError("RankPOLoss needs the reference margins as labels (or reference_free=True)")
        q, c, r = (self.model(f)["sentence_embedding"] for f in feats)
        return rankpo_loss(
            q,
            c,
            r,
            None if self.reference_free else labels,
            tau=self.tau,
            beta=self.beta,
            gamma=self.gamma,
            label_smoothing=self.label_smoothing,
            loss_type=self.loss_type,
            contrastive_weight=self.contrastive_weight,
            contrastive_temperature=self.contrastive_temperature,
        )

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "tau": self.tau,
            "beta": self.beta,
            "gamma": self.gamma,
            "label_smoothing": self.label_smoothing,
            "loss_type": self.loss_type,
            "reference_free": self.reference_free,
            "contrastive_weight": self.contrastive_weight,
        }

    @property
    def citation(self) -> str:
        return (
            "@article{zhang2025rankpo, title={RankPO: Preference Optimization for Job-Talent "
            "Matching}, author={Zhang, Yafei and others}, journal={arXiv:2503.10723}, year={2025}}"
        )


class _SFTLoss(nn.Module, ABC):
    """What both SFT losses share: the model, a temperature, the ``[query, chosen, rejected]`` columns."""

    def __init__(self, model: nn.Module, temperature: float = 0.05) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.model = model
        self.temperature = float(temperature)

    @abstractmethod
    def loss_of(self, query: Tensor, chosen: Tensor, rejected: Tensor, labels: Tensor | None) -> Tensor:
        """The loss of one batch of ``(query, chosen, rejected)`` embeddings (each subclass's formula)."""

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        feats = list(sentence_features)
        if len(feats) != 3:
            name = type(self).__name__
            raise ValueError(f"{name} needs three columns (query, chosen, rejected), got {len(feats)}")
        q, c, r = (self.model(f)["sentence_embedding"] for f in feats)
        return self.loss_of(q, c, r, labels)

    def get_config_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature}


class PairwiseSFTLoss(_SFTLoss):
    r"""SFT as the RankPO authors define it: cross-entropy over each pair's two passages.

    With ``s`` the cosine similarity and ``t`` a temperature, for a query ``q`` whose chosen
    passage ``p⁺`` beat ``p⁻``:

    .. math::

        L = -\frac{1}{B} \sum_i \log \frac{e^{s(q_i, p_i^+)/t}}{e^{s(q_i, p_i^+)/t} + e^{s(q_i, p_i^-)/t}}

    Unlike :class:`PreferenceSFTLoss` no in-batch negative takes part, so it moves only the
    order inside each pair, as RankPO does, but with no reference anchor: the like-for-like
    baseline of RankPO's claim that the anchor keeps what stage 1 learned.

    ==================================  ======================================
    Inputs (``sentence_features``)      Labels
    ==================================  ======================================
    ``(query, chosen, rejected)`` texts  none (ignored)
    ==================================  ======================================

    Example::

        from sentence_transformers import SentenceTransformer
        from agentic_match.align.losses import PairwiseSFTLoss

        model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
        loss = PairwiseSFTLoss(model, temperature=0.05)
        feats = [model.tokenize([t]) for t in ("Nurse, ICU", "ICU nurse, 5 years", "Welder")]
        loss(feats, None).backward()

    Args:
        model: The ``SentenceTransformer`` being tuned.
        temperature: ``t``.
    """

    def loss_of(self, query: Tensor, chosen: Tensor, rejected: Tensor, labels: Tensor | None) -> Tensor:
        return pairwise_sft_loss(query, chosen, rejected, temperature=self.temperature)


class PreferenceSFTLoss(_SFTLoss):
    r"""In-batch SFT on the same preferences (method ``sftnce``; no reference anchor).

    .. math::

        L = -\frac{1}{B} \sum_i \log \frac{e^{s(q_i, p_i^+)/t}}
            {\sum_k e^{s(q_i, p_k^+)/t} + \sum_k e^{s(q_i, p_k^-)/t}}

    i.e. MultipleNegativesRankingLoss with the chosen passage as positive and the rejected one
    as hard negative. ``labels`` may carry a ``(B, 2B)`` mask of candidates to leave out.

    Args:
        model: The ``SentenceTransformer`` being tuned.
        temperature: ``t``.
    """

    def loss_of(self, query: Tensor, chosen: Tensor, rejected: Tensor, labels: Tensor | None) -> Tensor:
        mask = labels if labels is not None and labels.dim() == 2 else None
        return preference_sft_loss(query, chosen, rejected, temperature=self.temperature, mask=mask)


__all__ = [
    "PairwiseSFTLoss",
    "PreferenceSFTLoss",
    "pairwise_sft_loss",
    "RankPOLoss",
    "preference_margins",
    "preference_sft_loss",
    "rankpo_loss",
]
