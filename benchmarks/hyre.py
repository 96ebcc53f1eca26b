"""HyRe benchmark: ConFit v2's ablation (Table 3), run so that HyRe can show what it does.

Stages, each resumable in ``--work`` (outside the repository: the benchmark's texts may not
be redistributed). Every generation goes through the ``augment_jobs`` graph and the
generation cache, so a run interrupted anywhere continues where it stopped; every training
run is resumable; finished rows are kept in ``--work/rows.json``.

1. ``writers``: HyRe for the same dev jobs by each writer (``--writers``): the share of jobs
   whose answer was rejected as a copy (of the post or of the few-shot answer), the share
   that failed any check, the share of the generated skills the post does not support, and
   jobs/min at ``--concurrency`` requests in flight (server start-up timed apart).
2. ``generate``: HyRe for every job (train, dev, test) by ``--writer``.
3. ``modes``: on **dev**, the untrained encoder reading each HyRe view (``append``,
   ``budget`` with three shares, ``first``, ``fusion`` with three weights, ``alone``), with
   the share of HyRe tokens inside the window logged per mode; the best view (mean dev
   nDCG@10 of both tasks) is the one the table trains with.
4. ``bands``: RUM's band chosen as the paper does, one retrain per candidate band (3-4, 5-10,
   10-20, 20-30 %) and the best by dev nDCG@10, beside the cheap heuristic's pick.
5. ``table``: test rows ``raw``, ``raw+hyre``, ``confit``, ``confit+hyre``, ``confit+rum``,
   ``confit+hyre+rum`` (ConFit* with the training labels' rejected pairs as hard negatives,
   the paper's baseline; RUM t = 1 mined with the in-batch model of the same data); the key
   rows ``confit`` and ``confit+hyre`` once per ``--seeds`` (mean ± sd in ``notes``).
6. ``splits``: the key rows on other splits of the same texts (``--split-seeds``, built with
   ``../shared/data/benchmark/build.py --seed N``), the view chosen on v1's dev.

The few-shot pair is an accepted training pair whose job and resume are training documents in
every split used, so no split's dev or test job or resume is shown to the writer.

    nice -n 5 python benchmarks/hyre.py > ~/.cache/agentic-match/bench-hyre.log 2>&1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from generation_common import REPO, SHARED, WRITERS, add_generation_args, read_json, say, write_json  # noqa: E402

from agentic_match.augment.hyre import HyReConfig, hyre_claims  # noqa: E402
from agentic_match.data import document_from_row, load_benchmark  # noqa: E402
from agentic_match.data.schema import Corpus, Document  # noqa: E402
from agentic_match.evaluation import evaluate, load_task, results_table_markdown, write_results  # noqa: E402
from agentic_match.retrieval.hyre_view import HyReView, hyre_parts, hyre_share_in_window  # noqa: E402
from agentic_match.retrieval.training import ConFitConfig  # noqa: E402

TASKS = ("rank_resume", "rank_job")
TRAINING_OPTIONS = ("encoder", "epochs", "batch_size", "max_seq_length", "learning_rate")
CANDIDATE_VIEWS = [
    HyReView(mode="append"),
    HyReView(mode="budget", share=0.25),
    HyReView(mode="budget", share=0.5),
    HyReView(mode="budget", share=0.75),
    HyReView(mode="first"),
    HyReView(mode="fusion", weight=0.25),
    HyReView(mode="fusion", weight=0.4),
    HyReView(mode="fusion", weight=0.55),
    HyReView(mode="alone"),
]


def writer_spec(args: argparse.Namespace, name: str) -> tuple[str, str | None]:
    """``(base model spec, LoRA adapter folder or None)`` of the writer called ``name``."""
    for entry in args.adapter_writer:
        key, _, rest = entry.partition("=")
        base, _, folder = rest.partition(":")
        if key == name:
            if not (Path(folder).expanduser() / "adapter_config.json").is_file():
                raise SystemExit(f"--adapter-writer {entry}: no LoRA adapter (adapter_config.json) in {folder}")
            return WRITERS.get(base, base), str(Path(folder).expanduser())
    return WRITERS.get(name, name), None


def view_name(v: HyReView) -> str:
    return {"budget": f"budget-{v.share:g}", "fusion": f"fusion-{v.weight:g}"}.get(v.mode, v.mode)


# ---------------------------------------------------------------------------- data
def split_dir(seed: int, work: Path) -> Path:
    """The benchmark folder of one split (v1, or ``build.py --seed N`` built once)."""
    if seed == 0:
        return SHARED / "data" / "benchmark" / "v1"
    out = work / "splits" / f"seed-{seed}"
    if not (out / "MANIFEST.json").is_file():
        say(f"building split seed {seed}")
        subprocess.run(
            [sys.executable, str(SHARED / "data" / "benchmark" / "build.py"), "--seed", str(seed), "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return out


def shared_train_examples(corpora: list[Corpus], cfg: HyReConfig) -> list[tuple[Document, Document]]:
    """The few-shot pairs: accepted training pairs of the first split whose job and resume are
    training documents in *every* split (so no split's dev or test document is shown to the
    writer), drawn with ``cfg.seed``."""
    import random

    c0 = corpora[0]
    train_jobs = set.intersection(*(set(c.split_ids("job", "train")) for c in corpora))
    train_resumes = set.intersection(*(set(c.split_ids("resume", "train")) for c in corpora))
    pool = sorted(
        {
            (lb.job_id, lb.resume_id)
            for lb in c0.label_splits.get("train", c0.labels)
            if lb.label > 0 and lb.job_id in train_jobs and lb.resume_id in train_resumes
        }
    )
    if len(pool) < cfg.n_examples:
        raise SystemExit("no accepted training pair whose job and resume are training documents in every split")
    return [(c0.jobs[j], c0.resumes[r]) for j, r in random.Random(cfg.seed).sample(pool, cfg.n_examples)]


def with_jobs(corpus: Corpus, jobs: dict[str, Document]) -> Corpus:
    return replace(corpus, jobs={j: jobs.get(j, d) for j, d in corpus.jobs.items()})


def load_generated(path: Path) -> dict[str, Document]:
    out = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                doc = document_from_row(json.loads(line), "job")
                out[doc.id] = doc
    return out


# ---------------------------------------------------------------------------- generation
def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def finished_run(out_path: Path, jobs: list[Document]) -> dict[str, Any] | None:
    """The graph's final ``results`` / ``failures`` read back from a finished run's output
    files, or None when some job is not in them yet (the run must go on)."""
    from agentic_match.augment.batch import failures_path

    if not out_path.is_file():
        return None
    rows = {r["id"]: r for r in _jsonl(out_path)}
    if any(j.id not in rows for j in jobs):
        return None
    fpath = failures_path(out_path)
    failures = {}
    if fpath.is_file():
        failures = {f["id"]: f.get("problem", "") for f in _jsonl(fpath)}
    return {"results": {j: r for j, r in rows.items() if j not in failures}, "failures": failures}


def generate(
    args: argparse.Namespace,
    spec: str,
    jobs: list[Document],
    examples: list[tuple[Document, Document]],
    out_path: Path,
    run_id: str,
    adapter: str | None = None,
) -> dict[str, Any]:
    """HyRe for ``jobs`` by the writer ``spec`` (with the LoRA ``adapter`` folder served on it,
    when given); statistics add up over resumed runs."""
    from agentic_match.config import load_settings
    from agentic_match.llm import ManagedServer, client_for, token_counts
    from graphs import augment_jobs
    from graphs.batching import checkpointer_at, run_graph

    work = Path(args.work).expanduser()
    stats_path = work / "generation-stats.json"
    stats = read_json(stats_path, {})
    prev = stats.get(run_id, {"wall_s": 0.0, "generated_docs": 0, "prompt_tokens": 0, "generated_tokens": 0})
    if (final := finished_run(out_path, jobs)) is not None:  # nothing left to generate: no server
        return {"final": final, "stats": prev}
    settings = load_settings(
        overrides={"llm": {"model": spec, "max_concurrency": args.concurrency, "max_tokens": args.max_tokens}}
    )
    hcfg = HyReConfig(n_examples=1, seed=args.seed, max_tokens=args.max_tokens)
    started = time.perf_counter()
    adapters = {"writer": adapter} if adapter else None
    with (
        ManagedServer(settings=settings, adapters=adapters) as info,
        checkpointer_at(work / "graphs.sqlite") as saver,
    ):
        ready_s = time.perf_counter() - started
        llm = client_for(settings, info)
        p0, g0 = token_counts(info.root_url)
        done_before: list[int] = []

        def on_event(mode: str, part: Any) -> None:
            if mode == "custom" and isinstance(part, dict) and part.get("event") == "start":
                done_before.append(int(part.get("done", 0)))
                say(f"{run_id}: {part['documents']} jobs, {part.get('done', 0)} already done")
            elif mode == "custom" and isinstance(part, dict) and part.get("event") == "batch":
                say(f"{run_id}: batch {part['index'] + 1}/{part['batches']}")

        t0 = time.perf_counter()
        final = run_graph(
            augment_jobs.build_graph(llm, hcfg, adapter="writer" if adapter else None, checkpointer=saver),
            augment_jobs.inputs_for(jobs, examples, output_path=str(out_path), batch_size=args.batch_size_docs),
            run_id,
            on_event=on_event,
            max_concurrency=args.concurrency,
        )
        wall = time.perf_counter() - t0
        p1, g1 = token_counts(info.root_url)
        llm.close()
    finished = len(final.get("results") or {}) + len(final.get("failures") or {})
    new_docs = finished - (done_before[0] if done_before else 0)
    if g1 > g0 and new_docs > 0:  # a cached rerun measures the cache, not the writer
        prev = {
            "wall_s": round(prev["wall_s"] + wall, 1),
            "generated_docs": prev["generated_docs"] + new_docs,
            "prompt_tokens": int(prev["prompt_tokens"] + p1 - p0),
            "generated_tokens": int(prev["generated_tokens"] + g1 - g0),
            "server_ready_s": round(ready_s, 1),
        }
        stats[run_id] = prev
        write_json(stats_path, stats)
    return {"final": final, "stats": prev}


def problem_kind(problem: str) -> str:
    """``copy``, ``loop``, ``placeholder`` or ``other``: which HyRe check a problem text comes from."""
    if "loops" in problem:
        return "loop"
    if "placeholder" in problem:
        return "placeholder"
    if "repeats the input" in problem or "few-shot" in problem:
        return "copy"
    return "other"


def writer_report(jobs: list[Document], final: dict[str, Any], stats: dict[str, Any]) -> dict[str, Any]:
    """Copy rate, failed checks, unsupported claims and speed of one writer's run."""
    failures = final.get("failures") or {}
    results = final.get("results") or {}
    kinds = [problem_kind(str(f.get("problem", "")) if isinstance(f, dict) else str(f)) for f in failures.values()]
    copies, loops, placeholders = (kinds.count(k) for k in ("copy", "loop", "placeholder"))
    supported = unsupported = 0
    for job in jobs:
        row = results.get(job.id)
        if not row:
            continue
        doc = document_from_row(row, "job")
        parts = hyre_parts(doc)
        if parts is None or parts[0] is None:
            continue
        ok, bad = hyre_claims(parts[2], parts[0])
        supported, unsupported = supported + len(ok), unsupported + len(bad)
    n = len(jobs)
    per_min = 60 * stats["generated_docs"] / stats["wall_s"] if stats.get("wall_s") else None
    return {
        "jobs": n,
        "copy_rate_pct": round(100 * copies / n, 1),
        "loop_rate_pct": round(100 * loops / n, 1),
        "placeholder_rate_pct": round(100 * placeholders / n, 1),
        "failed_checks_pct": round(100 * len(failures) / n, 1),
        "unsupported_claims_pct": round(100 * unsupported / max(1, supported + unsupported), 1),
        "claims": supported + unsupported,
        "jobs_per_min": round(per_min, 2) if per_min else None,
        "server_ready_s": stats.get("server_ready_s"),
        "prompt_tokens_per_job": round(stats["prompt_tokens"] / stats["generated_docs"])
        if stats.get("generated_docs")
        else None,
        "generated_tokens_per_job": round(stats["generated_tokens"] / stats["generated_docs"])
        if stats.get("generated_docs")
        else None,
    }


