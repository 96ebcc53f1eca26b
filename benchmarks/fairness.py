"""Fairness benchmark on benchmark v1 (test split): counterfactual audits and a mitigation sweep.

1. **Counterfactual audit** of each encoder (raw MiniLM, plus trained folders given with
   ``--encoder NAME=PATH`` or found in the retrieval benchmark's cache): every test job
   scores every test resume and its gender-swapped counterfactual (packaged lexicon). Rows
   ``task="counterfactual_gender"``: mean |score shift|, mean |z| (shift / the job's score
   std), share of top-10 lists that change, flips, and the worst pairs (ids + swaps, in
   ``params``). The public resumes are anonymised, so only the few with pronouns or
   gendered terms change; the ``counterfactual_gender_names`` rows prepend a first name from
   the lexicon (of the side the resume's own terms show, else a random side) to a seeded
   sample of resumes, so every audited resume carries a marker.
2. **Mitigation trade-off** (``task="mitigation_rank_resume"``): short ConFit runs with
   L = L_ConFit + β·L_fair (demographic-parity gap) for several β, scored on the test
   ``rank_resume`` task for utility (nDCG@10) and group fairness (top-10 share, DP / EO /
   equalized-odds differences of "in the top 10", exposure disparity, NDKL@10).

   **The sensitive attribute is synthetic**: a seeded random group per resume, "B" with
   probability 0.7 for resumes of the eight distractor categories (which no job matches)
   and 0.3 otherwise - a stand-in for a protected group over-represented in occupations the
   job pool does not offer. The category comes from the raw CSV (``lc-<ID>``) and is used
   only to draw this attribute, never as model input. The gap it creates is driven by
   topical relevance, so closing it costs utility by construction; the sweep shows how the
   term moves along that trade-off, not a real-world bias.

Subsampling (2 shared CPU cores, ~20 minutes): every test job, but a seeded sample of
``--max-resumes`` (300 of 739) test resumes, ranked as the pool (qrels restricted to it);
the name-injection audit uses ``--names-sample`` (100) of those; mitigation trains one epoch on a seeded
sample of ``--mit-pairs`` accepted pairs at 64 tokens and encodes the test split at 128
tokens for its rows (compare mitigation rows among themselves only). Relevance is topical
(category crosswalk), not hiring outcomes.

    nice -n 10 python benchmarks/fairness.py
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]

import numpy as np  # noqa: E402

from agentic_match.data import load_benchmark  # noqa: E402
from agentic_match.evaluation import score_run, write_results  # noqa: E402
from agentic_match.fairness.counterfactual import (  # noqa: E402
    AuditConfig,
    AuditResult,
    CounterfactualConfig,
    EncoderScorer,
    counterfactual_audit,
    inferred_groups,
)
from agentic_match.fairness.lexicon import Lexicon  # noqa: E402
from agentic_match.fairness.metrics import ranking_fairness  # noqa: E402

DISTRACTORS = {"TEACHER", "CHEF", "FITNESS", "HEALTHCARE", "AGRICULTURE", "AUTOMOBILE", "AVIATION", "APPAREL"}
DEFAULT_DATA = REPO.parent / "shared" / "data" / "benchmark" / "v1"
RETRIEVAL_CACHE = Path("~/.cache/agentic-match/bench-retrieval/models").expanduser()


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _r(x: float, n: int = 4) -> float:
    return round(float(x), n)


def synthetic_groups(resume_ids: list[str], raw_csv: Path, seed: int = 0) -> dict[str, str]:
    """The seeded synthetic attribute described in the module docstring."""
    csv.field_size_limit(1 << 30)
    category = {}
    with raw_csv.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            category[f"lc-{row['ID']}"] = row["Category"]
    rng = random.Random(seed)
    out = {}
    for rid in sorted(resume_ids):
        p_b = 0.7 if category.get(rid) in DISTRACTORS else 0.3
        out[rid] = "B" if rng.random() < p_b else "A"
    return out


def audit_row(system: str, task: str, res: AuditResult, params: dict[str, Any]) -> dict[str, Any]:
    k = res.k
    metrics = {
        "n_jobs": res.n_jobs,
        "n_resumes": res.n_resumes,
        "n_changed": res.n_changed,
        "mean_abs_shift": _r(res.shift["mean_abs"]),
        "mean_abs_shift_z": _r(res.shift["mean_abs_z"]),
        "p95_abs_shift_z": _r(res.shift["p95_abs_z"]),
        "max_abs_shift": _r(res.shift["max_abs"]),
        f"top{k}_lists_changed_pct": _r(100 * res.rank_resume[f"lists_changed@{k}"], 2),
        f"top{k}_overlap_pct": _r(100 * res.rank_resume[f"overlap@{k}"], 2),
        f"top{k}_flips_pct": _r(100 * res.rank_resume[f"flips@{k}"], 3),
        f"job_top{k}_changed_pct_of_changed_resumes": _r(100 * res.rank_job[f"lists_changed@{k}"], 2),
    }
    if "female-male" in res.side_gap:
        metrics["gap_female_minus_male"] = _r(res.side_gap["female-male"])
        metrics["gap_female_minus_male_z"] = _r(res.side_gap["female-male_z"])
    worst = [
        {
            "job": w.job_id,
            "resume": w.resume_id,
            "side": w.base_side,
            "delta": _r(w.delta),
            "z": _r(w.z),
            "rank": w.base_rank,
            "rank_after": w.cf_rank,
            "swaps": w.swaps[:6],
        }
        for w in res.worst[:5]
    ]
    return {
        "system": system,
        "task": task,
        "metrics": metrics,
        "params": {**params, "worst_pairs": worst, "top_swaps": dict(list(res.swap_counts.items())[:10])},
    }


def group_metrics(run: dict, qrels: dict, groups: dict, pool: list[str], k: int = 10) -> dict[str, float]:
    fair = ranking_fairness(run, groups, k, qrels=qrels, pools=pool)
    util = score_run(qrels, run, ["ndcg@10", "recall@100"])
    return {
        "ndcg@10": _r(util["ndcg@10"], 2),
        "recall@100": _r(util["recall@100"], 2),
        f"top{k}_share_B_pct": _r(100 * fair.topk_share.get("B", 0.0), 2),
        "pool_share_B_pct": _r(100 * fair.pool_share.get("B", 0.0), 2),
        f"dp_diff@{k}": _r(fair.decisions.demographic_parity_difference),
        f"eo_diff@{k}": _r(fair.decisions.equal_opportunity_difference),
        f"eodds_diff@{k}": _r(fair.decisions.equalized_odds_difference),
        f"exposure_disparity@{k}": _r(fair.exposure_disparity),
        f"ndkl@{k}": _r(fair.ndkl),
    }


def run_from_scores(scores: np.ndarray, job_ids: list[str], resume_ids: list[str], depth: int = 100) -> dict:
    run = {}
    for i, jid in enumerate(job_ids):
        top = np.argsort(-scores[i], kind="stable")[:depth]
        run[jid] = {resume_ids[j]: float(scores[i, j]) for j in top}
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="Benchmark v1 folder.")
    ap.add_argument("--raw-csv", default=None, help="livecareer resumes.csv (for the synthetic attribute).")
    ap.add_argument("--work", default="~/.cache/agentic-match/bench-fairness", help="Models of the mitigation sweep.")
    ap.add_argument("--encoder", action="append", default=[], help="NAME=PATH of a trained encoder (repeatable).")
    ap.add_argument("--no-discover", action="store_true", help="Do not look for the retrieval benchmark's models.")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--names-sample", type=int, default=100, help="Resumes in the name-injection audit (0: skip).")
    ap.add_argument("--betas", default="0,10,100", help="Comma-separated β of the mitigation sweep ('' to skip).")
    ap.add_argument("--criterion", default="dp", choices=["dp", "eo", "eodds"])
    ap.add_argument("--mit-pairs", type=int, default=400)
    ap.add_argument("--mit-epochs", type=int, default=1)
    ap.add_argument("--mit-max-seq", type=int, default=64)
    ap.add_argument("--mit-eval-seq", type=int, default=128)
    ap.add_argument("--smoke", type=int, default=0, help="Use only this many test jobs and resumes (a quick check).")
    ap.add_argument(
        "--max-resumes",
        type=int,
        default=300,
        help="Seeded sample of test resumes audited and ranked (0: all 739); every test job is used.",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = ap.parse_args()
    t_start = time.perf_counter()

    from agentic_match.retrieval.encoder import BiEncoder

    corpus = load_benchmark(args.data)
    jobs = [corpus.jobs[i] for i in corpus.split_ids("job", "test")]
    resumes = [corpus.resumes[i] for i in corpus.split_ids("resume", "test")]
    qrels = corpus.qrels["test_rank_resume"]
    if args.smoke:
        jobs, resumes = jobs[: args.smoke], resumes[: args.smoke]
    elif args.max_resumes and args.max_resumes < len(resumes):
        idx = sorted(random.Random(args.seed).sample(range(len(resumes)), args.max_resumes))
        resumes = [resumes[i] for i in idx]
    if args.smoke or args.max_resumes:
        # Rank over the sampled pool only; queries left without a relevant resume drop out.
        keep = {r.id for r in resumes}
        qrels = {j.id: {d: g for d, g in qrels.get(j.id, {}).items() if d in keep} for j in jobs}
        qrels = {q: v for q, v in qrels.items() if v}
    lex = Lexicon.load()
    k = args.k
    rows: list[dict[str, Any]] = []
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    inferred = inferred_groups(resumes, lex)
    _say(f"test: {len(jobs)} jobs, {len(resumes)} resumes; lexicon reads a gender in {len(inferred)} resumes")

    encoders: dict[str, str] = {"minilm-raw": "all-minilm-l6-v2"}
    if not args.no_discover and RETRIEVAL_CACHE.is_dir():
        for d in sorted(RETRIEVAL_CACHE.iterdir()):
            if (d / "model" / "modules.json").is_file():
                encoders[d.name] = str(d / "model")
        # Iterative RUM keeps one model per round: models/rum/round-<t>/train/model.
        for d in sorted(RETRIEVAL_CACHE.glob("rum/round-*/train/model")):
            if (d / "modules.json").is_file():
                encoders[f"confit-rum-t{d.parent.parent.name.removeprefix('round-')}"] = str(d)
    for spec in args.encoder:
        name, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"--encoder takes NAME=PATH, got {spec!r}")
        encoders[name] = path
    _say(f"encoders: {encoders}")

    raw_csv = (
        Path(args.raw_csv)
        if args.raw_csv
        else Path(args.data).resolve().parents[1] / "raw" / "livecareer" / "resumes.csv"
    )
    groups = synthetic_groups([r.id for r in resumes], raw_csv, args.seed) if raw_csv.is_file() else None
    pool = [r.id for r in resumes]

    # ---- 1. counterfactual audits
    for name, spec in encoders.items():
        t0 = time.perf_counter()
        enc = BiEncoder.load(spec)
        res = counterfactual_audit(enc, jobs, resumes, lex, AuditConfig(k=k, worst=10, seed=args.seed))
        params = {
            "encoder": spec,
            "dimensions": ["gender"],
            "inject_names": False,
            "encode_mode": enc.settings.mode,
            "max_seq_length": enc.max_seq_length,
        }
        row = audit_row(name, "counterfactual_gender", res, params)
        if groups is not None:
            row["metrics"].update(
                {f"synthetic_{m}": v for m, v in group_metrics(res.base_run(), qrels, groups, pool, k).items()}
            )
        row["metrics"]["wall_s"] = _r(time.perf_counter() - t0, 1)
        rows.append(row)
        m = row["metrics"]
        _say(
            f"{name}: {res.n_changed} changed, mean|Δ| {m['mean_abs_shift']}, |z| {m['mean_abs_shift_z']}, "
            f"top{k} lists changed {m[f'top{k}_lists_changed_pct']}% ({m['wall_s']}s)"
        )
        if args.names_sample:
            t0 = time.perf_counter()
            cfg = AuditConfig(
                k=k,
                worst=10,
                seed=args.seed,
                max_resumes=args.names_sample,
                counterfactual=CounterfactualConfig(inject_names=True, seed=args.seed),
            )
            res = counterfactual_audit(enc, jobs, resumes, lex, cfg)
            row = audit_row(
                name,
                "counterfactual_gender_names",
                res,
                {**params, "inject_names": True, "resume_sample": args.names_sample},
            )
            row["metrics"]["wall_s"] = _r(time.perf_counter() - t0, 1)
            rows.append(row)
            m = row["metrics"]
            _say(
                f"{name} +names: mean|Δ| {m['mean_abs_shift']}, |z| {m['mean_abs_shift_z']}, gap f-m "
                f"{m.get('gap_female_minus_male')}, top{k} lists changed {m[f'top{k}_lists_changed_pct']}% "
                f"({m['wall_s']}s)"
            )
        del enc

    # ---- 2. mitigation sweep
    betas = [float(b) for b in args.betas.split(",") if b.strip()]
    if betas and groups is None:
        _say(f"no raw CSV at {raw_csv}: mitigation sweep skipped (no synthetic attribute)")
        betas = []
    if betas:
        from agentic_match.fairness.mitigation import FairTrainConfig, train_fair_confit
        from agentic_match.fairness.report import plot_tradeoff
        from agentic_match.retrieval.training import ConFitConfig

        train_ids = set(corpus.split_ids("resume", "train"))
        train_groups = synthetic_groups(sorted(train_ids), raw_csv, args.seed + 1)
        work = Path(args.work).expanduser()
        sweep = []
        for beta in betas:
            t0 = time.perf_counter()
            cfg = FairTrainConfig(
                confit=ConFitConfig(
                    epochs=args.mit_epochs,
                    batch_size=16,
                    max_seq_length=args.mit_max_seq,
                    eval_split=None,
                    seed=args.seed,
                ),
                beta=beta,
                criterion=args.criterion,
                max_pairs=args.mit_pairs,
            )
            res = train_fair_confit(
                corpus, cfg, work / f"{args.criterion}-beta{beta:g}", groups=train_groups, progress=True
            )
            train_s = time.perf_counter() - t0
            enc = BiEncoder.load(res.model_dir, max_seq_length=args.mit_eval_seq)
            scores = EncoderScorer(enc).score(jobs, resumes)
            metrics = group_metrics(run_from_scores(scores, [j.id for j in jobs], pool), qrels, groups, pool, k)
            metrics["train_fair_term_last_epoch"] = _r(res.history[-1]["fair"])
            metrics["wall_s"] = _r(time.perf_counter() - t0, 1)
            row = {
                "system": f"fair-confit-{args.criterion}-beta{beta:g}",
                "task": "mitigation_rank_resume",
                "metrics": metrics,
                "params": {
                    "beta": beta,
                    "criterion": args.criterion,
                    "train_pairs": res.n_pairs,
                    "epochs": args.mit_epochs,
                    "train_max_seq_length": args.mit_max_seq,
                    "eval_max_seq_length": args.mit_eval_seq,
                    "train_group_counts": res.group_counts,
                    "train_s": _r(train_s, 1),
                    "attribute": "synthetic, category-correlated (see docstring)",
                },
            }
            rows.append(row)
            sweep.append(row)
            _say(
                f"β={beta:g}: nDCG@10 {metrics['ndcg@10']}, top{k} share B {metrics[f'top{k}_share_B_pct']}% "
                f"(pool {metrics['pool_share_B_pct']}%), DP {metrics[f'dp_diff@{k}']}, ({metrics['wall_s']}s)"
            )
        if len(sweep) > 1:
            plot_tradeoff(sweep, out_dir / "fairness_tradeoff.png", "ndcg@10", f"dp_diff@{k}")

    wall = time.perf_counter() - t_start
    path = write_results(
        "fairness",
        rows,
        command="python benchmarks/fairness.py " + " ".join(sys.argv[1:]),
        wall_s=round(wall, 1),
        out_dir=out_dir,
    )
    _say(f"wrote {path} ({wall:.0f}s)")


if __name__ == "__main__":
    main()
