"""The ConFit contrastive loss: both matching directions, in-batch plus hard negatives.

Usable like a sentence-transformers loss (``forward(sentence_features, labels)``) and, for
code that already holds embeddings, as the plain function :func:`confit_loss`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _direction_ce(
    queries: Tensor, positives: Tensor, negatives: Tensor | None, temperature: float, mask: Tensor | None
) -> Tensor:
    """Mean cross-entropy of each query against [all positives of the batch; the negatives]."""
    candidates = positives if negatives is None or negatives.numel() == 0 else torch.cat([positives, negatives])
    logits = F.normalize(queries, dim=-1) @ F.normalize(candidates, dim=-1).T / temperature
    if mask is not None:
        # A masked candidate is a known positive of that query (other than its target): it is
        # no negative, so it must not sit in the softmax denominator.
        logits = logits.masked_fill(mask.to(torch.bool), float("-inf"))
    target = torch.arange(queries.shape[0], device=queries.device)
    return F.cross_entropy(logits, target)


def confit_loss(
    resume_emb: Tensor,
    job_emb: Tensor,
    neg_job_emb: Tensor | None = None,
    neg_resume_emb: Tensor | None = None,
    *,
    temperature: float = 0.05,
    lam: float = 0.5,
    resume_mask: Tensor | None = None,
    job_mask: Tensor | None = None,
) -> Tensor:
    """The ConFit loss of a batch of accepted pairs (see :class:`ConFitLoss` for the formula).

    Args:
        resume_emb: ``(B, d)`` resumes; row ``i`` is accepted for ``job_emb[i]``.
        job_emb: ``(B, d)`` jobs.
        neg_job_emb: ``(M, d)`` hard-negative jobs, shared by every resume of the batch.
        neg_resume_emb: ``(K, d)`` hard-negative resumes, shared by every job of the batch.
        temperature: ``τ``; similarities are cosines divided by it.
        lam: ``λ``, the weight of the resume → job direction.
        resume_mask: Optional ``(B, B + M)`` boolean; ``True`` removes a candidate job from
            row ``i``'s denominator (a known positive that is not its target). Never on the
            diagonal.
        job_mask: Same for the job → resume direction, ``(B, B + K)``.
    """
    if resume_emb.shape != job_emb.shape:
        raise ValueError(
            f"resume and job embeddings differ in shape: {tuple(resume_emb.shape)} vs {tuple(job_emb.shape)}"
        )
    to_jobs = _direction_ce(resume_emb, job_emb, neg_job_emb, temperature, resume_mask)
    to_resumes = _direction_ce(job_emb, resume_emb, neg_resume_emb, temperature, job_mask)
    return lam * to_jobs + (1.0 - lam) * to_resumes


class ConFitLoss(nn.Module):
    r"""ConFit's two-direction InfoNCE loss over batches of accepted resume-job pairs.

    With ``s(a, b) = cos(E(a), E(b)) / τ``, a batch of ``B`` accepted pairs ``(r_i, j_i)``
    (no resume and no job twice), hard-negative jobs ``N_J`` and hard-negative resumes ``N_R``
    gathered from the batch's pairs:

    .. math::

        L_{r \to j} = -\frac{1}{B} \sum_i \log
            \frac{e^{s(r_i, j_i)}}{\sum_{k=1}^{B} e^{s(r_i, j_k)} + \sum_{n \in N_J} e^{s(r_i, n)}}

        L_{j \to r} = -\frac{1}{B} \sum_i \log
            \frac{e^{s(j_i, r_i)}}{\sum_{k=1}^{B} e^{s(j_i, r_k)} + \sum_{n \in N_R} e^{s(j_i, n)}}

        L = \lambda \, L_{r \to j} + (1 - \lambda) \, L_{j \to r}

    (ConFit, Yu et al. 2024; defaults ``τ = 0.05``, ``λ = 0.5``.) Candidates that are known
    positives of a row can be masked out of its denominator.

    ``sentence_features`` follow sentence-transformers' column order: ``[resumes, jobs,
    *negative_job_columns, *negative_resume_columns]``; with a fixed number of negative
    columns per pair (``SentenceTransformerTrainer`` datasets) every column is one feature
    dict of ``B`` texts, while the toolkit's own trainer passes one dict of each kind holding
    all of the batch's negatives (any count).

    Args:
        model: The ``SentenceTransformer`` being trained.
        temperature: ``τ``.
        lam: ``λ``, the weight of the resume → job direction.
        job_negative_columns: How many of the columns after the first two are negative jobs
            (the rest are negative resumes); ``None``: half of them.
    """

    def __init__(
        self,
        model: nn.Module,
        temperature: float = 0.05,
        lam: float = 0.5,
        job_negative_columns: int | None = None,
    ) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"lam must be in [0, 1], got {lam}")
        self.model = model
        self.temperature = float(temperature)
        self.lam = float(lam)
        self.job_negative_columns = job_negative_columns

    def _embed(self, features: dict[str, Tensor] | None) -> Tensor | None:
        if not features:
            return None
        return self.model(features)["sentence_embedding"]

    def forward(
        self,
        sentence_features: Iterable[dict[str, Tensor] | None],
        labels: Tensor | None = None,
        resume_mask: Tensor | None = None,
        job_mask: Tensor | None = None,
        hyre_fusion: HyReFusion | None = None,
    ) -> Tensor:
        """The loss of one batch; ``labels`` are unused (every pair is an accepted one).

        With ``hyre_fusion`` the jobs it names are embedded as the fusion of their post and
        their generated resume (:func:`fuse_embeddings`)."""
        features = list(sentence_features)
        if len(features) < 2:
            raise ValueError("ConFitLoss needs at least two columns: resumes and jobs")
        rest = features[2:]
        n_job_cols = self.job_negative_columns if self.job_negative_columns is not None else len(rest) // 2
        if self.job_negative_columns is None and len(rest) % 2:
            raise ValueError(
                f"{len(rest)} negative columns cannot be split evenly into jobs and resumes; pass job_negative_columns"
            )
        resumes = self._embed(features[0])
        jobs = self._embed(features[1])
        neg_jobs = _cat([self._embed(f) for f in rest[:n_job_cols]])
        neg_resumes = _cat([self._embed(f) for f in rest[n_job_cols:]])
        if hyre_fusion is not None and jobs is not None:
            n = jobs.shape[0]
            every = jobs if neg_jobs is None else torch.cat([jobs, neg_jobs])
            extra = self._embed(hyre_fusion.features)
            rows, weight = hyre_fusion.rows.to(every.device), hyre_fusion.weight.to(every.device)
            every = fuse_embeddings(every, extra, rows, weight)
            jobs, neg_jobs = every[:n], (every[n:] if neg_jobs is not None else None)
        return confit_loss(
            resumes,
            jobs,
            neg_jobs,
            neg_resumes,
            temperature=self.temperature,
            lam=self.lam,
            resume_mask=resume_mask,
            job_mask=job_mask,
        )

    def get_config_dict(self) -> dict[str, Any]:
        """Hyper-parameters, as sentence-transformers losses report them in model cards."""
        return {"temperature": self.temperature, "lam": self.lam}

    @property
    def citation(self) -> str:
        return (
            "@inproceedings{yu2024confit, title={ConFit: Improving Resume-Job Matching using "
            "Data Augmentation and Contrastive Learning}, author={Yu, Xiao and Zhang, Jinzhong "
            "and Yu, Zhou}, booktitle={RecSys}, year={2024}}"
        )


@dataclass
class HyReFusion:
    """The HyRe texts fused into some of a batch's job embeddings (``fusion`` view).

    Attributes:
        features: Tokenized generated texts, one row per fused job.
        rows: ``(F,)`` long tensor: which job each row fuses into, indexing the batch's jobs
            followed by its negative jobs.
        weight: ``(F,)`` weight of each generated text's vector (the post's is ``1 - weight``).
    """

    features: dict[str, Tensor]
    rows: Tensor
    weight: Tensor


def fuse_embeddings(base: Tensor, extra: Tensor, rows: Tensor, weight: Tensor) -> Tensor:
    r"""Rows ``rows`` of ``base`` replaced by a weighted mean of unit vectors, re-normalised:

    .. math::

        e_j = \frac{(1 - w_j)\,\hat{p}_j + w_j\,\hat{h}_j}{\lVert (1 - w_j)\,\hat{p}_j + w_j\,\hat{h}_j \rVert}

    with :math:`\hat{p}_j` the unit vector of job ``j``'s post and :math:`\hat{h}_j` that of
    its generated resume (HyDE's fusion of a query with its hypothetical documents, Gao et al.
    2022, applied to ConFit v2's HyRe). The same formula as :meth:`BiEncoder.encode` uses at
    inference, so training sees the vectors the model will serve.

    Example::

        >>> import torch
        >>> base = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> fuse_embeddings(base, torch.tensor([[0.0, 1.0]]), torch.tensor([0]), torch.tensor([0.5]))
        tensor([[0.7071, 0.7071],
                [0.0000, 1.0000]])
    """
    w = weight.to(base.dtype).unsqueeze(1)
    fused = F.normalize((1.0 - w) * F.normalize(base[rows], dim=-1) + w * F.normalize(extra, dim=-1), dim=-1)
    return base.index_copy(0, rows, fused)


def _cat(parts: Sequence[Tensor | None]) -> Tensor | None:
    kept = [p for p in parts if p is not None]
    return torch.cat(kept) if kept else None


__all__ = ["ConFitLoss", "HyReFusion", "confit_loss", "fuse_embeddings"]
