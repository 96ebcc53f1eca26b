"""LGIR's job recommender: user and job towers, GAN alignment of few-shot users, pairwise scorer.

LGIR ("Enhancing Job Recommendation through LLM-based Generative Adversarial Networks",
Du, Luo, Yan, Wang, Liu, Zhu, Song, Zhang; AAAI 2024, arXiv 2307.10747) completes resumes
with an LLM (:mod:`~agentic_match.augment.completion`), encodes each text once with a frozen
sentence encoder, and trains a recommender over those vectors. The pieces, each a small
``nn.Module`` with the paper's equation in its docstring:

* :class:`Tower` - ``x = MLP([P_i; W_text])``, a learned ID embedding beside the text vector
  (equations 3 and 4); one for users (their completed resume), one for jobs.
* :class:`ShotClassifier` ``C`` (eq. 5, trained with eq. 6) - many-shot vs few-shot users,
  labelled by interaction-count thresholds (:func:`shot_labels`).
* :class:`Generator` ``G`` (eq. 7) and :class:`Discriminator` ``D`` (eq. 8), trained with
  :class:`AdversarialLoss` (eq. 9-10) so that ``G(x_few)`` looks like a many-shot user.
* :class:`AlignedUser` - ``z = x if C(x) >= 0.5 else G(x)`` (eq. 11).
* :class:`PairScorer` ``W^p`` - ``R̂ = W^p·[z + x_j; z − x_j; z ⊙ x_j]`` (eq. 12).
* :class:`RecommendationLoss` - BPR with the L2 term of eq. 13.
* A deviation: the score adds a learned multiple of the two text vectors' cosine
  (``LGIRConfig.text_prior``). The paper learns from 145k-925k interactions; with a few
  thousand (benchmark v1 has 8,269, simulated) the towers alone ranked below the untrained
  encoder's cosine, and the prior raised the validation AUC of held-out interactions
  (docs/benchmarks.md, LGIR; the benchmark's ``lgir-base-no-prior`` row measures it).

:func:`fit_lgir` trains all of them jointly in one loop (AdamW), with validation on held-out
interactions and early stopping. Inputs are plain vectors keyed by id, so any encoder
(``BiEncoder.encode``) can feed it; an id it never saw in training (a new candidate, a new
post) is scored from its text alone.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from agentic_match.config import setting
from agentic_match.data.schema import Document, Interaction
from agentic_match.errors import DataError


@dataclass(frozen=True)
class LGIRConfig:
    """Settings of the LGIR recommender (the paper's values where it states them)."""

    few_max: int = setting(2, help="κ₂: users with at most this many interactions are few-shot (label 0).")
    many_min: int = setting(
        5, help="κ₁: users with at least this many are many-shot (label 1); those between train neither C nor the GAN."
    )
    id_embeddings: bool = setting(True, help="Learn ID embeddings P_i, Q_k beside the text (False: text only).")
    id_dim: int | None = setting(None, help="d of the ID embeddings (None: the text vectors' dimension, as the paper).")
    tower_hidden: int = setting(128, help="d_e': hidden width of the user and job towers.")
    dim: int = setting(64, help="d_e: width of the user and job representations.")
    hidden: int = setting(256, help="d_c = d_g = d_s: hidden width of C, G and D.")
    id_dropout: float = setting(
        0.1,
        help="Share of training examples whose ID embedding is replaced by the unknown-id one, so the towers also "
        "learn to score from text alone (users and jobs never seen in training). Not in the paper.",
    )
    text_prior: bool = setting(
        True,
        help="Add a learned multiple of the text vectors' cosine to the score (not in the paper): the model starts "
        "from the encoder's ranking instead of from random towers, which a few thousand interactions cannot beat.",
    )
    text_prior_init: float = setting(10.0, help="Initial weight of that cosine (a logit scale).")
    gan: bool = setting(True, help="Align few-shot users with C, G and D (False: z = x for every user).")
    gan_weight: float = setting(1.0, help="Weight of G's adversarial loss beside the recommendation loss.")
    epochs: int = setting(200, help="Most epochs; early stopping usually ends training before.")
    patience: int = setting(10, help="Epochs without a better validation AUC before training stops.")
    negatives: int = setting(4, help="Sampled negative jobs per positive (user, job) pair each epoch.")
    batch_size: int = setting(512, help="Triples per step.")
    lr: float = setting(1e-3, help="AdamW learning rate.")
    l2: float = setting(1e-4, help="λ of equation 13: weight of the squared L2 norm of the recommender's parameters.")
    seed: int = setting(0, help="Seed of initialisation, sampling and batch order.")

    def __post_init__(self) -> None:
        if self.few_max >= self.many_min:
            raise ValueError(f"LGIRConfig: few_max ({self.few_max}) must be below many_min ({self.many_min})")
        if not 0.0 <= self.id_dropout < 1.0:
            raise ValueError(f"LGIRConfig: id_dropout ({self.id_dropout}) must be in [0, 1)")


def shot_labels(counts: Mapping[str, int], config: LGIRConfig = LGIRConfig()) -> dict[str, int]:
    """``{user: 1 many-shot | 0 few-shot}`` by interaction counts (middle users left out)."""
    return {u: int(n >= config.many_min) for u, n in counts.items() if n <= config.few_max or n >= config.many_min}


def _mlp(dim_in: int, hidden: int, dim_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim_in, hidden), nn.ReLU(), nn.Linear(hidden, dim_out))


