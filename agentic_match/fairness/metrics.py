r"""Group-fairness metrics of decisions and of rankings.

Decisions (a classifier's accept / reject, or "is in the top k" of a ranking) are scored with
fairlearn (a dependency); ``use_fairlearn=False`` computes the same formulas directly in
numpy, the reference the tests check fairlearn's numbers against. With groups :math:`g`, predictions
:math:`\hat y` and labels :math:`y`:

* demographic parity difference: :math:`\max_g P(\hat y = 1 \mid g) - \min_g P(\hat y = 1 \mid g)`;
* equal opportunity difference: the same spread of true-positive rates
  :math:`P(\hat y = 1 \mid y = 1, g)`;
* equalized odds difference: the larger of the spreads of true-positive and false-positive
  rates (fairlearn's ``agg="worst_case"``).

Rankings (``run = {query: {doc: score}}``, higher first) use the formulas documented on
:func:`topk_group_share`, :func:`exposure_by_group` and :func:`ndkl`. A document's group comes
from a mapping ``{doc_id: group}``; documents missing from it are left out of every group
metric (and counted by :func:`group_coverage`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from agentic_match.types import Run

Groups = Mapping[str, Hashable]


def _arrays(*xs: Sequence) -> list[np.ndarray]:
    arrs = [np.asarray(x) for x in xs]
    n = {len(a) for a in arrs}
    if len(n) != 1:
        raise ValueError(f"inputs differ in length: {[len(a) for a in arrs]}")
    return arrs


def _spread(values: Iterable[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(max(vals) - min(vals)) if vals else 0.0


def rate_by_group(y_pred: Sequence, groups: Sequence, mask: Sequence[bool] | None = None) -> dict:
    """``{group: mean(y_pred)}`` over the rows where ``mask`` holds (NaN: no such row)."""
    y, g = _arrays(y_pred, groups)
    m = np.ones(len(y), bool) if mask is None else np.asarray(mask, bool)
    out = {}
    for grp in sorted(set(g.tolist()), key=str):
        sel = (g == grp) & m
        out[grp] = float(y[sel].mean()) if sel.any() else math.nan
    return out


def demographic_parity_difference(y_pred: Sequence, groups: Sequence, *, use_fairlearn: bool | None = None) -> float:
    """Spread of selection rates across groups (0 = parity); see the module docstring."""
    y, g = _arrays(y_pred, groups)
    if _use_fl(use_fairlearn):
        from fairlearn.metrics import demographic_parity_difference as fl

        return float(fl(y, y, sensitive_features=g))
    return _spread(rate_by_group(y, g).values())


def _fl_spread(y_pred: np.ndarray, groups: np.ndarray) -> float:
    """Spread of fairlearn selection rates (``MetricFrame.difference()``); 0 when empty."""
    from fairlearn.metrics import MetricFrame, selection_rate

    if len(y_pred) == 0:
        return 0.0
    frame = MetricFrame(metrics=selection_rate, y_true=y_pred, y_pred=y_pred, sensitive_features=groups)
    return float(frame.difference(method="between_groups"))


def equal_opportunity_difference(
    y_true: Sequence, y_pred: Sequence, groups: Sequence, *, use_fairlearn: bool | None = None
) -> float:
    """Spread of true-positive rates across groups (groups without positives are skipped)."""
    t, y, g = _arrays(y_true, y_pred, groups)
    pos = t > 0
    # Selection rate among the positives is the TPR; computing it on that subset skips a
    # group without positives instead of reading its TPR as 0 (fairlearn's recall default).
    if _use_fl(use_fairlearn):
        return _fl_spread(y[pos], g[pos])
    return _spread(rate_by_group(y, g, pos).values())


def equalized_odds_difference(
    y_true: Sequence, y_pred: Sequence, groups: Sequence, *, use_fairlearn: bool | None = None
) -> float:
    """The larger spread of true-positive and false-positive rates across groups.

    Equal to fairlearn's ``equalized_odds_difference`` whenever every group has positives
    and negatives; a group missing one class is skipped for that rate.
    """
    t, y, g = _arrays(y_true, y_pred, groups)
    pos = t > 0
    if _use_fl(use_fairlearn):
        return max(_fl_spread(y[pos], g[pos]), _fl_spread(y[~pos], g[~pos]))
    return max(_spread(rate_by_group(y, g, pos).values()), _spread(rate_by_group(y, g, ~pos).values()))


def _use_fl(flag: bool | None) -> bool:
    # fairlearn is a dependency: it computes the metrics unless a caller asks for the
    # direct numpy formulas (kept as the reference the tests check fairlearn against).
    return True if flag is None else flag


@dataclass
class DecisionFairness:
    """Fairness of binary decisions across groups.

    Attributes:
        selection_rate: ``{group: P(ŷ=1 | g)}``.
        true_positive_rate: ``{group: P(ŷ=1 | y=1, g)}`` (NaN without positives).
        false_positive_rate: ``{group: P(ŷ=1 | y=0, g)}`` (NaN without negatives).
        demographic_parity_difference: Spread of ``selection_rate``.
        equal_opportunity_difference: Spread of ``true_positive_rate``.
        equalized_odds_difference: Larger of the TPR and FPR spreads.
        n: Rows scored.
    """

    selection_rate: dict
    true_positive_rate: dict
    false_positive_rate: dict
    demographic_parity_difference: float
    equal_opportunity_difference: float
    equalized_odds_difference: float
    n: int

    def summary(self) -> dict[str, float]:
        """The three differences, keyed for a results row."""
        return {
            "dp_diff": self.demographic_parity_difference,
            "eo_diff": self.equal_opportunity_difference,
            "eodds_diff": self.equalized_odds_difference,
        }


def decision_fairness(
    y_true: Sequence, y_pred: Sequence, groups: Sequence, *, use_fairlearn: bool | None = None
) -> DecisionFairness:
    """Rates per group and the three differences for binary decisions."""
    t, y, g = _arrays(y_true, y_pred, groups)
    t = (t > 0).astype(int)
    y = (y > 0).astype(int)
    tpr = rate_by_group(y, g, t == 1)
    fpr = rate_by_group(y, g, t == 0)
    return DecisionFairness(
        selection_rate=rate_by_group(y, g),
        true_positive_rate=tpr,
        false_positive_rate=fpr,
        demographic_parity_difference=demographic_parity_difference(y, g, use_fairlearn=use_fairlearn),
        equal_opportunity_difference=equal_opportunity_difference(t, y, g, use_fairlearn=use_fairlearn),
        equalized_odds_difference=equalized_odds_difference(t, y, g, use_fairlearn=use_fairlearn),
        n=int(len(y)),
    )


# ---------------------------------------------------------------------------- rankings


def ranked_ids(scores: Mapping[str, float], k: int | None = None) -> list[str]:
    """Document ids by descending score (ties by id, so results are deterministic)."""
    order = sorted(scores, key=lambda d: (-scores[d], d))
    return order if k is None else order[:k]


def _pool(query: str, run: Run, pools: Mapping[str, Sequence[str]] | Sequence[str] | None) -> list[str]:
    if pools is None:
        return list(run[query])
    if isinstance(pools, Mapping):
        return list(pools.get(query, run[query]))
    return list(pools)


def topk_decisions(
    run: Run,
    groups: Groups,
    k: int,
    *,
    qrels: Mapping[str, Mapping[str, int]] | None = None,
    pools: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y_true, y_pred, group)`` rows, one per (query, pool document with a group).

    ``y_pred`` is 1 when the document is in the query's top ``k``; ``y_true`` is 1 when
    ``qrels`` grade it relevant (> 0; all 0 without qrels). The pool defaults to the
    documents the run scored; pass the full candidate pool so that documents ranked below
    the run's depth count as "not selected".
    """
    t, y, g = [], [], []
    for q, scores in run.items():
        top = set(ranked_ids(scores, k))
        rel = (qrels or {}).get(q, {})
        for d in _pool(q, run, pools):
            if d not in groups:
                continue
            t.append(int(rel.get(d, 0) > 0))
            y.append(int(d in top))
            g.append(groups[d])
    return np.asarray(t, int), np.asarray(y, int), np.asarray(g, dtype=object)


