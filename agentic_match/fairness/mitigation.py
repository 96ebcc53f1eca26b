r"""Mitigation: a differentiable fairness term added to ConFit, and counterfactual augmentation.

Training minimises :math:`L = L_{\text{ConFit}} + \beta \, L_{\text{fair}}` where
:math:`L_{\text{fair}}` (:class:`FairnessLoss`) is a demographic-parity, equal-opportunity or
equalized-odds gap of soft decisions on the batch's (job, resume) scores, with each resume's
group taken from its metadata (``metadata[group_key]``). :class:`FairConFitLoss` composes the
ConFit loss of :mod:`agentic_match.retrieval.losses` with that term instead of changing it.

:func:`train_fair_confit` runs the one encoder training loop
(:func:`agentic_match.retrieval.training.loop.train_encoder`) with :class:`FairConFitRecipe`,
a ConFit\* recipe whose loss adds the fairness term; batches, negatives, checkpoints and
resumption are the loop's, so a stopped run resumes like any other.

Counterfactual data augmentation (``cda=True``) adds, for every accepted pair whose resume
the lexicon changes, the counterfactual resume as a second positive of the job.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from agentic_match.config import config_to_dict, setting
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Corpus
from agentic_match.errors import ConfigError
from agentic_match.files import digest
from agentic_match.retrieval.mining import PairNegatives
from agentic_match.retrieval.training import ConFitConfig, train_encoder
from agentic_match.retrieval.training.confit import ConFitRecipe
from agentic_match.types import Pair

log = logging.getLogger(__name__)

Criterion = Literal["dp", "eo", "eodds"]


class FairnessLoss(nn.Module):
    r"""A differentiable group gap of soft decisions on a batch of scores.

    With scores (logits) :math:`s_i`, soft decisions :math:`p_i = \sigma(s_i / T)`, groups
    :math:`g_i` (``-1``: unknown, ignored) and labels :math:`y_i \in \{0, 1\}`, the soft rate
    of group :math:`g` over the rows :math:`M` is
    :math:`r_g(M) = \sum_{i \in M, g_i = g} p_i / |\{i \in M : g_i = g\}|` and the gap is
    :math:`\Delta(M) = \max_g r_g(M) - \min_g r_g(M)` over the groups present in :math:`M`:

    * ``"dp"`` (demographic parity): :math:`L = \Delta(\text{all rows})`;
    * ``"eo"`` (equal opportunity): :math:`L = \Delta(\{i : y_i = 1\})`;
    * ``"eodds"`` (equalized odds): :math:`L = \max(\Delta(\{y = 1\}), \Delta(\{y = 0\}))`.

    These are the metrics of :mod:`agentic_match.fairness.metrics` with hard decisions
    replaced by :math:`p_i`, so the penalty is 0 exactly when the soft rates are equal.
    ``squared=True`` uses :math:`\Delta^2` (smooth at 0). A batch with fewer than two groups
    in a subset contributes 0 for it.

    Args:
        criterion: ``"dp"``, ``"eo"`` or ``"eodds"``.
        temperature: ``T`` of the sigmoid.
        squared: Penalise the squared gap.
    """

    def __init__(self, criterion: Criterion = "dp", temperature: float = 1.0, squared: bool = False) -> None:
        super().__init__()
        if criterion not in ("dp", "eo", "eodds"):
            raise ConfigError(f"fairness criterion must be dp, eo or eodds, got {criterion!r}")
        if temperature <= 0:
            raise ConfigError(f"temperature must be > 0, got {temperature}")
        self.criterion = criterion
        self.temperature = float(temperature)
        self.squared = squared

    def _gap(self, p: Tensor, groups: Tensor, mask: Tensor) -> Tensor:
        rates = []
        for g in torch.unique(groups[mask & (groups >= 0)]):
            sel = mask & (groups == g)
            rates.append(p[sel].mean())
        if len(rates) < 2:
            return p.sum() * 0.0  # keeps the graph (and the device) without a gradient
        r = torch.stack(rates)
        gap = r.max() - r.min()
        return gap * gap if self.squared else gap

    def forward(self, scores: Tensor, groups: Tensor, labels: Tensor | None = None) -> Tensor:
        """The penalty of one batch; ``scores``, ``groups`` and ``labels`` are 1-D, same length."""
        scores, groups = scores.reshape(-1), groups.reshape(-1).to(scores.device)
        if scores.shape != groups.shape:
            raise ValueError(f"scores {tuple(scores.shape)} and groups {tuple(groups.shape)} differ")
        p = torch.sigmoid(scores / self.temperature)
        everyone = torch.ones_like(groups, dtype=torch.bool)
        if self.criterion == "dp":
            return self._gap(p, groups, everyone)
        if labels is None:
            raise ValueError(f"criterion {self.criterion!r} needs labels")
        pos = labels.reshape(-1).to(scores.device) > 0
        if self.criterion == "eo":
            return self._gap(p, groups, pos)
        return torch.maximum(self._gap(p, groups, pos), self._gap(p, groups, ~pos))


def batch_fairness_inputs(
    job_emb: Tensor,
    resume_emb: Tensor,
    temperature: float,
    known_positive: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Scores and labels of every (job, resume) pair of a ConFit batch.

    ``resume_emb`` holds the ``B`` batch resumes (row ``i`` accepted for job ``i``) then any
    hard-negative resumes. The logit of pair :math:`(j, r)` is
    :math:`(\cos(j, r) - \overline{\cos}(j, \cdot)) / \tau`: centring each job's row on its
    (detached) mean makes :math:`p = \sigma(\cdot)` read "scored above this job's average
    candidate", a decision that does not depend on how high one job's scores sit. Labels are
    1 on the diagonal and where ``known_positive`` (``(B, B + K)``) is true.
    """
    cos = F.normalize(job_emb, dim=-1) @ F.normalize(resume_emb, dim=-1).T
    logits = (cos - cos.mean(dim=1, keepdim=True).detach()) / temperature
    b, n = cos.shape
    labels = torch.zeros(b, n, dtype=torch.bool, device=cos.device)
    labels[torch.arange(b), torch.arange(b)] = True
    if known_positive is not None:
        labels |= known_positive.to(torch.bool).to(cos.device)
    return logits, labels


