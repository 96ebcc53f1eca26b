"""Settings of the train pipeline (augment -> ConFit* -> RUM -> retrain -> judge -> RankPO -> evaluate).

The pipeline's config holds each stage's own config, declared once where that stage lives:
HyRe (:class:`~agentic_match.augment.hyre.HyReConfig`), ConFit*
(:class:`~agentic_match.retrieval.training.ConFitConfig`), mining
(:class:`~agentic_match.retrieval.mining.MiningConfig`), the judged pairs and the judge
(:class:`~agentic_match.align.judge.PairSamplingConfig`,
:class:`~agentic_match.align.judge.JudgeConfig`), stage 2
(:class:`~agentic_match.align.trainer.RankPOConfig`) and the evaluation. Each setting has
one name everywhere: ``pipeline.confit.epochs`` in a TOML file (``[pipeline.confit]``), in
``--set`` and in the environment, ``--confit.epochs`` on ``agentic-match pipeline run``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentic_match.align.judge import JudgeConfig, PairSamplingConfig
from agentic_match.align.label_pairs import LabelPairConfig
from agentic_match.align.trainer import RankPOConfig
from agentic_match.augment.hyre import HyReConfig
from agentic_match.config import config_from_dict, config_to_dict, setting
from agentic_match.errors import ConfigError
from agentic_match.retrieval.mining import MiningConfig
from agentic_match.retrieval.training import ConFitConfig

RUNTIME_ONLY: frozenset[str] = frozenset({"concurrency", "progress", "keep_checkpoints", "device", "eval_batch_size"})
"""Settings that change how a step runs, never what it produces (left out of step digests, at any depth)."""


@dataclass
class EvaluationConfig:
    """What the evaluate step scores."""

    split: str = setting("test", help="Split whose qrels the evaluate step scores (both tasks that have qrels).")
    k: int = setting(100, help="Run depth of the evaluation (metrics are cut at 10 and 100).")

    def __post_init__(self) -> None:
        if self.k < 10:
            raise ConfigError("evaluation.k must be >= 10 (metrics are cut at 10 and 100)")


def _pipeline_confit() -> ConFitConfig:
    # One epoch per training fits a CPU budget (as the retrieval benchmark ran); hard
    # negatives are passed explicitly (none, then the mined ones).
    return ConFitConfig(epochs=1, negatives="none")


@dataclass
class PipelineConfig:
    """Every setting of :mod:`graphs.train_pipeline` (saved in the run folder's ``pipeline.json``).

    Each step's digest holds only the sections it reads, so changing, say, ``rankpo.beta``
    reruns RankPO, evaluation and the report but keeps both trainings.
    """

    skip_augment: bool = setting(False, help="Train on the plain job posts (no HyRe; no LLM needed for this step).")
    hyre: HyReConfig = setting(factory=HyReConfig, help="HyRe generation (the augment step).")
    confit: ConFitConfig = setting(
        factory=_pipeline_confit, help="ConFit* (both trainings); confit.encoder is the base encoder of the run."
    )
    mining: MiningConfig = setting(factory=MiningConfig, help="Runner-Up Mining with the first model.")
    skip_judge: bool = setting(
        False,
        help="Skip the LLM judge: RankPO then trains on label pairs (preference_source auto / labels), or is "
        "skipped with preference_source judge, and the RUM model is the final model.",
    )
    pairs: PairSamplingConfig = setting(
        factory=PairSamplingConfig, help="Which pairs the judge sees, and the held-out share."
    )
    judge: JudgeConfig = setting(factory=JudgeConfig, help="The LLM judge.")
    preference_source: str = setting(
        "auto",
        help="Preferences RankPO trains on: 'judge' (the LLM's), 'labels' (higher-graded over lower-graded "
        "resumes of a train job, see label_pairs) or 'auto' (the judge's; the labels' when it decides none).",
        choices=("auto", "judge", "labels"),
    )
    label_pairs: LabelPairConfig = setting(
        factory=LabelPairConfig, help="Which train labels become preference pairs (preference_source labels / auto)."
    )
    rankpo: RankPOConfig = setting(factory=RankPOConfig, help="Stage 2 on the preferences (see preference_source).")
    evaluation: EvaluationConfig = setting(factory=EvaluationConfig, help="The evaluate step.")
    concurrency: int = setting(8, help="LLM requests in flight (augment, judge); never changes results.")
    keep_checkpoints: bool = setting(
        False, help="Keep the training checkpoints (optimizer state) once a step is done; off saves ~0.5 GB each."
    )
    progress: bool = setting(True, help="Show progress bars and per-epoch lines.")

    def __post_init__(self) -> None:
        for name, cls in (
            ("hyre", HyReConfig),
            ("confit", ConFitConfig),
            ("mining", MiningConfig),
            ("pairs", PairSamplingConfig),
            ("judge", JudgeConfig),
            ("label_pairs", LabelPairConfig),
            ("rankpo", RankPOConfig),
            ("evaluation", EvaluationConfig),
        ):
            value = getattr(self, name)
            if isinstance(value, dict):
                setattr(self, name, config_from_dict(cls, value, f"{name}."))
        if self.concurrency < 1:
            raise ConfigError("invalid pipeline config: concurrency must be >= 1")
        if self.preference_source not in ("auto", "judge", "labels"):
            raise ConfigError(
                "invalid pipeline config: preference_source must be auto, judge or labels, "
                f"not {self.preference_source!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineConfig:
        return config_from_dict(cls, data)

    def subset(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The settings ``names`` (sections or dotted paths) without runtime-only ones: a step's digest."""
        d = self.to_dict()
        out: dict[str, Any] = {}
        for name in names:
            value: Any = d
            for part in name.split("."):
                value = value[part]
            out[name] = _strip_runtime(value)
        return out

    @property
    def needs_llm(self) -> bool:
        """Whether some step calls the generator (HyRe or the judge)."""
        return not (self.skip_augment and self.skip_judge)


def _strip_runtime(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_runtime(v) for k, v in value.items() if k not in RUNTIME_ONLY}
    return value


__all__ = ["RUNTIME_ONLY", "EvaluationConfig", "PipelineConfig"]
