"""Stage 2: tune a stage-1 bi-encoder on preferences (RankPO, SimRankPO, or one of two SFTs).

A recipe on the one training loop (:func:`~agentic_match.retrieval.training.train_encoder`:
whole epochs, atomic checkpoints with model + optimizer + schedule, ``config.json``
identity checked on resume). RankPO's frozen reference is the stage-1 model: its margins
``s_ref(q, chosen) − s_ref(q, rejected)`` are computed once, before training, and stored in
the run folder, so the reference never sits in memory during training.

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
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from agentic_match.align.preferences import Preference
from agentic_match.config import setting
from agentic_match.data.schema import Corpus
from agentic_match.errors import ConfigError, DataError
from agentic_match.files import atomic_write_bytes, digest
from agentic_match.retrieval.encoder import SETTINGS_FILE, BiEncoder, EncoderSettings, load_sentence_transformer
from agentic_match.retrieval.training import TrainingArguments, TrainResult, dev_score, train_encoder
from agentic_match.retrieval.training.loop import EncoderRecipe, embed

MODEL_CONFIG_FILE = "align_config.json"
MARGINS_FILE = "reference_margins.json"
Method = Literal["rankpo", "simrankpo", "sft2", "sftnce", "sft"]
METHODS: tuple[str, ...] = ("rankpo", "simrankpo", "sft2", "sftnce", "sft")


@dataclass
class RankPOConfig(TrainingArguments):
    """How stage 2 trains (everything but which model it starts from).

    The train pipeline and the feedback loop hold one of these; :class:`AlignConfig` adds
    the base and reference models of one run.
    """

    method: Method = setting(
        "rankpo",
        help="rankpo (reference-anchored), simrankpo (no reference), sft2 (cross-entropy over each pair's "
        "[chosen, rejected], the RankPO authors' SFT) or sftnce (in-batch InfoNCE, rejected = hard negative; "
        "'sft' is its old name).",
        choices=METHODS,
    )
    tau: float = setting(0.1, help="τ: temperature of the similarity margin.")
    beta: float = setting(2.0, help="β: sharpness of the preference loss.")
    gamma: float = setting(0.0, help="γ: target margin subtracted from the logits.")
    label_smoothing: float = setting(0.0, help="ε: assumed share of wrong preferences (sigmoid loss).")
    loss_type: Literal["sigmoid", "hinge"] = setting(
        "sigmoid", help="sigmoid (DPO) or hinge (SLiC).", choices=("sigmoid", "hinge")
    )
    contrastive_weight: float = setting(0.0, help="α of the optional InfoNCE term added to RankPO / SimRankPO.")
    sft_temperature: float = setting(0.05, help="Temperature of the SFT / contrastive InfoNCE term.")
    epochs: int = setting(1, help="Training epochs (the last one is kept).")
    learning_rate: float = setting(1e-5, help="Peak AdamW learning rate (stage 2 moves gently).")

    config_name = "align"

    def problems(self) -> list[str]:
        out = super().problems()
        if self.method not in METHODS:
            out.append("method must be one of " + ", ".join(METHODS))
        if self.tau <= 0 or self.beta <= 0:
            out.append("tau and beta must be > 0")
        if not 0 <= self.label_smoothing < 0.5:
            out.append("label_smoothing must be in [0, 0.5)")
        if self.loss_type not in ("sigmoid", "hinge"):
            out.append("loss_type must be 'sigmoid' or 'hinge'")
        return out

    def method_only(self) -> dict[str, Any]:
        """These settings as keyword arguments (to build an :class:`AlignConfig` from them)."""
        from dataclasses import fields

        return {f.name: getattr(self, f.name) for f in fields(RankPOConfig)}


@dataclass
class AlignConfig(RankPOConfig):
    """Settings of :func:`train_align`: a :class:`RankPOConfig` plus the models (saved beside the model)."""

    base: str = setting("", help="The stage-1 encoder to start from (a folder or encoder spec); required.")
    reference: str | None = setting(
        None,
        help="The frozen reference (RankPO); None: the base itself. Must be the base's architecture and, "
        "unless allow_foreign_reference, its weights or its own recorded reference.",
    )
    allow_foreign_reference: bool = setting(
        False, help="Accept a same-architecture reference whose weights are not the base's lineage."
    )

    def problems(self) -> list[str]:
        out = super().problems()
        if not self.base:
            out.insert(0, "base (the stage-1 encoder) is required")
        return out


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
    # Pairs share their query (and often passages): each distinct text is encoded once.
    texts = list(dict.fromkeys(t for p in prefs for t in (p.query, p.chosen, p.rejected)))
    row = {t: i for i, t in enumerate(texts)}
    v = encoder.encode(texts)
    q, c, r = (v[[row[getattr(p, side)] for p in prefs]] for side in ("query", "chosen", "rejected"))
    return ((q * c).sum(1) - (q * r).sum(1)).astype(np.float32)


def preference_accuracy(encoder: BiEncoder, prefs: Sequence[Preference]) -> float:
    """ "Alignment": the share (0–100) of preferences whose chosen passage scores higher."""
    if not prefs:
        return math.nan
    return float((reference_margins(encoder, prefs) > 0).mean() * 100)


# ---------------------------------------------------------------------------- training


def same_query_mask(query_ids: list[str]) -> Any:
    """``(B, 2B)`` True where another row of the same query supplies the candidate."""
    import torch

    n = len(query_ids)
    m = [[i != k and query_ids[i] == query_ids[k] for k in range(n)] for i in range(n)]
    return torch.tensor([row + row for row in m])


# ---------------------------------------------------------------------------- recipe


class PreferenceRecipe(EncoderRecipe):
    """RankPO / SimRankPO / SFT on preference triples; the last epoch is kept."""

    meta_file = MODEL_CONFIG_FILE
    keep = "last"

    def __init__(
        self,
        prefs: Sequence[Preference],
        config: AlignConfig,
        *,
        corpus: Corpus | None = None,
        held_out: Sequence[Preference] = (),
    ) -> None:
        from agentic_match.models import resolve_encoder

        if not prefs:
            raise DataError("no preference to train on (the preference file was empty or every record was a tie)")
        self.prefs, self.config, self.corpus, self.held_out = list(prefs), config, corpus, list(held_out)
        self.base = resolve_encoder(config.base)
        self.ref_folder = resolve_encoder(config.reference) if config.reference else self.base
        self.margins = np.zeros(len(self.prefs), dtype=np.float32)
        self.label = f"{config.method} epoch"

    def base_folder(self) -> Path:
        return self.base

    @property
    def temperature(self) -> float:
        # The stage-1 model's score scale is kept.
        path = self.base / SETTINGS_FILE
        saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return float(saved.get("temperature", EncoderSettings().temperature))

    def identity(self) -> dict[str, Any]:
        from agentic_match.models import model_fingerprint

        return {
            "base_fingerprint": model_fingerprint(self.base),
            "reference_fingerprint": model_fingerprint(self.ref_folder) if self.config.method == "rankpo" else None,
            "preferences_digest": digest(
                [[p.query_id, p.chosen_id, p.rejected_id, p.query, p.chosen, p.rejected] for p in self.prefs]
            ),
        }

    def prepare(self, model: Any, *, out_dir: Path, resuming: bool) -> None:
        """The frozen reference: checked, its margins computed once and kept in the run folder."""
        cfg = self.config
        if cfg.method != "rankpo":
            return
        path = out_dir / MARGINS_FILE
        if path.is_file():
            self.margins = np.asarray(json.loads(path.read_text(encoding="utf-8")), dtype=np.float32)
            return
        base_model = model if not resuming else load_sentence_transformer(self.base, cfg.device)
        ref_model = (
            base_model if self.ref_folder == self.base else load_sentence_transformer(self.ref_folder, cfg.device)
        )
        check_reference(self.base, base_model, self.ref_folder, ref_model, cfg.allow_foreign_reference)
        ref = BiEncoder(ref_model, EncoderSettings(max_seq_length=cfg.max_seq_length, batch_size=cfg.eval_batch_size))
        self.margins = reference_margins(ref, self.prefs)
        atomic_write_bytes(path, json.dumps([round(float(x), 7) for x in self.margins]).encode())

    def batches(self, epoch: int) -> list[list[int]]:
        n, size = len(self.prefs), self.config.batch_size
        order = random.Random(self.config.seed * 1000 + epoch).sample(range(n), n)
        batches = [order[i : i + size] for i in range(0, n, size)]
        return [b for b in batches if len(b) >= 2] or batches

    def loss(self, model: Any, batch: Sequence[int], rng: random.Random) -> Any:
        import torch

        from agentic_match.align.losses import pairwise_sft_loss, preference_sft_loss, rankpo_loss

        cfg = self.config
        bp = [self.prefs[i] for i in batch]
        q, c, r = (embed(model, [getattr(p, side) for p in bp]) for side in ("query", "chosen", "rejected"))
        if cfg.method == "sft2":
            return pairwise_sft_loss(q, c, r, temperature=cfg.sft_temperature)
        if cfg.method in ("sftnce", "sft"):
            mask = same_query_mask([p.query_id for p in bp]).to(model.device)
            return preference_sft_loss(q, c, r, temperature=cfg.sft_temperature, mask=mask)
        ref = torch.tensor(self.margins[list(batch)], device=model.device) if cfg.method == "rankpo" else None
        return rankpo_loss(
            q,
            c,
            r,
            ref,
            tau=cfg.tau,
            beta=cfg.beta,
            gamma=cfg.gamma,
            label_smoothing=cfg.label_smoothing,
            loss_type=cfg.loss_type,
            contrastive_weight=cfg.contrastive_weight,
            contrastive_temperature=cfg.sft_temperature,
        )

    def evaluate(self, encoder: BiEncoder) -> tuple[float, dict[str, Any]]:
        alignment = preference_accuracy(encoder, self.held_out) if self.held_out else math.nan
        retention, metrics = math.nan, {}
        if self.corpus is not None and self.config.eval_split:
            retention, metrics = dev_score(encoder, self.corpus, self.config.eval_split)
        return retention, {
            "alignment": None if math.isnan(alignment) else alignment,
            "retention_ndcg@10": None if math.isnan(retention) else retention,
            "dev": metrics,
        }

    def describe(self, record: dict[str, Any]) -> str:
        return (
            f"loss {record['train_loss']:.4f}  alignment {record['alignment']}  "
            f"retention nDCG@10 {record['retention_ndcg@10']}"
        )


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
    recipe = PreferenceRecipe(prefs, config, corpus=corpus, held_out=held_out)
    return train_encoder(recipe, config, out_dir, stop_after=stop_after, progress=progress)


__all__ = [
    "AlignConfig",
    "PreferenceRecipe",
    "RankPOConfig",
    "check_reference",
    "preference_accuracy",
    "reference_margins",
    "same_query_mask",
    "train_align",
]
