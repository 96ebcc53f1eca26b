"""Train pipeline wall time: HyRe -> ConFit* -> RUM -> retrain -> judge -> RankPO -> evaluate -> report.

Runs :mod:`graphs.train_pipeline` in a fresh run folder with the real local LLM (the
managed vLLM server, started before the pipeline so its start-up is reported apart from the
steps) and records every step's wall time (from its ``done.json``) and the evaluation of
every model the pipeline trained, both tasks, on the evaluation split.

    python benchmarks/pipeline.py --data ../shared/data/benchmark/v1 --max-judge-pairs 500
    python benchmarks/pipeline.py --demo --name pipeline_demo          # the tiny corpus
    python benchmarks/pipeline.py --demo --skip-augment --skip-judge --no-write   # smoke, no LLM

Results go to ``benchmarks/results/<name>.json`` (rows: one per step with ``wall_s``, one per
model and task with the metrics); ``--resume DIR`` continues a run folder that stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from agentic_match.config import load_settings
from agentic_match.evaluation.results import write_results
from agentic_match.pipeline import STEPS, PipelineConfig, read_record, step_dir


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--data", default="../shared/data/benchmark/v1", help="benchmark-layout folder")
    src.add_argument("--demo", action="store_true", help="the packaged demo corpus (made up; 25 jobs, 100 resumes)")
    ap.add_argument("--out", help="run folder (default: a new one under <cache_dir>/bench-pipeline/)")
    ap.add_argument("--resume", help="continue this run folder instead of starting a new one")
    ap.add_argument("--epochs", type=int, default=1, help="ConFit* epochs per training")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument(
        "--max-seq-length", type=int, default=None, help="training window in tokens (default: the encoder's own)"
    )
    ap.add_argument("--band", default="auto")
    ap.add_argument("--max-judge-pairs", type=int, default=None, help="cap on judged pairs (default: no cap)")
    ap.add_argument("--skip-augment", action="store_true", help="no HyRe")
    ap.add_argument("--skip-judge", action="store_true", help="no judge, no RankPO")
    ap.add_argument("--eval-split", default="test")
    ap.add_argument("--name", default="pipeline", help="results file stem")
    ap.add_argument("--out-dir", default="benchmarks/results")
    ap.add_argument("--no-write", action="store_true", help="print the results, write no results file")
    ap.add_argument(
        "--shared-cache",
        action="store_true",
        help="use the shared generation cache (default: one in the run folder, so every request reaches the server)",
    )
    args = ap.parse_args(argv)

    from agentic_match.llm import open_llm
    from graphs.train_pipeline import run_pipeline

    settings = load_settings()
    data = "demo" if args.demo else str(Path(args.data).resolve())
    if not args.demo and not Path(data).is_dir():
        print(f"benchmark data not found at {data}; give --data DIR or --demo", file=sys.stderr)
        return 2
    run_dir = Path(
        args.resume
        or args.out
        or settings.cache_dir / "bench-pipeline" / f"{args.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    if not args.resume and run_dir.exists() and any(run_dir.iterdir()):
        print(f"{run_dir} is not empty; give --resume {run_dir} to continue it", file=sys.stderr)
        return 2
    config = PipelineConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_seq_length=args.max_seq_length,
        band=args.band,
        max_judge_pairs=args.max_judge_pairs,
        skip_augment=args.skip_augment,
        skip_judge=args.skip_judge,
        eval_split=args.eval_split,
        concurrency=settings.llm.max_concurrency,
    )
    t0 = time.perf_counter()
    notes: dict = {"data": data, "run_dir": str(run_dir), "config": config.to_dict(), "generator": settings.llm.model}
    from agentic_match.llm import GenerationCache

    def start_llm():
        client = stack.enter_context(open_llm(settings))
        if not args.shared_cache:  # measure generation, not cache hits (a resumed run keeps its own)
            run_dir.mkdir(parents=True, exist_ok=True)
            client.cache = GenerationCache(run_dir / "generations.sqlite")
        return client

    notes["generation_cache"] = "shared" if args.shared_cache else "fresh, in the run folder"
    with ExitStack() as stack:
        llm = None
        if config.needs_llm and not args.resume:
            _say("starting (or reusing) the local LLM server")
            t = time.perf_counter()
            llm = start_llm()
            notes["llm_startup_s"] = round(time.perf_counter() - t, 1)
        _say(f"pipeline in {run_dir} on {data}")
        final = run_pipeline(
            run_dir,
            data,
            config,
            llm=llm,
            # A resumed run starts the server only if a step still needs it (its start-up then
            # counts in that step's time).
            llm_factory=start_llm,
            llm_id=settings.llm.model if config.needs_llm else "",
            say=_say,
        )
    wall = time.perf_counter() - t0

    rows = []
    for step in STEPS:
        rec = read_record(step_dir(run_dir, step))
        if rec is None:
            continue
        rows.append(
            {
                "system": "train_pipeline",
                "task": f"step_{step}",
                "metrics": {"wall_s": round(rec.wall_s, 1)},
                "skipped": rec.skipped,
            }
        )
        if step == "judge" and not rec.skipped:
            notes["judge"] = {"counts": rec.outputs.get("counts"), "flip_rate": rec.outputs.get("flip_rate")}
        if step == "mine":
            notes["rum_band"] = rec.outputs.get("band")
        if step == "augment" and not rec.skipped:
            notes["hyre"] = {"augmented": rec.outputs.get("augmented"), "failed": rec.outputs.get("failed")}
    steps_s = sum(r["metrics"]["wall_s"] for r in rows)
    rows.append({"system": "train_pipeline", "task": "all_steps", "metrics": {"wall_s": round(steps_s, 1)}})
    ev = read_record(step_dir(run_dir, "evaluate"))
    for system, tasks in (ev.outputs.get("metrics", {}) if ev else {}).items():
        for task, metrics in tasks.items():
            keep = ("ndcg@10", "recall@10", "recall@100", "map@100", "mrr@10")
            rows.append({"system": f"pipeline-{system}", "task": task, "metrics": {k: metrics[k] for k in keep}})
    notes["final_model"] = (final.get("report") or {}).get("final_model")
    if args.no_write:
        print(json.dumps({"wall_s": round(wall, 1), "rows": rows, "notes": notes}, indent=2))
    else:
        path = write_results(args.name, rows, wall_s=wall, out_dir=args.out_dir, notes=notes)
        _say(f"results -> {path}")
    _say(f"steps {steps_s:.0f} s, whole benchmark {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
