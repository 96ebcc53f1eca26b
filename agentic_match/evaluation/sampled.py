"""The sampled-negative recommendation protocol of LGIR (Du, Luo, Yan et al., AAAI 2024).

Each user's interactions are split into train / validation / test; every test positive is
ranked against ``negatives`` jobs the user never interacted with (the paper samples 20), and
the list is scored with MAP@5, nDCG@5 and MRR. Users are put into five equal groups by their
number of interactions, so a method's gain on few-shot users can be read apart. With one
relevant job among ``N`` candidates a random order has an exact expected score
(:func:`random_expectation`); a paired test per list compares two methods
(:func:`paired_p_value`).

Everything here works on ids; scoring is the caller's (any function of user and candidates).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from agentic_match.data.schema import Interaction
from agentic_match.evaluation.metrics import per_query_scores

#: The paper's metrics, on a 0-100 scale.
SAMPLED_METRICS = ("map@5", "ndcg@5", "mrr")


@dataclass(frozen=True)
class WarmSplit:
    """Each user's interactions, split three ways."""

    train: list[Interaction]
    validation: list[Interaction]
    test: list[Interaction]


def warm_split(interactions: Iterable[Interaction], seed: int = 0) -> WarmSplit:
    """Split every user's interactions into train / validation / test, as equally as the count allows.

    The paper splits the records into three equal parts. Per user, in a seeded order: a user
    with one interaction gives it to test (a few-shot user the model must still serve); with
    two, one to train and one to test; with ``n >= 3``, ``round(n / 3)`` to test, as many to
    validation, and the rest (at least one) to train.
    """
    by_user: dict[str, list[Interaction]] = {}
    for i in interactions:
        by_user.setdefault(i.resume_id, []).append(i)
    rng = random.Random(seed)
    train, val, test = [], [], []
    for user in sorted(by_user):
        items = sorted(set(by_user[user]), key=lambda i: i.job_id)
        rng.shuffle(items)
        n = len(items)
        if n == 1:
            test += items
            continue
        if n == 2:
            train.append(items[0])
            test.append(items[1])
            continue
        k = max(1, round(n / 3))
        test += items[:k]
        val += items[k : 2 * k]
        train += items[2 * k :]
    return WarmSplit(train, val, test)


@dataclass(frozen=True)
class SampledLists:
    """Ranking lists of one positive among sampled negatives.

    Attributes:
        lists: ``{list_id: (user, [positive, negative, ...])}``.
        qrels: ``{list_id: {positive: 1}}``.
    """

    lists: dict[str, tuple[str, list[str]]]
    qrels: dict[str, dict[str, int]]


def sampled_lists(
    positives: Iterable[Interaction],
    known: Mapping[str, set[str]],
    pool: Sequence[str],
    negatives: int = 20,
    seed: int = 0,
) -> SampledLists:
    """One list per positive: the positive and ``negatives`` jobs of ``pool`` the user never touched.

    Args:
        positives: The (user, job) pairs to rank (test or validation positives).
        known: ``{user: every job they interacted with}`` (all splits): never a negative.
        pool: Candidate negative jobs.
        negatives: Negatives per positive (fewer when the pool is smaller).
        seed: Seed of the draw.
    """
    rng = random.Random(seed)
    lists, qrels = {}, {}
    for p in sorted(set(positives), key=lambda i: (i.resume_id, i.job_id)):
        seen = known.get(p.resume_id, set()) | {p.job_id}
        others = [j for j in pool if j not in seen]
        qid = f"{p.resume_id}|{p.job_id}"
        lists[qid] = (p.resume_id, [p.job_id, *rng.sample(others, min(negatives, len(others)))])
        qrels[qid] = {p.job_id: 1}
    return SampledLists(lists, qrels)


def interaction_groups(counts: Mapping[str, int], n_groups: int = 5) -> dict[str, int]:
    """``{user: group}``, ``0`` the fewest interactions: users sorted by count (ties by id) and
    cut into ``n_groups`` equal parts, as the paper's few-shot analysis does."""
    order = sorted(counts, key=lambda u: (counts[u], u))
    return {u: min(n_groups - 1, k * n_groups // max(1, len(order))) for k, u in enumerate(order)}


def random_expectation(n_candidates: int, metric: str) -> float:
    """The exact expected score (0-100) of a uniformly random order, one relevant among ``n_candidates``.

    The relevant item sits at each rank ``r`` with probability ``1/N``: MAP@k and MRR@k give
    ``1/r`` for ``r <= k``, nDCG@k gives ``1/log2(r + 1)``, MRR (no cut-off) ``1/r`` for all ``r``.
    """
    name, _, cut = metric.partition("@")
    k = min(int(cut), n_candidates) if cut else n_candidates
    if name in ("map", "mrr"):
        gain = sum(1.0 / r for r in range(1, k + 1))
    elif name == "ndcg":
        gain = sum(1.0 / math.log2(r + 1) for r in range(1, k + 1))
    elif name == "recall":
        gain = float(k)
    else:
        raise ValueError(f"no random expectation for {metric!r}")
    return 100.0 * gain / n_candidates


def score_lists(
    lists: SampledLists,
    score: Callable[[str, list[str]], Sequence[float]],
    metrics: Sequence[str] = SAMPLED_METRICS,
) -> dict[str, dict[str, float]]:
    """``{list_id: {metric: 0-100}}`` with ``score(user, candidates)`` giving one score per candidate."""
    run = {}
    for qid, (user, cands) in lists.lists.items():
        s = score(user, cands)
        run[qid] = {j: float(x) for j, x in zip(cands, s, strict=True)}
    per_m = per_query_scores(lists.qrels, run, metrics)
    return {q: {m: per_m[m][q] for m in metrics} for q in lists.lists}


def summarise(
    per_list: Mapping[str, Mapping[str, float]],
    groups: Mapping[str, int] | None = None,
    metrics: Sequence[str] = SAMPLED_METRICS,
) -> dict[str, object]:
    """Mean of each metric over the lists, and per interaction group (``group1`` the fewest)."""
    out: dict[str, object] = {m: round(float(np.mean([v[m] for v in per_list.values()])), 2) for m in metrics}
    if groups is not None:
        by_group: dict[str, dict[str, float]] = {}
        for g in sorted(set(groups.values())):
            qs = [q for q in per_list if groups.get(q.split("|", 1)[0]) == g]
            if qs:
                by_group[f"group{g + 1}"] = {m: round(float(np.mean([per_list[q][m] for q in qs])), 2) for m in metrics}
        out["groups"] = by_group
    return out


def paired_p_value(a: Mapping[str, float], b: Mapping[str, float]) -> float | None:
    """Two-sided paired t-test p-value of per-list scores ``a`` vs ``b`` over their shared lists
    (None when fewer than two are shared or every difference is zero)."""
    from scipy import stats

    keys = sorted(set(a) & set(b))
    diff = np.array([a[k] - b[k] for k in keys])
    if len(keys) < 2 or not np.any(diff):
        return None
    return float(stats.ttest_rel([a[k] for k in keys], [b[k] for k in keys]).pvalue)
