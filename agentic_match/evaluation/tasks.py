"""The two ConFit ranking tasks and the one evaluation loop.

* ``rank_resume``: job queries ranked over resumes (what a recruiter sees).
* ``rank_job``: resume queries ranked over jobs (what a candidate sees).

A task ranks each query over the whole candidate pool of its split (the benchmark's
protocol) or over a given candidate list per query (re-ranking a shortlist).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agentic_match.data.schema import Corpus, Document, Qrels
from agentic_match.errors import AgenticMatchError, DataError, Problem
from agentic_match.evaluation.metrics import (
    DEFAULT_METRICS,
    MetricError,
    max_cutoff,
    score_run,
)
from agentic_match.evaluation.ranker import Ranker
from agentic_match.evaluation.runs import Run, top_k, write_run

TaskName = Literal["rank_resume", "rank_job"]
TASKS: tuple[TaskName, ...] = ("rank_resume", "rank_job")


@dataclass
class RankingTask:
    """Queries, their candidates and the judgements to score a ranking with.

    Attributes:
        name: ``"rank_resume"`` (job queries over resumes) or ``"rank_job"`` (resume queries
            over jobs).
        queries: Query documents, one per judged query, in qrels order.
        candidates: The candidate pool (every document that may be ranked).
        qrels: ``{query_id: {candidate_id: grade}}``; unlisted candidates are non-relevant.
        candidate_lists: Optional ``{query_id: [candidate_id, ...]}``: rank only these for
            that query (a query without a list gets the whole pool).
        split: The split the task came from, for reports.
    """

    name: TaskName
    queries: list[Document]
    candidates: list[Document]
    qrels: Qrels
    candidate_lists: dict[str, list[str]] | None = None
    split: str | None = None
    _by_id: dict[str, Document] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.name not in TASKS:
            raise AgenticMatchError(f"unknown task {self.name!r}; use rank_resume or rank_job")
        self._by_id = {c.id: c for c in self.candidates}
        problems = []
        for qid, cands in (self.candidate_lists or {}).items():
            missing = [c for c in cands if c not in self._by_id]
            if missing:
                problems.append(
                    Problem("<candidate lists>", None, qid, f"unknown candidate(s) {', '.join(missing[:5])}")
                )
        if problems:
            raise DataError(problems)

    def candidates_for(self, query_id: str) -> list[Document]:
        """The candidates ``query_id`` is ranked over."""
        if self.candidate_lists and query_id in self.candidate_lists:
            return [self._by_id[c] for c in self.candidate_lists[query_id]]
        return self.candidates


def load_task(
    corpus: Corpus,
    split: str,
    task: TaskName,
    candidate_lists: Mapping[str, Sequence[str]] | None = None,
) -> RankingTask:
    """Build a task from a corpus with qrels (``corpus.qrels["<split>_<task>"]``).

    Queries are the qrels' query ids; candidates are every document of the other kind in
    ``split`` (the full pool).

    Raises:
        DataError: no such qrels, or a query / judged candidate id missing from the split's
            pool (every such id is named).
    """
    if task not in TASKS:
        raise AgenticMatchError(f"unknown task {task!r}; use rank_resume or rank_job")
    key = f"{split}_{task}"
    if key not in corpus.qrels:
        have = ", ".join(sorted(corpus.qrels)) or "none"
        raise DataError(f"{corpus.source}: no qrels '{key}' (available: {have})")
    qrels = corpus.qrels[key]
    q_kind, c_kind = ("job", "resume") if task == "rank_resume" else ("resume", "job")
    q_docs = corpus.jobs if q_kind == "job" else corpus.resumes
    c_docs = corpus.resumes if c_kind == "resume" else corpus.jobs
    q_pool = set(corpus.split_ids(q_kind, split))
    c_ids = corpus.split_ids(c_kind, split)
    c_pool = set(c_ids)

    where = f"{corpus.source} qrels {key}"
    problems = [
        Problem(where, None, qid, f"query {q_kind} '{qid}' is not in the {split} {q_kind} pool")
        for qid in qrels
        if qid not in q_pool or qid not in q_docs
    ]
    for qid, judged in qrels.items():
        missing = [d for d in judged if d not in c_pool or d not in c_docs]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            problems.append(Problem(where, None, qid, f"judged {c_kind}(s) not in the {split} pool: {shown}"))
    if problems:
        raise DataError(problems)
    return RankingTask(
        name=task,
        queries=[q_docs[q] for q in qrels],
        candidates=[c_docs[c] for c in c_ids if c in c_docs],
        qrels={q: dict(v) for q, v in qrels.items()},
        candidate_lists={q: list(v) for q, v in candidate_lists.items()} if candidate_lists else None,
        split=split,
    )


@dataclass
class EvalResult:
    """What :func:`evaluate` returns.

    Attributes:
        metrics: ``{name: mean score}`` on a 0-100 scale.
        run: The top-``k`` run that was scored.
        wall_s: Seconds spent ranking (scoring excluded).
    """

    metrics: dict[str, float]
    run: Run
    wall_s: float = 0.0


def _groups(task: RankingTask) -> Iterable[tuple[list[Document], list[Document]]]:
    # Queries sharing a candidate list are ranked in one call (one BM25 index, one encoding).
    if not task.candidate_lists:
        yield task.queries, task.candidates
        return
    groups: dict[tuple[str, ...], list[Document]] = {}
    for q in task.queries:
        key = tuple(c.id for c in task.candidates_for(q.id))
        groups.setdefault(key, []).append(q)
    for queries in groups.values():
        yield queries, task.candidates_for(queries[0].id)


def evaluate(
    ranker: Ranker,
    task: RankingTask,
    k: int = 100,
    run_path: str | Path | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> EvalResult:
    """Rank every query of ``task`` with ``ranker`` and score the run.

    Args:
        ranker: Anything implementing :class:`~agentic_match.evaluation.ranker.Ranker`.
        task: From :func:`load_task`.
        k: Documents kept per query (the run depth); must cover every metric's cut-off.
        run_path: Also write the run there (``.json`` or ``.json.gz``).
        metrics: Metric names (see :mod:`agentic_match.evaluation.metrics`).

    Raises:
        MetricError: a metric's cut-off exceeds ``k``.
        AgenticMatchError: the ranker returned documents outside a query's candidates.
    """
    deepest = max_cutoff(metrics)
    if deepest is None or deepest > k:
        raise MetricError(f"metrics {', '.join(metrics)} need a run deeper than k={k}; raise k or cut the metrics")
    t0 = time.perf_counter()
    run: Run = {}
    for queries, candidates in _groups(task):
        got = ranker.rank(queries, candidates, k=k)
        allowed = {c.id for c in candidates}
        for q in queries:
            docs = got.get(q.id, {})
            stray = [d for d in docs if d not in allowed]
            if stray:
                raise AgenticMatchError(
                    f"{type(ranker).__name__} returned {len(stray)} document(s) outside the candidates "
                    f"of query {q.id!r} (e.g. {stray[0]!r})"
                )
            run[q.id] = docs
    wall = time.perf_counter() - t0
    run = top_k(run, k)
    if run_path is not None:
        write_run(run_path, run, k)
    return EvalResult(metrics=score_run(task.qrels, run, metrics), run=run, wall_s=wall)


__all__ = ["TASKS", "EvalResult", "RankingTask", "TaskName", "evaluate", "load_task"]
