"""Evaluation: ranking tasks, metrics (ranx), run files, classification and results files.

Typical use::

    from agentic_match.data import load_benchmark
    from agentic_match.evaluation import evaluate, load_task
    from agentic_match.retrieval.bm25 import BM25Ranker

    task = load_task(load_benchmark("../shared/data/benchmark/v1"), "test", "rank_resume")
    result = evaluate(BM25Ranker(), task, run_path="runs/bm25_rank_resume.json.gz")
    print(result.metrics)  # {"ndcg@10": ..., "recall@10": ..., ...} on a 0-100 scale
"""

from agentic_match.evaluation.classification import (
    ClassificationResult,
    classification_metrics,
    evaluate_classification,
    tune_threshold,
)
from agentic_match.evaluation.metrics import (
    DEFAULT_METRICS,
    MetricError,
    per_query_scores,
    score_run,
)
from agentic_match.evaluation.results import (
    describe_machine,
    results_table_markdown,
    write_results,
)
from agentic_match.evaluation.runs import RUN_TOP_K, Run, read_run, write_run
from agentic_match.evaluation.tasks import (
    TASKS,
    EvalResult,
    RankingTask,
    TaskName,
    evaluate,
    load_task,
)

__all__ = [
    "DEFAULT_METRICS",
    "RUN_TOP_K",
    "TASKS",
    "ClassificationResult",
    "EvalResult",
    "MetricError",
    "RankingTask",
    "Run",
    "TaskName",
    "classification_metrics",
    "describe_machine",
    "evaluate",
    "evaluate_classification",
    "load_task",
    "per_query_scores",
    "read_run",
    "results_table_markdown",
    "score_run",
    "tune_threshold",
    "write_results",
    "write_run",
]
