"""Learning from recruiter picks: the current model, and the guarded RankPO update.

Recruiter picks are stored as preference pairs in a
:class:`~agentic_match.feedback.store.FeedbackStore`. Once enough new pairs have arrived,
:func:`rankpo_update` tunes the current model on them (RankPO, the current model as its
own frozen reference), evaluates the model before and after on the same queries, and
switches to the new model only when it loses at most ``tolerance`` points of the
evaluation metric. The switch is one atomic write of ``model.json``; every update, switched
or not, is recorded there with its numbers, and the pairs it used are marked consumed.

Layout of a feedback folder (:mod:`~agentic_match.feedback.registry` owns ``model.json``)::

    model.json                  {"current": <model>, "initial": <model>, "updates": [...]}
    updates/<from>-<to>/        one RankPO run per update (pairs seq from+1..to); resumable
    update.lock                 one update at a time across processes
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from agentic_match.data.schema import Corpus
from agentic_match.errors import DataError, Problem
from agentic_match.feedback.config import FeedbackConfig
from agentic_match.feedback.registry import ModelRegistry
from agentic_match.files import utc_now

LOCK_FILE = "update.lock"


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
    config: FeedbackConfig | None = None,
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

    config = config or FeedbackConfig()

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
        score = score or (lambda model, ts: score_model(model, ts, config.metric, config.rankpo.device))
        before_model = registry.current()
        out_dir = registry.folder / "updates" / f"{since}-{upto}"
        # Judged below, on the same tasks as the current model, so no per-epoch evaluation.
        acfg = AlignConfig(**{**config.rankpo.method_only(), "eval_split": None}, base=before_model)
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


__all__ = ["LOCK_FILE", "default_tasks", "rankpo_update", "score_model"]
