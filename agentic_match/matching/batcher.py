"""Dynamic batching for concurrent callers: many threads, one call of a batch function.

A server answers each request in its own thread; encoding each query alone leaves the
encoder's batch dimension unused and pays the per-call overhead every time. A
:class:`MicroBatcher` lets the threads that arrive together share one call: the first caller
becomes the *leader*, waits up to ``window_s`` for others (less when the batch fills), runs
``fn`` on everything pending (at most ``max_batch``), hands each caller its own result and
passes the lead on. No background thread: nothing to start or stop, and an idle batcher
costs nothing. While a batch runs, new callers queue and form the next batch, so under load
batches grow by themselves even with a zero window.

    batcher = MicroBatcher(lambda texts: encoder.encode(texts), window_s=0.002, max_batch=64)
    vec = batcher(text)          # from any number of threads

An exception raised by ``fn`` reaches every caller of that batch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Slot(Generic[T]):
    item: T
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class MicroBatcher(Generic[T, R]):
    """Run ``fn`` once for the items of callers that arrive within ``window_s`` of each other.

    Args:
        fn: Maps a list of items to a list of results, in the same order and length.
        window_s: How long a leader waits for more callers when the batch is not full.
        max_batch: Items per call of ``fn``.
    """

    def __init__(self, fn: Callable[[list[T]], Sequence[R]], *, window_s: float = 0.002, max_batch: int = 64):
        if max_batch < 1 or window_s < 0:
            raise ValueError("MicroBatcher: max_batch must be >= 1 and window_s >= 0")
        self.fn, self.window_s, self.max_batch = fn, window_s, max_batch
        self._cond = threading.Condition()
        self._pending: list[_Slot[T]] = []
        self._busy = False
        self.batches = 0  # calls of fn (for tests and stats)
        self.items = 0

    def __call__(self, item: T) -> R:
        slot: _Slot[T] = _Slot(item)
        with self._cond:
            self._pending.append(slot)
        while True:
            with self._cond:
                while not slot.done and self._busy:
                    self._cond.wait()
                if slot.done:
                    break
                self._busy = True  # this caller leads the next batch
                full = len(self._pending) >= self.max_batch
            if not full and self.window_s > 0:
                time.sleep(self.window_s)  # let the callers arriving now join
            with self._cond:
                batch = self._pending[: self.max_batch]
                del self._pending[: len(batch)]
            self._run(batch)
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[no-any-return]

    def _run(self, batch: list[_Slot[T]]) -> None:
        try:
            results = list(self.fn([s.item for s in batch]))
            if len(results) != len(batch):
                raise RuntimeError(f"MicroBatcher: fn returned {len(results)} results for {len(batch)} items")
            for s, r in zip(batch, results):
                s.result = r
        except BaseException as e:  # every caller of the batch sees the failure
            for s in batch:
                s.error = e
        finally:
            with self._cond:
                for s in batch:
                    s.done = True
                self.batches += 1
                self.items += len(batch)
                self._busy = False
                self._cond.notify_all()


__all__ = ["MicroBatcher"]
