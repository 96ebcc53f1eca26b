"""Settings of generator fine-tuning: how examples are built, and how LoRA is trained.

Both are plain dataclasses with defaults and help text, like TRL's configs. The defaults fit
two CPU cores and the packaged SmolLM2-135M: short prompts (the HyRe prompt with its
documents cut to a few hundred characters), completions cut to 384 tokens, sequences of at
most 1024 tokens, one example per step with gradient accumulation, no bf16 and no gradient
checkpointing. On a GPU :func:`finetune.trainer.trl_args` switches to bf16 and gradient
checkpointing by itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from agentic_match.augment.completion import CompletionConfig
from agentic_match.augment.hyre import HyReConfig
from agentic_match.errors import ConfigError

Task = Literal["hyre", "irc"]
TASKS: tuple[Task, ...] = ("hyre", "irc")

# The HyRe prompt used for training *and* for generation with the adapter: its documents
# are cut shorter than HyReConfig's defaults so prompt + completion fit 1024 tokens.
FINETUNE_HYRE = HyReConfig(n_examples=1, example_chars=500, job_chars=1000, max_tokens=384)
FINETUNE_IRC = CompletionConfig(method="irc", max_jobs=2, resume_chars=1200, job_chars=400)


@dataclass(frozen=True)
class DataConfig:
    """How training examples are built from a team's labels.

    Attributes:
        eval_fraction: Share of the labelled jobs held out for evaluation (by a seeded
            hash of the job id, so a job is never on both sides). Ignored when evaluation
            labels are given explicitly.
        seed: Seed of the job split and of pair sampling.
        keep_top_fraction: HyRe SFT keeps this share of the accepted pairs that the current
            encoder scores highest (ConFit v2, appendix B.4); 1.0 keeps all. Without an
            encoder every accepted pair is kept.
        max_examples_per_job: HyRe SFT: at most this many accepted resumes per job (the best
            scored first), so a few busy jobs do not dominate.
        max_pairs_per_job: DPO: at most this many (chosen, rejected) pairs per job, drawn
            with ``seed``.
        max_prompt_tokens: A prompt longer than this is rebuilt with a shorter target
            document, then dropped (counted in the report) if still too long.
        max_completion_tokens: Completions (resumes, IRC answers) are cut to this many
            tokens, at a line end when one is near.
        min_train_examples: Fewer training examples than this is an error (too small).
        forbid_splits: Jobs of these corpus splits must not appear in training data
            (evaluation data may use ``dev`` but never ``test``).
        hyre: The HyRe prompt settings (the same ones must be used when generating).
        irc: The IRC completion prompt settings.
    """

    eval_fraction: float = 0.1
    seed: int = 0
    keep_top_fraction: float = 0.5
    max_examples_per_job: int = 3
    max_pairs_per_job: int = 4
    max_prompt_tokens: int = 640
    max_completion_tokens: int = 384
    min_train_examples: int = 2
    forbid_splits: tuple[str, ...] = ("dev", "test")
    hyre: HyReConfig = FINETUNE_HYRE
    irc: CompletionConfig = FINETUNE_IRC

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.eval_fraction < 1:
            problems.append(f"eval_fraction must be in [0, 1), not {self.eval_fraction}")
        if not 0 < self.keep_top_fraction <= 1:
            problems.append(f"keep_top_fraction must be in (0, 1], not {self.keep_top_fraction}")
        for name in ("max_examples_per_job", "max_pairs_per_job", "max_prompt_tokens", "max_completion_tokens"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1")
        if self.min_train_examples < 1:
            problems.append("min_train_examples must be >= 1")
        if self.irc.method != "irc":
            problems.append("irc must be a CompletionConfig with method='irc'")
        if problems:
            raise ConfigError("invalid fine-tuning data config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FinetuneConfig:
    """LoRA training settings, mapped onto TRL's ``SFTConfig`` / ``DPOConfig``.

    Attributes:
        base_model: Generator spec: packaged name (``smollm2-135m``), local Hugging Face
            folder, or GGUF file (de-quantized once).
        lora_r: LoRA rank (vLLM serves ranks up to 512; the server is started to fit).
        lora_alpha: LoRA scaling numerator.
        lora_dropout: Dropout on the LoRA input.
        target_modules: Layers that get adapters: ``"all-linear"`` or a list of names
            (``["q_proj", "v_proj"]``).
        learning_rate: Peak learning rate; ``None``: 2e-4 for SFT, 5e-5 for DPO.
        epochs: Passes over the training data (ignored when ``max_steps`` > 0).
        max_steps: Stop after this many optimizer steps (-1: run ``epochs``).
        batch_size: Examples per device per forward pass.
        grad_accum: Forward passes per optimizer step.
        max_length: Tokens per sequence (prompt + completion); longer ones are cut.
        beta: DPO temperature (how far the policy may move from the reference).
        warmup_ratio: Share of the steps with a linear warm-up.
        save_steps: A resumable checkpoint every this many steps.
        save_total_limit: Checkpoints kept (older ones are deleted).
        logging_steps: Log the loss every this many steps.
        eval_steps: Evaluate every this many steps during training (``None``: only at the end).
        gradient_checkpointing: Recompute activations in the backward pass (less memory,
            more time); ``None``: on a GPU only. On CPU a DPO step at 1024 tokens peaks near
            7 GB without it.
        seed: Seed of LoRA initialisation and data order.
        device: ``auto`` (a GPU when there is one), ``cpu`` or ``cuda``.
    """

    base_model: str = "smollm2-135m"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"
    learning_rate: float | None = None
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 1
    grad_accum: int = 4
    max_length: int = 1024
    beta: float = 0.1
    warmup_ratio: float = 0.03
    save_steps: int = 25
    save_total_limit: int = 2
    logging_steps: int = 5
    eval_steps: int | None = None
    gradient_checkpointing: bool | None = None
    seed: int = 0
    device: str = "auto"
    extra: dict[str, Any] = field(default_factory=dict)
    """Further ``SFTConfig`` / ``DPOConfig`` fields, passed as they are (checked by TRL)."""

    # Settings that only say how long or how verbosely to train: a resumed run may change
    # them (train longer) without counting as another run.
    RESUMABLE_CHANGES = (
        "epochs",
        "max_steps",
        "save_steps",
        "save_total_limit",
        "logging_steps",
        "eval_steps",
        "gradient_checkpointing",
    )

    def __post_init__(self) -> None:
        problems = []
        if self.lora_r < 1 or self.lora_alpha <= 0:
            problems.append("lora_r must be >= 1 and lora_alpha > 0")
        if not 0 <= self.lora_dropout < 1:
            problems.append("lora_dropout must be in [0, 1)")
        if self.batch_size < 1 or self.grad_accum < 1:
            problems.append("batch_size and grad_accum must be >= 1")
        if self.max_length < 64:
            problems.append("max_length must be >= 64")
        if self.max_steps <= 0 and self.epochs <= 0:
            problems.append("set epochs > 0 or max_steps > 0")
        if self.device not in ("auto", "cpu", "cuda"):
            problems.append(f"device must be auto, cpu or cuda, not {self.device!r}")
        if problems:
            raise ConfigError("invalid fine-tuning config: " + "; ".join(problems))

    def lr(self, kind: str) -> float:
        """The learning rate of an ``sft`` or ``dpo`` run."""
        if self.learning_rate is not None:
            return self.learning_rate
        return 2e-4 if kind == "sft" else 5e-5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinetuneConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown fine-tuning setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)

    def identity(self) -> dict[str, Any]:
        """The settings that make two runs different (a resume must not change them)."""
        return {k: v for k, v in self.to_dict().items() if k not in self.RESUMABLE_CHANGES}
