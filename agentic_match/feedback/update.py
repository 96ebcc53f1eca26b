"""Learning from recruiter picks: the current model, and the guarded RankPO update.

Recruiter picks are stored as preference pairs in a
:class:`~agentic_match.feedback.store.FeedbackStore`. Once enough new pairs have arrived,
:func:`rankpo_update` tunes the current model on them (RankPO, the current model as its
own frozen reference), evaluates the model before and after on the same queries, and
switches to the new model only when it loses at most ``tolerance`` points of the
evaluation metric. The switch is one atomic write of ``model.json``; every update, switched
or not, is recorded there with its numbers, and the pairs it used are marked consumed.

Layout of a feedback folder::

    model.json                  {"current": <model>, "initial": <model>, "updates": [...]}
    updates/<from>-<to>/        one RankPO run per update (pairs seq from+1..to); resumable
    update.lock                 one update at a time across processes
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agentic_match.data.schema import Corpus
from agentic_match.errors import ConfigError, DataError, Problem
from agentic_match.files import read_json, utc_now, write_json

MODEL_FILE = "model.json"
LOCK_FILE = "update.lock"


@dataclass
class FeedbackConfig:
    """Settings of the recruiter feedback loop (:mod:`graphs.feedback`)."""

    k: int = 10
    """Candidates shown to the recruiter per job."""
    threshold: int = 50
    """New preference pairs (since the last update) that trigger a RankPO update."""
    tolerance: float = 1.0
    """Points of the metric (0-100 scale) the updated model may lose and still be switched to."""
    metric: str = "ndcg@10"
    """The before/after metric (averaged over the evaluated tasks)."""
    eval_split: str = "dev"
    """Split whose qrels judge an update (when no tasks are given)."""
    consumer: str = "rankpo"
    """The store watermark this loop advances."""
    method: str = "rankpo"
    """Update method: ``rankpo``, ``simrankpo`` or ``sft``."""
    epochs: int = 1
    """Epochs of one update."""
    batch_size: int = 16
    """Pairs per batch."""
    learning_rate: float = 1e-5
    """Peak learning rate (updates move gently)."""
    beta: float = 2.0
    """β of the preference loss."""
    tau: float = 0.1
    """τ of the similarity margin."""
    max_seq_length: int = 128
    """Training tokens per text."""
    seed: int = 0
    """Seed of batch order."""
    device: str | None = None
    """Torch device (``None``: CUDA when available, else CPU)."""

    def __post_init__(self) -> None:
        problems = []
        if self.k < 1:
            problems.append("k must be >= 1")
        if self.threshold < 1:
            problems.append("threshold must be >= 1")
        if self.tolerance < 0:
            problems.append("tolerance must be >= 0")
        if self.method not in ("rankpo", "simrankpo", "sft"):
            problems.append("method must be rankpo, simrankpo or sft")
        if problems:
            raise ConfigError("invalid feedback config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ModelRegistry:
    """Which model serves the feedback loop, kept in ``<folder>/model.json``.

    Args:
        folder: The feedback folder.
        initial: The model to start from when ``model.json`` does not exist yet.
    """

    folder: Path
    initial: str = "all-minilm-l6-v2"

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)

    def _load(self) -> dict[str, Any]:
        path = self.folder / MODEL_FILE
        if path.is_file():
            return read_json(path)
        return {"current": self.initial, "initial": self.initial, "updates": []}

    def current(self) -> str:
        """The model in use (a folder or an encoder spec)."""
        return str(self._load()["current"])

    def updates(self) -> list[dict[str, Any]]:
        """Every update so far, oldest first."""
        return list(self._load()["updates"])

    def record(self, update: dict[str, Any], switch_to: str | None) -> None:
        """Append ``update``; make ``switch_to`` current (atomically) when given."""
        data = self._load()
        data["updates"].append(update)
        if switch_to is not None:
            data["current"] = switch_to
        write_json(self.folder / MODEL_FILE, data)


def score_model(model: str, tasks: Sequence[Any], metric: str = "ndcg@10", device: str | None = None) -> float:
    """Mean ``metric`` of ``model`` over ranking ``tasks`` (0-100)."""
    from agentic_match.evaluation import evaluate
    from agentic_match.retrieval.encoder import BiEncoder

    encoder = BiEncoder.load(model, device=device)
    values = [evaluate(encoder, t, k=100).metrics[metric] for t in tasks]
    return float(sum(values) / len(values)) if values else math.nan


def default_tasks(corpus: Corpus, split: str) -> list[Any]:
    """The split's ranking tasks that have qrels (both directions when available).

    Raises:
        DataError: the corpus has no qrels for ``split`` (an update could not be judged).
    """
    from agentic_match.evaluation import load_task

    names = [t for t in ("rank_resume", "rank_job") if f"{split}_{t}" in corpus.qrels]
    if not names:
        raise DataError(
            Problem(corpus.source, None, "qrels", f"no '{split}' qrels to judge a feedback update with; give tasks")
        )
    return [load_task(corpus, split, t) for t in names]  # type: ignore[arg-type]


def rankpo_update(
    store: Any,
    registry: ModelRegistry,
    corpus: Corpus,
    config: FeedbackConfig = FeedbackConfig(),
    *,
    tasks: Sequence[Any] | None = None,
    train: Callable[..., Any] | None = None,
    score: Callable[[str, Sequence[Any]], float] | None = None,
    progress: bool = False,
) -> dict[str, Any] | None:
    """One guarded update from the store's new pairs; ``None`` when below the threshold.

    Tunes the current model on the pairs newer than the ``config.consumer`` watermark
    (the current model is RankPO's frozen reference), scores both models on ``tasks``
    (default: the ``config.eval_split`` qrels of ``corpus``), switches when the new one
    loses at most ``config.tolerance`` points, and marks the pairs consumed either way.
    Only one update runs at a time (a file lock); a killed update resumes its training
    when run again (the run folder is named after the pairs it uses).

    Args:
        train: ``train_align``-compatible function (tests inject a fake).
        score: ``(model, tasks) -> metric`` (default :func:`score_model`).

    Returns:
        The update record: ``pairs``, ``seq`` range, ``before``, ``after``, ``switched``,
        ``model`` (the trained one), ``current`` (the one in use afterwards).
    """
    from filelock import FileLock

    from agentic_match.align.preferences import to_preference
    from agentic_match.align.trainer import AlignConfig, train_align

    registry.folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(registry.folder / LOCK_FILE), timeout=24 * 3600):
        since = store.watermark(config.consumer)
        records = store.pairs(since=since)
        if len(records) < config.threshold:  # another process consumed them while we waited
            return None
        upto = int(records[-1]["seq"])
        done = [u for u in registry.updates() if u.get("seq") == [since + 1, upto]]
        if done:  # recorded before a crash, but the pairs were not marked consumed yet
            store.mark_consumed(config.consumer, upto=upto)
            return {**done[-1], "current": registry.current()}
        prefs = [to_preference(r) for r in records]
        tasks = list(tasks) if tasks is not None else default_tasks(corpus, config.eval_split)
        score = score or (lambda model, ts: score_model(model, ts, config.metric, config.device))
        before_model = registry.current()
        out_dir = registry.folder / "updates" / f"{since}-{upto}"
        acfg = AlignConfig(
            base=before_model,
            method=config.method,  # type: ignore[arg-type]
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            beta=config.beta,
            tau=config.tau,
            max_seq_length=config.max_seq_length,
            seed=config.seed,
            eval_split=None,  # judged below, on the same tasks as the current model
            device=config.device,
        )
        result = (train or train_align)(prefs, acfg, out_dir, progress=progress)
        after_model = str(result.model_dir)
        before = score(before_model, tasks)
        after = score(after_model, tasks)
        switched = not math.isnan(after) and (math.isnan(before) or after >= before - config.tolerance)
        update = {
            "at": utc_now(),
            "pairs": len(prefs),
            "seq": [since + 1, upto],
            "metric": config.metric,
            "before": round(before, 4),
            "after": round(after, 4),
            "tolerance": config.tolerance,
            "switched": switched,
            "model": after_model,
            "previous": before_model,
        }
        registry.record(update, after_model if switched else None)
        store.mark_consumed(config.consumer, upto=upto)
        update["current"] = registry.current()
        return update


__all__ = ["FeedbackConfig", "ModelRegistry", "default_tasks", "rankpo_update", "score_model"]
