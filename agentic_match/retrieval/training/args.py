"""The settings every encoder training shares, declared once.

:class:`TrainingArguments` holds what the one training loop (:mod:`.loop`) reads; each
method's config (``ConFitConfig``, ``RankPOConfig`` / ``AlignConfig``, ``CrossEncoderConfig``)
extends it with its own fields and may change a default (stage 2 moves gently, so RankPO's
default learning rate is lower), as TRL's ``DPOConfig`` extends ``TrainingArguments``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from agentic_match.config import config_from_dict, config_to_dict, setting
from agentic_match.errors import ConfigError

A = TypeVar("A", bound="TrainingArguments")


@dataclass
class TrainingArguments:
    """What the encoder training loop reads (saved in the run folder's ``config.json``)."""

    epochs: int = setting(2, help="Training epochs (whole passes over the training data).")
    batch_size: int = setting(16, help="Training examples per batch.")
    learning_rate: float = setting(5e-5, help="Peak AdamW learning rate.")
    warmup_ratio: float = setting(0.1, help="Share of all steps with a linear warm-up (then linear decay to 0).")
    weight_decay: float = setting(0.01, help="AdamW weight decay (not applied to biases and norms).")
    max_grad_norm: float = setting(1.0, help="Gradient-norm clip.")
    max_seq_length: int | None = setting(
        None,
        help=(
            "Tokens per text, in training and in serving: None reads the encoder's own window (256 for MiniLM); a "
            "shorter one is saved with the model, so the model serves with the window it was trained on."
        ),
    )
    freeze_embeddings: bool = setting(
        True, help="Freeze the word-embedding matrix: half of MiniLM's weights, little gain, costly updates on CPU."
    )
    seed: int = setting(0, help="Seed of batch order, sampling and dropout (each epoch reseeds from it).")
    eval_split: str | None = setting("dev", help="Split whose qrels evaluate each epoch (None: skip).")
    eval_batch_size: int = setting(32, help="Texts per forward pass when encoding for evaluation.")
    device: str | None = setting(None, help="Torch device (None: CUDA when available, else CPU).")

    #: Name used in error messages ("invalid ConFit config: ...").
    config_name = "training"

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when valid); subclasses add theirs."""
        out = []
        if self.epochs < 1:
            out.append("epochs must be >= 1")
        if self.batch_size < 2:
            out.append("batch_size must be >= 2 (in-batch negatives)")
        if self.learning_rate <= 0:
            out.append("learning_rate must be > 0")
        if not 0 <= self.warmup_ratio < 1:
            out.append("warmup_ratio must be in [0, 1)")
        if self.max_seq_length is not None and self.max_seq_length < 8:
            out.append("max_seq_length must be >= 8")
        if self.eval_batch_size < 1:
            out.append("eval_batch_size must be >= 1")
        return out

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(f"invalid {self.config_name} config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls: type[A], data: dict[str, Any]) -> A:
        return config_from_dict(cls, data)

    def training_only(self) -> dict[str, Any]:
        """The :class:`TrainingArguments` part of a subclass's values (to build a sibling config)."""
        return {f.name: getattr(self, f.name) for f in fields(TrainingArguments)}


__all__ = ["TrainingArguments"]