def topk_group_share(run: Run, groups: Groups, k: int = 10) -> dict:
    r"""Mean share of each group among the top ``k`` of each query (ConFit v2, Table 4).

    .. math:: \mathrm{share}_g = \frac{1}{|Q|} \sum_{q \in Q}
        \frac{|\{d \in \mathrm{top}_k(q) : g(d) = g\}|}{|\{d \in \mathrm{top}_k(q) : g(d) \text{ known}\}|}

    Documents without a group are skipped; a query whose top ``k`` holds no document with a
    group is skipped.
    """
    sums: dict = defaultdict(float)
    n = 0
    for scores in run.values():
        top = [groups[d] for d in ranked_ids(scores, k) if d in groups]
        if not top:
            continue
        n += 1
        for grp, c in Counter(top).items():
            sums[grp] += c / len(top)
    all_groups = sorted(set(groups.values()), key=str)
    return {grp: (sums[grp] / n if n else math.nan) for grp in all_groups}


def position_weight(rank: int) -> float:
    """``1 / log2(1 + rank)`` for a 1-based rank: the DCG position bias."""
    return 1.0 / math.log2(1.0 + rank)


def exposure_by_group(
    run: Run,
    groups: Groups,
    k: int | None = None,
    *,
    pools: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
) -> dict:
    r"""Mean exposure of a group's documents (Singh & Joachims, 2018), averaged over queries.

    A document at 1-based rank :math:`i` gets exposure :math:`v(i) = 1/\log_2(1+i)` when
    :math:`i \le k` and 0 otherwise (or anywhere when ``k`` is ``None``); documents of the
    pool the run did not rank get 0. Per query,

    .. math:: \mathrm{Exp}_q(g) = \frac{1}{|G_q|} \sum_{d \in G_q} v(\mathrm{rank}_q(d)),

    with :math:`G_q` the pool's documents of group :math:`g`; the result is the mean of
    :math:`\mathrm{Exp}_q(g)` over the queries whose pool holds the group. Exposure
    disparity is the spread :math:`\max_g - \min_g` (:func:`exposure_disparity`).
    """
    sums: dict = defaultdict(float)
    counts: dict = defaultdict(int)
    for q, scores in run.items():
        order = ranked_ids(scores)
        rank = {d: i + 1 for i, d in enumerate(order)}
        per: dict = defaultdict(list)
        for d in _pool(q, run, pools):
            if d not in groups:
                continue
            r = rank.get(d)
            per[groups[d]].append(0.0 if r is None or (k is not None and r > k) else position_weight(r))
        for grp, vals in per.items():
            sums[grp] += sum(vals) / len(vals)
            counts[grp] += 1
    return {grp: sums[grp] / counts[grp] for grp in sorted(sums, key=str)}