class Tower(nn.Module):
    """A user or job representation from its ID embedding and its text vector (eq. 3, 4).

    ``x = MLP([P_i; W_text])``, the MLP ``[d_id + d_text → d_e' → d_e]`` with ReLU.

    Index ``n_ids`` is the unknown id: a fixed zero vector (``padding_idx``), so an id never
    seen in training is scored from its text alone.

    Args:
        n_ids: Known ids (rows ``0..n_ids-1``).
        text_dim: Dimension of the text vectors.
        id_dim: Dimension ``d`` of the ID embeddings (0: no ID embedding, text only).
        hidden: ``d_e'``.
        dim: ``d_e``.

    Example::

        tower = Tower(n_ids=10, text_dim=384, id_dim=384, hidden=128, dim=64)
        x = tower(torch.tensor([0, 10]), torch.randn(2, 384))  # a known id, then an unknown one
    """

    def __init__(self, n_ids: int, text_dim: int, id_dim: int, hidden: int, dim: int):
        super().__init__()
        self.n_ids = n_ids
        self.ids = nn.Embedding(n_ids + 1, id_dim, padding_idx=n_ids) if id_dim > 0 else None
        if self.ids is not None:
            nn.init.normal_(self.ids.weight, std=0.01)
            with torch.no_grad():
                self.ids.weight[n_ids].zero_()
        self.mlp = _mlp(text_dim + id_dim, hidden, dim)

    def forward(self, ids: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        parts = [text] if self.ids is None else [self.ids(ids), text]
        return self.mlp(torch.cat(parts, dim=-1))


class ShotClassifier(nn.Module):
    """``C``: the probability that a user representation belongs to a many-shot user.

    ``C(x) = σ(W₂ᶜ·ReLU(W₁ᶜ·x))`` (eq. 5), trained with binary cross-entropy on the shot
    labels: ``L_C = −[y·log C(x) + (1 − y)·log(1 − C(x))]`` (eq. 6).
    """

    def __init__(self, dim: int, hidden: int = 256):
        super().__init__()
        self.net = _mlp(dim, hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x)).squeeze(-1)


class Generator(nn.Module):
    """``G``: maps a few-shot representation towards the many-shot distribution.

    The paper's ``G(x) = W₂ᵍ·ReLU(W₁ᵍ·x)`` (eq. 7) is used here as a residual,
    ``G(x) = x + W₂ᵍ·ReLU(W₁ᵍ·x)``: an untrained ``G`` is the identity, so a few-shot user
    is not replaced by noise while the GAN is young, and the refined vector stays close to the
    user's own resume (the scorer must still tell few-shot users apart).
    """

    def __init__(self, dim: int, hidden: int = 256):
        super().__init__()
        self.net = _mlp(dim, hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class Discriminator(nn.Module):
    """``D``: the probability that a representation is a real many-shot one.

    ``D(x) = σ(W₂ᵈ·ReLU(W₁ᵈ·x))`` (eq. 8).
    """

    def __init__(self, dim: int, hidden: int = 256):
        super().__init__()
        self.net = _mlp(dim, hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x)).squeeze(-1)