class FairConFitLoss(nn.Module):
    r""":math:`L = L_{\text{ConFit}} + \beta \, L_{\text{fair}}` by composition.

    ``base`` is a :class:`~agentic_match.retrieval.losses.ConFitLoss`; its model embeds the
    batch once and both terms use those embeddings. :math:`L_{\text{fair}}` is
    ``fairness`` (:class:`FairnessLoss`) on the logits and labels of
    :func:`batch_fairness_inputs`, each pair grouped by its *resume's* group.

    ``forward`` takes the toolkit trainer's columns ``[resumes, jobs, negative_jobs,
    negative_resumes]`` (the last two optional) plus ``resume_groups``: a ``(B + K,)``
    integer tensor (``-1``: unknown) for the batch resumes then the negative resumes.
    """

    def __init__(self, base: nn.Module, fairness: FairnessLoss, beta: float = 1.0) -> None:
        super().__init__()
        if beta < 0:
            raise ConfigError(f"beta must be >= 0, got {beta}")
        self.base = base
        self.fairness = fairness
        self.beta = float(beta)
        self.last_terms: dict[str, float] = {}

    def _embed(self, features: dict | None) -> Tensor | None:
        if not features:
            return None
        return self.base.model(features)["sentence_embedding"]

    def forward(
        self,
        sentence_features: Sequence[dict | None],
        labels: Tensor | None = None,
        resume_mask: Tensor | None = None,
        job_mask: Tensor | None = None,
        resume_groups: Tensor | None = None,
    ) -> Tensor:
        from agentic_match.retrieval.losses import confit_loss

        feats = list(sentence_features) + [None] * (4 - len(sentence_features))
        resumes, jobs = self._embed(feats[0]), self._embed(feats[1])
        neg_jobs, neg_resumes = self._embed(feats[2]), self._embed(feats[3])
        utility = confit_loss(
            resumes,
            jobs,
            neg_jobs,
            neg_resumes,
            temperature=self.base.temperature,
            lam=self.base.lam,
            resume_mask=resume_mask,
            job_mask=job_mask,
        )
        self.last_terms = {"utility": float(utility.detach())}
        if resume_groups is None:
            return utility
        all_resumes = resumes if neg_resumes is None else torch.cat([resumes, neg_resumes])
        logits, y = batch_fairness_inputs(jobs, all_resumes, self.base.temperature, job_mask)
        groups = resume_groups.to(logits.device).reshape(1, -1).expand_as(logits)
        # Computed at β = 0 too, so that a sweep logs the gap it did not penalise.
        fair = self.fairness(logits.reshape(-1), groups.reshape(-1), y.reshape(-1))
        self.last_terms["fair"] = float(fair.detach())
        if self.beta == 0:
            return utility
        return utility + self.beta * fair


