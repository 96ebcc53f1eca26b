"""Settings of the recruiter feedback loop, declared once (the graph, the API and the CLI read them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentic_match.align.trainer import RankPOConfig
from agentic_match.config import config_from_dict, config_to_dict, setting
from agentic_match.errors import ConfigError


@dataclass
class FeedbackConfig:
    """Settings of the recruiter feedback loop (:mod:`graphs.feedback`, ``agentic-match api --learn-threshold``)."""

    k: int = setting(10, help="Candidates shown to the recruiter per job.")
    threshold: int = setting(50, help="New preference pairs (since the last update) that trigger a RankPO update.")
    tolerance: float = setting(
        1.0, help="Points of the metric (0-100 scale) the updated model may lose and still be switched to."
    )
    metric: str = setting("ndcg@10", help="The before/after metric (averaged over the evaluated tasks).")
    eval_split: str = setting("dev", help="Split whose qrels judge an update (when no tasks are given).")
    consumer: str = setting("rankpo", help="The store watermark this loop advances.")
    rankpo: RankPOConfig = setting(factory=RankPOConfig, help="How an update trains (method, epochs, rates, ...).")

    def __post_init__(self) -> None:
        if isinstance(self.rankpo, dict):
            self.rankpo = config_from_dict(RankPOConfig, self.rankpo, "rankpo.")
        problems = []
        if self.k < 1:
            problems.append("k must be >= 1")
        if self.threshold < 1:
            problems.append("threshold must be >= 1")
        if self.tolerance < 0:
            problems.append("tolerance must be >= 0")
        if problems:
            raise ConfigError("invalid feedback config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedbackConfig:
        return config_from_dict(cls, data)


__all__ = ["FeedbackConfig"]
