"""Does an explanation separate fitting from non-fitting candidates, and is its evidence right?

Two measurements of evidence explanations (:mod:`agentic_match.matching.evidence`):

* **Met-share AUC**: on (job, resume) pairs of known grade (:func:`explanation_pairs`: judged
  relevant resumes of a job and resumes not judged relevant, from the benchmark's qrels), the
  share of the job's requirements marked met should be higher for the relevant ones; the ROC
  AUC of the met share against relevance (grade > 0) says how well (0.5: no better than chance).
  The threshold that turns scores into *met* is chosen on dev (:func:`choose_threshold`) and
  only then applied to test.
* **Evidence precision**: on a sample of (requirement, sentence) pairs labelled by a person
  (1: the sentence shows the requirement), the share of the quotes shown as evidence that are
  right (:func:`evidence_precision`).

A *record* is one scored pair: ``{"job_id", "resume_id", "grade", "scores": [per
requirement], "evidence": [[start, end] per requirement]}`` (the best sentence's span).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from agentic_match.data.schema import Corpus


def explanation_pairs(
    corpus: Corpus,
    split: str,
    *,
    positives: int = 4,
    negatives: int = 4,
    max_jobs: int | None = None,
    seed: int = 0,
) -> list[tuple[str, str, float]]:
    """``(job_id, resume_id, grade)`` pairs of ``split``: per judged job (``max_jobs`` of
    them, drawn with ``seed``; default all) up to ``positives`` judged resumes (their qrels
    grade) and ``negatives`` resumes of the same split that the qrels do not judge relevant
    (grade 0), drawn with ``seed``."""
    qrels = corpus.qrels.get(f"{split}_rank_resume")
    if not qrels:
        raise ValueError(f"the corpus has no {split}_rank_resume qrels")
    pool = sorted(corpus.split_ids("resume", split))
    rng = random.Random(seed)
    jobs = sorted(j for j in qrels if j in corpus.jobs)
    if max_jobs is not None and max_jobs < len(jobs):
        jobs = sorted(rng.sample(jobs, max_jobs))
    out: list[tuple[str, str, float]] = []
    for job_id in jobs:
        judged = {r: g for r, g in qrels[job_id].items() if g > 0 and r in corpus.resumes}
        pos = rng.sample(sorted(judged), min(positives, len(judged)))
        others = [r for r in pool if r not in qrels[job_id]]
        neg = rng.sample(others, min(negatives, len(others)))
        out += [(job_id, r, float(judged[r])) for r in pos] + [(job_id, r, 0.0) for r in neg]
    return out


def met_share(scores: Sequence[float], threshold: float) -> float:
    """Share of ``scores`` at or above ``threshold`` (0 for no requirement)."""
    return float(np.mean(np.asarray(scores) >= threshold)) if len(scores) else 0.0


def met_share_auc(records: Sequence[dict[str, Any]], threshold: float) -> float:
    """ROC AUC of the met share at ``threshold`` against relevance (grade > 0)."""
    from sklearn.metrics import roc_auc_score

    y = [1 if r["grade"] > 0 else 0 for r in records]
    if len(set(y)) < 2:
        raise ValueError("the met-share AUC needs relevant and non-relevant pairs")
    return float(roc_auc_score(y, [met_share(r["scores"], threshold) for r in records]))


def mean_score_auc(records: Sequence[dict[str, Any]]) -> float:
    """ROC AUC of the mean requirement score (no threshold): the ceiling of the met share."""
    from sklearn.metrics import roc_auc_score

    y = [1 if r["grade"] > 0 else 0 for r in records]
    return float(roc_auc_score(y, [float(np.mean(r["scores"])) if r["scores"] else 0.0 for r in records]))


def choose_threshold(records: Sequence[dict[str, Any]], grid: Iterable[float] | None = None) -> tuple[float, float]:
    """The threshold of the best met-share AUC on ``records`` (dev) and that AUC.

    The default grid is the 5th to 95th percentiles of all requirement scores, in steps of
    5 points, so it fits any score scale (cosines or probabilities)."""
    if grid is None:
        flat = np.asarray([s for r in records for s in r["scores"]], dtype=float)
        grid = sorted({round(float(x), 4) for x in np.percentile(flat, np.arange(5, 100, 5))})
    best = max(((met_share_auc(records, t), -t) for t in grid), default=None)
    if best is None:
        raise ValueError("choose_threshold: no scores to choose from")
    return -best[1], best[0]


def evidence_precision(
    records: Sequence[dict[str, Any]], labels: Sequence[dict[str, Any]], threshold: float
) -> tuple[float | None, int]:
    """Precision of the evidence shown at ``threshold`` on the labelled sample.

    ``labels`` rows are ``{"job_id", "resume_id", "requirement", "start", "end", "label"}``
    (``requirement``: its index in the job's list). A shown quote counts when its exact
    (pair, requirement, span) is labelled. Returns ``(precision, labelled quotes shown)``;
    the precision is ``None`` when no shown quote is labelled.
    """
    lab = {(x["job_id"], x["resume_id"], int(x["requirement"]), int(x["start"]), int(x["end"])): x for x in labels}
    right = shown = 0
    for r in records:
        for i, (score, span) in enumerate(zip(r["scores"], r["evidence"])):
            key = (r["job_id"], r["resume_id"], i, int(span[0]), int(span[1]))
            if score >= threshold and key in lab:
                shown += 1
                right += int(lab[key]["label"] > 0)
    return (right / shown if shown else None), shown


__all__ = [
    "choose_threshold",
    "evidence_precision",
    "explanation_pairs",
    "mean_score_auc",
    "met_share",
    "met_share_auc",
]
