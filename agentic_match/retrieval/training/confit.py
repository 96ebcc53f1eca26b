"""ConFit* (ConFit v2): the bi-encoder trained on accepted pairs with in-batch and hard negatives.

A recipe on the one training loop (:func:`~agentic_match.retrieval.training.loop.train_encoder`):
batches of accepted ``(resume, job)`` pairs in which no id appears twice
(:func:`~agentic_match.retrieval.batching.unique_pair_batches`), each pair's hard negatives
sampled from its pool every epoch (rejected labels, or mined ones), known positives masked
out of the denominators, and the symmetric :class:`~agentic_match.retrieval.losses.ConFitLoss`.
The best epoch on dev is kept. Training reads only the train split; test is never touched.

Example::

    from agentic_match.data import load_benchmark
    from agentic_match.retrieval.training import ConFitConfig, train_confit

    result = train_confit(load_benchmark("../shared/data/benchmark/v1"), ConFitConfig(epochs=1), "runs/confit")
    print(result.model_dir, result.history[-1]["dev_ndcg@10"])
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from agentic_match.config import setting
from agentic_match.data.labels import accepted_pairs, training_labels
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Corpus
from agentic_match.errors import NoTrainingPairsError
from agentic_match.files import digest
from agentic_match.retrieval.batching import unique_pair_batches
from agentic_match.retrieval.hyre_view import HyReView, hyre_parts, views
from agentic_match.retrieval.losses import HyReFusion
from agentic_match.retrieval.mining import Negatives, PairNegatives, rejected_negatives
from agentic_match.retrieval.training.args import TrainingArguments
from agentic_match.retrieval.training.loop import (
    EncoderRecipe,
    TrainResult,
    dev_score,
    to_device,
    train_encoder,
)
from agentic_match.types import Pair

MODEL_CONFIG_FILE = "confit_config.json"


@dataclass
class ConFitConfig(TrainingArguments):
    """Settings of :func:`train_confit` (saved as JSON beside the model).

    Training reads the encoder's own window (256 tokens for MiniLM) unless ``max_seq_length``
    asks for another, and the saved model serves with the window it was trained on.
    """

    encoder: str = setting("all-minilm-l6-v2", help="Base encoder: packaged name, offline model name or folder.")
    temperature: float = setting(0.05, help="τ of the loss (and of the saved encoder's scores).")
    lam: float = setting(0.5, help="λ: weight of the resume → job direction; 1 - λ goes to job → resume.")
    negatives: Literal["rejected", "none"] = setting(
        "rejected",
        help="Hard negatives when none are passed: the pair's rejected labels, or none (in-batch only).",
        choices=("rejected", "none"),
    )
    hard_negatives: int = setting(1, help="Hard negatives sampled per pair and side each epoch (from its pool).")
    mask_known_positives: bool = setting(
        True, help="Keep known accepted pairs out of each other's denominators (no false negatives)."
    )
    train_split: str = setting("train", help="Split whose labels and documents are used for training.")
    hyre: HyReView = setting(
        factory=HyReView,
        help="How jobs' HyRe text is read in training, then saved with the model for serving (see hyre_view).",
    )

    config_name = "ConFit"

    def problems(self) -> list[str]:
        out = super().problems()
        if self.temperature <= 0:
            out.append("temperature must be > 0")
        if not 0 <= self.lam <= 1:
            out.append("lam must be in [0, 1]")
        if self.negatives not in ("rejected", "none"):
            out.append("negatives must be 'rejected' or 'none' (pass mined negatives to train_confit)")
        if self.hard_negatives < 0:
            out.append("hard_negatives must be >= 0")
        return out


# ---------------------------------------------------------------------------- data


def sample_at_most(pool: Sequence[str], n: int, rng: random.Random) -> list[str]:
    """All of ``pool`` when it holds at most ``n`` items, else ``n`` of them drawn with ``rng``."""
    if n <= 0 or not pool:
        return []
    return list(pool) if len(pool) <= n else rng.sample(list(pool), n)


def negatives_payload(negatives: Negatives) -> list:
    """A canonical, JSON-able form of a negatives mapping (for digests)."""
    return sorted([list(k), list(v.jobs), list(v.resumes)] for k, v in negatives.items())


@dataclass
class ConFitBatch:
    """The tokenized inputs of one ConFit batch, ready for :class:`ConFitLoss`.

    Attributes:
        features: ``[resumes, jobs, negative_jobs | None, negative_resumes | None]``.
        resume_mask / job_mask: Known positives among the candidates (``None``: not masked).
        resumes: The ids of the batch resumes then the negative resumes (their order in the loss).
        hyre_fusion: Generated texts fused into job embeddings (HyRe ``fusion`` view), or ``None``.
    """

    features: list[dict | None]
    resume_mask: Any
    job_mask: Any
    resumes: list[str]
    hyre_fusion: HyReFusion | None = None


# ---------------------------------------------------------------------------- recipe


class ConFitRecipe(EncoderRecipe):
    """ConFit* on the accepted pairs of ``config.train_split``.

    Args:
        corpus: Documents, labels (``label_splits`` when split) and optional dev qrels.
        config: The settings.
        negatives: Hard negatives per accepted pair; ``None``: ``config.negatives`` decides.
        pairs: Training pairs (default: the accepted pairs of the training labels).
        texts: Extra ``{resume id: text}`` of resumes that are not in the corpus (e.g.
            counterfactual copies); corpus documents are rendered with ``render_config``.
        render_config: How documents become text, in training and evaluation.
    """

    meta_file = MODEL_CONFIG_FILE
    keep = "best"
    label = "epoch"

    def __init__(
        self,
        corpus: Corpus,
        config: ConFitConfig,
        negatives: Negatives | None = None,
        *,
        pairs: Sequence[Pair] | None = None,
        texts: dict[str, str] | None = None,
        render_config: RenderConfig | None = None,
    ) -> None:
        from agentic_match.models import resolve_encoder

        self.corpus = corpus
        self.config = config
        labels = training_labels(corpus, config.train_split)
        self.pairs = list(pairs) if pairs is not None else accepted_pairs(labels)
        if not self.pairs:
            raise NoTrainingPairsError(
                f"{corpus.source}: the {config.train_split!r} labels ({len(labels)}) hold no accepted pair "
                "(label > 0); ConFit trains on accepted resume-job pairs"
            )
        if negatives is None:
            negatives = rejected_negatives(labels) if config.negatives == "rejected" else {}
        self.negatives = negatives
        self.positives = set(self.pairs)
        self._render_config = render_config
        self._extra_texts = dict(texts or {})
        self._base = resolve_encoder(config.encoder)
        self.loss_fn: Any = None

    # ------------------------------------------------------------------ identity
    def base_folder(self) -> Path:
        return self._base

    @property
    def temperature(self) -> float:
        return self.config.temperature

    @property
    def render_config(self) -> RenderConfig | None:
        return self._render_config

    @property
    def hyre_view(self) -> HyReView:
        return self.config.hyre

    def identity(self) -> dict[str, Any]:
        out = {
            "base_encoder": str(self._base),
            "pairs_digest": digest(sorted(self.pairs)),
            "negatives_digest": digest(negatives_payload(self.negatives)),
        }
        generated = sorted((j.id, hyre_parts(j)[2]) for j in self.corpus.jobs.values() if hyre_parts(j) is not None)
        if generated:  # HyRe text is training data: another generation is another run
            out["hyre_digest"] = digest(generated)
        return out

    # ------------------------------------------------------------------ training
    def prepare(self, model: Any, *, out_dir: Path, resuming: bool) -> None:
        from agentic_match.retrieval.losses import ConFitLoss

        self.loss_fn = ConFitLoss(model, temperature=self.config.temperature, lam=self.config.lam)
        rc = self._render_config or RenderConfig()
        resume_text = dict(self._extra_texts)
        job_ids: dict[str, None] = {}
        for rid, jid in self.pairs:
            if rid not in resume_text:
                resume_text[rid] = render(self.corpus.resumes[rid], rc)
            job_ids.setdefault(jid)
        for neg in self.negatives.values():
            for rid in neg.resumes:
                resume_text.setdefault(rid, render(self.corpus.resumes[rid], rc))
            job_ids.update(dict.fromkeys(neg.jobs))
        # Jobs are read as the saved model will read them (HyRe views, counted in the model's
        # tokens and window): the first text, and in fusion mode the generated one to fuse.
        tok, window = model.tokenizer, model.max_seq_length
        job_views = {j: views(self.corpus.jobs[j], self.config.hyre, tok, window, rc) for j in job_ids}
        self.resume_text = resume_text
        self.job_text = {j: v[0][0] for j, v in job_views.items()}
        self.job_fused = {j: v[1] for j, v in job_views.items() if len(v) > 1}

    def batches(self, epoch: int) -> list[list[int]]:
        cfg = self.config
        return unique_pair_batches(
            self.pairs,
            cfg.batch_size,
            seed=cfg.seed * 1000 + epoch,
            positives=self.positives if cfg.mask_known_positives else None,
        )

    def negatives_of(self, pair: Pair) -> PairNegatives | None:
        """The hard-negative pools of one training pair."""
        return self.negatives.get(pair)

    def batch(self, model: Any, batch: Sequence[int], rng: random.Random) -> ConFitBatch:
        """Tokenized inputs of one batch: its pairs, their sampled negatives and the masks."""
        import torch

        cfg = self.config
        device = model.device
        bpairs = [self.pairs[i] for i in batch]
        b_res = [r for r, _ in bpairs]
        b_job = [j for _, j in bpairs]
        neg_jobs: list[str] = []
        neg_res: list[str] = []
        for p in bpairs:
            pn = self.negatives_of(p)
            if pn is None:
                continue
            neg_jobs += sample_at_most(pn.jobs, cfg.hard_negatives, rng)
            neg_res += sample_at_most(pn.resumes, cfg.hard_negatives, rng)
        # A negative already in the batch as someone's positive is a candidate anyway.
        neg_jobs = [j for j in dict.fromkeys(neg_jobs) if j not in set(b_job)]
        neg_res = [r for r in dict.fromkeys(neg_res) if r not in set(b_res)]
        rmask = jmask = None
        if cfg.mask_known_positives:
            pos = self.positives
            cand_j = b_job + neg_jobs
            cand_r = b_res + neg_res
            rmask = torch.tensor(
                [[i != k and (r, j) in pos for k, j in enumerate(cand_j)] for i, r in enumerate(b_res)], device=device
            )
            jmask = torch.tensor(
                [[i != k and (r, j) in pos for k, r in enumerate(cand_r)] for i, j in enumerate(b_job)], device=device
            )

        def tok(texts: list[str]) -> dict | None:
            return to_device(model.preprocess(texts), device) if texts else None

        feats = [
            tok([self.resume_text[r] for r in b_res]),
            tok([self.job_text[j] for j in b_job]),
            tok([self.job_text[j] for j in neg_jobs]),
            tok([self.resume_text[r] for r in neg_res]),
        ]
        fusion = None
        fused = [(k, self.job_fused[j]) for k, j in enumerate(b_job + neg_jobs) if j in self.job_fused]
        if fused:
            fusion = HyReFusion(
                tok([text for _, (text, _) in fused]),  # type: ignore[arg-type]
                torch.tensor([k for k, _ in fused], dtype=torch.long, device=device),
                torch.tensor([w for _, (_, w) in fused], dtype=torch.float32, device=device),
            )
        return ConFitBatch(feats, rmask, jmask, b_res + neg_res, fusion)

    def loss(self, model: Any, batch: Sequence[int], rng: random.Random) -> Any:
        b = self.batch(model, batch, rng)
        return self.loss_fn(b.features, resume_mask=b.resume_mask, job_mask=b.job_mask, hyre_fusion=b.hyre_fusion)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, encoder: Any) -> tuple[float, dict[str, Any]]:
        import math

        score, metrics = math.nan, {}
        if self.config.eval_split:
            score, metrics = dev_score(encoder, self.corpus, self.config.eval_split)
        return score, {"dev_ndcg@10": None if math.isnan(score) else score, "dev": metrics}


def train_confit(
    corpus: Corpus,
    config: ConFitConfig | None = None,
    out_dir: str | Path = "runs/confit",
    negatives: Negatives | None = None,
    *,
    stop_after: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train a ConFit* bi-encoder on the corpus's accepted train pairs; resumable.

    Rerunning the same call continues after the last finished epoch (a finished run returns
    at once). Training reads only ``config.train_split`` labels and documents; the dev split
    only chooses the best epoch; test is never touched.

    Args:
        corpus: Documents, labels (``label_splits`` when split) and optional dev qrels.
        config: Hyper-parameters (saved to ``out_dir/config.json``); default ``ConFitConfig()``.
        out_dir: Run folder (checkpoints, final ``model/``).
        negatives: Hard negatives per accepted pair (mined ones, see :mod:`mining`);
            ``None``: ``config.negatives`` decides (rejected labels, or none).
        stop_after: Train at most this many epochs in this call; rerun to continue.
        progress: Show a progress bar.

    Raises:
        NoTrainingPairsError: no accepted pair in the training labels.
        ConfigError: ``out_dir`` holds a run with other settings or data.
        ModelNotFoundError: the base encoder is not available locally.
    """
    config = config or ConFitConfig()
    recipe = ConFitRecipe(corpus, config, negatives)
    return train_encoder(recipe, config, out_dir, stop_after=stop_after, progress=progress)


__all__ = [
    "MODEL_CONFIG_FILE",
    "ConFitBatch",
    "ConFitConfig",
    "ConFitRecipe",
    "NoTrainingPairsError",
    "accepted_pairs",
    "negatives_payload",
    "sample_at_most",
    "train_confit",
    "training_labels",
]