def recheck(jobs: list[Document], generated: dict[str, Document], examples: list[tuple[Document, Document]]) -> dict:
    """The accepted answers of a run put through today's HyRe checks (``hyre_problem``): the
    share that is a copy (of the post or the few-shot answer), a loop, or the layout's
    placeholders written back. Answers generated before a check existed are counted here
    without regenerating them."""
    import prompts
    from agentic_match.augment.hyre import few_shot_answers, hyre_problem
    from agentic_match.data.render import render

    hcfg = HyReConfig(n_examples=len(examples))
    answers = few_shot_answers("job", examples, hcfg)
    layout = prompts.render("hyre")
    kinds = {"copy": 0, "loop": 0, "placeholder": 0}
    checked = retried = 0
    for job in jobs:
        doc = generated.get(job.id)
        parts = hyre_parts(doc) if doc is not None else None
        if parts is None or parts[0] is None:
            continue
        checked += 1
        retried += int(doc.metadata.get("hyre", {}).get("attempts", 1) > 1)
        problem = hyre_problem(parts[2], render(job), answers, layout, hcfg)
        if problem and (kind := problem_kind(problem)) in kinds:
            kinds[kind] += 1
    n = max(1, checked)
    return {
        "accepted": checked,
        # accepted only after a first answer was rejected (a copy, a loop, placeholders)
        "retried_pct": round(100 * retried / max(1, len(jobs)), 1),
        "rejected_now_pct": round(100 * sum(kinds.values()) / n, 1),
        **{f"{k}_now_pct": round(100 * v / n, 1) for k, v in kinds.items()},
    }


