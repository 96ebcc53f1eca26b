"""Ranking metrics through ranx, on a 0-100 scale: the one scoring function of the toolkit.

Metric names are ``<metric>@<k>`` (``@k`` optional: whole ranking):

* ``ndcg``: ranx's ``ndcg`` - Järvelin & Kekäläinen's nDCG, gain = grade (2 / 1) and
  discount ``log2(rank + 1)``, the formula of trec_eval's ``ndcg_cut`` (not
  ``ndcg_burges``, whose gain is ``2**grade - 1``).
* ``recall``, ``precision``, ``map`` (average precision over the top k, divided by the
  number of relevant documents), ``mrr``, ``hit_rate``: ranx, every grade >= 1 counts as
  relevant.
* ``err``: Expected Reciprocal Rank (Chapelle et al. 2009), which ranx lacks, so it is
  computed here: stop probability ``(2**grade - 1) / 2**max_grade`` with ``max_grade`` the
  highest grade in the qrels given.

Every query of the qrels with at least one relevant document is scored (a query missing
from the run scores 0); queries of the run without judgements are ignored; means are over
the scored queries, as trec_eval does.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from agentic_match.errors import AgenticMatchError
from agentic_match.types import Qrels, Run

DEFAULT_METRICS: tuple[str, ...] = ("ndcg@10", "recall@10", "recall@100", "map@100", "mrr@10")
"""What the benchmark README asks to report."""

_RANX = {"ndcg", "recall", "precision", "map", "mrr", "hit_rate"}
_SUPPORTED = _RANX | {"err"}
_NAME = re.compile(r"^([a-z_]+)(?:@(\d+))?$")


class MetricError(AgenticMatchError):
    """An unknown or malformed metric name."""


def parse_metric(name: str) -> tuple[str, int | None]:
    """``"ndcg@10" -> ("ndcg", 10)``; ``"mrr" -> ("mrr", None)``.

    Raises:
        MetricError: unknown metric or bad cut-off.
    """
    m = _NAME.match(name.strip().lower())
    if not m or m.group(1) not in _SUPPORTED or (m.group(2) is not None and int(m.group(2)) < 1):
        raise MetricError(
            f"unknown metric {name!r}; use one of {', '.join(sorted(_SUPPORTED))}, optionally with @k (k >= 1)"
        )
    return m.group(1), int(m.group(2)) if m.group(2) else None


def _judged(qrels: Qrels) -> dict[str, dict[str, int]]:
    return {
        str(q): {str(d): int(g) for d, g in docs.items()}
        for q, docs in qrels.items()
        if any(g >= 1 for g in docs.values())
    }


def _ranking(docs: Mapping[str, float]) -> list[str]:
    return [d for d, _ in sorted(docs.items(), key=lambda kv: (-kv[1], kv[0]))]


def _err(qrels: dict[str, dict[str, int]], run: Run, k: int | None) -> dict[str, float]:
    max_grade = max((g for docs in qrels.values() for g in docs.values()), default=1)
    out: dict[str, float] = {}
    for q, judged in qrels.items():
        ranked = _ranking(run.get(q, {}))
        if k is not None:
            ranked = ranked[:k]
        err, p_continue = 0.0, 1.0
        for rank, d in enumerate(ranked, start=1):
            grade = max(judged.get(d, 0), 0)
            stop = (2.0**grade - 1.0) / 2.0**max_grade
            err += p_continue * stop / rank
            p_continue *= 1.0 - stop
        out[q] = err
    return out


def per_query_scores(qrels: Qrels, run: Run, metrics: Iterable[str] = DEFAULT_METRICS) -> dict[str, dict[str, float]]:
    """``{metric: {query_id: score}}`` on a 0-100 scale, for every judged query.

    Raises:
        MetricError: unknown metric name, or qrels without any relevant document.
    """
    metrics = list(metrics)
    parsed = {name: parse_metric(name) for name in metrics}
    judged = _judged(qrels)
    if not judged:
        raise MetricError("the qrels hold no relevant document: nothing to score")
    out: dict[str, dict[str, float]] = {}
    ranx_names = {name: f"{base}@{k}" if k else base for name, (base, k) in parsed.items() if base in _RANX}
    nonempty = {str(q): docs for q, docs in run.items() if docs and str(q) in judged}
    if ranx_names and not nonempty:  # ranx cannot build an empty Run; nothing was retrieved
        out.update({name: dict.fromkeys(judged, 0.0) for name in ranx_names})
    elif ranx_names:
        from ranx import Qrels as RanxQrels
        from ranx import Run as RanxRun
        from ranx import evaluate

        # ranx cannot hold a query with no documents in a Run; make_comparable adds them itself.
        rr = RanxRun({q: {str(d): float(s) for d, s in docs.items()} for q, docs in nonempty.items()})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba's uint64 cast warning on every call
            evaluate(RanxQrels(judged), rr, list(dict.fromkeys(ranx_names.values())), make_comparable=True)
        for name, rname in ranx_names.items():
            out[name] = {q: 100.0 * float(rr.scores[rname][q]) for q in judged}
    for name, (base, k) in parsed.items():
        if base == "err":
            out[name] = {q: 100.0 * s for q, s in _err(judged, run, k).items()}
    return {name: out[name] for name in metrics}


def score_run(qrels: Qrels, run: Run, metrics: Iterable[str] = DEFAULT_METRICS) -> dict[str, float]:
    """Mean of each metric over the judged queries, on a 0-100 scale.

    Args:
        qrels: ``{query_id: {doc_id: grade}}`` (grades >= 1 are relevant).
        run: ``{query_id: {doc_id: score}}``; higher scores rank first.
        metrics: Names such as ``ndcg@10``, ``recall@100``, ``map@100``, ``mrr@10``.
    """
    per_query = per_query_scores(qrels, run, metrics)
    return {name: float(np.mean(list(scores.values()))) for name, scores in per_query.items()}


def max_cutoff(metrics: Sequence[str]) -> int | None:
    """The deepest cut-off among ``metrics`` (``None`` when one of them has none)."""
    cuts = [parse_metric(m)[1] for m in metrics]
    return None if any(c is None for c in cuts) else max(cuts, default=None)  # type: ignore[type-var]


__all__ = ["DEFAULT_METRICS", "MetricError", "max_cutoff", "parse_metric", "per_query_scores", "score_run"]
