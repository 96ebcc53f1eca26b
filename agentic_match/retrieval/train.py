"""ConFit training of the bi-encoder, resumable epoch by epoch.

A plain torch loop over a ``SentenceTransformer`` rather than ``SentenceTransformerTrainer``:
the ConFit loss needs, per batch, a variable number of hard negatives on *both* sides and a
mask of known positives, which the trainer's fixed-column datasets cannot express without
padding every pair to the same negative count; and the toolkit's resume contract (whole
epochs, atomic checkpoints holding model + optimizer + schedule, a dev choice of the best
epoch with our own evaluation module) is simpler to guarantee in forty lines than through
trainer callbacks. The loss itself is a sentence-transformers-style module and works with
the trainer too.

Layout of ``out_dir``::

    config.json            the ConFitConfig and digests of the training data (checked on resume)
    checkpoints/last/      model/ + trainer_state.pt + state.json, replaced atomically per epoch
    checkpoints/best/      the best epoch so far by dev nDCG@10 (both tasks averaged)
    model/                 the final encoder (best epoch) with confit_config.json beside it
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from agentic_match.data.schema import Corpus, Label
from agentic_match.errors import ConfigError, DataError
from agentic_match.files import replace_dir
from agentic_match.retrieval.batching import Pair, unique_pair_batches
from agentic_match.retrieval.encoder import BiEncoder, EncoderSettings
from agentic_match.retrieval.mining import Negatives, rejected_negatives

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
MODEL_CONFIG_FILE = "confit_config.json"


class NoTrainingPairsError(DataError):
    """The labels hold no accepted pair, so there is nothing to train on."""


@dataclass
class ConFitConfig:
    """Settings of :func:`train_confit` (saved as JSON beside the model).

    The defaults fit a CPU budget on MiniLM: training reads 128 tokens per text (3x cheaper
    than 256 on CPU) while the saved model keeps the base model's inference length.
    """

    encoder: str = "all-minilm-l6-v2"
    """Base encoder spec: packaged name, offline model name or local folder."""
    epochs: int = 2
    """Training epochs; the best one on dev is kept."""
    batch_size: int = 16
    """Accepted pairs per batch (each brings its resume and job; no id twice per batch)."""
    learning_rate: float = 5e-5
    """Peak AdamW learning rate."""
    warmup_ratio: float = 0.1
    """Share of all steps with a linear warm-up (then linear decay to 0)."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Gradient-norm clip."""
    max_seq_length: int = 128
    """Tokens per text during training (inference uses the model's own length)."""
    temperature: float = 0.05
    """``τ`` of the loss (and of the saved encoder's scores)."""
    lam: float = 0.5
    """``λ``: weight of the resume → job direction; ``1 - λ`` goes to job → resume."""
    negatives: str = "rejected"
    """Hard negatives when none are passed: ``"rejected"`` (rejected labels of the pair's
    job / resume) or ``"none"`` (in-batch negatives only)."""
    hard_negatives: int = 1
    """Hard negatives sampled per pair and side each epoch (from its pool)."""
    mask_known_positives: bool = True
    """Keep known accepted pairs out of each other's denominators (no false negatives)."""
    freeze_embeddings: bool = True
    """Freeze the word-embedding matrix: half of MiniLM's weights, little gain, costly AdamW
    updates on CPU."""
    seed: int = 0
    """Seed of batch order, negative sampling and dropout."""
    eval_split: str | None = "dev"
    """Split whose qrels choose the best epoch (``None``: keep the last epoch)."""
    eval_batch_size: int = 32
    """Texts per forward pass when encoding for evaluation."""
    train_split: str = "train"
    """Split whose labels and documents are used for training."""
    device: str | None = None
    """Torch device (``None``: CUDA when available, else CPU)."""

    def __post_init__(self) -> None:
        problems = []
        if self.epochs < 1:
            problems.append("epochs must be >= 1")
        if self.batch_size < 2:
            problems.append("batch_size must be >= 2 (in-batch negatives)")
        if self.learning_rate <= 0:
            problems.append("learning_rate must be > 0")
        if not 0 <= self.warmup_ratio < 1:
            problems.append("warmup_ratio must be in [0, 1)")
        if self.temperature <= 0:
            problems.append("temperature must be > 0")
        if not 0 <= self.lam <= 1:
            problems.append("lam must be in [0, 1]")
        if self.negatives not in ("rejected", "none"):
            problems.append("negatives must be 'rejected' or 'none' (pass mined negatives to train_confit)")
        if self.hard_negatives < 0:
            problems.append("hard_negatives must be >= 0")
        if self.max_seq_length < 8:
            problems.append("max_seq_length must be >= 8")
        if problems:
            raise ConfigError("invalid ConFit config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConFitConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown ConFit setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)


@dataclass
class TrainResult:
    """What :func:`train_confit` did."""

    out_dir: Path
    model_dir: Path
    best_epoch: int
    history: list[dict[str, Any]] = field(default_factory=list)
    epochs_run: list[int] = field(default_factory=list)
    """Epochs trained by this call (empty when the run was already complete)."""
    finished: bool = True
    """False when ``stop_after`` ended the call before the last epoch."""


# ---------------------------------------------------------------------------- data


def accepted_pairs(labels: Sequence[Label]) -> list[Pair]:
    """Distinct ``(resume_id, job_id)`` pairs with a positive label, in first-seen order."""
    seen: dict[Pair, None] = {}
    for lab in labels:
        if lab.label > 0:
            seen.setdefault((lab.resume_id, lab.job_id), None)
    return list(seen)


def training_labels(corpus: Corpus, split: str = "train") -> list[Label]:
    """The labels training may use: the ``split`` labels, or all labels without splits."""
    if corpus.label_splits:
        if split not in corpus.label_splits:
            raise DataError(f"{corpus.source}: no '{split}' labels to train on")
        return list(corpus.label_splits[split])
    return list(corpus.labels)


def digest(obj: Any) -> str:
    """Short stable hash of a JSON-able config: a rerun with other settings is refused."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _negatives_payload(negatives: Negatives) -> list:
    return sorted([list(k), list(v.jobs), list(v.resumes)] for k, v in negatives.items())


# ---------------------------------------------------------------------------- evaluation


def dev_score(encoder: BiEncoder, corpus: Corpus, split: str = "dev") -> tuple[float, dict[str, dict[str, float]]]:
    """Mean nDCG@10 over the split's ranking tasks (those with qrels), and every metric.

    Returns ``(nan, {})`` when the corpus has no qrels for ``split``.
    """
    from agentic_match.evaluation import evaluate, load_task

    metrics: dict[str, dict[str, float]] = {}
    for task in ("rank_resume", "rank_job"):
        if f"{split}_{task}" not in corpus.qrels:
            continue
        result = evaluate(encoder, load_task(corpus, split, task), k=100)
        metrics[task] = dict(result.metrics)
    if not metrics:
        return math.nan, {}
    return sum(m["ndcg@10"] for m in metrics.values()) / len(metrics), metrics


# ---------------------------------------------------------------------------- training


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (trainers reseed per epoch so a resumed run matches)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def to_device(features: dict, device: Any) -> dict:
    """Move a tokenized feature dict to ``device``."""
    return {k: (v.to(device) if hasattr(v, "to") else v) for k, v in features.items()}


def sample_at_most(pool: Sequence[str], n: int, rng: random.Random) -> list[str]:
    """All of ``pool`` when it holds at most ``n`` items, else ``n`` of them drawn with ``rng``."""
    if n <= 0 or not pool:
        return []
    return list(pool) if len(pool) <= n else rng.sample(list(pool), n)


def _save_model(model: Any, folder: Path, infer_len: int, temperature: float) -> None:
    """Save with the inference length (not the training one) and the encoder settings."""
    train_len = model.max_seq_length
    model.max_seq_length = infer_len
    try:
        model.save(str(folder))
    finally:
        model.max_seq_length = train_len
    settings = EncoderSettings(temperature=temperature)
    (folder / "bi_encoder.json").write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")


def write_checkpoint(
    dst: Path, model: Any, infer_len: int, temperature: float, trainer_state: dict | None, state: dict
) -> None:
    """Write a checkpoint folder (model, optimizer state, progress) atomically to ``dst``."""
    import torch

    tmp = dst.parent / f".{dst.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(parents=True)
        _save_model(model, tmp / "model", infer_len, temperature)
        if trainer_state is not None:
            torch.save(trainer_state, tmp / "trainer_state.pt")
        (tmp / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
        replace_dir(tmp, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def train_confit(
    corpus: Corpus,
    config: ConFitConfig = ConFitConfig(),
    out_dir: str | Path = "runs/confit",
    negatives: Negatives | None = None,
    *,
    stop_after: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train a ConFit bi-encoder on the corpus's accepted train pairs; resumable.

    Rerunning the same call continues after the last finished epoch (a finished run returns
    at once). Training reads only ``config.train_split`` labels and documents; the dev split
    only chooses the best epoch; test is never touched.

    Args:
        corpus: Documents, labels (``label_splits`` when split) and optional dev qrels.
        config: Hyper-parameters (saved to ``out_dir/config.json``).
        out_dir: Run folder (checkpoints, final ``model/``).
        negatives: Hard negatives per accepted pair (mined ones, see :mod:`mining`);
            ``None``: ``config.negatives`` decides (rejected labels, or none).
        stop_after: Train at most this many epochs in this call (time-sliced jobs); rerun
            to continue.
        progress: Show a progress bar.

    Raises:
        NoTrainingPairsError: no accepted pair in the training labels.
        ConfigError: ``out_dir`` holds a run with other settings or data.
        ModelNotFoundError: the base encoder is not available locally.
    """
    import torch
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    from agentic_match.data.render import render
    from agentic_match.models import resolve_encoder
    from agentic_match.retrieval.encoder import _load_st

    out_dir = Path(out_dir)
    labels = training_labels(corpus, config.train_split)
    pairs = accepted_pairs(labels)
    if not pairs:
        raise NoTrainingPairsError(
            f"{corpus.source}: the {config.train_split!r} labels ({len(labels)}) hold no accepted pair "
            "(label > 0); ConFit trains on accepted resume-job pairs"
        )
    if negatives is None:
        negatives = rejected_negatives(labels) if config.negatives == "rejected" else {}
    positives = set(pairs)
    base_folder = resolve_encoder(config.encoder)

    # ---- run identity: a resumed run must be the same run
    identity = {
        "config": config.to_dict(),
        "base_encoder": str(base_folder),
        "pairs_digest": digest(sorted(pairs)),
        "negatives_digest": digest(_negatives_payload(negatives)),
    }
    cfg_path = out_dir / CONFIG_FILE
    if cfg_path.is_file():
        saved = json.loads(cfg_path.read_text(encoding="utf-8"))
        if saved != identity:
            diff = sorted(k for k in identity if saved.get(k) != identity[k])
            raise ConfigError(
                f"{out_dir} holds a training run with other {', '.join(diff)}; "
                "use another output folder or delete it to start over"
            )
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        from agentic_match.files import atomic_write_bytes

        atomic_write_bytes(cfg_path, json.dumps(identity, indent=2).encode("utf-8"))

    model_dir = out_dir / "model"
    last_dir = out_dir / "checkpoints" / "last"
    best_dir = out_dir / "checkpoints" / "best"
    state: dict[str, Any] = {"epochs_done": 0, "history": [], "best_epoch": 0, "best_score": None}
    if (last_dir / "state.json").is_file():
        state = json.loads((last_dir / "state.json").read_text(encoding="utf-8"))
    if (model_dir / MODEL_CONFIG_FILE).is_file() and state["epochs_done"] >= config.epochs:
        log.info("%s: training already finished (best epoch %d)", out_dir, state["best_epoch"])
        return TrainResult(out_dir, model_dir, state["best_epoch"], state["history"], [], True)

    # ---- model, optimiser, schedule (restored from the last checkpoint when resuming)
    resuming = state["epochs_done"] > 0
    model = _load_st(last_dir / "model" if resuming else base_folder, config.device)
    infer_len = int(model.max_seq_length)
    if resuming:
        base_len = json.loads((last_dir / "state.json").read_text(encoding="utf-8")).get("infer_len")
        infer_len = int(base_len or infer_len)
    model.max_seq_length = config.max_seq_length
    if config.freeze_embeddings:
        auto = getattr(model[0], "auto_model", None)
        if auto is not None and hasattr(auto, "get_input_embeddings"):
            auto.get_input_embeddings().weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
    )
    epoch_batches = {
        e: unique_pair_batches(
            pairs,
            config.batch_size,
            seed=config.seed * 1000 + e,
            positives=positives if config.mask_known_positives else None,
        )
        for e in range(1, config.epochs + 1)
    }
    total_steps = sum(len(b) for b in epoch_batches.values())
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    if resuming:
        ts = torch.load(last_dir / "trainer_state.pt", map_location="cpu", weights_only=False)
        optimizer.load_state_dict(ts["optimizer"])
        scheduler.load_state_dict(ts["scheduler"])
        log.info("%s: resuming after epoch %d", out_dir, state["epochs_done"])

    from agentic_match.retrieval.losses import ConFitLoss

    loss_fn = ConFitLoss(model, temperature=config.temperature, lam=config.lam)
    device = model.device
    resume_text = {rid: render(corpus.resumes[rid]) for rid, _ in pairs}
    job_text = {jid: render(corpus.jobs[jid]) for _, jid in pairs}
    for neg in negatives.values():
        for rid in neg.resumes:
            resume_text.setdefault(rid, render(corpus.resumes[rid]))
        for jid in neg.jobs:
            job_text.setdefault(jid, render(corpus.jobs[jid]))

    epochs_run: list[int] = []
    start = state["epochs_done"] + 1
    for epoch in range(start, config.epochs + 1):
        if stop_after is not None and len(epochs_run) >= stop_after:
            return TrainResult(out_dir, model_dir, state["best_epoch"], state["history"], epochs_run, False)
        set_seed(config.seed * 1000 + epoch)
        rng = random.Random(config.seed * 1000 + epoch)
        model.train()
        t0 = time.perf_counter()
        total, n = 0.0, 0
        bar = tqdm(epoch_batches[epoch], desc=f"epoch {epoch}/{config.epochs}", disable=not progress, leave=False)
        for batch in bar:
            bpairs = [pairs[i] for i in batch]
            b_res = [r for r, _ in bpairs]
            b_job = [j for _, j in bpairs]
            neg_jobs: list[str] = []
            neg_res: list[str] = []
            for p in bpairs:
                pn = negatives.get(p)
                if pn is None:
                    continue
                neg_jobs += sample_at_most(pn.jobs, config.hard_negatives, rng)
                neg_res += sample_at_most(pn.resumes, config.hard_negatives, rng)
            # A negative already in the batch as someone's positive is a candidate anyway.
            neg_jobs = [j for j in dict.fromkeys(neg_jobs) if j not in set(b_job)]
            neg_res = [r for r in dict.fromkeys(neg_res) if r not in set(b_res)]
            rmask = jmask = None
            if config.mask_known_positives:
                cand_j = b_job + neg_jobs
                cand_r = b_res + neg_res
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
            loss = loss_fn(feats, resume_mask=rmask, job_mask=jmask)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            total += float(loss.detach())
            n += 1
            bar.set_postfix(loss=f"{total / n:.4f}")
        bar.close()
        train_s = time.perf_counter() - t0

        # ---- choose on dev, then checkpoint (best first: a crash in between redoes this epoch)
        score, metrics = math.nan, {}
        if config.eval_split:
            model.eval()
            enc = BiEncoder(
                model,
                EncoderSettings(
                    temperature=config.temperature, max_seq_length=infer_len, batch_size=config.eval_batch_size
                ),
            )
            score, metrics = dev_score(enc, corpus, config.eval_split)
            model.max_seq_length = config.max_seq_length  # encode() restores it, but be explicit
        record = {
            "epoch": epoch,
            "train_loss": total / max(n, 1),
            "steps": n,
            "train_s": round(train_s, 1),
            "dev_ndcg@10": None if math.isnan(score) else score,
            "dev": metrics,
        }
        state["history"].append(record)
        state["epochs_done"] = epoch
        state["infer_len"] = infer_len
        better = state["best_score"] is None or (not math.isnan(score) and score > state["best_score"])
        if math.isnan(score):
            better = True  # without dev qrels the last epoch is kept
        if better:
            state["best_epoch"] = epoch
            state["best_score"] = None if math.isnan(score) else score
            write_checkpoint(
                best_dir, model, infer_len, config.temperature, None, {"epoch": epoch, "score": state["best_score"]}
            )
        ts = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
        write_checkpoint(last_dir, model, infer_len, config.temperature, ts, state)
        epochs_run.append(epoch)
        log.info(
            "epoch %d: loss %.4f, dev nDCG@10 %s, %.0fs",
            epoch,
            record["train_loss"],
            "n/a" if math.isnan(score) else f"{score:.2f}",
            train_s,
        )
        if progress:
            print(
                f"epoch {epoch}/{config.epochs}: loss {record['train_loss']:.4f}  dev nDCG@10 "
                f"{'n/a' if math.isnan(score) else f'{score:.2f}'}  ({train_s:.0f}s)",
                flush=True,
            )

    # ---- final model: the best epoch's weights, with the config beside them
    tmp = out_dir / f".model.tmp-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(best_dir / "model", tmp)
        (tmp / MODEL_CONFIG_FILE).write_text(
            json.dumps({**identity, "best_epoch": state["best_epoch"], "history": state["history"]}, indent=2),
            encoding="utf-8",
        )
        replace_dir(tmp, model_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return TrainResult(out_dir, model_dir, state["best_epoch"], state["history"], epochs_run, True)


__all__ = [
    "ConFitConfig",
    "NoTrainingPairsError",
    "TrainResult",
    "accepted_pairs",
    "dev_score",
    "train_confit",
    "training_labels",
]