# ---------------------------------------------------------------------------- training


@dataclass
class FairTrainConfig:
    """Settings of :func:`train_fair_confit` (the ConFit ones are in ``confit``)."""

    confit: ConFitConfig = setting(factory=ConFitConfig, help="The ConFit* settings (the utility term).")
    beta: float = setting(1.0, help="Weight β of the fairness term (0: plain ConFit, the gap still logged).")
    criterion: Criterion = setting("dp", help="Gap penalised: dp, eo or eodds.", choices=("dp", "eo", "eodds"))
    fairness_temperature: float = setting(
        1.0, help="Sigmoid temperature on the centred logits (see batch_fairness_inputs)."
    )
    squared: bool = setting(False, help="Penalise the squared gap.")
    group_key: str = setting(
        "group", help="Resume metadata key holding the sensitive attribute (when no groups mapping is passed)."
    )
    cda: bool = setting(
        False, help="Counterfactual data augmentation: each changed resume's counterfactual is a second positive."
    )
    cda_dimensions: tuple[str, ...] = setting(("gender",), help="Lexicon dimensions swapped for augmentation.")
    max_pairs: int | None = setting(
        None, help="Train on at most this many accepted pairs (seeded sample; for quick sweeps)."
    )

    def __post_init__(self) -> None:
        if isinstance(self.confit, Mapping):
            self.confit = ConFitConfig.from_dict(dict(self.confit))
        if self.beta < 0:
            raise ConfigError(f"beta must be >= 0, got {self.beta}")
        if self.criterion not in ("dp", "eo", "eodds"):
            raise ConfigError(f"criterion must be dp, eo or eodds, got {self.criterion!r}")
        self.cda_dimensions = tuple(self.cda_dimensions)

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)


@dataclass
class FairTrainResult:
    """What :func:`train_fair_confit` did."""

    model_dir: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    n_pairs: int = 0
    n_cda_pairs: int = 0
    group_counts: dict[str, int] = field(default_factory=dict)


