"""Print the benchmark tables of docs/benchmarks.md from the results files (so the docs
never hold a number that a results file does not).

Each table is titled by what it measures and the script that measured it. Paste each one
under its heading in docs/benchmarks.md:

    python benchmarks/readme_tables.py > /tmp/tables.md
"""

from __future__ import annotations

import json
from pathlib import Path

from agentic_match.evaluation.results import results_table_markdown

RESULTS = Path(__file__).resolve().parent / "results"

TABLES = [
    ("LLM throughput (benchmarks/llm_throughput.py)", "llm_throughput.json", None, None),
    (
        "Retrieval benchmark, test split (benchmarks/retrieval.py)",
        "retrieval.json",
        ["ndcg@10", "recall@10", "recall@100", "map@100", "mrr@10"],
        None,
    ),
    (
        "Index scale, 1M x 384 (benchmarks/index_scale.py)",
        "index_scale.json",
        ["recall@10", "qps", "speedup", "build_s", "index_mb"],
        None,
    ),
    (
        "Vector stores, FAISS vs Milvus Lite (benchmarks/vector_stores.py)",
        "vector_stores.json",
        ["build_s", "qps", "recall@10", "rows", "reindex_tenth_s"],
        None,
    ),
    (
        "Encoding speed, 5,000 resume texts (benchmarks/encode.py)",
        "encode.json",
        ["texts_per_s", "wall_s", "ratio_to_plain", "block_ratio_mean", "block_ratio_sd"],
        None,
    ),
    (
        "Training and serving window: quality and cost per window, test split (benchmarks/window.py)",
        "window.json",
        ["ndcg@10", "recall@100", "mrr@10", "train_s", "wall_s"],
        None,
    ),
    (
        "HyRe writers on the same dev jobs (benchmarks/hyre.py, stage writers)",
        "hyre.json",
        [
            "retried_pct",
            "copy_rate_pct",
            "loop_rate_pct",
            "placeholder_rate_pct",
            "failed_checks_pct",
            "unsupported_claims_pct",
            "jobs_per_min",
            "in_flight",
            "server_ready_s",
            "prompt_tokens_per_job",
            "generated_tokens_per_job",
        ],
        ["hyre_writer"],
    ),
    (
        "HyRe views on dev, untrained encoder (benchmarks/hyre.py, stage modes)",
        "hyre.json",
        ["ndcg@10", "recall@100", "mrr@10"],
        ["dev_rank_resume", "dev_rank_job"],
    ),
    (
        "HyRe ablation at the encoder's window, test split (benchmarks/hyre.py, stage table)",
        "hyre.json",
        ["ndcg@10", "recall@10", "recall@100", "map@100", "mrr@10"],
        ["rank_resume", "rank_job"],
        ["seed", "hyre_view", "negatives"],
    ),
    (
        "Explanations: met share against relevance, evidence precision, test pairs (benchmarks/explanations.py)",
        "explanations.json",
        [
            "auc",
            "mean_score_auc",
            "dev_auc",
            "evidence_precision",
            "labelled_quotes_shown",
            "fabricated_quotes",
            "pairs",
            "s_per_candidate",
        ],
        ["explain_test"],
    ),
    (
        "LGIR, warm protocol: each user's held-out interactions against 20 sampled jobs (benchmarks/lgir.py)",
        "lgir.json",
        ["map@5", "map@5_sd", "map@5_p_vs_base", "ndcg@5", "ndcg@5_sd", "mrr", "mrr_sd"],
        ["lgir_warm"],
    ),
    (
        "LGIR, cold protocol: new users against new jobs, topical qrels (benchmarks/lgir.py)",
        "lgir.json",
        ["map@5", "map@5_sd", "map@5_p_vs_base", "ndcg@5", "ndcg@5_sd", "mrr", "mrr_sd"],
        ["lgir_cold"],
    ),
    (
        "Fabrication, SRC vs IRC, strict support rule (benchmarks/lgir.py)",
        "lgir.json",
        ["unsupported_skills_pct", "skills", "documents"],
        ["fabrication"],
    ),
    (
        "LLM judge quality on dev pairs with differing grades (benchmarks/alignment.py)",
        "alignment.json",
        [
            "decided_pct",
            "agreement",
            "agreement_ci",
            "flip_rate",
            "margin",
            "agreement_all_pairs",
            "pairs_report",
            "s_per_pair",
        ],
        ["judge_dev_pairs"],
    ),
    (
        "RankPO trade-off, mean over seeds (benchmarks/alignment.py)",
        "alignment.json",
        [
            "seeds",
            "alignment",
            "alignment_sd",
            "dev_retention_ndcg@10",
            "dev_retention_ndcg@10_sd",
            "within_rank_resume",
            "within_rank_job",
            "train_s",
        ],
        ["rankpo_tradeoff_summary"],
        ["source", "lr"],
    ),
    (
        "RankPO trade-off, every seed (benchmarks/alignment.py)",
        "alignment.json",
        [
            "alignment",
            "dev_rank_resume_ndcg@10",
            "dev_rank_job_ndcg@10",
            "dev_retention_ndcg@10",
            "within_rank_resume",
            "within_rank_job",
            "train_s",
        ],
        ["rankpo_tradeoff", "within_floor"],
        ["seed"],
    ),
    (
        "WiSE-FT: fine-tuned and base weights interpolated, dev split (benchmarks/alignment.py)",
        "alignment.json",
        [
            "dev_rank_resume_ndcg@10",
            "dev_rank_job_ndcg@10",
            "dev_retention_ndcg@10",
            "within_rank_resume",
            "within_rank_job",
        ],
        ["wise_ft"],
        ["alpha"],
    ),
    (
        "Reranking the FAISS top-k (benchmarks/alignment.py)",
        "alignment.json",
        ["ndcg@10", "queries", "s_per_query"],
        ["rank_resume", "rank_job"],
    ),
    (
        "Generator fine-tuning: HyRe from base few-shot, SFT and SFT + DPO, test split"
        " (benchmarks/generator_finetune.py)",
        "finetune.json",
        ["ndcg@10", "recall@10", "recall@100", "mrr@10"],
        ["rank_resume", "rank_job"],
    ),
    (
        "Generator fine-tuning: held-out measures (benchmarks/generator_finetune.py)",
        "finetune.json",
        ["loss", "mean_token_accuracy", "reward_accuracy_pct", "reward_margin"],
        ["heldout_sft_loss", "dpo_reward_accuracy"],
    ),
    (
        "Generator fine-tuning: cost on 2 cores and what the generators wrote (benchmarks/generator_finetune.py)",
        "finetune.json",
        [
            "steps",
            "s_per_step",
            "peak_rss_mb",
            "train_loss",
            "jobs",
            "failed",
            "wall_s",
            "copied_example_pct",
            "posts_filling_window_pct",
        ],
        ["training", "hyre_generation", "hyre_copies_example", "test_posts"],
    ),
    (
        "Service: match latency and API load test, demo corpus, SmolLM2-135M on vLLM (benchmarks/service.py)",
        "service.json",
        ["queries", "p50_ms", "p95_ms", "clients", "requests_per_s", "p99_ms", "errors"],
        None,
    ),
    (
        "Train pipeline on the public benchmark, SmolLM2-135M on vLLM, test split (benchmarks/pipeline.py)",
        "pipeline.json",
        ["wall_s", "ndcg@10", "recall@10", "recall@100", "mrr@10"],
        None,
    ),
    (
        "Counterfactual gender audit (benchmarks/fairness.py)",
        "fairness.json",
        ["n_resumes", "n_changed", "mean_abs_shift", "top10_lists_changed_pct", "gap_female_minus_male"],
        ["counterfactual_gender", "counterfactual_gender_names"],
    ),
    (
        "Fairness mitigation trade-off, synthetic attribute (benchmarks/fairness.py)",
        "fairness.json",
        ["ndcg@10", "top10_share_B_pct", "dp_diff@10", "ndkl@10"],
        ["mitigation_rank_resume"],
    ),
]