def exposure_disparity(
    run: Run,
    groups: Groups,
    k: int | None = None,
    *,
    pools: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
) -> float:
    """``max_g Exp(g) - min_g Exp(g)`` of :func:`exposure_by_group` (0 = equal exposure)."""
    return _spread(exposure_by_group(run, groups, k, pools=pools).values())


def kl_divergence(p: Mapping, q: Mapping) -> float:
    r""":math:`D_{KL}(P \| Q) = \sum_g P(g) \ln \frac{P(g)}{Q(g)}` (terms with ``P(g) = 0`` are 0)."""
    total = 0.0
    for g, pg in p.items():
        if pg <= 0:
            continue
        qg = q.get(g, 0.0)
        if qg <= 0:
            return math.inf
        total += pg * math.log(pg / qg)
    return total


def ndkl_list(ranked_groups: Sequence[Hashable], target: Mapping) -> float:
    r"""NDKL of one ranked list of groups (Geyik et al., 2019).

    .. math:: \mathrm{NDKL}(\tau) = \frac{1}{Z} \sum_{i=1}^{|\tau|} \frac{1}{\log_2(i+1)}
        D_{KL}\big(D_{\tau_{1..i}} \,\|\, D\big), \qquad Z = \sum_{i=1}^{|\tau|} \frac{1}{\log_2(i+1)}

    where :math:`D_{\tau_{1..i}}` is the group distribution of the first :math:`i` items and
    :math:`D` the ``target`` distribution; 0 means every prefix has the target make-up.
    """
    if not ranked_groups:
        return math.nan
    counts: Counter = Counter()
    num = z = 0.0
    for i, grp in enumerate(ranked_groups, start=1):
        counts[grp] += 1
        w = position_weight(i)
        num += w * kl_divergence({g: c / i for g, c in counts.items()}, target)
        z += w
    return num / z


