"""Settings of the train pipeline (augment -> ConFit* -> RUM -> retrain -> judge -> RankPO -> evaluate)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from agentic_match.errors import ConfigError

RUNTIME_ONLY: frozenset[str] = frozenset({"concurrency", "progress", "keep_checkpoints", "device"})
"""Settings that change how a step runs, never what it produces (left out of step digests)."""


@dataclass
class PipelineConfig:
    """Every setting of :mod:`graphs.train_pipeline` (saved in the run folder's ``pipeline.json``).

    The defaults fit a CPU budget on MiniLM (one epoch per training, as the retrieval
    benchmark ran). Each step's digest holds only the settings it reads, so changing, say,
    the RankPO β reruns RankPO, evaluation and the report but keeps both trainings.
    """

    encoder: str = "all-minilm-l6-v2"
    """Base encoder spec (packaged name or local folder) that both trainings start from."""
    epochs: int = 1
    """ConFit* epochs of each training (the best on dev is kept)."""
    batch_size: int = 16
    """Accepted pairs per ConFit* batch."""
    learning_rate: float = 5e-5
    """Peak learning rate of both ConFit* trainings."""
    max_seq_length: int = 128
    """Training tokens per text (ConFit* and RankPO); inference keeps the model's own length."""
    band: str = "auto"
    """RUM rank-percentile band ``LOW-HIGH`` (e.g. ``3-4``) or ``auto`` (chosen on dev)."""
    rum_per_pair: int = 1
    """Mined negatives per accepted pair and side."""
    skip_augment: bool = False
    """Train on the plain job posts (no HyRe; no LLM needed for this step)."""
    hyre_examples: int = 1
    """Few-shot accepted pairs shown to the generator for HyRe."""
    hyre_max_tokens: int = 256
    """Generation budget of one hypothetical reference resume."""
    skip_judge: bool = False
    """Skip the LLM judge (and so RankPO): the RUM model is the final model."""
    judge_k: int = 10
    """Top-k resumes of the RUM model per train job that judged pairs are drawn from."""
    judge_pairs_per_query: int = 5
    """Pairs judged per train job."""
    max_judge_pairs: int | None = None
    """Cap on judged pairs (seeded sample of jobs; ``None``: every train job)."""
    judge_max_doc_chars: int = 1500
    """Characters of each document shown to the judge (and stored in the preference file)."""
    rankpo_method: str = "rankpo"
    """Stage-2 method: ``rankpo``, ``simrankpo`` or ``sft``."""
    rankpo_epochs: int = 1
    """Stage-2 epochs."""
    rankpo_batch_size: int = 16
    """Preferences per stage-2 batch."""
    rankpo_learning_rate: float = 1e-5
    """Peak stage-2 learning rate."""
    rankpo_beta: float = 2.0
    """β of the preference loss."""
    rankpo_tau: float = 0.1
    """τ of the similarity margin."""
    rankpo_held_out: float = 0.2
    """Share of judged jobs held out to measure alignment (preference accuracy)."""
    eval_split: str = "test"
    """Split whose qrels the evaluate step scores (both tasks that have qrels)."""
    eval_k: int = 100
    """Run depth of the evaluation."""
    seed: int = 0
    """Seed of every sampling step (few-shot draw, batches, mining, judged pairs)."""
    concurrency: int = 8
    """LLM requests in flight (augment, judge); never changes results."""
    keep_checkpoints: bool = False
    """Keep the training checkpoints (optimizer state) once a step is done; off saves ~0.5 GB per training."""
    device: str | None = None
    """Torch device (``None``: CUDA when available, else CPU)."""
    progress: bool = True
    """Show progress bars and per-epoch lines."""

    def __post_init__(self) -> None:
        problems = []
        if self.epochs < 1 or self.rankpo_epochs < 1:
            problems.append("epochs and rankpo_epochs must be >= 1")
        if self.batch_size < 2 or self.rankpo_batch_size < 2:
            problems.append("batch_size and rankpo_batch_size must be >= 2")
        if self.learning_rate <= 0 or self.rankpo_learning_rate <= 0:
            problems.append("learning rates must be > 0")
        if self.band != "auto":
            from agentic_match.retrieval.mining import parse_band

            try:
                parse_band(self.band)
            except ConfigError as e:
                problems.append(f"band: {e}")
        if self.rum_per_pair < 1:
            problems.append("rum_per_pair must be >= 1")
        if self.judge_k < 2 or self.judge_pairs_per_query < 1:
            problems.append("judge_k must be >= 2 and judge_pairs_per_query >= 1")
        if self.max_judge_pairs is not None and self.max_judge_pairs < 1:
            problems.append("max_judge_pairs must be >= 1 (or None for no cap)")
        if self.rankpo_method not in ("rankpo", "simrankpo", "sft"):
            problems.append("rankpo_method must be rankpo, simrankpo or sft")
        if not 0 <= self.rankpo_held_out < 1:
            problems.append("rankpo_held_out must be in [0, 1)")
        if self.eval_k < 10:
            problems.append("eval_k must be >= 10 (metrics are cut at 10 and 100)")
        if self.concurrency < 1:
            problems.append("concurrency must be >= 1")
        if problems:
            raise ConfigError("invalid pipeline config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineConfig:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown pipeline setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)

    def subset(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The settings ``names`` (what one step's digest covers)."""
        d = self.to_dict()
        return {n: d[n] for n in names}

    @property
    def needs_llm(self) -> bool:
        """Whether some step calls the generator (HyRe or the judge)."""
        return not (self.skip_augment and self.skip_judge)


__all__ = ["RUNTIME_ONLY", "PipelineConfig"]