# ---------------------------------------------------------------------------- scoring
def score(encoder: Any, corpus: Corpus, split: str) -> dict[str, dict[str, float]]:
    return {t: dict(evaluate(encoder, load_task(corpus, split, t), k=100).metrics) for t in TASKS}


def window_shares(corpus: Corpus, view: HyReView, encoder: Any, split: str) -> dict[str, float]:
    """Mean share of generated tokens inside the window, over the split's augmented jobs."""
    tok, window = encoder.model.tokenizer, encoder.max_seq_length
    shares = [
        s
        for j in corpus.split_ids("job", split)
        if (s := hyre_share_in_window(corpus.jobs[j], view, tok, window)) is not None
    ]
    return {
        "hyre_share_in_window": round(statistics.mean(shares), 3) if shares else 0.0,
        "augmented_jobs": len(shares),
    }


def choose_view(args: argparse.Namespace, corpus: Corpus, aug: Corpus) -> dict[str, Any]:
    """Every candidate view on dev with the untrained encoder; the best by mean dev nDCG@10."""
    from agentic_match.retrieval.encoder import BiEncoder

    work = Path(args.work).expanduser()
    path = work / "modes.json"
    done = read_json(path, {})
    if "plain" not in done:
        done["plain"] = {"dev": score(BiEncoder.load(args.encoder), corpus, "dev")}
        write_json(path, done)
    for view in CANDIDATE_VIEWS:
        name = view_name(view)
        if name in done:
            continue
        enc = BiEncoder.load(args.encoder, hyre=view)
        done[name] = {"view": view.__dict__, "dev": score(enc, aug, "dev"), **window_shares(aug, view, enc, "dev")}
        say(f"mode {name}: " + ", ".join(f"{t} {done[name]['dev'][t]['ndcg@10']:.2f}" for t in TASKS))
        write_json(path, done)
    best = max(
        (n for n in done if n != "plain"),
        key=lambda n: statistics.mean(done[n]["dev"][t]["ndcg@10"] for t in TASKS),
    )
    return {"chosen": best, "view": done[best]["view"], "by_mode": done}