class AdversarialLoss(nn.Module):
    """The GAN objectives on unpaired many-shot (``x⁺``) and few-shot (``x⁻``) batches.

    ``L_D = −E_{x⁺}[log D(x⁺)] − E_{x⁻}[log(1 − D(G(x⁻)))]`` (eq. 9, as a loss to minimise)

    ``L_G = −E_{x⁻}[log D(G(x⁻))]`` (eq. 10 in its non-saturating form, the usual choice
    since Goodfellow et al.: it gives G gradients while D still wins easily)

    ====================  ==========================================
    input                 shape
    ====================  ==========================================
    ``x_many``            ``(B⁺, d_e)`` many-shot user representations
    ``x_few``             ``(B⁻, d_e)`` few-shot user representations
    ====================  ==========================================

    :meth:`forward` returns ``(L_D, L_G)``; ``L_D`` sees ``G(x⁻)`` and ``x⁺`` detached so each
    loss only trains its own network.

    Example::

        d, g = Discriminator(8), Generator(8)
        loss_d, loss_g = AdversarialLoss()(d, g, torch.randn(4, 8), torch.randn(6, 8))
    """

    def __init__(self, eps: float = 1e-6):
        super().__init__()
        self.eps = eps

    def forward(
        self, d: Discriminator, g: Generator, x_many: torch.Tensor, x_few: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        fake = g(x_few)
        loss_d = -(torch.log(d(x_many.detach()) + self.eps).mean() + torch.log(1 - d(fake.detach()) + self.eps).mean())
        loss_g = -torch.log(d(fake) + self.eps).mean()
        return loss_d, loss_g


class AlignedUser(nn.Module):
    """The user representation used for scoring: ``z = x if C(x) >= 0.5 else G(x)`` (eq. 11);
    ``z = x`` when built without a classifier and generator."""

    def __init__(self, classifier: ShotClassifier | None, generator: Generator | None):
        super().__init__()
        self.classifier = classifier
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.classifier is None or self.generator is None:
            return x
        many = (self.classifier(x) >= 0.5).unsqueeze(-1)
        return torch.where(many, x, self.generator(x))


class PairScorer(nn.Module):
    """``W^p``: the score of a (user, job) pair from their representations (eq. 12).

    ``R̂(z, x_j) = W^p·[z + x_j; z − x_j; z ⊙ x_j]`` (``;`` concatenates, ``⊙`` is the
    element-wise product; no bias: it cancels in every pairwise comparison).
    """

    def __init__(self, dim: int):
        super().__init__()
        self.w = nn.Linear(3 * dim, 1, bias=False)

    def forward(self, z: torch.Tensor, x_job: torch.Tensor) -> torch.Tensor:
        return self.w(torch.cat([z + x_job, z - x_job, z * x_job], dim=-1)).squeeze(-1)


class RecommendationLoss(nn.Module):
    """BPR with L2 regularisation, equation 13 as a loss to minimise:

    ``L_rec = −mean log σ(R̂(i, j⁺) − R̂(i, j⁻)) + λ·‖Θ‖²``

    ====================  ==========================================
    input                 shape
    ====================  ==========================================
    ``pos``               ``(B,)`` scores of the users' interacted jobs
    ``neg``               ``(B,)`` scores of sampled jobs they did not touch
    ``params``            the parameters Θ of the L2 term
    ====================  ==========================================

    Example::

        loss = RecommendationLoss(l2=1e-4)(torch.tensor([2.0]), torch.tensor([0.0]), [])
    """

    def __init__(self, l2: float = 1e-4):
        super().__init__()
        self.l2 = l2

    def forward(self, pos: torch.Tensor, neg: torch.Tensor, params: Iterable[torch.Tensor]) -> torch.Tensor:
        loss = -nn.functional.logsigmoid(pos - neg).mean()
        if self.l2 > 0:
            loss = loss + self.l2 * sum((p**2).sum() for p in params)
        return loss


class LGIRNet(nn.Module):
    """Every trainable piece of the recommender: both towers, C, G, D and the scorer."""

    def __init__(self, n_users: int, n_jobs: int, text_dim: int, config: LGIRConfig):
        super().__init__()
        id_dim = (config.id_dim or text_dim) if config.id_embeddings else 0
        self.user = Tower(n_users, text_dim, id_dim, config.tower_hidden, config.dim)
        self.job = Tower(n_jobs, text_dim, id_dim, config.tower_hidden, config.dim)
        self.classifier = ShotClassifier(config.dim, config.hidden) if config.gan else None
        self.generator = Generator(config.dim, config.hidden) if config.gan else None
        self.discriminator = Discriminator(config.dim, config.hidden) if config.gan else None
        self.align = AlignedUser(self.classifier, self.generator)
        self.scorer = PairScorer(config.dim)
        self.text_scale = nn.Parameter(torch.tensor(float(config.text_prior_init))) if config.text_prior else None

    def represent_user(self, ids: torch.Tensor, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, z)``: the tower's representation and the aligned one (eq. 11)."""
        x = self.user(ids, text)
        return x, self.align(x)

    def score(
        self, z: torch.Tensor, user_text: torch.Tensor, job_ids: torch.Tensor, job_text: torch.Tensor
    ) -> torch.Tensor:
        """``R̂`` of eq. 12 for aligned users ``z`` against jobs, plus the text prior when enabled:
        ``R̂ = W^p·[z + x_j; z − x_j; z ⊙ x_j] + s·cos(t_user, t_job)``."""
        out = self.scorer(z, self.job(job_ids, job_text))
        if self.text_scale is not None:
            out = out + self.text_scale * nn.functional.cosine_similarity(user_text, job_text, dim=-1)
        return out

    def rec_parameters(self) -> list[nn.Parameter]:
        """Θ of the recommendation loss: the towers, G, the scorer and the text prior's weight
        (C and D have their own)."""
        mods: list[nn.Module] = [self.user, self.job, self.scorer]
        if self.generator is not None:
            mods.append(self.generator)
        extra = [self.text_scale] if self.text_scale is not None else []
        return [p for m in mods for p in m.parameters()] + extra


@dataclass
class LGIRHistory:
    """Mean losses and the validation AUC per epoch."""

    loss_rec: list[float] = field(default_factory=list)
    loss_c: list[float] = field(default_factory=list)
    loss_d: list[float] = field(default_factory=list)
    loss_g: list[float] = field(default_factory=list)
    val_auc: list[float] = field(default_factory=list)
    best_epoch: int = 0


@dataclass
class LGIRModel:
    """A trained LGIR recommender over text vectors, with the ids it was trained on.

    Attributes:
        net: The trained modules.
        user_index: ``{user id: row}`` of the users seen in training.
        job_index: ``{job id: row}`` of the jobs seen in training.
        history: Losses and validation per epoch.
    """

    net: LGIRNet
    user_index: dict[str, int]
    job_index: dict[str, int]
    history: LGIRHistory

    def _ids(self, index: Mapping[str, int], ids: Sequence[str] | None, n: int, unknown: int) -> torch.Tensor:
        if ids is None:
            return torch.full((n,), unknown, dtype=torch.long)
        return torch.tensor([index.get(i, unknown) for i in ids], dtype=torch.long)

    @torch.no_grad()
    def score(
        self,
        users: np.ndarray | torch.Tensor,
        jobs: np.ndarray | torch.Tensor,
        user_ids: Sequence[str] | None = None,
        job_ids: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Scores of every user (rows) against every job (columns).

        Args:
            users: ``(U, d)`` text vectors of the users' resumes.
            jobs: ``(J, d)`` text vectors of the jobs.
            user_ids, job_ids: Their ids; an id not seen in training, or no ids at all, is
                scored from the text alone.
        """
        u = torch.as_tensor(np.asarray(users), dtype=torch.float32)
        j = torch.as_tensor(np.asarray(jobs), dtype=torch.float32)
        net = self.net.eval()
        _, z = net.represent_user(self._ids(self.user_index, user_ids, len(u), net.user.n_ids), u)
        jid = self._ids(self.job_index, job_ids, len(j), net.job.n_ids)
        nu, nj = len(u), len(j)
        return (
            net.score(
                z[:, None, :].expand(-1, nj, -1).reshape(nu * nj, -1),
                u[:, None, :].expand(-1, nj, -1).reshape(nu * nj, -1),
                jid[None, :].expand(nu, -1).reshape(-1),
                j[None, :, :].expand(nu, -1, -1).reshape(nu * nj, -1),
            )
            .reshape(nu, nj)
            .numpy()
        )


def sample_triples(positives: Mapping[int, set[int]], n_jobs: int, negatives: int, seed: int = 0) -> torch.Tensor:
    """``[user, positive job, negative job]`` rows; negatives are jobs the user did not touch."""
    rng = random.Random(seed)
    rows = []
    for u in sorted(positives):
        pos = positives[u]
        if len(pos) >= n_jobs:
            continue
        for j in sorted(pos):
            for _ in range(negatives):
                k = rng.randrange(n_jobs)
                while k in pos:
                    k = rng.randrange(n_jobs)
                rows.append((u, j, k))
    return torch.tensor(rows, dtype=torch.long).reshape(-1, 3)


def embed_documents(encoder: object, docs: Iterable[Document]) -> dict[str, np.ndarray]:
    """``{id: vector}`` of documents with any encoder whose ``encode`` takes documents
    (``BiEncoder``); the input :func:`fit_lgir` expects."""
    docs = list(docs)
    vecs = encoder.encode(docs)  # type: ignore[attr-defined]
    return {d.id: np.asarray(v, dtype=np.float32) for d, v in zip(docs, vecs, strict=True)}


def fuse_completions(
    resume_vecs: Mapping[str, np.ndarray], completion_vecs: Mapping[str, np.ndarray], weight: float = 0.5
) -> dict[str, np.ndarray]:
    """Each user's text vector with its completion in it: ``(1 - w)·v_resume + w·v_completion``,
    re-normalised; a user without a completion keeps the resume's vector.

    Fused rather than appended: a completion appended after a resume of ~980 tokens would lie
    outside a 256-token encoder window (the lesson of the HyRe ablation).
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    out = dict(resume_vecs)
    for uid, v in completion_vecs.items():
        fused = (1 - weight) * np.asarray(resume_vecs[uid]) + weight * np.asarray(v)
        out[uid] = (fused / np.linalg.norm(fused)).astype(np.float32)
    return out


def embed_completed_resumes(encoder: object, resumes: Iterable[Document], weight: float = 0.5) -> dict[str, np.ndarray]:
    """:func:`fit_lgir`'s user vectors for resumes completed by SRC / IRC (``complete_resumes``):
    the resume as the user wrote it, fused (:func:`fuse_completions`) with the vector of its
    ``inferred`` text; a resume without a completion reads as itself."""
    from agentic_match.augment.completion import INFERRED_FIELD

    docs = list(resumes)
    written = [
        Document(d.id, d.kind, {k: v for k, v in d.fields.items() if k != INFERRED_FIELD}, d.text, d.metadata)
        for d in docs
    ]
    inferred = [Document(d.id, d.kind, text=d.fields[INFERRED_FIELD]) for d in docs if d.fields.get(INFERRED_FIELD)]
    return fuse_completions(embed_documents(encoder, written), embed_documents(encoder, inferred), weight)


def _check_ids(what: str, inter: list[Interaction], resume_vecs: Mapping, job_vecs: Mapping) -> None:
    unknown = sorted({i.resume_id for i in inter} - set(resume_vecs)) + sorted(
        {i.job_id for i in inter} - set(job_vecs)
    )
    if unknown:
        raise DataError(f"LGIR: {what} name {len(unknown)} id(s) without an embedding, e.g. {unknown[:3]}")


def _positives(inter: Iterable[Interaction], rid: Mapping[str, int], jid: Mapping[str, int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for i in inter:
        out.setdefault(rid[i.resume_id], set()).add(jid[i.job_id])
    return out


@torch.no_grad()
def _auc(net: LGIRNet, users: torch.Tensor, jobs: torch.Tensor, triples: torch.Tensor) -> float:
    """Share of held-out (positive, sampled negative) pairs the model orders right."""
    net.eval()
    u, p, n = triples.T
    _, z = net.represent_user(u, users[u])
    pos, neg = net.score(z, users[u], p, jobs[p]), net.score(z, users[u], n, jobs[n])
    return float(((pos > neg).float() + 0.5 * (pos == neg).float()).mean())


def fit_lgir(
    resume_vecs: Mapping[str, np.ndarray],
    job_vecs: Mapping[str, np.ndarray],
    interactions: Iterable[Interaction],
    config: LGIRConfig = LGIRConfig(),
    validation: Iterable[Interaction] = (),
    *,
    progress: bool = False,
) -> LGIRModel:
    """Train the towers, C, G, D and the scorer jointly (equations 3-13), with early stopping.

    Each step takes a batch of ``(user, interacted job, sampled job)`` triples and updates:
    the towers, G and the scorer with ``L_rec`` (eq. 13) plus ``gan_weight·L_G`` (eq. 10) on
    the batch's few-shot users; C with ``L_C`` (eq. 6) on the batch's labelled users; D with
    ``L_D`` (eq. 9). C and D read the tower outputs detached, so only ``L_rec`` and ``L_G``
    shape the representations. After every epoch the validation AUC (held-out interactions
    against sampled jobs, fixed once) decides whether the epoch is the best so far; training
    stops after ``patience`` epochs without one and the best epoch's weights are returned.
    Without ``validation`` interactions every epoch runs and the last is kept.

    Args:
        resume_vecs: ``{resume_id: text vector}`` of every user to learn (their completed
            resumes, encoded); users without training interactions still get an ID row.
        job_vecs: ``{job_id: text vector}`` of every job to learn.
        interactions: The training positives (and the shot counts).
        config: Settings.
        validation: Held-out positives for early stopping.
        progress: Print one line per epoch.

    Raises:
        DataError: an interaction names an id without a vector, or there is nothing to train on.
    """
    inter, val = list(interactions), list(validation)
    _check_ids("training interactions", inter, resume_vecs, job_vecs)
    _check_ids("validation interactions", val, resume_vecs, job_vecs)
    if not inter:
        raise DataError("LGIR: no training interactions")
    rid = {r: k for k, r in enumerate(resume_vecs)}
    jid = {j: k for k, j in enumerate(job_vecs)}
    users = torch.as_tensor(np.stack([resume_vecs[r] for r in rid]), dtype=torch.float32)
    jobs = torch.as_tensor(np.stack([job_vecs[j] for j in jid]), dtype=torch.float32)
    positives = _positives(inter, rid, jid)

    torch.manual_seed(config.seed)
    net = LGIRNet(len(rid), len(jid), users.shape[1], config)
    opt = torch.optim.AdamW(net.rec_parameters(), lr=config.lr, weight_decay=0.0)  # L2 is in L_rec (eq. 13)
    rec_loss, adv = RecommendationLoss(config.l2), AdversarialLoss()
    opt_c = opt_d = None
    shot = torch.full((len(rid),), -1.0)  # -1: neither few- nor many-shot
    if config.gan:
        labels = shot_labels({r: len(positives.get(k, ())) for r, k in rid.items()}, config)
        for r, y in labels.items():
            shot[rid[r]] = float(y)
        if not (shot == 1).any() or not (shot == 0).any():
            raise DataError("LGIR GAN needs both many-shot and few-shot users; adjust few_max / many_min")
        assert net.classifier is not None and net.discriminator is not None
        opt_c = torch.optim.AdamW(net.classifier.parameters(), lr=config.lr, weight_decay=0.0)
        opt_d = torch.optim.AdamW(net.discriminator.parameters(), lr=config.lr, betas=(0.5, 0.999), weight_decay=0.0)
    # Held-out positives: each against one sampled job the user never touched, fixed once so
    # every epoch is compared on the same pairs.
    val_pos = _positives(val, rid, jid)
    seen = {u: val_pos.get(u, set()) | positives.get(u, set()) for u in val_pos}
    val_triples = sample_triples(seen, len(jid), 1, config.seed + 7919)
    val_triples = val_triples[[bool(int(p) in val_pos[int(u)]) for u, p, _ in val_triples.tolist()]]

    hist = LGIRHistory()
    best_state, best_auc, stale = None, -1.0, 0
    gen = torch.Generator().manual_seed(config.seed)
    n_unknown_u, n_unknown_j = net.user.n_ids, net.job.n_ids
    for epoch in range(config.epochs):
        net.train()
        triples = sample_triples(positives, len(jid), config.negatives, config.seed * 1000 + epoch)
        sums, steps = {"rec": 0.0, "c": 0.0, "d": 0.0, "g": 0.0}, 0
        for idx in torch.randperm(len(triples), generator=gen).split(config.batch_size):
            u, p, n = triples[idx].T
            # ID dropout: some examples read as unknown ids, so text alone also scores.
            drop = torch.rand(len(u), generator=gen) < config.id_dropout
            uid = torch.where(drop, torch.full_like(u, n_unknown_u), u)
            pid = torch.where(drop, torch.full_like(p, n_unknown_j), p)
            nid = torch.where(drop, torch.full_like(n, n_unknown_j), n)
            xu, z = net.represent_user(uid, users[u])
            loss = rec_loss(
                net.score(z, users[u], pid, jobs[p]), net.score(z, users[u], nid, jobs[n]), net.rec_parameters()
            )
            sums["rec"] += float(loss.detach())
            # Every loss is differentiated before any optimiser steps: L_G's gradient passes
            # through D, whose weights must still be the ones L_G was computed with.
            stepped = [opt]
            if config.gan:
                assert net.classifier is not None and net.discriminator is not None and net.generator is not None
                assert opt_c is not None and opt_d is not None
                y = shot[u]
                many, few = xu[y == 1], xu[y == 0]
                if len(many) and len(few):
                    loss_d, loss_g = adv(net.discriminator, net.generator, many, few)
                    loss = loss + config.gan_weight * loss_g
                    opt_d.zero_grad()
                    loss_d.backward(inputs=list(net.discriminator.parameters()))
                    stepped.append(opt_d)
                    sums["d"] += float(loss_d.detach())
                    sums["g"] += float(loss_g.detach())
                labelled = y >= 0
                if labelled.any():
                    loss_c = nn.functional.binary_cross_entropy(net.classifier(xu[labelled].detach()), y[labelled])
                    opt_c.zero_grad()
                    loss_c.backward()
                    stepped.append(opt_c)
                    sums["c"] += float(loss_c.detach())
            opt.zero_grad()
            loss.backward(inputs=net.rec_parameters())
            for o in stepped:
                o.step()
            steps += 1
        hist.loss_rec.append(sums["rec"] / steps)
        hist.loss_c.append(sums["c"] / steps)
        hist.loss_d.append(sums["d"] / steps)
        hist.loss_g.append(sums["g"] / steps)
        if len(val_triples):
            auc = _auc(net, users, jobs, val_triples)
            hist.val_auc.append(auc)
            if auc > best_auc:
                best_auc, best_state, stale, hist.best_epoch = auc, copy.deepcopy(net.state_dict()), 0, epoch
            else:
                stale += 1
        else:
            hist.best_epoch = epoch
        if progress:
            val_txt = f" val AUC {hist.val_auc[-1]:.3f}" if hist.val_auc else ""
            print(f"LGIR epoch {epoch + 1}: L_rec {hist.loss_rec[-1]:.4f}{val_txt}", flush=True)
        if len(val_triples) and stale >= config.patience:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    return LGIRModel(net.eval(), rid, jid, hist)


class LGIRRanker:
    """A :class:`~agentic_match.evaluation.ranker.Ranker` over a trained :class:`LGIRModel`.

    Resumes are the users and jobs the items, whichever side the queries are on (resume
    queries over jobs, or job queries over resumes: the same score matrix, transposed).
    Documents are looked up by id in the model's ID embeddings (unknown ids: text alone).

    Args:
        model: The trained recommender.
        encoder: Embeds documents (the encoder the recommender was trained on).
    """

    def __init__(self, model: LGIRModel, encoder: object):
        self.model = model
        self.encoder = encoder

    def rank(
        self, queries: Sequence[Document], candidates: Sequence[Document], k: int = 100
    ) -> dict[str, dict[str, float]]:
        if not queries or not candidates:
            return {q.id: {} for q in queries}
        users_are_queries = queries[0].kind == "resume"
        users, jobs = (queries, candidates) if users_are_queries else (candidates, queries)
        scores = self.model.score(
            self.encoder.encode(list(users)),  # type: ignore[attr-defined]
            self.encoder.encode(list(jobs)),  # type: ignore[attr-defined]
            [d.id for d in users],
            [d.id for d in jobs],
        )
        if not users_are_queries:
            scores = scores.T
        out = {}
        for qi, q in enumerate(queries):
            top = np.argsort(-scores[qi])[:k]
            out[q.id] = {candidates[c].id: float(scores[qi, c]) for c in top}
        return out
