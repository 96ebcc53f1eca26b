"""Dynamic batching: concurrent callers share calls, each gets its own result, errors reach all."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from agentic_match.matching import MatchConfig, Matcher
from agentic_match.matching.batcher import MicroBatcher


def test_concurrent_callers_share_calls_and_get_their_own_results():
    seen: list[int] = []

    def square(items):
        seen.append(len(items))
        time.sleep(0.01)  # a forward pass: callers arriving meanwhile form the next batch
        return [x * x for x in items]

    b = MicroBatcher(square, window_s=0.005, max_batch=16)
    with ThreadPoolExecutor(32) as pool:
        got = list(pool.map(b, range(100)))
    assert got == [x * x for x in range(100)]
    assert sum(seen) == 100 and b.items == 100 and max(seen) <= 16
    assert b.batches < 50  # shared calls, not one per caller


def test_one_caller_alone_is_served_without_waiting_for_others():
    b = MicroBatcher(lambda xs: [x + 1 for x in xs], window_s=0.0)
    assert b(1) == 2 and b(2) == 3 and b.batches == 2


def test_a_failing_batch_raises_in_every_caller_and_the_next_batch_works():
    fail = threading.Event()
    fail.set()

    def fn(items):
        if fail.is_set():
            time.sleep(0.02)
            raise RuntimeError("encoder died")
        return items

    b = MicroBatcher(fn, window_s=0.01)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(b, i) for i in range(4)]
        errors = [f.exception() for f in futures]
    assert all(isinstance(e, RuntimeError) for e in errors)
    fail.clear()
    assert b("ok") == "ok"
    with pytest.raises(RuntimeError, match="2 results for 1 items"):
        MicroBatcher(lambda xs: [1, 2])(0)
    with pytest.raises(ValueError):
        MicroBatcher(lambda xs: xs, max_batch=0)


def test_batched_retrieval_gives_the_same_answers_as_one_at_a_time(encoder, corpus):
    alone = Matcher(encoder, corpus, config=MatchConfig(max_batch=1, query_cache=0)).prepare()
    batched = Matcher(encoder, corpus, config=MatchConfig(max_batch=8, batch_window_ms=20, query_cache=0)).prepare()
    queries = [(corpus.jobs[j], 5) for j in sorted(corpus.jobs)] + [
        (corpus.resumes[r], 3) for r in sorted(corpus.resumes)[:6]
    ]
    expected = [alone.retrieve(q, k) for q, k in queries]
    with ThreadPoolExecutor(len(queries)) as pool:
        got = list(pool.map(lambda qk: batched.retrieve(*qk), queries))
    assert batched._batcher is not None and batched._batcher.batches < len(queries)
    for e, g in zip(expected, got):
        assert [d for d, _ in e] == [d for d, _ in g]
        assert [s for _, s in e] == pytest.approx([s for _, s in g], abs=1e-5)
    assert [len(g) for g in got] == [k for _, k in queries]
