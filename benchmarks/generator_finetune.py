"""Generator fine-tuning benchmark: HyRe from the base model (few-shot) vs SFT vs SFT + DPO.

Protocol (ConFit v2, appendix B.4 and Table A3, scaled to two CPU cores):

* Data: the public benchmark's **train** labels only. SFT examples: the HyRe prompt of a
  train job (the same one-shot prompt the base model gets) -> a resume accepted for it,
  keeping the accepted pairs the encoder scores in the top ``--keep`` share; DPO pairs:
  accepted (chosen) vs rejected resume for the same train job. Held-out data for the
  intrinsic measures: the **dev** labels (dev jobs). No test job is ever trained on (the
  builders raise on leakage).
* Training: LoRA (TRL ``SFTTrainer``, then ``DPOTrainer`` continuing from the SFT adapter
  with the SFT adapter as the frozen reference), capped by ``--max-train-examples`` /
  ``--max-dpo-pairs`` / ``--max-steps`` to fit the CPU budget. Each stage runs in a child
  process so that its peak resident memory is its own; seconds per optimizer step are the
  mean over the steps after the first.
* Intrinsic: held-out SFT loss (completion tokens of accepted dev resumes) of the base
  model, SFT and SFT + DPO; DPO reward accuracy on held-out dev pairs (SFT + DPO against
  its SFT reference, and SFT against the base).
* Downstream: HyRe text for every **test** job (``--max-test-jobs`` for a smoke run) from
  each generator, through the real vLLM server serving both adapters by name (generations
  cached, graph checkpointed); then both ranking tasks on test with ONE ConFit* encoder
  (``--encoder-model``; default the retrieval benchmark's confit-rejected model, else raw
  MiniLM), the job text being ``job + separator + generated resume`` at query / candidate
  time (query-time HyRe only: the encoder is not retrained on augmented jobs). Plus the
  "no HyRe" row with the same encoder.

Every stage is resumable: datasets, adapters (with their own checkpoints), intrinsic
numbers, generations and rows live in ``--work``/<run>/ (outside the repository), where
<run> is named after the settings, so a smoke run never mixes with a full one.

    nice -n 5 python benchmarks/generator_finetune.py > ~/.cache/agentic-match/bench-finetune.log 2>&1
    python benchmarks/generator_finetune.py --max-train-examples 4 --max-dpo-pairs 2 --max-steps 2 --grad-accum 1 \\
        --max-test-jobs 3 --max-eval-examples 2 --no-write          # smoke run (~30 min on a busy 2-core box)

(The script is not called ``finetune.py``: run as a script, its folder comes first on the
import path and a ``finetune.py`` there would hide the ``finetune`` package.)

Training uses gradient checkpointing by default here (unlike the library's CPU default) so
that DPO at 1024 tokens fits in about 4.6 GB; ``--no-gradient-checkpointing`` trades memory
for speed. Note that the first optimizer step of a run has learning rate 0 (linear warm-up),
so a one-step run leaves the adapters equal to the base model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]

from agentic_match.files import atomic_write_bytes  # noqa: E402

TASKS = ("rank_resume", "rank_job")
SYSTEMS = ("no-hyre", "base-fewshot", "sft", "sft+dpo")
CONFIT_MODEL = Path("~/.cache/agentic-match/bench-retrieval/models/confit-rejected/model").expanduser()


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _sig(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:10]


def _cached(path: Path, make) -> Any:
    """``make()`` once; its JSON result is kept in ``path`` (atomic) for reruns."""
    if path.is_file():
        return json.loads(path.read_text())
    value = make()
    atomic_write_bytes(path, (json.dumps(value, indent=2) + "\n").encode())
    return value


def _finetune_config(args: argparse.Namespace, stage: str):
    from finetune.config import FinetuneConfig

    return FinetuneConfig(
        base_model=args.model,
        lora_r=args.lora_r,
        lora_alpha=2 * args.lora_r,
        learning_rate=args.lr if stage == "sft" else args.dpo_lr,
        epochs=args.epochs,
        max_steps=args.max_steps,
        grad_accum=args.grad_accum,
        max_length=args.max_length,
        save_steps=args.save_steps,
        seed=args.seed,
        gradient_checkpointing=args.gradient_checkpointing,
    )


def _train_child(stage: str, data_dir: str, args: argparse.Namespace, out: str, init: str | None, q) -> None:
    """Runs in a child process: one training stage, its meta back through ``q``."""
    try:
        from finetune.data import load_data
        from finetune.trainer import train_dpo, train_sft

        data = load_data(data_dir)
        fn = train_sft if stage == "sft" else train_dpo
        res = fn(data, _finetune_config(args, stage), out, init_adapter=init)
        q.put({"ok": True, "meta": res.meta, "resumed_from": res.resumed_from})
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        q.put({"ok": False, "error": f"{type(e).__name__}: {e}"})


def _train(stage: str, data_dir: Path, args: argparse.Namespace, out: Path, init: Path | None) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_train_child, args=(stage, str(data_dir), args, str(out), str(init) if init else None, q))
    p.start()
    import queue

    result = None
    while result is None:
        try:
            result = q.get(timeout=5)
        except queue.Empty:
            if not p.is_alive():  # died without a word: killed (the OOM killer sends SIGKILL)
                p.join()
                raise SystemExit(
                    f"{stage} training process died with exit code {p.exitcode}"
                    + (
                        " (killed: out of memory? try --max-length 768 or --gradient-checkpointing)"
                        if p.exitcode == -9
                        else ""
                    )
                ) from None
    p.join()
    if not result["ok"]:
        raise SystemExit(f"{stage} training failed: {result['error']}")
    return result


def restrict_jobs(task, job_ids: set[str]):
    """``task`` limited to the given test jobs (smoke runs): as queries, or as the job pool."""
    from agentic_match.evaluation import RankingTask

    if task.name == "rank_resume":
        queries = [q for q in task.queries if q.id in job_ids]
        return RankingTask(task.name, queries, task.candidates, {q.id: task.qrels[q.id] for q in queries}, split="test")
    pool = [c for c in task.candidates if c.id in job_ids]
    qrels = {q: {d: g for d, g in rel.items() if d in job_ids} for q, rel in task.qrels.items()}
    qrels = {q: rel for q, rel in qrels.items() if any(rel.values())}
    queries = [q for q in task.queries if q.id in qrels]
    return RankingTask(task.name, queries, pool, qrels, split="test")


def with_jobs(task, replace: dict):
    from agentic_match.evaluation import RankingTask

    return RankingTask(
        task.name,
        [replace.get(d.id, d) for d in task.queries],
        [replace.get(d.id, d) for d in task.candidates],
        task.qrels,
        task.candidate_lists,
        task.split,
    )


def copy_rows(run: Path, tag: str, examples, hcfg) -> list[dict]:
    """Per generator, the share of its HyRe texts that copy the few-shot example's answer.

    The same test (``echo_problem`` against the example's rendered answer) that
    ``hyre_document`` now applies to reject such generations; read from the generated files.
    """
    from agentic_match.augment.generation import echo_problem
    from agentic_match.augment.hyre import few_shot_answers
    from agentic_match.data import load_documents

    answers = few_shot_answers("job", examples, hcfg)
    rows = []
    for system in SYSTEMS[1:]:
        path = run / f"jobs.hyre.{system}{tag}.jsonl"
        if not path.is_file():
            continue
        texts = [d.metadata.get("hyre", {}).get("generated", "") for d in load_documents(path, "job")]
        texts = [t for t in texts if t]
        copied = sum(any(echo_problem(t, a, hcfg.max_copied_share) for a in answers) for t in texts)
        metrics = {"generated": len(texts), "copied_example_pct": round(100 * copied / max(1, len(texts)), 1)}
        rows.append({"system": system, "task": "hyre_copies_example", "metrics": metrics})
    return rows


def window_row(encoder_model: str, jobs) -> dict:
    """How many test posts alone already fill the encoder's window (``concat`` HyRe is then cut)."""
    from agentic_match.data import render
    from agentic_match.retrieval.encoder import BiEncoder

    model = BiEncoder.load(encoder_model).model
    limit = model.max_seq_length
    lengths = [len(model.tokenizer(render(j))["input_ids"]) for j in jobs]
    full = sum(n >= limit for n in lengths)
    metrics = {"jobs": len(jobs), "window_tokens": limit, "posts_filling_window_pct": round(100 * full / len(jobs), 1)}
    return {"system": "no-hyre", "task": "test_posts", "metrics": metrics}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "benchmark" / "v1"))
    p.add_argument("--work", default="~/.cache/agentic-match/bench-finetune")
    p.add_argument("--model", default="smollm2-135m", help="generator spec (packaged, get-model.sh name, folder)")
    p.add_argument(
        "--encoder-model",
        default=str(CONFIT_MODEL) if CONFIT_MODEL.is_dir() else "all-minilm-l6-v2",
        help="ConFit* encoder ranking both tasks (default: the retrieval benchmark's confit-rejected, else raw MiniLM)",
    )
    p.add_argument("--filter-encoder", default=None, help="encoder of the SFT top-fraction filter (default: the above)")
    p.add_argument("--keep", type=float, default=0.5, help="share of accepted train pairs kept for SFT")
    p.add_argument("--max-train-examples", type=int, default=256, help="SFT examples (seeded sample; CPU budget)")
    p.add_argument("--max-dpo-pairs", type=int, default=128, help="DPO pairs (seeded sample; CPU budget)")
    p.add_argument("--max-eval-examples", type=int, default=64, help="held-out examples / pairs per intrinsic measure")
    p.add_argument("--max-test-jobs", type=int, default=None, help="test jobs augmented and ranked (smoke run)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-steps", type=int, default=-1, help="optimizer steps per stage (-1: --epochs)")
    p.add_argument("--grad-accum", type=int, default=4)
    p.add_argument("--max-length", type=int, default=1024)
    p.add_argument(
        "--no-gradient-checkpointing",
        dest="gradient_checkpointing",
        action="store_false",
        help="keep activations instead of recomputing them: faster, but a DPO step at 1024 tokens then peaks "
        "above 7 GB (it was OOM-killed on the shared machine); with checkpointing about 4.6 GB",
    )
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-4, help="SFT learning rate")
    p.add_argument("--dpo-lr", type=float, default=5e-5, help="DPO learning rate")
    p.add_argument("--save-steps", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=8, help="jobs per graph task (generation)")
    p.add_argument(
        "--hyre-modes",
        default="concat,replace",
        help="how the generated resume enters the job text when ranking: concat (job + resume, the product's "
        "default; the encoder's 256 tokens often end inside the post) and/or replace (the resume alone: "
        "isolates the generator's quality)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/finetune.json")
    p.add_argument(
        "--copy-report",
        action="store_true",
        help="only add the copied-example rows, computed from a finished run's generated files, to the results file",
    )
    args = p.parse_args()
    args.hyre_modes = args.hyre_modes.split(",")
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()

    from transformers import AutoTokenizer

    from agentic_match.augment.hyre import hyre_messages
    from agentic_match.config import load_settings
    from agentic_match.data import load_benchmark
    from agentic_match.data.schema import Document
    from agentic_match.evaluation import evaluate, load_task, results_table_markdown, write_results
    from agentic_match.llm import ManagedServer, client_for
    from agentic_match.models import resolve_generator
    from agentic_match.retrieval.encoder import BiEncoder
    from finetune.config import DataConfig
    from finetune.data import TokenBudget, build_dpo, build_hyre_sft, encoder_scorer, limit, load_data, save_data
    from finetune.evaluate import heldout_loss, preference_accuracy
    from graphs import augment_jobs
    from graphs.batching import checkpointer_at, run_graph

    settings = load_settings()
    base = resolve_generator(args.model, settings.models_dir)
    data_cfg = DataConfig(keep_top_fraction=args.keep, seed=args.seed)
    # Datasets depend on fewer settings than training: a run with other training settings
    # reuses them (the encoder filter alone takes minutes on CPU).
    data_keys = ("data", "model", "encoder_model", "filter_encoder", "keep", "max_train_examples", "max_dpo_pairs",
                 "max_eval_examples", "seed")  # fmt: skip
    # Settings that do not change what is trained or generated:
    unsigned = ("work", "no_write", "batch_size", "max_test_jobs", "hyre_modes", "copy_report")
    sig_parts = {k: v for k, v in vars(args).items() if k not in unsigned}
    # The prompt format is part of the data: a code change to the HyRe prompt builds anew.
    probe = hyre_messages(
        Document("p-job", "job", text="job"),
        [(Document("e-job", "job", text="example job"), Document("e-res", "resume", text="example resume"))],
        data_cfg.hyre,
    )
    sig_parts["prompt_format"] = _sig({"messages": probe})
    work = Path(args.work).expanduser()
    run = work / f"{Path(args.model).name}-{_sig(sig_parts)}"
    data_root = work / f"{Path(args.model).name}-data-{_sig({k: sig_parts[k] for k in (*data_keys, 'prompt_format')})}"
    run.mkdir(parents=True, exist_ok=True)
    (run / "args.json").write_text(json.dumps(sig_parts, indent=2))
    _say(f"work folder {run} (datasets in {data_root})")

    corpus = load_benchmark(args.data)
    train_labels, dev_labels = corpus.label_splits["train"], corpus.label_splits["dev"]
    budget = TokenBudget(AutoTokenizer.from_pretrained(base))

    # ---- datasets (train labels; dev labels held out) --------------------------------
    sft_dir, dpo_dir = data_root / "sft", data_root / "dpo"
    if not (sft_dir / "build.json").is_file():
        _say("building the SFT dataset (encoder filter on accepted train pairs)")
        scorer = encoder_scorer(BiEncoder.load(args.filter_encoder or args.encoder_model))
        sft = build_hyre_sft(
            corpus, train_labels, eval_labels=dev_labels, config=data_cfg, scorer=scorer, budget=budget
        )
        save_data(limit(sft, args.max_train_examples, args.max_eval_examples), sft_dir)
    sft = load_data(sft_dir)
    if not (dpo_dir / "build.json").is_file():
        _say("building the DPO dataset")
        dpo = build_dpo(
            corpus, train_labels, eval_labels=dev_labels, config=data_cfg, budget=budget, examples=sft.examples
        )
        save_data(limit(dpo, args.max_dpo_pairs, args.max_eval_examples), dpo_dir)
    dpo = load_data(dpo_dir)
    _say(f"SFT {sft.sizes()} DPO {dpo.sizes()}; few-shot pair {[(j.id, r.id) for j, r in sft.examples]}")

    if args.copy_report:
        tag = f"-jobs{args.max_test_jobs}" if args.max_test_jobs else ""
        test_docs = [corpus.jobs[j] for j in corpus.split_ids("job", "test")]
        extra = [*copy_rows(run, tag, sft.examples, data_cfg.hyre), window_row(args.encoder_model, test_docs)]
        for r in extra:
            _say(f"{r['system']}: {r['metrics']}")
        path = REPO / "benchmarks" / "results" / "finetune.json"
        if not args.no_write and not args.max_test_jobs and path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            added = {r["task"] for r in extra}
            data["rows"] = [r for r in data["rows"] if r["task"] not in added] + extra
            data.setdefault("notes", {})["copy_report"] = {
                "command": "python benchmarks/generator_finetune.py " + " ".join(sys.argv[1:]),
                "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "what": "rows hyre_copies_example and test_posts added from this run's files",
            }
            atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())
        return

    # ---- training (child processes: clean peak memory per stage) -----------------------
    adapters = {"sft": run / "adapters" / "hyre-sft", "sft+dpo": run / "adapters" / "hyre-sft-dpo"}
    metas: dict[str, dict] = {}
    for stage, data_dir, out, init in (
        ("sft", sft_dir, adapters["sft"], None),
        ("dpo", dpo_dir, adapters["sft+dpo"], adapters["sft"]),
    ):
        if (out / "adapter_meta.json").is_file():
            metas[stage] = json.loads((out / "adapter_meta.json").read_text())
        else:
            _say(f"training {stage} -> {out}")
            metas[stage] = _train(stage, data_dir, args, out, init)["meta"]
        t = metas[stage]["training"]
        _say(f"{stage}: {t['global_steps']} steps, {t.get('s_per_step')} s/step, peak RSS {t['peak_rss_mb']} MB")

    # ---- intrinsic ----------------------------------------------------------------------
    cfg = _finetune_config(args, "sft")

    def intrinsic() -> dict:
        cap = args.max_eval_examples
        out = {
            "loss": {
                "base": heldout_loss(sft, None, config=cfg, max_examples=cap),
                "sft": heldout_loss(sft, adapters["sft"], config=cfg, max_examples=cap),
                "sft+dpo": heldout_loss(sft, adapters["sft+dpo"], config=cfg, max_examples=cap),
            },
            "reward": {
                "sft+dpo vs sft": preference_accuracy(
                    dpo, adapters["sft+dpo"], reference=adapters["sft"], config=cfg, max_examples=cap
                ),
                "sft vs base": preference_accuracy(dpo, adapters["sft"], reference=None, config=cfg, max_examples=cap),
            },
        }
        return out

    _say("intrinsic measures on held-out dev data")
    intr = _cached(run / "intrinsic.json", intrinsic)

    # ---- generation for test jobs, through the real vLLM server ---------------------------
    tasks = {t: load_task(corpus, "test", t) for t in TASKS}
    test_jobs = [corpus.jobs[j] for j in corpus.split_ids("job", "test")]
    if args.max_test_jobs:
        judged = [q.id for q in tasks["rank_resume"].queries][: args.max_test_jobs]
        test_jobs = [corpus.jobs[j] for j in judged]
        tasks = {t: restrict_jobs(x, set(judged)) for t, x in tasks.items()}
    tag = f"-jobs{args.max_test_jobs}" if args.max_test_jobs else ""
    generated: dict[str, dict[str, Document]] = {}
    gen_rows: list[dict] = []
    served = {"sft": "hyre-sft", "sft+dpo": "hyre-sft-dpo"}
    hcfg = data_cfg.hyre
    with (
        ManagedServer(args.model, settings, adapters={served[k]: str(v) for k, v in adapters.items()}) as info,
        checkpointer_at(run / "graphs.sqlite") as saver,
    ):
        client = client_for(settings, info)
        for system, adapter in (("base-fewshot", None), ("sft", served["sft"]), ("sft+dpo", served["sft+dpo"])):
            _say(f"HyRe by {system} for {len(test_jobs)} test jobs")
            t1 = time.perf_counter()
            final = run_graph(
                augment_jobs.build_graph(client, hcfg, adapter=adapter, checkpointer=saver),
                augment_jobs.inputs_for(
                    test_jobs,
                    sft.examples,
                    output_path=str(run / f"jobs.hyre.{system}{tag}.jsonl"),
                    batch_size=args.batch_size,
                ),
                f"bench-ft-{system}{tag}",
                max_concurrency=settings.llm.max_concurrency,
            )
            from agentic_match.data import document_from_row

            generated[system] = {k: document_from_row(v, "job") for k, v in final["results"].items()}
            texts = [d.metadata.get("hyre", {}).get("generated", "") for d in generated[system].values()]
            gen_rows.append(
                {
                    "system": system,
                    "task": "hyre_generation",
                    "metrics": {
                        "jobs": len(test_jobs),
                        "failed": len(final["failures"]),
                        "mean_chars": round(sum(map(len, texts)) / max(1, len(texts)), 1),
                        "wall_s": round(time.perf_counter() - t1, 1),
                    },
                }
            )
            _say(f"{system}: {len(final['results'])} generated, {len(final['failures'])} failed (kept as is)")

    # ---- downstream ranking ---------------------------------------------------------------
    from dataclasses import replace as dc_replace

    from agentic_match.augment.hyre import augmented_document

    encoder = BiEncoder.load(args.encoder_model)
    rows: list[dict] = []
    for mode in args.hyre_modes:
        for system in SYSTEMS:
            if system == "no-hyre" and mode != args.hyre_modes[0]:
                continue  # the same numbers in every mode
            hyre_cfg = dc_replace(hcfg, mode=mode)
            replace = {
                k: augmented_document(corpus.jobs[k], d.metadata.get("hyre", {}).get("generated", ""), hyre_cfg)
                for k, d in generated.get(system, {}).items()
            }
            label = system if system == "no-hyre" else f"{system}/{mode}"
            for name, task in tasks.items():
                res = evaluate(encoder, with_jobs(task, replace))
                rows.append({"system": label, "task": name, "metrics": res.metrics, "queries": len(task.queries)})
                _say(f"{label:20s} {name:12s} " + " ".join(f"{k}={v:.2f}" for k, v in res.metrics.items()))

    for system, loss in intr["loss"].items():
        rows.append({"system": system, "task": "heldout_sft_loss", "metrics": loss})
    for system, acc in intr["reward"].items():
        m = {"reward_accuracy_pct": round(100 * acc["reward_accuracy"], 2), "reward_margin": acc["reward_margin"]}
        rows.append({"system": system, "task": "dpo_reward_accuracy", "metrics": m, "pairs": acc["pairs"]})
    for stage, meta in metas.items():
        t = meta["training"]
        rows.append(
            {
                "system": "sft" if stage == "sft" else "sft+dpo",
                "task": "training",
                "metrics": {
                    "steps": t["global_steps"],
                    "examples": t["examples"],
                    "s_per_step": t.get("s_per_step"),
                    "peak_rss_mb": t["peak_rss_mb"],
                    "train_loss": meta["metrics"].get("train_loss"),
                },
                "device": t["device"],
                "torch_threads": t["torch_threads"],
            }
        )
    rows += gen_rows
    rows += [*copy_rows(run, tag, sft.examples, hcfg), window_row(args.encoder_model, test_jobs)]
    total = time.perf_counter() - t0
    _say(f"done in {total:.0f}s")
    notes = {
        "protocol": "query-time HyRe only: the ranking encoder is not retrained on augmented jobs; every test job's "
        "text is job + separator + the generated hypothetical resume (system/concat) or the generated resume alone "
        "(system/replace), as query in rank_resume and as candidate in rank_job; a failed generation keeps the "
        "plain job; the no-hyre row uses the same encoder on the plain jobs",
        "generator": args.model,
        "encoder": args.encoder_model,
        "train_data": f"train labels only; SFT {sft.sizes()['train']} examples (top {args.keep:.0%} of accepted "
        f"pairs by encoder score, capped), DPO {dpo.sizes()['train']} pairs (accepted vs rejected, same job)",
        "heldout_data": f"dev labels: {sft.sizes()['eval']} SFT examples, {dpo.sizes()['eval']} DPO pairs",
        "few_shot": [[j.id, r.id] for j, r in sft.examples],
        "test_jobs": len(test_jobs),
        "training": {
            "max_steps": args.max_steps,
            "epochs": args.epochs,
            "grad_accum": args.grad_accum,
            "max_length": args.max_length,
            "lora_r": args.lora_r,
        },  # fmt: skip
    }
    atomic_write_bytes(run / "rows.json", (json.dumps({"rows": rows, "notes": notes}, indent=2) + "\n").encode())
    if not args.no_write and not args.max_test_jobs:
        cmd = "python benchmarks/generator_finetune.py " + " ".join(sys.argv[1:])
        path = write_results("finetune", rows, cmd.strip(), total, out_dir=REPO / "benchmarks" / "results", notes=notes)
        print(results_table_markdown(path))
    else:
        _say(f"rows in {run / 'rows.json'} (results file not written)")


if __name__ == "__main__":
    main()
