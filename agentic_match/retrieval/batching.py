"""Batches of accepted pairs in which no resume and no job appears twice.

In-batch negatives are only negatives if they are not positives: a resume that sits in a
batch twice (with two of its accepted jobs) makes each of those jobs a false negative of the
other copy. sentence-transformers' ``NO_DUPLICATES`` sampler checks texts per column; this
sampler checks the *ids* of both sides, and optionally keeps a pair out of a batch that holds
another accepted job of its resume or another accepted resume of its job.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence

from agentic_match.types import Pair


def unique_pair_batches(
    pairs: Sequence[Pair],
    batch_size: int,
    *,
    seed: int = 0,
    positives: Iterable[Pair] | None = None,
    drop_last: bool = False,
) -> list[list[int]]:
    """Shuffle ``pairs`` (seeded) and group their indices into conflict-free batches.

    Greedy, like sentence-transformers' ``NoDuplicatesBatchSampler``: walk the shuffled
    pairs, put each into the current batch unless it conflicts, and leave conflicting pairs
    for the next batch. Every pair lands in exactly one batch.

    Args:
        pairs: Accepted ``(resume_id, job_id)`` pairs (duplicates are trained twice, in
            different batches).
        batch_size: Pairs per batch (the last batch may be smaller).
        seed: Shuffle seed (pass ``seed + epoch`` for a new order each epoch).
        positives: Every known accepted pair; when given, a pair also conflicts with a batch
            that holds another accepted job of its resume or accepted resume of its job.
        drop_last: Drop a final batch smaller than ``batch_size``.

    Returns:
        Lists of indices into ``pairs``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    pos = set(positives) if positives is not None else set()
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    batches: list[list[int]] = []
    remaining = order
    while remaining:
        batch: list[int] = []
        resumes: set[str] = set()
        jobs: set[str] = set()
        left: list[int] = []
        for idx in remaining:
            if len(batch) >= batch_size:
                left.append(idx)
                continue
            r, j = pairs[idx]
            clash = r in resumes or j in jobs
            if not clash and pos:
                clash = any((r, other) in pos for other in jobs) or any((other, j) in pos for other in resumes)
            if clash:
                left.append(idx)
            else:
                batch.append(idx)
                resumes.add(r)
                jobs.add(j)
        batches.append(batch)
        remaining = left
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    return batches


class UniquePairBatchSampler:
    """A ``torch`` batch sampler over :func:`unique_pair_batches`, reshuffled each epoch.

    Any iterable of index lists is a ``batch_sampler`` for ``DataLoader``; not subclassing
    ``torch.utils.data.Sampler`` keeps this module importable without torch.

    Call :meth:`set_epoch` before each epoch (as with ``DistributedSampler``); the order
    depends only on ``seed + epoch``, so a resumed run sees the same batches.
    """

    def __init__(
        self,
        pairs: Sequence[Pair],
        batch_size: int,
        *,
        seed: int = 0,
        positives: Iterable[Pair] | None = None,
        drop_last: bool = False,
    ) -> None:
        self.pairs = list(pairs)
        self.batch_size = batch_size
        self.seed = seed
        self.positives = set(positives) if positives is not None else None
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose shuffle to produce."""
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        return unique_pair_batches(
            self.pairs,
            self.batch_size,
            seed=self.seed + self.epoch,
            positives=self.positives,
            drop_last=self.drop_last,
        )

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return len(self._batches())


__all__ = ["Pair", "UniquePairBatchSampler", "unique_pair_batches"]