class FairConFitRecipe(ConFitRecipe):
    """ConFit* with the fairness term, on the one training loop (the best epoch on dev is kept).

    The data differ from ConFit*'s in two ways: a seeded sample of the pairs
    (``max_pairs``) and, with ``cda``, each accepted pair whose resume the lexicon changes
    gets its counterfactual (``<id>#cf``, sharing the original's hard negatives) as a second
    positive of the job, grouped on the other side when the groups are the lexicon's sides.
    """

    meta_file = "fair_config.json"
    label = "fair-confit epoch"

    def __init__(
        self,
        corpus: Corpus,
        config: FairTrainConfig,
        *,
        groups: Mapping[str, Hashable] | None = None,
        render_config: RenderConfig | None = None,
    ) -> None:
        from agentic_match.data.labels import accepted_pairs, training_labels
        from agentic_match.errors import NoTrainingPairsError
        from agentic_match.fairness.lexicon import Lexicon
        from agentic_match.retrieval.mining import rejected_negatives

        cc = config.confit
        rc = render_config or RenderConfig()
        labels = training_labels(corpus, cc.train_split)
        pairs = accepted_pairs(labels)
        if config.max_pairs is not None and len(pairs) > config.max_pairs:
            pairs = random.Random(cc.seed).sample(pairs, config.max_pairs)
        if not pairs:
            raise NoTrainingPairsError(f"{corpus.source}: no accepted pair in the {cc.train_split!r} labels")
        if groups is None:
            groups = {
                rid: d.metadata[config.group_key]
                for rid, d in corpus.resumes.items()
                if d.metadata.get(config.group_key) not in (None, "")
            }
        group_ids = {g: i for i, g in enumerate(sorted({str(v) for v in groups.values()}))}
        gid = {rid: group_ids[str(g)] for rid, g in groups.items()}
        texts: dict[str, str] = {}
        n_cda = 0
        if config.cda:
            lex = Lexicon.load()
            sides = lex.dimension(config.cda_dimensions[0]).sides
            for rid, jid in list(pairs):
                res = lex.swap(render(corpus.resumes[rid], rc), config.cda_dimensions)
                if not res.changed:
                    continue
                cf_id = f"{rid}#cf"
                texts[cf_id] = res.text
                pairs.append((cf_id, jid))
                n_cda += 1
                g = groups.get(rid)
                if g in sides:
                    other = sides[1 - sides.index(g)]
                    if other in group_ids:
                        gid[cf_id] = group_ids[other]
        super().__init__(
            corpus,
            cc,
            rejected_negatives(labels) if cc.negatives == "rejected" else {},
            pairs=pairs,
            texts=texts,
            render_config=rc,
        )
        self.fair = config
        self.gid = gid
        self.n_cda = n_cda
        self.label = f"[fair-confit β={config.beta}] epoch"
        counts: dict[str, int] = {}
        names = {i: g for g, i in group_ids.items()}
        for r in {r for r, _ in pairs}:
            key = str(names.get(gid.get(r, -1)))
            counts[key] = counts.get(key, 0) + 1
        self.group_counts = counts

    def identity(self) -> dict[str, Any]:
        fair = {k: v for k, v in self.fair.to_dict().items() if k != "confit"}
        return {**super().identity(), "fairness": fair, "groups_digest": digest(sorted(self.gid.items()))}

    def negatives_of(self, pair: Pair) -> PairNegatives | None:
        # A counterfactual copy shares its original's hard negatives.
        return self.negatives.get((pair[0].removesuffix("#cf"), pair[1]))

    def prepare(self, model: Any, *, out_dir: Path, resuming: bool) -> None:
        from agentic_match.retrieval.losses import ConFitLoss

        super().prepare(model, out_dir=out_dir, resuming=resuming)
        cfg, fair = self.config, self.fair
        if self.job_fused:
            raise ConfigError("fair ConFit reads one text per job: use a HyRe view other than 'fusion'")
        self.loss_fn = FairConFitLoss(
            ConFitLoss(model, temperature=cfg.temperature, lam=cfg.lam),
            FairnessLoss(fair.criterion, fair.fairness_temperature, fair.squared),
            fair.beta,
        )

    def loss(self, model: Any, batch: Sequence[int], rng: random.Random) -> Any:
        b = self.batch(model, batch, rng)
        groups = torch.tensor([self.gid.get(r, -1) for r in b.resumes], device=model.device)
        loss = self.loss_fn(b.features, resume_mask=b.resume_mask, job_mask=b.job_mask, resume_groups=groups)
        return loss, {k: self.loss_fn.last_terms.get(k, 0.0) for k in ("utility", "fair")}

    def evaluate(self, encoder: Any) -> tuple[float, dict[str, Any]]:
        cc = self.config
        if not (cc.eval_split and any(k.startswith(f"{cc.eval_split}_") for k in self.corpus.qrels)):
            return math.nan, {}
        return super().evaluate(encoder)

    def describe(self, record: dict[str, Any]) -> str:
        dev = record.get("dev_ndcg@10")
        return (
            f"loss {record['train_loss']:.4f} (utility {record.get('utility', 0):.4f}, fair "
            f"{record.get('fair', 0):.4f}) dev nDCG@10 {'n/a' if dev is None else f'{dev:.2f}'}"
        )


def train_fair_confit(
    corpus: Corpus,
    config: FairTrainConfig | None = None,
    out_dir: str | Path = "runs/fair-confit",
    *,
    groups: Mapping[str, Hashable] | None = None,
    render_config: RenderConfig | None = None,
    stop_after: int | None = None,
    progress: bool = True,
) -> FairTrainResult:
    """Train a bi-encoder with ConFit + β · fairness gap; resumable, the model in ``out_dir/model``.

    Args:
        corpus: Documents and train labels (as for ``train_confit``).
        config: β, criterion, CDA and the ConFit settings (default ``FairTrainConfig()``).
        out_dir: Run folder; rerunning the same call resumes it (a finished run returns at once).
        groups: ``{resume_id: group}``; default ``metadata[config.group_key]`` of each resume.
        render_config: How documents become text (e.g. with sensitive fields excluded).
        stop_after: Train at most this many epochs in this call.
        progress: Show progress and one line per epoch.
    """
    config = config or FairTrainConfig()
    recipe = FairConFitRecipe(corpus, config, groups=groups, render_config=render_config)
    res = train_encoder(recipe, config.confit, out_dir, stop_after=stop_after, progress=progress)
    return FairTrainResult(
        res.model_dir, res.history, len(recipe.pairs) - recipe.n_cda, recipe.n_cda, recipe.group_counts
    )


__all__ = [
    "Criterion",
    "FairConFitLoss",
    "FairConFitRecipe",
    "FairTrainConfig",
    "FairTrainResult",
    "FairnessLoss",
    "batch_fairness_inputs",
    "train_fair_confit",
]