def confit_row(
    args: argparse.Namespace,
    corpus: Corpus,
    name: str,
    seed: int,
    view: HyReView | None,
    rum: bool,
    tag: str,
    band: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Train (or resume) one ConFit* model and return it with its params."""
    from agentic_match.retrieval.encoder import BiEncoder
    from agentic_match.retrieval.mining import parse_band
    from agentic_match.retrieval.training import iterative_rum, train_confit

    work = Path(args.work).expanduser() / "models" / tag
    # The benchmark's training options are the ConFitConfig fields of the same names.
    cfg = ConFitConfig(**{f: getattr(args, f) for f in TRAINING_OPTIONS}, seed=seed, hyre=view or HyReView())
    t0 = time.perf_counter()
    if rum:
        band = band or args.band
        # RUM mines with the in-batch model of the same data (HyRe jobs for the HyRe rows).
        first_dir = work / ("inbatch-hyre" if view is not None else "inbatch") / f"s{seed}"
        first = train_confit(corpus, replace(cfg, negatives="none"), first_dir, {}, progress=False)
        res = iterative_rum(
            corpus,
            replace(cfg, negatives="none"),
            work / name,
            rounds=1,
            band=parse_band(band),
            first_encoder=first.model_dir,
            progress=False,
        )[-1]
        negatives = f"RUM t=1, band {band}, 1 per pair and side"
    else:
        res = train_confit(corpus, replace(cfg, negatives="rejected"), work / name, progress=False)
        negatives = "rejected labels, 1 per pair and side"
    enc = BiEncoder.load(res.model_dir)
    params = {
        "model": str(res.model_dir),
        "seed": seed,
        "negatives": negatives,
        "best_epoch": res.best_epoch,
        "dev_ndcg@10_by_epoch": [h.get("dev_ndcg@10") for h in res.history],
        "train_max_seq_length": enc.max_seq_length,
        "infer_max_seq_length": enc.max_seq_length,
        "train_s": round(sum(h.get("train_s", 0.0) for h in res.history), 1),
        "wall_s_this_run": round(time.perf_counter() - t0, 1),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
    }
    if view is not None:
        params.update({"writer": args.writer, "hyre_view": view_name(view)})
    return enc, params


def table(
    args: argparse.Namespace, corpus: Corpus, aug: Corpus, view: HyReView, split_tag: str, band: str
) -> list[dict]:
    """The test rows of one split (cached per row in ``--work/rows.json``)."""
    from agentic_match.retrieval.encoder import BiEncoder

    work = Path(args.work).expanduser()
    path = work / "rows.json"
    cache = read_json(path, {})
    rows: list[dict] = []

    def add(system: str, make, key: str) -> None:
        if system not in args.table_rows:
            return
        if key not in cache:
            t0 = time.perf_counter()
            enc, params = make()
            metrics = score(enc, aug if "hyre" in system else corpus, "test")
            params = {**params, "split": split_tag, "eval_s": round(time.perf_counter() - t0, 1)}
            if "hyre" in system:
                params.update(window_shares(aug, enc.settings.hyre, enc, "test"))
            cache[key] = [
                {
                    "system": system,
                    "task": t,
                    "metrics": {k: round(v, 2) for k, v in metrics[t].items()},
                    "params": params,
                }
                for t in TASKS
            ]
            write_json(path, cache)
            say(f"{key}: " + ", ".join(f"{t} {metrics[t]['ndcg@10']:.2f}" for t in TASKS))
        rows.extend(cache[key])

    seeds = args.seeds if split_tag == "v1" else args.seeds[:1]
    if split_tag == "v1":
        add("raw", lambda: (BiEncoder.load(args.encoder), {"train_max_seq_length": None}), "v1/raw")
        add(
            "raw+hyre",
            lambda: (BiEncoder.load(args.encoder, hyre=view), {"writer": args.writer, "hyre_view": view_name(view)}),
            "v1/raw+hyre",
        )
    for seed in seeds:
        add(
            "confit",
            lambda s=seed: confit_row(args, corpus, f"confit-s{s}", s, None, False, split_tag),
            f"{split_tag}/confit/s{seed}",
        )
        add(
            "confit+hyre",
            lambda s=seed: confit_row(args, aug, f"confit-hyre-s{s}", s, view, False, split_tag),
            f"{split_tag}/confit+hyre/s{seed}",
        )
    if split_tag == "v1":
        add(
            "confit+rum",
            lambda: confit_row(args, corpus, f"rum-band-{band}", 0, None, True, split_tag, band=band),
            f"v1/confit+rum/band-{band}",  # the band is part of the row: a new choice retrains
        )
        add(
            "confit+hyre+rum",
            lambda: confit_row(args, aug, f"hyre-rum-band-{band}", 0, view, True, split_tag, band=band),
            f"v1/confit+hyre+rum/band-{band}",
        )
    return rows


BANDS = ("3-4", "5-10", "10-20", "20-30")


def choose_band_by_retraining(args: argparse.Namespace, corpus: Corpus) -> dict[str, Any]:
    """RUM as the paper chooses its band: one retrain per candidate band, the best by dev
    nDCG@10 (mean of both tasks); beside it the cheap heuristic's pick (``--band auto``)."""
    from agentic_match.retrieval.encoder import BiEncoder
    from agentic_match.retrieval.mining import band_label, choose_band

    path = Path(args.work).expanduser() / "bands.json"
    done = read_json(path, {})
    for band in BANDS:
        if band in done:
            continue
        enc, params = confit_row(args, corpus, f"rum-band-{band}", 0, None, True, "v1", band=band)
        dev = max(x for x in params["dev_ndcg@10_by_epoch"] if x is not None)
        done[band] = {"dev_ndcg@10": round(dev, 2), "train_s": params["train_s"]}
        say(f"band {band}: dev nDCG@10 {dev:.2f}")
        write_json(path, done)
    if "heuristic" not in done:
        first = Path(args.work).expanduser() / "models" / "v1" / "inbatch" / "s0" / "model"
        chosen, shares = choose_band(BiEncoder.load(first), corpus)
        done["heuristic"] = {"band": band_label(chosen), "dev_positive_share": shares}
        write_json(path, done)
    best = max(BANDS, key=lambda b: done[b]["dev_ndcg@10"])
    return {"chosen": best, "heuristic": done["heuristic"], "by_band": {b: done[b] for b in BANDS}}


def spread(rows: list[dict]) -> dict[str, Any]:
    """Mean ± sd of nDCG@10 over the seeds of each (split, system, task)."""
    groups: dict[str, list[float]] = {}
    for r in rows:
        groups.setdefault(f"{r['params'].get('split')}/{r['system']}/{r['task']}", []).append(r["metrics"]["ndcg@10"])
    return {
        k: {
            "mean": round(statistics.mean(v), 2),
            "sd": round(statistics.stdev(v), 2) if len(v) > 1 else None,
            "n": len(v),
        }
        for k, v in groups.items()
    }


# ---------------------------------------------------------------------------- main
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", default="~/.cache/agentic-match/bench-hyre")
    p.add_argument("--stages", default="writers,generate,modes,bands,table,splits")
    p.add_argument("--writers", default="smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    p.add_argument("--writer", default="qwen2.5-coder-1.5b", help="the writer of the full pass")
    p.add_argument("--writer-jobs", type=int, default=80, help="dev jobs of the writer comparison")
    p.add_argument(
        "--adapter-writer",
        action="append",
        default=[],
        metavar="NAME=BASE:FOLDER",
        help="a fine-tuned writer: the LoRA adapter in FOLDER served on the writer BASE, usable as NAME in "
        "--writers / --writer (e.g. the SFT + DPO adapter of benchmarks/generator_finetune.py: "
        "qwen0.5b-sft-dpo=qwen2.5-coder-0.5b:~/.cache/agentic-match/bench-finetune/RUN/adapters/hyre-sft-dpo)",
    )
    add_generation_args(p)
    p.add_argument("--max-tokens", type=int, default=220)
    p.add_argument("--encoder", default="all-minilm-l6-v2")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-seq-length", type=int, default=None, help="training and serving window (None: the encoder's)")
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--band", default="20-30", help="RUM band when the bands stage is skipped")
    p.add_argument("--seeds", default="0,1,2", help="training seeds of the key rows on v1")
    p.add_argument(
        "--table-rows",
        default="raw,raw+hyre,confit,confit+hyre,confit+rum,confit+hyre+rum",
        help="rows of the table and splits stages (each trained row is cached; a subset writes what is done)",
    )
    p.add_argument("--split-seeds", default="1,2", help="other splits (build.py --seed N) for the key rows")
    p.add_argument("--seed", type=int, default=0, help="seed of the few-shot draw")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    args.table_rows = {r.strip() for r in args.table_rows.split(",") if r.strip()}
    split_seeds = [int(s) for s in args.split_seeds.split(",") if s.strip()]
    stages = {s.strip() for s in args.stages.split(",") if s.strip()}
    work = Path(args.work).expanduser()
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    timings = read_json(work / "stage-timings.json", {})

    def timed(stage: str, fn):
        t0 = time.perf_counter()
        out = fn()
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - t0, 1)
        write_json(work / "stage-timings.json", timings)
        return out

    corpus = load_benchmark(split_dir(0, work))
    others = {s: load_benchmark(split_dir(s, work)) for s in split_seeds}
    hcfg = HyReConfig(n_examples=1, seed=args.seed, max_tokens=args.max_tokens)
    examples = shared_train_examples([corpus, *others.values()], hcfg)
    notes: dict[str, Any] = {
        "few_shot": [[j.id, r.id] for j, r in examples],
        "relevance": "topical (category crosswalk), not hiring outcomes",
        "concurrency": args.concurrency,
    }
    rows: list[dict] = []

    if "writers" in stages:
        dev_jobs = [corpus.jobs[j] for j in corpus.split_ids("job", "dev")][: args.writer_jobs]
        # A writer measured on these jobs is not started again (its server alone takes minutes).
        reports = read_json(work / "writers.json", {})
        for name in [w.strip() for w in args.writers.split(",") if w.strip()]:
            if reports.get(name, {}).get("jobs") != len(dev_jobs):
                spec, adapter = writer_spec(args, name)
                out = timed(
                    f"writers/{name}",
                    lambda name=name, spec=spec, adapter=adapter: generate(
                        args, spec, dev_jobs, examples, work / "writers" / f"{name}.jsonl", f"writer:{name}", adapter
                    ),
                )
                reports[name] = writer_report(dev_jobs, out["final"], out["stats"])
                reports[name]["in_flight"] = min(args.concurrency, -(-len(dev_jobs) // args.batch_size_docs))
            # Cheap, so always redone: what today's checks say of the answers the run accepted.
            reports[name]["recheck"] = recheck(dev_jobs, load_generated(work / "writers" / f"{name}.jsonl"), examples)
            write_json(work / "writers.json", reports)
            say(f"writer {name}: {reports[name]}")
            flat = {k: v for k, v in reports[name].items() if k != "recheck"}
            rows.append({"system": name, "task": "hyre_writer", "metrics": {**flat, **reports[name]["recheck"]}})
        notes["writers"] = reports

    generated_path = work / f"jobs.{args.writer}.jsonl"
    if "generate" in stages:
        spec, adapter = writer_spec(args, args.writer)
        out = timed(
            "generate",
            lambda: generate(
                args, spec, list(corpus.jobs.values()), examples, generated_path, f"all:{args.writer}", adapter
            ),
        )
        notes["generation"] = writer_report(list(corpus.jobs.values()), out["final"], out["stats"])
        say(f"generation: {notes['generation']}")
    generated = load_generated(generated_path)
    aug = with_jobs(corpus, generated)
    notes["augmented_jobs"] = sum(1 for d in generated.values() if hyre_parts(d) is not None)

    view = HyReView()
    if "modes" in stages or "table" in stages or "splits" in stages:
        chosen = timed("modes", lambda: choose_view(args, corpus, aug))
        view = HyReView(**chosen["view"])
        notes["modes"] = chosen
        for name, m in chosen["by_mode"].items():
            for t in TASKS:
                rows.append(
                    {
                        "system": f"raw+hyre[{name}]" if name != "plain" else "raw",
                        "task": f"dev_{t}",
                        "metrics": {k: round(v, 2) for k, v in m["dev"][t].items()},
                        "params": {k: v for k, v in m.items() if k not in ("dev",)},
                    }
                )
    band = args.band
    if "bands" in stages:
        bands = timed("bands", lambda: choose_band_by_retraining(args, corpus))
        notes["rum_band"] = bands
        band = bands["chosen"]
        for b, info in bands["by_band"].items():
            rows.append({"system": f"confit+rum[{b}]", "task": "dev_mean", "metrics": info})
    if "table" in stages:
        rows += timed("table", lambda: table(args, corpus, aug, view, "v1", band))
    if "splits" in stages:
        for s, c in others.items():
            rows += timed(
                f"splits/seed-{s}", lambda s=s, c=c: table(args, c, with_jobs(c, generated), view, f"seed-{s}", band)
            )
    notes["spread"] = spread([r for r in rows if r["system"] in ("confit", "confit+hyre")])
    notes["stage_s"] = timings
    total = time.perf_counter() - t_start
    write_json(work / "notes.json", notes)
    if not args.no_write:
        cmd = "python benchmarks/hyre.py " + " ".join(sys.argv[1:])
        path = write_results("hyre", rows, cmd.strip(), total, out_dir=REPO / "benchmarks" / "results", notes=notes)
        print(results_table_markdown(path))


if __name__ == "__main__":
    main()
