"""Stage 2: tune a stage-1 bi-encoder on judged preferences (RankPO, SimRankPO, or SFT).

The same resumable plain-torch loop as :mod:`agentic_match.retrieval.train` (whole epochs,
atomic checkpoints with model + optimizer + schedule, ``config.json`` identity checked on
resume) and the same checkpoint helpers. RankPO's frozen reference is the stage-1 model:
its margins ``s_ref(q, chosen) − s_ref(q, rejected)`` are computed once, before training,
and stored in the run folder, so the reference never sits in memory during training.

Layout of ``out_dir``::

    config.json              AlignConfig + fingerprints of base and reference + data digest
    reference_margins.json   Δ_ref per training preference (RankPO only)
    checkpoints/last/        model/ + trainer_state.pt + state.json, replaced per epoch
    model/                   the final encoder (last epoch) with align_config.json beside it

Every epoch records "alignment" (accuracy on held-out preferences) and "retention" (dev
nDCG@10): the trade-off the method is chosen on, so no single criterion picks an epoch.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

from agentic_match.align.preferences import Preference
from agentic_match.data.schema import Corpus
from agentic_match.errors import ConfigError, DataError
from agentic_match.files import digest, replace_dir
from agentic_match.retrieval.encoder import BiEncoder, EncoderSettings
from agentic_match.retrieval.train import (
    CONFIG_FILE,
    TrainResult,
    dev_score,
    set_seed,
    to_device,
    write_checkpoint,
)

log = logging.getLogger(__name__)

MODEL_CONFIG_FILE = "align_config.json"
MARGINS_FILE = "reference_margins.json"
Method = Literal["rankpo", "simrankpo", "sft"]


@dataclass
class AlignConfig:
    """Settings of :func:`train_align` (saved as JSON beside the model)."""

    base: str = ""
    """The stage-1 encoder to start from (a folder or encoder spec); required."""
    reference: str | None = None
    """The frozen reference (RankPO); ``None``: the base itself (the usual case). Must be the
    same architecture and, unless ``allow_foreign_reference``, the same weights as the base
    or the base's own recorded reference."""
    allow_foreign_reference: bool = False
    """Accept a same-architecture reference whose weights are not the base's lineage."""
    method: Method = "rankpo"
    """``"rankpo"`` (reference-anchored), ``"simrankpo"`` (no reference) or ``"sft"`` (the
    MNRL baseline: chosen = positive, rejected = hard negative)."""
    tau: float = 0.1
    """``τ``: temperature of the similarity margin."""
    beta: float = 2.0
    """``β``: sharpness of the preference loss."""
    gamma: float = 0.0
    """``γ``: target margin subtracted from the logits."""
    label_smoothing: float = 0.0
    """``ε``: assumed share of wrong judge preferences (sigmoid loss)."""
    loss_type: Literal["sigmoid", "hinge"] = "sigmoid"
    """``"sigmoid"`` (DPO) or ``"hinge"``."""
    contrastive_weight: float = 0.0
    """``α`` of the optional InfoNCE term added to RankPO / SimRankPO."""
    sft_temperature: float = 0.05
    """Temperature of the SFT / contrastive InfoNCE term."""
    epochs: int = 1
    """Training epochs (the last one is kept)."""
    batch_size: int = 16
    """Preferences per batch."""
    learning_rate: float = 1e-5
    """Peak AdamW learning rate (stage 2 moves gently)."""
    warmup_ratio: float = 0.1
    """Share of steps with linear warm-up (then linear decay)."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Gradient-norm clip."""
    max_seq_length: int = 128
    """Tokens per text in training (and for the reference margins, so Δ starts at 0)."""
    freeze_embeddings: bool = True
    """Freeze the word-embedding matrix (as stage 1)."""
    seed: int = 0
    """Seed of batch order and dropout."""
    eval_split: str | None = "dev"
    """Split whose qrels measure retention each epoch (``None``: skip)."""
    eval_batch_size: int = 32
    """Texts per forward pass when evaluating."""
    device: str | None = None
    """Torch device (``None``: CUDA when available, else CPU)."""

    def __post_init__(self) -> None:
        problems = []
        if not self.base:
            problems.append("base (the stage-1 encoder) is required")
        if self.method not in ("rankpo", "simrankpo", "sft"):
            problems.append("method must be 'rankpo', 'simrankpo' or 'sft'")
        if self.tau <= 0 or self.beta <= 0:
            problems.append("tau and beta must be > 0")
        if not 0 <= self.label_smoothing < 0.5:
            problems.append("label_smoothing must be in [0, 0.5)")
        if self.loss_type not in ("sigmoid", "hinge"):
            problems.append("loss_type must be 'sigmoid' or 'hinge'")
        if self.epochs < 1 or self.batch_size < 2:
            problems.append("epochs must be >= 1 and batch_size >= 2")
        if self.learning_rate <= 0:
            problems.append("learning_rate must be > 0")
        if self.max_seq_length < 8:
            problems.append("max_seq_length must be >= 8")
        if problems:
            raise ConfigError("invalid align config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlignConfig:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown align setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)


# ---------------------------------------------------------------------------- reference


def _architecture(model: Any) -> dict[str, Any]:
    cfg = getattr(getattr(model[0], "auto_model", None), "config", None)
    keys = ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")
    arch = {k: getattr(cfg, k, None) for k in keys}
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    arch["embedding_dim"] = int(getter())
    return arch


def check_reference(
    base_folder: Path, base_model: Any, ref_folder: Path, ref_model: Any, allow_foreign: bool = False
) -> None:
    """Refuse a reference that is not the base's stage-1 model.

    Raises:
        ConfigError: another architecture (always), or other weights that are neither the
            base's nor the reference the base itself was aligned against (unless
            ``allow_foreign``).
    """
    from agentic_match.models import model_fingerprint

    a, b = _architecture(base_model), _architecture(ref_model)
    if a != b:
        diff = ", ".join(f"{k}: {a[k]} vs {b[k]}" for k in a if a[k] != b[k])
        raise ConfigError(
            f"reference {ref_folder} is another encoder than the base {base_folder} ({diff}); "
            "the RankPO reference must be the stage-1 model the base was trained as"
        )
    base_fp, ref_fp = model_fingerprint(base_folder), model_fingerprint(ref_folder)
    if base_fp == ref_fp or allow_foreign:
        return
    lineage = None
    meta = base_folder / MODEL_CONFIG_FILE
    if meta.is_file():
        lineage = json.loads(meta.read_text(encoding="utf-8")).get("reference_fingerprint")
    if lineage != ref_fp:
        raise ConfigError(
            f"reference {ref_folder} (fingerprint {ref_fp}) is not the stage-1 model of the base "
            f"{base_folder} (fingerprint {base_fp}); omit the reference to anchor on the base, "
            "or set allow_foreign_reference"
        )


def reference_margins(encoder: BiEncoder, prefs: Sequence[Preference]) -> np.ndarray:
    """``cos(q, chosen) − cos(q, rejected)`` under ``encoder`` for each preference."""
    q = encoder.encode([p.query for p in prefs])
    c = encoder.encode([p.chosen for p in prefs])
    r = encoder.encode([p.rejected for p in prefs])
    return ((q * c).sum(1) - (q * r).sum(1)).astype(np.float32)


def preference_accuracy(encoder: BiEncoder, prefs: Sequence[Preference]) -> float:
    """ "Alignment": the share (0–100) of preferences whose chosen passage scores higher."""
    if not prefs:
        return math.nan
    return float((reference_margins(encoder, prefs) > 0).mean() * 100)


# ---------------------------------------------------------------------------- training


def _same_query_mask(query_ids: list[str]) -> Any:
    """``(B, 2B)`` True where another row of the same query supplies the candidate."""
    import torch

    n = len(query_ids)
    m = [[i != k and query_ids[i] == query_ids[k] for k in range(n)] for i in range(n)]
    return torch.tensor([row + row for row in m])


def train_align(
    prefs: Sequence[Preference],
    config: AlignConfig,
    out_dir: str | Path = "runs/align",
    *,
    corpus: Corpus | None = None,
    held_out: Sequence[Preference] = (),
    stop_after: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Tune the stage-1 encoder ``config.base`` on ``prefs``; resumable (rerun to continue).

    Args:
        prefs: Training preferences (e.g. from :func:`load_preferences`).
        config: Method and hyper-parameters (saved to ``out_dir/config.json``).
        out_dir: Run folder.
        corpus: With dev qrels: retention (dev nDCG@10) is measured every epoch.
        held_out: Preferences never trained on: alignment is measured on them every epoch.
        stop_after: Train at most this many epochs in this call.
        progress: Show a progress bar.

    Raises:
        DataError: no preference to train on.
        ConfigError: a reference from another encoder; ``out_dir`` holds another run.
    """
    import torch
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    from agentic_match.align.losses import preference_sft_loss, rankpo_loss
    from agentic_match.models import model_fingerprint, resolve_encoder
    from agentic_match.retrieval.encoder import _load_st

    if not prefs:
        raise DataError("no preference to train on (the preference file was empty or every record was a tie)")
    out_dir = Path(out_dir)
    base_folder = resolve_encoder(config.base)
    ref_folder = resolve_encoder(config.reference) if config.reference else base_folder
    base_settings = BiEncoder.load(base_folder).settings
    identity = {
        "config": config.to_dict(),
        "base_fingerprint": model_fingerprint(base_folder),
        "reference_fingerprint": model_fingerprint(ref_folder) if config.method == "rankpo" else None,
        "preferences_digest": digest(
            [[p.query_id, p.chosen_id, p.rejected_id, p.query, p.chosen, p.rejected] for p in prefs]
        ),
    }
    cfg_path = out_dir / CONFIG_FILE
    if cfg_path.is_file():
        saved = json.loads(cfg_path.read_text(encoding="utf-8"))
        if saved != identity:
            diff = sorted(k for k in identity if saved.get(k) != identity[k])
            raise ConfigError(f"{out_dir} holds an alignment run with other {', '.join(diff)}; use another folder")

    model_dir, last_dir = out_dir / "model", out_dir / "checkpoints" / "last"
    state: dict[str, Any] = {"epochs_done": 0, "history": []}
    if (last_dir / "state.json").is_file():
        state = json.loads((last_dir / "state.json").read_text(encoding="utf-8"))
    if (model_dir / MODEL_CONFIG_FILE).is_file() and state["epochs_done"] >= config.epochs:
        return TrainResult(out_dir, model_dir, state["epochs_done"], state["history"], [], True)

    resuming = state["epochs_done"] > 0
    model = _load_st(last_dir / "model" if resuming else base_folder, config.device)
    infer_len = int(state.get("infer_len") or model.max_seq_length)

    # ---- the frozen reference: checked, its margins computed once and kept in the run folder
    margins = np.zeros(len(prefs), dtype=np.float32)
    if config.method == "rankpo":
        margins_path = out_dir / MARGINS_FILE
        if margins_path.is_file():
            margins = np.asarray(json.loads(margins_path.read_text(encoding="utf-8")), dtype=np.float32)
        else:
            base_model = model if not resuming else _load_st(base_folder, config.device)
            ref_model = base_model if ref_folder == base_folder else _load_st(ref_folder, config.device)
            check_reference(base_folder, base_model, ref_folder, ref_model, config.allow_foreign_reference)
            ref = BiEncoder(
                ref_model, EncoderSettings(max_seq_length=config.max_seq_length, batch_size=config.eval_batch_size)
            )
            margins = reference_margins(ref, prefs)
            del ref, ref_model
    out_dir.mkdir(parents=True, exist_ok=True)
    from agentic_match.files import atomic_write_bytes

    if not cfg_path.is_file():
        atomic_write_bytes(cfg_path, json.dumps(identity, indent=2).encode("utf-8"))
    if config.method == "rankpo" and not (out_dir / MARGINS_FILE).is_file():
        atomic_write_bytes(out_dir / MARGINS_FILE, json.dumps([round(float(x), 7) for x in margins]).encode())

    model.max_seq_length = config.max_seq_length
    if config.freeze_embeddings:
        auto = getattr(model[0], "auto_model", None)
        if auto is not None and hasattr(auto, "get_input_embeddings"):
            auto.get_input_embeddings().weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in params if p.ndim > 1], "weight_decay": config.weight_decay},
            {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
        ],
        lr=config.learning_rate,
    )
    order = {
        e: random.Random(config.seed * 1000 + e).sample(range(len(prefs)), len(prefs))
        for e in range(1, config.epochs + 1)
    }
    batches = {e: [o[i : i + config.batch_size] for i in range(0, len(o), config.batch_size)] for e, o in order.items()}
    batches = {e: [b for b in bs if len(b) >= 2] or bs for e, bs in batches.items()}
    total_steps = sum(len(b) for b in batches.values())
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    if resuming:
        ts = torch.load(last_dir / "trainer_state.pt", map_location="cpu", weights_only=False)
        optimizer.load_state_dict(ts["optimizer"])
        scheduler.load_state_dict(ts["scheduler"])

    device = model.device
    epochs_run: list[int] = []
    for epoch in range(state["epochs_done"] + 1, config.epochs + 1):
        if stop_after is not None and len(epochs_run) >= stop_after:
            return TrainResult(out_dir, model_dir, state["epochs_done"], state["history"], epochs_run, False)
        set_seed(config.seed * 1000 + epoch)
        model.train()
        t0, total, n = time.perf_counter(), 0.0, 0
        bar = tqdm(
            batches[epoch], desc=f"{config.method} epoch {epoch}/{config.epochs}", disable=not progress, leave=False
        )
        for batch in bar:
            bp = [prefs[i] for i in batch]
            q, c, r = (
                model(to_device(model.preprocess(texts), device))["sentence_embedding"]
                for texts in ([p.query for p in bp], [p.chosen for p in bp], [p.rejected for p in bp])
            )
            if config.method == "sft":
                mask = _same_query_mask([p.query_id for p in bp]).to(device)
                loss = preference_sft_loss(q, c, r, temperature=config.sft_temperature, mask=mask)
            else:
                ref = torch.tensor(margins[batch], device=device) if config.method == "rankpo" else None
                loss = rankpo_loss(
                    q,
                    c,
                    r,
                    ref,
                    tau=config.tau,
                    beta=config.beta,
                    gamma=config.gamma,
                    label_smoothing=config.label_smoothing,
                    loss_type=config.loss_type,
                    contrastive_weight=config.contrastive_weight,
                    contrastive_temperature=config.sft_temperature,
                )
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

        model.eval()
        enc = BiEncoder(
            model,
            EncoderSettings(
                temperature=base_settings.temperature, max_seq_length=infer_len, batch_size=config.eval_batch_size
            ),
            memoize=False,
        )
        alignment = preference_accuracy(enc, held_out) if held_out else math.nan
        retention, metrics = (math.nan, {})
        if corpus is not None and config.eval_split:
            retention, metrics = dev_score(enc, corpus, config.eval_split)
        model.max_seq_length = config.max_seq_length
        record = {
            "epoch": epoch,
            "train_loss": total / max(n, 1),
            "steps": n,
            "train_s": round(train_s, 1),
            "alignment": None if math.isnan(alignment) else alignment,
            "retention_ndcg@10": None if math.isnan(retention) else retention,
            "dev": metrics,
        }
        state["history"].append(record)
        state["epochs_done"] = epoch
        state["infer_len"] = infer_len
        ts = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
        write_checkpoint(last_dir, model, infer_len, base_settings.temperature, ts, state)
        epochs_run.append(epoch)
        if progress:
            print(
                f"{config.method} epoch {epoch}/{config.epochs}: loss {record['train_loss']:.4f}  "
                f"alignment {record['alignment']}  retention nDCG@10 {record['retention_ndcg@10']}  ({train_s:.0f}s)",
                flush=True,
            )

    tmp = out_dir / f".model.tmp-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(last_dir / "model", tmp)
        (tmp / MODEL_CONFIG_FILE).write_text(
            json.dumps({**identity, "history": state["history"]}, indent=2), encoding="utf-8"
        )
        replace_dir(tmp, model_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return TrainResult(out_dir, model_dir, state["epochs_done"], state["history"], epochs_run, True)


__all__ = [
    "AlignConfig",
    "check_reference",
    "preference_accuracy",
    "reference_margins",
    "train_align",
]
