"""LGIR's alignment of few-shot users and its pairwise job scorer, on encoder embeddings.

LGIR ("Enhancing Job Recommendation through LLM-based Generative Adversarial Networks",
Du, Luo, Yan et al., AAAI 2024, arXiv 2307.10747) completes resumes with an LLM, then
notices that users with few interactions get poorer completions. It aligns their resume
representations with those of many-shot users through a GAN and scores (user, job) pairs
with a small interaction layer trained with BPR. The pieces, as small modules:

* :class:`ShotClassifier` ``C`` - many-shot (1) vs few-shot (0) users, labelled by
  interaction-count thresholds (:func:`shot_labels`).
* :class:`Generator` ``G`` and :class:`Discriminator` ``D`` - trained adversarially
  (:class:`AdversarialLoss`) so that ``G(x_few)`` looks like a many-shot representation.
* :class:`AlignedUser` - ``z = x if C(x) >= 0.5 else G(x)``.
* :class:`PairScorer` ``W`` - ``ŷ = W·[z + x_job; z − x_job; z ⊙ x_job]`` trained with
  :class:`BPRLoss`.

The formulas are written in each module's docstring as we implement them (the paper's
equations 5-13, in our notation). :func:`fit_lgir` trains everything from embeddings and
interactions; inputs are plain arrays, so any encoder (``BiEncoder.encode``) can feed it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from agentic_match.data.schema import Document, Interaction
from agentic_match.errors import DataError


@dataclass(frozen=True)
class LGIRConfig:
    """Settings of LGIR alignment and scoring.

    Attributes:
        few_max: Users with at most this many interactions are few-shot (label 0).
        many_min: Users with at least this many interactions are many-shot (label 1);
            users in between train neither C nor the GAN.
        hidden: Hidden width of the C, G and D MLPs.
        gan_epochs: Epochs of adversarial training.
        classifier_epochs: Epochs of training C.
        scorer_epochs: Epochs of BPR training of the scorer.
        negatives: Sampled negative jobs per positive (user, job) pair.
        batch_size: Examples per step.
        lr: Adam learning rate.
        seed: Seed of initialisation, shuffling and negative sampling.
        gan: Align few-shot users with the GAN (``False``: ``z = x`` for every user, the
            scorer alone; LGIR's ablation without alignment).
    """

    few_max: int = 2
    many_min: int = 5
    hidden: int = 128
    gan_epochs: int = 50
    classifier_epochs: int = 30
    scorer_epochs: int = 30
    negatives: int = 4
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    gan: bool = True

    def __post_init__(self) -> None:
        if self.few_max >= self.many_min:
            raise ValueError(f"LGIRConfig: few_max ({self.few_max}) must be below many_min ({self.many_min})")


def shot_labels(counts: Mapping[str, int], config: LGIRConfig = LGIRConfig()) -> dict[str, int]:
    """``{user: 1 many-shot | 0 few-shot}`` by interaction counts (middle users left out)."""
    return {u: int(n >= config.many_min) for u, n in counts.items() if n <= config.few_max or n >= config.many_min}


def _mlp(dim_in: int, hidden: int, dim_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, dim_out))


class ShotClassifier(nn.Module):
    """``C``: the probability that a representation belongs to a many-shot user.

    ``C(x) = σ(MLP_C(x))``, trained with binary cross-entropy on the shot labels:
    ``L_C = −[y·log C(x) + (1 − y)·log(1 − C(x))]``.
    """

    def __init__(self, dim: int, hidden: int = 128):
        super().__init__()
        self.net = _mlp(dim, hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x)).squeeze(-1)


class Generator(nn.Module):
    """``G``: maps a few-shot representation towards the many-shot distribution.

    ``G(x) = x + MLP_G(x)`` - a residual map, so an untrained ``G`` starts at the identity
    and never drifts far from the user's own resume.
    """

    def __init__(self, dim: int, hidden: int = 128):
        super().__init__()
        self.net = _mlp(dim, hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class Discriminator(nn.Module):
    """``D``: the probability that a representation is a real many-shot one.

    ``D(x) = σ(MLP_D(x))``.
    """

    def __init__(self, dim: int, hidden: int = 128):
        super().__init__()
        self.net = _mlp(dim, hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x)).squeeze(-1)


class AdversarialLoss(nn.Module):
    """The GAN objectives on unpaired many-shot (``x⁺``) and few-shot (``x⁻``) batches.

    ``L_D = −E_{x⁺}[log D(x⁺)] − E_{x⁻}[log(1 − D(G(x⁻)))]``

    ``L_G = −E_{x⁻}[log D(G(x⁻))]`` (the non-saturating form)

    :meth:`forward` returns ``(L_D, L_G)``; ``L_D`` sees ``G(x⁻)`` detached so each loss
    only trains its own network.
    """

    def __init__(self, eps: float = 1e-6):
        super().__init__()
        self.eps = eps

    def forward(
        self, d: Discriminator, g: Generator, x_many: torch.Tensor, x_few: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        fake = g(x_few)
        loss_d = -(torch.log(d(x_many) + self.eps).mean() + torch.log(1 - d(fake.detach()) + self.eps).mean())
        loss_g = -torch.log(d(fake) + self.eps).mean()
        return loss_d, loss_g


class AlignedUser(nn.Module):
    """The user representation used for scoring: ``z = x if C(x) >= 0.5 else G(x)``
    (``z = x`` when built without a classifier and generator)."""

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
    """``W``: the score of a (user, job) pair from their representations.

    ``ŷ(z, x_job) = W·[z + x_job; z − x_job; z ⊙ x_job] + b`` (``;`` concatenates, ``⊙`` is
    the element-wise product).
    """

    def __init__(self, dim: int):
        super().__init__()
        self.w = nn.Linear(3 * dim, 1)

    def forward(self, z: torch.Tensor, x_job: torch.Tensor) -> torch.Tensor:
        return self.w(torch.cat([z + x_job, z - x_job, z * x_job], dim=-1)).squeeze(-1)


class BPRLoss(nn.Module):
    """Bayesian personalised ranking: ``L = −mean log σ(ŷ(u, j⁺) − ŷ(u, j⁻))``."""

    def forward(self, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        return -nn.functional.logsigmoid(pos - neg).mean()


# --------------------------------------------------------------------------- training


def _batches(n: int, size: int, gen: torch.Generator) -> Iterable[torch.Tensor]:
    perm = torch.randperm(n, generator=gen)
    for i in range(0, n, size):
        yield perm[i : i + size]


def train_classifier(x: torch.Tensor, y: torch.Tensor, config: LGIRConfig = LGIRConfig()) -> ShotClassifier:
    """Train ``C`` on representations ``x`` with shot labels ``y`` (1 many, 0 few)."""
    torch.manual_seed(config.seed)
    c = ShotClassifier(x.shape[1], config.hidden)
    opt = torch.optim.Adam(c.parameters(), lr=config.lr)
    gen = torch.Generator().manual_seed(config.seed)
    # Few-shot users usually dominate; weight the classes so C does not just answer "few".
    pos = float(y.sum())
    weight = torch.where(y > 0, (len(y) - pos) / max(pos, 1.0), torch.ones_like(y))
    for _ in range(config.classifier_epochs):
        for idx in _batches(len(x), config.batch_size, gen):
            loss = nn.functional.binary_cross_entropy(c(x[idx]), y[idx].float(), weight=weight[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return c.eval()


@dataclass
class GANHistory:
    """Mean losses per epoch of adversarial training."""

    loss_d: list[float] = field(default_factory=list)
    loss_g: list[float] = field(default_factory=list)


def train_gan(
    x_many: torch.Tensor, x_few: torch.Tensor, config: LGIRConfig = LGIRConfig()
) -> tuple[Generator, Discriminator, GANHistory]:
    """Train ``G`` and ``D`` adversarially on unpaired many-shot and few-shot representations."""
    if len(x_many) == 0 or len(x_few) == 0:
        raise DataError("LGIR GAN needs both many-shot and few-shot users; adjust few_max / many_min")
    torch.manual_seed(config.seed)
    dim = x_many.shape[1]
    g, d = Generator(dim, config.hidden), Discriminator(dim, config.hidden)
    opt_g = torch.optim.Adam(g.parameters(), lr=config.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=config.lr, betas=(0.5, 0.999))
    adv = AdversarialLoss()
    gen = torch.Generator().manual_seed(config.seed)
    hist = GANHistory()
    for _ in range(config.gan_epochs):
        ld, lg, steps = 0.0, 0.0, 0
        for idx in _batches(len(x_few), config.batch_size, gen):
            many = x_many[torch.randint(len(x_many), (len(idx),), generator=gen)]
            loss_d, _ = adv(d, g, many, x_few[idx])
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            _, loss_g = adv(d, g, many, x_few[idx])
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            ld, lg, steps = ld + loss_d.item(), lg + loss_g.item(), steps + 1
        hist.loss_d.append(ld / steps)
        hist.loss_g.append(lg / steps)
    return g.eval(), d.eval(), hist


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


def train_scorer(
    aligner: AlignedUser,
    users: torch.Tensor,
    jobs: torch.Tensor,
    triples: torch.Tensor,
    config: LGIRConfig = LGIRConfig(),
) -> tuple[PairScorer, list[float]]:
    """Train ``W`` with BPR on aligned user representations (C and G stay frozen)."""
    torch.manual_seed(config.seed)
    with torch.no_grad():
        z = aligner(users)
    scorer = PairScorer(users.shape[1])
    opt = torch.optim.Adam(scorer.parameters(), lr=config.lr)
    bpr = BPRLoss()
    gen = torch.Generator().manual_seed(config.seed)
    losses = []
    for _ in range(config.scorer_epochs):
        total, steps = 0.0, 0
        for idx in _batches(len(triples), config.batch_size, gen):
            u, p, n = triples[idx].T
            loss = bpr(scorer(z[u], jobs[p]), scorer(z[u], jobs[n]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + loss.item(), steps + 1
        losses.append(total / max(steps, 1))
    return scorer.eval(), losses


@dataclass
class LGIRModel:
    """A trained LGIR head: align users, then score them against jobs."""

    aligner: AlignedUser
    scorer: PairScorer
    gan: GANHistory
    scorer_losses: list[float]

    @torch.no_grad()
    def score(self, users: np.ndarray | torch.Tensor, jobs: np.ndarray | torch.Tensor) -> np.ndarray:
        """Scores of every user (rows) against every job (columns)."""
        u = torch.as_tensor(np.asarray(users), dtype=torch.float32)
        j = torch.as_tensor(np.asarray(jobs), dtype=torch.float32)
        z = self.aligner(u)
        return self.scorer(z[:, None, :].expand(-1, len(j), -1), j[None, :, :].expand(len(u), -1, -1)).numpy()


def embed_documents(encoder: object, docs: Iterable[Document]) -> dict[str, np.ndarray]:
    """``{id: vector}`` of documents with any encoder whose ``encode`` takes documents
    (``BiEncoder``); the input :func:`fit_lgir` expects."""
    docs = list(docs)
    vecs = encoder.encode(docs)  # type: ignore[attr-defined]
    return {d.id: np.asarray(v, dtype=np.float32) for d, v in zip(docs, vecs, strict=True)}


def fit_lgir(
    resume_vecs: Mapping[str, np.ndarray],
    job_vecs: Mapping[str, np.ndarray],
    interactions: Iterable[Interaction],
    config: LGIRConfig = LGIRConfig(),
) -> LGIRModel:
    """Train C, then G/D, then the BPR scorer, from embeddings and interactions.

    Args:
        resume_vecs: ``{resume_id: embedding}`` (the completed resumes, encoded).
        job_vecs: ``{job_id: embedding}``.
        interactions: Who interacted with which job (the positives, and the shot counts).
    """
    inter = list(interactions)
    unknown = sorted({i.resume_id for i in inter} - set(resume_vecs)) + sorted(
        {i.job_id for i in inter} - set(job_vecs)
    )
    if unknown:
        raise DataError(f"LGIR: interactions name {len(unknown)} id(s) without an embedding, e.g. {unknown[:3]}")
    rid = {r: k for k, r in enumerate(resume_vecs)}
    jid = {j: k for k, j in enumerate(job_vecs)}
    users = torch.as_tensor(np.stack([resume_vecs[r] for r in rid]), dtype=torch.float32)
    jobs = torch.as_tensor(np.stack([job_vecs[j] for j in jid]), dtype=torch.float32)
    positives: dict[int, set[int]] = {}
    for i in inter:
        positives.setdefault(rid[i.resume_id], set()).add(jid[i.job_id])
    if config.gan:
        counts = {r: len(positives.get(k, ())) for r, k in rid.items()}
        labels = shot_labels(counts, config)
        lab_ids = [rid[r] for r in labels]
        y = torch.tensor([labels[r] for r in labels], dtype=torch.float32)
        classifier = train_classifier(users[lab_ids], y, config)
        many = users[[rid[r] for r, v in labels.items() if v == 1]]
        few = users[[rid[r] for r, v in labels.items() if v == 0]]
        g, _, hist = train_gan(many, few, config)
        aligner = AlignedUser(classifier, g).eval()
    else:
        aligner, hist = AlignedUser(None, None).eval(), GANHistory()
    triples = sample_triples(positives, len(jid), config.negatives, config.seed)
    scorer, losses = train_scorer(aligner, users, jobs, triples, config)
    return LGIRModel(aligner, scorer, hist, losses)


class LGIRRanker:
    """A :class:`~agentic_match.evaluation.ranker.Ranker` over a trained :class:`LGIRModel`.

    Resumes are the users and jobs the items, whichever side the queries are on (resume
    queries over jobs, or job queries over resumes: the same score matrix, transposed).

    Args:
        model: The trained head.
        encoder: Embeds documents (the encoder the head was trained on).
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
        scores = self.model.score(self.encoder.encode(list(users)), self.encoder.encode(list(jobs)))  # type: ignore[attr-defined]
        if not users_are_queries:
            scores = scores.T
        out = {}
        for qi, q in enumerate(queries):
            top = np.argsort(-scores[qi])[:k]
            out[q.id] = {candidates[c].id: float(scores[qi, c]) for c in top}
        return out