def ndkl(
    run: Run,
    groups: Groups,
    k: int | None = 10,
    *,
    target: Mapping | None = None,
    pools: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
) -> float:
    """Mean :func:`ndkl_list` over queries of each top-``k`` list (documents with a group).

    ``target`` defaults to each query's pool make-up (the group shares among the pool's
    documents with a group), so 0 means "ranked like a random draw from the pool".
    """
    vals = []
    for q, scores in run.items():
        ranked = [groups[d] for d in ranked_ids(scores) if d in groups]
        if k is not None:
            ranked = ranked[:k]
        if not ranked:
            continue
        tgt = target
        if tgt is None:
            pool_groups = Counter(groups[d] for d in _pool(q, run, pools) if d in groups)
            total = sum(pool_groups.values())
            tgt = {g: c / total for g, c in pool_groups.items()}
        vals.append(ndkl_list(ranked, tgt))
    return float(np.mean(vals)) if vals else math.nan


def group_coverage(ids: Iterable[str], groups: Groups) -> dict:
    """``{group: count}`` over ``ids``, with ``None`` counting documents without a group."""
    return dict(Counter(groups.get(d) for d in ids))


@dataclass
class RankingFairness:
    """Group metrics of one ranking task at cut-off ``k``.

    Attributes:
        k: The cut-off.
        topk_share: :func:`topk_group_share`.
        pool_share: Group shares in the candidate pool (what parity would give).
        exposure: :func:`exposure_by_group` at ``k``.
        exposure_disparity: Spread of ``exposure``.
        ndkl: :func:`ndkl` at ``k``.
        decisions: :class:`DecisionFairness` of the "in the top k" indicators (``y`` from
            qrels when given).
    """

    k: int
    topk_share: dict
    pool_share: dict
    exposure: dict
    exposure_disparity: float
    ndkl: float
    decisions: DecisionFairness

    def summary(self) -> dict[str, float]:
        """Flat numbers for a results row (shares as percentages)."""
        k = self.k
        out = {f"top{k}_share_{g}": 100.0 * v for g, v in self.topk_share.items()}
        out.update({f"pool_share_{g}": 100.0 * v for g, v in self.pool_share.items()})
        out[f"exposure_disparity@{k}"] = self.exposure_disparity
        out[f"ndkl@{k}"] = self.ndkl
        out.update({f"{m}@{k}": v for m, v in self.decisions.summary().items()})
        return out


def ranking_fairness(
    run: Run,
    groups: Groups,
    k: int = 10,
    *,
    qrels: Mapping[str, Mapping[str, int]] | None = None,
    pools: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    use_fairlearn: bool | None = None,
) -> RankingFairness:
    """Every ranking metric of this module for one task (see :class:`RankingFairness`)."""
    t, y, g = topk_decisions(run, groups, k, qrels=qrels, pools=pools)
    if isinstance(pools, Mapping) or pools is None:
        pool_ids = {d for q in run for d in _pool(q, run, pools)}
    else:
        pool_ids = set(pools)
    cover = Counter(groups[d] for d in pool_ids if d in groups)
    total = sum(cover.values())
    return RankingFairness(
        k=k,
        topk_share=topk_group_share(run, groups, k),
        pool_share={grp: cover[grp] / total for grp in sorted(cover, key=str)} if total else {},
        exposure=exposure_by_group(run, groups, k, pools=pools),
        exposure_disparity=exposure_disparity(run, groups, k, pools=pools),
        ndkl=ndkl(run, groups, k, pools=pools),
        decisions=decision_fairness(t, y, g, use_fairlearn=use_fairlearn),
    )


__all__ = [
    "DecisionFairness",
    "RankingFairness",
    "decision_fairness",
    "demographic_parity_difference",
    "equal_opportunity_difference",
    "equalized_odds_difference",
    "exposure_by_group",
    "exposure_disparity",
    "group_coverage",
    "kl_divergence",
    "ndkl",
    "ndkl_list",
    "position_weight",
    "rate_by_group",
    "ranked_ids",
    "ranking_fairness",
    "topk_decisions",
    "topk_group_share",
]
