"""Within-category pairs: does an encoder order two *relevant* documents the way the grades do?

Topical training (stage 1) teaches which documents are relevant at all; what a recruiter
adds is the order among relevant ones. These pairs hold exactly that: for one query, two
documents that are both relevant (grade > 0) with different grades (on the public benchmark:
a primary category match, grade 2, over a related one, grade 1). The raw encoder's accuracy
on them is the floor a tuned model should not fall below.

Example::

    pairs = within_category_pairs(corpus, "dev")
    print(pair_order_accuracy(BiEncoder.load("all-minilm-l6-v2"), corpus, pairs))
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from agentic_match.data.schema import Corpus
from agentic_match.errors import ConfigError


@dataclass(frozen=True)
class GradedPair:
    """For ``query_id``, ``better_id`` has a higher (non-zero) grade than ``worse_id`` (also > 0)."""

    query_id: str
    better_id: str
    worse_id: str


def within_category_pairs(
    corpus: Corpus, split: str = "dev", task: str = "rank_resume", max_per_query: int = 20, seed: int = 0
) -> list[GradedPair]:
    """Pairs of relevant documents with different grades from the ``{split}_{task}`` qrels.

    Args:
        corpus: A corpus with graded qrels.
        split: Never the split you report a tuned model's test score on when choosing with these.
        task: ``rank_resume`` (resumes for a job) or ``rank_job``.
        max_per_query: At most this many pairs per query (a seeded sample).
        seed: Seed of that sample.

    Raises:
        ConfigError: the corpus has no such qrels.
    """
    key = f"{split}_{task}"
    if key not in corpus.qrels:
        raise ConfigError(f"the corpus has no {key} qrels (it has: {', '.join(sorted(corpus.qrels)) or 'none'})")
    rng = random.Random(seed)
    out: list[GradedPair] = []
    for q, grades in sorted(corpus.qrels[key].items()):
        rel = sorted((d, g) for d, g in grades.items() if g > 0)
        pairs = [(a, b) for a, ga in rel for b, gb in rel if ga > gb]
        if len(pairs) > max_per_query:
            pairs = sorted(rng.sample(pairs, max_per_query))
        out.extend(GradedPair(q, a, b) for a, b in pairs)
    return out


def pair_order_accuracy(encoder, corpus: Corpus, pairs: list[GradedPair], task: str = "rank_resume") -> float:
    """Share (0–100) of ``pairs`` whose better document the encoder scores higher (ties count half)."""
    if not pairs:
        return float("nan")
    queries, docs = (corpus.jobs, corpus.resumes) if task == "rank_resume" else (corpus.resumes, corpus.jobs)
    q_ids = sorted({p.query_id for p in pairs})
    d_ids = sorted({d for p in pairs for d in (p.better_id, p.worse_id)})
    qv = dict(zip(q_ids, encoder.encode([queries[i] for i in q_ids])))
    dv = dict(zip(d_ids, encoder.encode([docs[i] for i in d_ids])))
    diff = np.array([float(qv[p.query_id] @ dv[p.better_id] - qv[p.query_id] @ dv[p.worse_id]) for p in pairs])
    return float(((diff > 0) + 0.5 * (diff == 0)).mean() * 100)


__all__ = ["GradedPair", "pair_order_accuracy", "within_category_pairs"]
