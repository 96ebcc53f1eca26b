r"""Mitigation: a differentiable fairness term added to ConFit, and counterfactual augmentation.

Training minimises :math:`L = L_{\text{ConFit}} + \beta \, L_{\text{fair}}` where
:math:`L_{\text{fair}}` (:class:`FairnessLoss`) is a demographic-parity, equal-opportunity or
equalized-odds gap of soft decisions on the batch's (job, resume) scores, with each resume's
group taken from its metadata (``metadata[group_key]``). :class:`FairConFitLoss` composes the
ConFit loss of :mod:`agentic_match.retrieval.losses` with that term instead of changing it.

ConFit's own trainer (:func:`agentic_match.retrieval.train.train_confit`) builds its loss
inside the loop and has no hook for another one, so :func:`train_fair_confit` is a small
training loop of its own that reuses the same pieces (accepted pairs, conflict-free batches,
rejected-label negatives, known-positive masks, the ConFit loss, dev scoring). It is not
resumable mid-run (a finished run is reused); use ``train_confit`` for long runs without the
fairness term. Counterfactual data augmentation (``cda=True``) adds, for every accepted pair
whose resume the lexicon changes, the counterfactual resume as a second positive of the job.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Corpus
from agentic_match.errors import ConfigError

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

    confit: Any = None
    """A :class:`~agentic_match.retrieval.train.ConFitConfig` (``None``: its defaults)."""
    beta: float = 1.0
    """Weight β of the fairness term (0: plain ConFit)."""
    criterion: Criterion = "dp"
    """Gap penalised: ``"dp"``, ``"eo"`` or ``"eodds"``."""
    fairness_temperature: float = 1.0
    """Sigmoid temperature on the centred logits (see :func:`batch_fairness_inputs`)."""
    squared: bool = False
    """Penalise the squared gap."""
    group_key: str = "group"
    """Resume metadata key holding the sensitive attribute (only used when no ``groups``
    mapping is passed)."""
    cda: bool = False
    """Counterfactual data augmentation: add each changed resume's counterfactual as a
    second positive of its job."""
    cda_dimensions: tuple[str, ...] = ("gender",)
    """Lexicon dimensions swapped for augmentation."""
    max_pairs: int | None = None
    """Train on at most this many accepted pairs (seeded sample; for quick sweeps)."""

    def __post_init__(self) -> None:
        from agentic_match.retrieval.train import ConFitConfig

        if self.confit is None:
            self.confit = ConFitConfig()
        elif isinstance(self.confit, Mapping):
            self.confit = ConFitConfig.from_dict(dict(self.confit))
        if self.beta < 0:
            raise ConfigError(f"beta must be >= 0, got {self.beta}")
        if self.criterion not in ("dp", "eo", "eodds"):
            raise ConfigError(f"criterion must be dp, eo or eodds, got {self.criterion!r}")
        self.cda_dimensions = tuple(self.cda_dimensions)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["confit"] = self.confit.to_dict()
        return d


@dataclass
class FairTrainResult:
    """What :func:`train_fair_confit` did."""

    model_dir: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    n_pairs: int = 0
    n_cda_pairs: int = 0
    group_counts: dict[str, int] = field(default_factory=dict)


def train_fair_confit(
    corpus: Corpus,
    config: FairTrainConfig = FairTrainConfig(),
    out_dir: str | Path = "runs/fair-confit",
    *,
    groups: Mapping[str, Hashable] | None = None,
    render_config: RenderConfig | None = None,
    progress: bool = True,
) -> FairTrainResult:
    """Train a bi-encoder with ConFit + β · fairness gap; the final model lands in ``out_dir/model``.

    Args:
        corpus: Documents and train labels (as for ``train_confit``).
        config: β, criterion, CDA and the ConFit settings.
        out_dir: Run folder; a folder holding a finished run with the same config is reused.
        groups: ``{resume_id: group}``; default ``metadata[config.group_key]`` of each resume.
        render_config: How documents become text (e.g. with sensitive fields excluded).
        progress: Print one line per epoch.
    """
    from agentic_match.fairness.lexicon import Lexicon
    from agentic_match.models import resolve_encoder
    from agentic_match.retrieval.batching import unique_pair_batches
    from agentic_match.retrieval.encoder import BiEncoder, EncoderSettings, _load_st
    from agentic_match.retrieval.losses import ConFitLoss
    from agentic_match.retrieval.mining import rejected_negatives
    from agentic_match.retrieval.train import (
        NoTrainingPairsError,
        accepted_pairs,
        dev_score,
        sample_at_most,
        set_seed,
        to_device,
        training_labels,
    )

    cc = config.confit
    out_dir = Path(out_dir)
    model_dir = out_dir / "model"
    done_file = out_dir / "fair_config.json"
    if done_file.is_file() and (model_dir / "modules.json").is_file():
        saved = json.loads(done_file.read_text(encoding="utf-8"))
        if saved.get("config") == json.loads(json.dumps(config.to_dict(), default=str)):
            log.info("%s: already trained", out_dir)
            return FairTrainResult(
                model_dir,
                saved.get("history", []),
                saved.get("n_pairs", 0),
                saved.get("n_cda_pairs", 0),
                saved.get("group_counts", {}),
            )

    rc = render_config or RenderConfig()
    labels = training_labels(corpus, cc.train_split)
    pairs = accepted_pairs(labels)
    if config.max_pairs is not None and len(pairs) > config.max_pairs:
        pairs = random.Random(cc.seed).sample(pairs, config.max_pairs)
    if not pairs:
        raise NoTrainingPairsError(f"{corpus.source}: no accepted pair in the {cc.train_split!r} labels")
    negatives = rejected_negatives(labels) if cc.negatives == "rejected" else {}

    resume_text = {rid: render(corpus.resumes[rid], rc) for rid in {r for r, _ in pairs}}
    job_text = {jid: render(corpus.jobs[jid], rc) for jid in {j for _, j in pairs}}
    for neg in negatives.values():
        for rid in neg.resumes:
            resume_text.setdefault(rid, render(corpus.resumes[rid], rc))
        for jid in neg.jobs:
            job_text.setdefault(jid, render(corpus.jobs[jid], rc))
    if groups is None:
        groups = {
            rid: d.metadata[config.group_key]
            for rid, d in corpus.resumes.items()
            if d.metadata.get(config.group_key) not in (None, "")
        }
    group_ids = {g: i for i, g in enumerate(sorted({str(v) for v in groups.values()}))}
    gid = {rid: group_ids[str(g)] for rid, g in groups.items()}

    n_cda = 0
    if config.cda:
        lex = Lexicon.load()
        sides = lex.dimension(config.cda_dimensions[0]).sides
        for rid, jid in list(pairs):
            res = lex.swap(resume_text[rid], config.cda_dimensions)
            if not res.changed:
                continue
            cf_id = f"{rid}#cf"
            resume_text[cf_id] = res.text
            pairs.append((cf_id, jid))
            n_cda += 1
            # The counterfactual belongs to the other side when groups are the lexicon's sides.
            g = groups.get(rid)
            if g in sides:
                other = sides[1 - sides.index(g)]
                if other in group_ids:
                    gid[cf_id] = group_ids[other]
    positives = set(pairs)

    set_seed(cc.seed)
    base_folder = resolve_encoder(cc.encoder)
    model = _load_st(base_folder, cc.device)
    infer_len = int(model.max_seq_length)
    model.max_seq_length = cc.max_seq_length
    if cc.freeze_embeddings:
        auto = getattr(model[0], "auto_model", None)
        if auto is not None and hasattr(auto, "get_input_embeddings"):
            auto.get_input_embeddings().weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in params if p.ndim > 1], "weight_decay": cc.weight_decay},
            {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
        ],
        lr=cc.learning_rate,
    )
    epoch_batches = {
        e: unique_pair_batches(
            pairs, cc.batch_size, seed=cc.seed * 1000 + e, positives=positives if cc.mask_known_positives else None
        )
        for e in range(1, cc.epochs + 1)
    }
    from transformers import get_linear_schedule_with_warmup

    total_steps = sum(len(b) for b in epoch_batches.values())
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cc.warmup_ratio * total_steps), total_steps)
    loss_fn = FairConFitLoss(
        ConFitLoss(model, temperature=cc.temperature, lam=cc.lam),
        FairnessLoss(config.criterion, config.fairness_temperature, config.squared),
        config.beta,
    )
    device = model.device
    history: list[dict[str, Any]] = []
    best_score, best_state = -math.inf, None
    for epoch in range(1, cc.epochs + 1):
        rng = random.Random(cc.seed * 1000 + epoch)
        model.train()
        t0 = time.perf_counter()
        sums = {"loss": 0.0, "utility": 0.0, "fair": 0.0}
        n = 0
        for batch in epoch_batches[epoch]:
            bp = [pairs[i] for i in batch]
            b_res, b_job = [r for r, _ in bp], [j for _, j in bp]
            neg_jobs: list[str] = []
            neg_res: list[str] = []
            for p in bp:
                pn = negatives.get((p[0].removesuffix("#cf"), p[1]))
                if pn is not None:
                    neg_jobs += sample_at_most(pn.jobs, cc.hard_negatives, rng)
                    neg_res += sample_at_most(pn.resumes, cc.hard_negatives, rng)
            neg_jobs = [j for j in dict.fromkeys(neg_jobs) if j not in set(b_job)]
            neg_res = [r for r in dict.fromkeys(neg_res) if r not in set(b_res)]
            cand_j, cand_r = b_job + neg_jobs, b_res + neg_res
            rmask = jmask = None
            if cc.mask_known_positives:
                rmask = torch.tensor(
                    [[i != k and (r, j) in positives for k, j in enumerate(cand_j)] for i, r in enumerate(b_res)],
                    device=device,
                )
                jmask = torch.tensor(
                    [[i != k and (r, j) in positives for k, r in enumerate(cand_r)] for i, j in enumerate(b_job)],
                    device=device,
                )
            feats = [
                to_device(model.preprocess([resume_text[r] for r in b_res]), device),
                to_device(model.preprocess([job_text[j] for j in b_job]), device),
                to_device(model.preprocess([job_text[j] for j in neg_jobs]), device) if neg_jobs else None,
                to_device(model.preprocess([resume_text[r] for r in neg_res]), device) if neg_res else None,
            ]
            rg = torch.tensor([gid.get(r, -1) for r in cand_r], device=device)
            loss = loss_fn(feats, resume_mask=rmask, job_mask=jmask, resume_groups=rg)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cc.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            sums["loss"] += float(loss.detach())
            sums["utility"] += loss_fn.last_terms.get("utility", 0.0)
            sums["fair"] += loss_fn.last_terms.get("fair", 0.0)
            n += 1
        record: dict[str, Any] = {
            "epoch": epoch,
            "steps": n,
            "train_s": round(time.perf_counter() - t0, 1),
            **{k: v / max(n, 1) for k, v in sums.items()},
        }
        score = math.nan
        if cc.eval_split and any(k.startswith(f"{cc.eval_split}_") for k in corpus.qrels):
            model.eval()
            enc = BiEncoder(
                model,
                EncoderSettings(temperature=cc.temperature, max_seq_length=infer_len, batch_size=cc.eval_batch_size),
                render_config=rc,
            )
            score, _ = dev_score(enc, corpus, cc.eval_split)
            model.max_seq_length = cc.max_seq_length
            record["dev_ndcg@10"] = score
        history.append(record)
        if progress:
            print(
                f"[fair-confit β={config.beta}] epoch {epoch}/{cc.epochs}: loss {record['loss']:.4f} "
                f"(utility {record['utility']:.4f}, fair {record['fair']:.4f}) dev nDCG@10 {score:.2f} "
                f"({record['train_s']:.0f}s)",
                flush=True,
            )
        if math.isnan(score) or score > best_score:
            best_score = score if not math.isnan(score) else best_score
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.max_seq_length = infer_len
    enc = BiEncoder(model, EncoderSettings(temperature=cc.temperature), render_config=rc)
    enc.save(model_dir)
    counts: dict[str, int] = {}
    for r in {r for r, _ in pairs}:
        key = str(next((g for g, i in group_ids.items() if i == gid.get(r)), None))
        counts[key] = counts.get(key, 0) + 1
    result = FairTrainResult(model_dir, history, len(pairs) - n_cda, n_cda, counts)
    payload = {
        "config": json.loads(json.dumps(config.to_dict(), default=str)),
        "history": history,
        "n_pairs": result.n_pairs,
        "n_cda_pairs": n_cda,
        "group_counts": counts,
    }
    done_file.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return result


__all__ = [
    "Criterion",
    "FairConFitLoss",
    "FairTrainConfig",
    "FairTrainResult",
    "FairnessLoss",
    "batch_fairness_inputs",
    "train_fair_confit",
]
