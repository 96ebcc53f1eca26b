"""The cross-encoder reranker, trained with sentence-transformers' ``CrossEncoderTrainer``.

Unlike the bi-encoder recipes, a cross-encoder's training data fit the trainer's columns
as they are - ``(job, resume, label)`` rows for binary cross-entropy, ``(job, [resumes],
[labels])`` lists for LambdaLoss - so the well-kept trainer is used rather than our loop:
its epoch checkpoints (``save_strategy="epoch"``) resume an interrupted run. What is ours is
the run identity (``config.json``: settings, base model, a digest of the examples), checked
before any work, and the finished model folder with its settings beside it.

Layout of ``out_dir``::

    config.json                   the settings, the base model and the data digest
    checkpoints/checkpoint-<N>/   the trainer's last epoch checkpoint (resumed from)
    model/                        the final cross-encoder, cross_encoder_config.json beside it
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agentic_match.config import setting
from agentic_match.data.labels import training_labels
from agentic_match.data.render import render
from agentic_match.data.schema import Corpus
from agentic_match.errors import ConfigError, DataError
from agentic_match.files import atomic_write_bytes, digest, replace_dir, temp_sibling, write_json
from agentic_match.retrieval.training.args import TrainingArguments

MODEL_CONFIG_FILE = "cross_encoder_config.json"


@dataclass
class CrossEncoderConfig(TrainingArguments):
    """Settings of :func:`train_cross_encoder` (saved beside the model)."""

    base: str = setting("all-minilm-l6-v2", help="Backbone: encoder spec or folder (a fresh one-logit head on top).")
    loss: Literal["bce", "lambda"] = setting(
        "bce",
        help="bce (pointwise binary cross-entropy) or lambda (listwise LambdaLoss, one list per job).",
        choices=("bce", "lambda"),
    )
    epochs: int = setting(1, help="Training epochs (the last one is kept).")
    batch_size: int = setting(16, help="Pairs per batch (bce) or jobs per batch (lambda).")
    learning_rate: float = setting(2e-5, help="Peak AdamW learning rate.")
    max_seq_length: int = setting(256, help="Tokens per (job, resume) pair; longer pairs are truncated.")
    freeze_embeddings: bool = setting(False, help="Freeze the word-embedding matrix (off: all weights train).")
    eval_split: str | None = setting(None, help="Unused by the cross-encoder (reranking is evaluated separately).")
    random_negatives: int = setting(
        1, help="Random resumes of the split added per accepted pair as negatives (beside labelled rejections)."
    )
    list_size: int = setting(8, help="Documents per job list (lambda): its labelled resumes, topped up at random.")
    max_doc_chars: int = setting(2000, help="Characters of each rendered document fed in (tokenisation cost).")
    train_split: str = setting("train", help="Split of labels and documents to train on.")

    config_name = "cross-encoder"

    def problems(self) -> list[str]:
        out = [p for p in super().problems() if not p.startswith("batch_size")]
        if self.loss not in ("bce", "lambda"):
            out.append("loss must be 'bce' or 'lambda'")
        if self.batch_size < 1:
            out.append("batch_size must be >= 1")
        if self.max_seq_length < 16 or self.list_size < 2 or self.random_negatives < 0:
            out.append("max_seq_length must be >= 16, list_size >= 2, random_negatives >= 0")
        return out


def _cross_encoder_examples(
    corpus: Corpus, config: CrossEncoderConfig, rng: random.Random
) -> list[tuple[str, list[str], list[float]]]:
    """``[(job_id, [resume_id, ...], [label, ...])]`` grouped by job."""
    labels = training_labels(corpus, config.train_split)
    pool = [r for r in corpus.split_ids("resume", config.train_split) if r in corpus.resumes]
    by_job: dict[str, dict[str, float]] = {}
    for lab in labels:
        if lab.job_id in corpus.jobs and lab.resume_id in corpus.resumes:
            by_job.setdefault(lab.job_id, {})[lab.resume_id] = 1.0 if lab.label > 0 else 0.0
    out = []
    for jid, docs in by_job.items():
        if not any(docs.values()):
            continue
        extra = config.random_negatives * int(sum(docs.values()))
        if config.loss == "lambda":
            extra = max(extra, config.list_size - len(docs))
        cands = [r for r in rng.sample(pool, min(len(pool), extra + len(docs))) if r not in docs][:extra]
        docs = {**docs, **{r: 0.0 for r in cands}}
        ids = list(docs)
        if config.loss == "lambda" and len(ids) > config.list_size:
            pos = [r for r in ids if docs[r] > 0]
            neg = [r for r in ids if docs[r] <= 0]
            ids = pos[: config.list_size - 1] + neg[: config.list_size - min(len(pos), config.list_size - 1)]
        out.append((jid, ids, [docs[r] for r in ids]))
    if not out:
        raise DataError(
            f"{corpus.source}: no job with an accepted {config.train_split!r} label to train a cross-encoder on"
        )
    return out


def _dataset(corpus: Corpus, config: CrossEncoderConfig, examples: list) -> object:
    from datasets import Dataset

    texts: dict[tuple[str, str], str] = {}

    def text(kind: str, i: str) -> str:
        if (kind, i) not in texts:
            doc = corpus.jobs[i] if kind == "job" else corpus.resumes[i]
            texts[(kind, i)] = render(doc)[: config.max_doc_chars]
        return texts[(kind, i)]

    if config.loss == "bce":
        rows = [(j, r, y) for j, ids, ys in examples for r, y in zip(ids, ys)]
        return Dataset.from_dict(
            {
                "job": [text("job", j) for j, _, _ in rows],
                "resume": [text("resume", r) for _, r, _ in rows],
                "label": [float(y) for _, _, y in rows],
            }
        )
    return Dataset.from_dict(
        {
            "job": [text("job", j) for j, _, _ in examples],
            "resumes": [[text("resume", r) for r in ids] for _, ids, _ in examples],
            "labels": [[float(y) for y in ys] for _, _, ys in examples],
        }
    )


def train_cross_encoder(
    corpus: Corpus,
    config: CrossEncoderConfig | None = None,
    out_dir: str | Path = "runs/cross-encoder",
    *,
    progress: bool = True,
) -> Path:
    """Train a cross-encoder on the corpus's training labels; returns ``out_dir/model``.

    Resumable by epoch (the trainer's checkpoints); a finished run returns at once; a folder
    holding another run's settings or data is refused before any work.
    """
    import torch
    from sentence_transformers.cross_encoder import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, LambdaLoss
    from transformers.trainer_utils import get_last_checkpoint

    from agentic_match.models import resolve_encoder

    config = config or CrossEncoderConfig()
    out_dir = Path(out_dir)
    examples = _cross_encoder_examples(corpus, config, random.Random(config.seed))
    base = resolve_encoder(config.base)
    identity = {"config": config.to_dict(), "base": str(base), "data_digest": digest(examples)}
    cfg_path, model_dir = out_dir / "config.json", out_dir / "model"
    if cfg_path.is_file() and json.loads(cfg_path.read_text(encoding="utf-8")) != identity:
        raise ConfigError(f"{out_dir} holds a cross-encoder run with other settings or data; use another folder")
    if (model_dir / MODEL_CONFIG_FILE).is_file():
        return model_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(cfg_path, json.dumps(identity, indent=2).encode("utf-8"))

    model = CrossEncoder(
        str(base), num_labels=1, max_length=config.max_seq_length, device=config.device, local_files_only=True
    )
    if config.freeze_embeddings:
        model.model.get_input_embeddings().weight.requires_grad_(False)
    loss = BinaryCrossEntropyLoss(model) if config.loss == "bce" else LambdaLoss(model)
    ckpt_dir = out_dir / "checkpoints"
    cpu = config.device == "cpu" or (config.device is None and not torch.cuda.is_available())
    args = CrossEncoderTrainingArguments(
        output_dir=str(ckpt_dir),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,  # a value below 1 is a share of all steps (transformers >= 5)
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        seed=config.seed,
        save_strategy="epoch",
        save_total_limit=1,
        logging_strategy="epoch",
        report_to="none",
        disable_tqdm=not progress,
        use_cpu=cpu,
        bf16=False,
    )
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=_dataset(corpus, config, examples), loss=loss)
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    trainer.train(resume_from_checkpoint=last)
    history = [{"epoch": round(h["epoch"]), "train_loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    tmp = temp_sibling(model_dir)
    try:
        model.save(str(tmp))
        write_json(tmp / MODEL_CONFIG_FILE, {**identity, "history": history})
        replace_dir(tmp, model_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return model_dir


__all__ = ["MODEL_CONFIG_FILE", "CrossEncoderConfig", "train_cross_encoder"]
