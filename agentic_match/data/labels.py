"""Which labels a training may read, and the accepted pairs among them."""

from __future__ import annotations

from collections.abc import Sequence

from agentic_match.data.schema import Corpus, Label
from agentic_match.errors import DataError
from agentic_match.types import Pair


def accepted_pairs(labels: Sequence[Label]) -> list[Pair]:
    """Distinct ``(resume_id, job_id)`` pairs with a positive label, in first-seen order."""
    seen: dict[Pair, None] = {}
    for lab in labels:
        if lab.label > 0:
            seen.setdefault((lab.resume_id, lab.job_id), None)
    return list(seen)


def training_labels(corpus: Corpus, split: str = "train") -> list[Label]:
    """The labels training may use: the ``split`` labels, or all labels without splits."""
    if corpus.label_splits:
        if split not in corpus.label_splits:
            raise DataError(f"{corpus.source}: no '{split}' labels to train on")
        return list(corpus.label_splits[split])
    return list(corpus.labels)


__all__ = ["accepted_pairs", "training_labels"]