def main() -> None:
    for title, name, columns, tasks, *params in TABLES:
        path = RESULTS / name
        if not path.exists():
            continue
        rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
        if tasks is not None and not any(r.get("task") in tasks for r in rows):
            continue
        print(f"### {title}\n")
        print(
            results_table_markdown(
                path, columns=columns, tasks=tasks, provenance=True, params=params[0] if params else ()
            )
        )
        if tasks in (["lgir_warm"], ["lgir_cold"]):
            print(groups_table(path, tasks=tasks))


def groups_table(path: Path, metric: str = "ndcg@5", tasks: list[str] | None = None) -> str:
    """LGIR's few-shot analysis: ``metric`` per interaction-count group (rows' ``groups``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = [r for r in data["rows"] if r.get("groups") and (tasks is None or r.get("task") in tasks)]
    if not rows:
        return ""
    names = list(rows[0]["groups"])
    ranges = data.get("notes", {}).get("lgir_group_interactions", {})
    head = [f"{g} ({'-'.join(map(str, ranges[g]))} interactions)" if g in ranges else g for g in names]
    lines = [f"{metric} by interaction group:\n", "| system | " + " | ".join(head) + " |"]
    lines.append("|---|" + "---:|" * len(names))
    for r in rows:
        lines.append(f"| {r['system']} | " + " | ".join(f"{r['groups'][g][metric]:.2f}" for g in names) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
