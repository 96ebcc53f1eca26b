"""Learning from the API's feedback: enough new picks start a RankPO update in the background.

The service stores every ``POST /feedback`` as preference pairs. With a :class:`FeedbackLearner`
attached, each stored batch of picks checks the store: once ``config.threshold`` pairs are new
(not used by an update yet), one update runs on a background thread - the same guarded
:func:`~agentic_match.feedback.update.rankpo_update` the feedback graph runs (RankPO from the
current model, before/after evaluation on the dev qrels, switch only within the tolerance). When
it switches, the matcher moves to the new encoder without a restart
(:meth:`~agentic_match.matching.Matcher.use_encoder`). Queries keep being answered meanwhile.

Only one update runs at a time (also across processes: ``rankpo_update`` holds a file lock), and
a service stopped in the middle of one resumes its training at the next trigger.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from agentic_match.data.schema import Corpus
from agentic_match.feedback.config import FeedbackConfig
from agentic_match.feedback.registry import ModelRegistry
from agentic_match.feedback.store import FeedbackStore
from agentic_match.feedback.update import default_tasks, rankpo_update
from agentic_match.matching import Matcher

log = logging.getLogger(__name__)


class FeedbackLearner:
    """Runs RankPO updates from a service's feedback store and switches its matcher's encoder.

    Args:
        matcher: The service's matcher (its encoder is replaced when an update switches).
        store: The feedback store the API writes picks to.
        registry: Which model is current (``<folder>/model.json``) and the update history.
        config: Threshold, tolerance, training settings of an update.
        tasks: Ranking tasks that judge an update (default: the ``config.eval_split`` qrels
            of the matcher's corpus; none there is a clear error now, not at the first update).
        update: Replaces :func:`rankpo_update` (same signature; tests inject fakes).
        load_encoder: ``model folder -> BiEncoder`` (default ``BiEncoder.load``).
    """

    def __init__(
        self,
        matcher: Matcher,
        store: FeedbackStore,
        registry: ModelRegistry,
        config: FeedbackConfig | None = None,
        *,
        tasks: Sequence[Any] | None = None,
        update: Callable[..., dict[str, Any] | None] | None = None,
        load_encoder: Callable[[str], Any] | None = None,
    ) -> None:
        config = config or FeedbackConfig()
        self.tasks = list(tasks) if tasks is not None else default_tasks(matcher.corpus, config.eval_split)
        self.matcher = matcher
        self.store = store
        self.registry = registry
        self.config = config
        self._update = update or rankpo_update
        self._load_encoder = load_encoder
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback-update")
        self._lock = threading.Lock()
        self._running: Future | None = None
        self._last: dict[str, Any] | None = None
        self._error: str | None = None

    @property
    def corpus(self) -> Corpus:
        return self.matcher.corpus

    def new_pairs(self) -> int:
        """Pairs stored since the last update consumed them."""
        return self.store.count_new(self.config.consumer)

    def maybe_start(self) -> str | None:
        """Start an update when enough pairs are new; ``"started"``, ``"running"`` or ``None``."""
        with self._lock:
            if self._running is not None and not self._running.done():
                return "running"
            if self.new_pairs() < self.config.threshold:
                return None
            self._running = self._pool.submit(self._run)
            return "started"

    def _run(self) -> dict[str, Any] | None:
        started = time.monotonic()
        try:
            result = self._update(self.store, self.registry, self.corpus, self.config, tasks=self.tasks)
            if result is not None and result.get("switched"):
                self.matcher.use_encoder(self._encoder(result["current"]))
            if result is not None:
                result = {**result, "wall_s": round(time.monotonic() - started, 1)}
            self._last, self._error = result, None
            return result
        except Exception as e:  # a failed update must not take the service down
            log.exception("feedback update failed")
            self._error = f"{type(e).__name__}: {e}"
            return None

    def _encoder(self, model: str) -> Any:
        if self._load_encoder is not None:
            return self._load_encoder(model)
        from agentic_match.retrieval.encoder import BiEncoder

        return BiEncoder.load(model)

    def status(self) -> dict[str, Any]:
        """For ``GET /feedback/stats``: running or not, the last update, the model in use."""
        running = self._running is not None and not self._running.done()
        return {
            "running": running,
            "threshold": self.config.threshold,
            "current_model": self.registry.current(),
            "last_update": self._last,
            "last_error": self._error,
            "updates": len(self.registry.updates()),
        }

    def wait(self, timeout: float | None = None) -> dict[str, Any] | None:
        """Block until the running update (if any) finishes; its record (tests, shutdown)."""
        fut = self._running
        return fut.result(timeout=timeout) if fut is not None else None

    def close(self) -> None:
        """Let a running update finish, then stop the worker thread."""
        self._pool.shutdown(wait=True)


def learner_for(
    matcher: Matcher,
    store: FeedbackStore,
    folder: Any,
    initial_model: str,
    config: FeedbackConfig,
    tasks: Sequence[Any] | None = None,
) -> FeedbackLearner:
    """A learner whose registry lives in ``folder``; a model switched to earlier is loaded now."""
    registry = ModelRegistry(folder, initial_model)
    learner = FeedbackLearner(matcher, store, registry, config, tasks=tasks)
    current = registry.current()
    if current != initial_model:
        log.info("feedback: resuming with the model of the last switch, %s", current)
        matcher.use_encoder(learner._encoder(current))
    return learner


__all__ = ["FeedbackLearner", "learner_for"]
