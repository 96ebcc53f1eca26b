"""Print the README's benchmark tables from the results files (so the README never holds
a number that a results file does not).

    python benchmarks/readme_tables.py > /tmp/tables.md
"""

from __future__ import annotations

from pathlib import Path

from agentic_match.evaluation.results import results_table_markdown

RESULTS = Path(__file__).resolve().parent / "results"

TABLES = [
    ("LLM throughput (issue 2)", "llm_throughput.json", None, None),
    (
        "Retrieval on the public benchmark, test split (issue 3)",
        "retrieval.json",
        ["ndcg@10", "recall@10", "recall@100", "map@100", "mrr@10"],
        None,
    ),
    (
        "Index scale, 1M x 384 (issue 3)",
        "index_scale.json",
        ["recall@10", "qps", "speedup", "build_s", "index_mb"],
        None,
    ),
    (
        "Counterfactual gender audit (issue 7)",
        "fairness.json",
        ["n_resumes", "n_changed", "mean_abs_shift", "top10_lists_changed_pct", "gap_female_minus_male"],
        ["counterfactual_gender", "counterfactual_gender_names"],
    ),
    (
        "Fairness mitigation trade-off, synthetic attribute (issue 7)",
        "fairness.json",
        ["ndcg@10", "top10_share_B_pct", "dp_diff@10", "ndkl@10"],
        ["mitigation_rank_resume"],
    ),
]


def main() -> None:
    for title, name, columns, tasks in TABLES:
        path = RESULTS / name
        if not path.exists():
            continue
        print(f"### {title}\n")
        print(results_table_markdown(path, columns=columns, tasks=tasks, provenance=True))


if __name__ == "__main__":
    main()
