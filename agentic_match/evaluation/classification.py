"""Binary classification of resume-job pairs (accepted / rejected labels) from match scores.

A pair is predicted positive when its score is at or above a threshold; the threshold is
tuned on dev labels to maximise F1 and then applied unchanged to test labels, so test
numbers never see test labels twice. Metrics come from scikit-learn, on a 0-100 scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from agentic_match.errors import DataError


@dataclass(frozen=True)
class ClassificationResult:
    """Classification quality at one threshold.

    Attributes:
        threshold: Scores ``>=`` it are predicted positive.
        accuracy: Percent of pairs classified correctly.
        precision: Percent of predicted positives that are positive.
        recall: Percent of positives predicted positive.
        f1: Harmonic mean of precision and recall (percent).
        n: Pairs scored.
        positives: Positive pairs among them.
    """

    threshold: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    n: int
    positives: int

    def as_metrics(self) -> dict[str, float]:
        """The fields as a results-file ``metrics`` dict."""
        return {k: float(v) for k, v in asdict(self).items()}


def _arrays(labels: Sequence[float], scores: Sequence[float], what: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.float64) > 0
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise DataError(f"{what}: {len(labels)} labels for {len(scores)} scores")
    if y.size == 0:
        raise DataError(f"{what}: no labelled pairs")
    if not np.isfinite(s).all():
        raise DataError(f"{what}: scores contain NaN or infinite values")
    return y, s


def tune_threshold(labels: Sequence[float], scores: Sequence[float]) -> float:
    """The score threshold that maximises F1 on these (dev) labels.

    Args:
        labels: 1 / 0 (any value > 0 counts as positive).
        scores: Higher means more likely positive.

    Raises:
        DataError: mismatched lengths, no pairs, or no positive / no negative label.
    """
    from sklearn.metrics import precision_recall_curve

    y, s = _arrays(labels, scores, "threshold tuning")
    if y.all() or not y.any():
        raise DataError("threshold tuning needs both positive and negative labels")
    precision, recall, thresholds = precision_recall_curve(y, s)
    p, r = precision[:-1], recall[:-1]  # the last point has no threshold
    f1 = np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)
    return float(thresholds[int(np.argmax(f1))])


def classification_metrics(labels: Sequence[float], scores: Sequence[float], threshold: float) -> ClassificationResult:
    """Accuracy, precision, recall and F1 of ``score >= threshold`` against ``labels``."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    y, s = _arrays(labels, scores, "classification")
    pred = s >= threshold
    p, r, f, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    return ClassificationResult(
        threshold=float(threshold),
        accuracy=100.0 * float(accuracy_score(y, pred)),
        precision=100.0 * float(p),
        recall=100.0 * float(r),
        f1=100.0 * float(f),
        n=int(y.size),
        positives=int(y.sum()),
    )


def evaluate_classification(
    dev_labels: Sequence[float],
    dev_scores: Sequence[float],
    test_labels: Sequence[float],
    test_scores: Sequence[float],
) -> ClassificationResult:
    """Tune the threshold on dev (max F1), then measure on test at that threshold."""
    return classification_metrics(test_labels, test_scores, tune_threshold(dev_labels, dev_scores))


__all__ = ["ClassificationResult", "classification_metrics", "evaluate_classification", "tune_threshold"]
