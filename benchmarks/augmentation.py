"""Augmentation benchmark: HyRe, SRC / IRC completion and the LGIR head on benchmark v1 (test).

Systems (all on the same encoder, default the packaged MiniLM, no fine-tuning):

* ``minilm`` - plain rendered documents (the reference row).
* ``minilm+hyre`` - every test job is ``job + separator + hypothetical resume`` (HyRe,
  one fixed few-shot pair drawn from train labels whose job is not in test).
* ``minilm+src`` / ``minilm+irc`` - every test resume carries an ``inferred`` section from
  self-report / interaction-based completion.
* ``lgir`` - the LGIR head (shot classifier, GAN alignment, BPR scorer) trained on train
  resumes, jobs and interactions, on top of the encoder's embeddings.

Rows: ``{"system", "task": "rank_resume" | "rank_job", "metrics"}``, plus rows with
``"task": "fabrication"`` whose metrics are the share (0-100) of completion skills with no
support in the resume or its interacted jobs, per method.

Every LLM step runs through its LangGraph graph with checkpoints and outputs in ``--work``
(outside the repository) and the generation cache, so an interrupted benchmark resumes and a
rerun sends no request. ``--limit N`` keeps N queries per task (and a small pool) for a smoke run.

    nice -n 5 python benchmarks/augmentation.py > ~/.cache/agentic-match/bench-augmentation.log 2>&1
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agentic_match.augment.completion import (  # noqa: E402
    CompletionConfig,
    FabricationReport,
    compare_fabrication,
    interacted_jobs,
)
from agentic_match.augment.hyre import HyReConfig, pick_examples  # noqa: E402
from agentic_match.augment.lgir import LGIRConfig, LGIRRanker, embed_documents, fit_lgir  # noqa: E402
from agentic_match.config import load_settings  # noqa: E402
from agentic_match.data import load_benchmark  # noqa: E402
from agentic_match.data import document_from_row  # noqa: E402
from agentic_match.data.schema import Document  # noqa: E402
from agentic_match.evaluation import RankingTask, evaluate, load_task, results_table_markdown, write_results  # noqa: E402
from graphs import augment_jobs, complete_resumes  # noqa: E402
from graphs.batching import checkpointer_at, run_graph  # noqa: E402

TASKS = ("rank_resume", "rank_job")
SYSTEMS = ("minilm", "minilm+hyre", "minilm+src", "minilm+irc", "lgir")


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def limit_task(task: RankingTask, n: int) -> RankingTask:
    """The first ``n`` queries over their judged candidates plus a few others (smoke runs)."""
    queries = task.queries[:n]
    judged = {d for q in queries for d in task.qrels.get(q.id, {})}
    others = [c for c in task.candidates if c.id not in judged][: 5 * n]
    pool = [c for c in task.candidates if c.id in judged] + others
    return RankingTask(task.name, queries, pool, {q.id: task.qrels[q.id] for q in queries}, split=task.split)


def with_documents(task: RankingTask, replace: dict[str, Document]) -> RankingTask:
    """``task`` with some documents (queries or candidates) replaced by augmented ones."""
    sub = [replace.get(d.id, d) for d in task.queries]
    pool = [replace.get(d.id, d) for d in task.candidates]
    return RankingTask(task.name, sub, pool, task.qrels, task.candidate_lists, task.split)


def _docs_of(task_map: dict[str, RankingTask], kind: str) -> list[Document]:
    seen: dict[str, Document] = {}
    for t in task_map.values():
        for d in [*t.queries, *t.candidates]:
            if d.kind == kind:
                seen.setdefault(d.id, d)
    return list(seen.values())


def _rows_to_docs(results: dict[str, dict], kind: str) -> dict[str, Document]:
    out = {}
    for rid, row in results.items():
        doc = document_from_row(row, kind)  # type: ignore[arg-type]
        if isinstance(doc, Document):
            out[rid] = doc
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "benchmark" / "v1"))
    p.add_argument("--work", default="~/.cache/agentic-match/bench-augmentation")
    p.add_argument("--encoder", default="all-minilm-l6-v2")
    p.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of " + ", ".join(SYSTEMS))
    p.add_argument("--limit", type=int, default=None, help="queries per task (smoke run; metrics not comparable)")
    p.add_argument("--hyre-max-tokens", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=8, help="documents per graph task")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/augmentation.json")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        p.error(f"unknown system(s): {', '.join(sorted(unknown))}")
    work = Path(args.work).expanduser()
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    from agentic_match.llm import open_llm
    from agentic_match.retrieval.encoder import BiEncoder

    corpus = load_benchmark(args.data)
    tasks = {t: load_task(corpus, "test", t) for t in TASKS}
    if args.limit:
        tasks = {t: limit_task(x, args.limit) for t, x in tasks.items()}
    encoder = BiEncoder.load(args.encoder)
    rows: list[dict] = []

    def score(system: str, task_map: dict[str, RankingTask], ranker=encoder) -> None:
        for name, task in task_map.items():
            res = evaluate(ranker, task)
            rows.append({"system": system, "task": name, "metrics": res.metrics, "wall_s": round(res.wall_s, 2)})
            _say(f"{system:14s} {name:12s} " + " ".join(f"{k}={v:.2f}" for k, v in res.metrics.items()))

    if "minilm" in systems:
        score("minilm", tasks)

    needs_llm = {"minilm+hyre", "minilm+src", "minilm+irc"} & set(systems)
    tag = f"-limit{args.limit}" if args.limit else ""
    if needs_llm:
        settings = load_settings()
        with open_llm(settings) as llm, checkpointer_at(work / "graphs.sqlite") as saver:
            if "minilm+hyre" in systems:
                jobs = _docs_of(tasks, "job")
                hcfg = HyReConfig(n_examples=1, seed=args.seed, max_tokens=args.hyre_max_tokens)
                train = corpus.label_splits.get("train", corpus.labels)
                examples = pick_examples(corpus, train, hcfg, exclude_jobs={j.id for j in jobs})
                _say(f"HyRe over {len(jobs)} test jobs")
                final = run_graph(
                    augment_jobs.build_graph(llm, hcfg, checkpointer=saver),
                    augment_jobs.inputs_for(
                        jobs, examples, output_path=str(work / f"jobs.hyre{tag}.jsonl"), batch_size=args.batch_size
                    ),
                    f"bench-hyre{tag}",
                    max_concurrency=settings.llm.max_concurrency,
                )
                _say(f"HyRe: {len(final['results'])} augmented, {len(final['failures'])} failed (kept as is)")
                score(
                    "minilm+hyre",
                    {t: with_documents(x, _rows_to_docs(final["results"], "job")) for t, x in tasks.items()},
                )
            inter = interacted_jobs(corpus.interactions, corpus.jobs)
            resumes = _docs_of(tasks, "resume")
            reports: list[FabricationReport] = []
            for method in ("src", "irc"):
                if f"minilm+{method}" not in systems:
                    continue
                _say(f"{method.upper()} completion of {len(resumes)} test resumes")
                final = run_graph(
                    complete_resumes.build_graph(llm, CompletionConfig(method=method), checkpointer=saver),  # type: ignore[arg-type]
                    complete_resumes.inputs_for(
                        resumes,
                        inter,
                        output_path=str(work / f"resumes.{method}{tag}.jsonl"),
                        batch_size=args.batch_size,
                    ),
                    f"bench-{method}{tag}",
                    max_concurrency=settings.llm.max_concurrency,
                )
                reports += [
                    FabricationReport(k, v["method"], v["supported"], v["unsupported"])
                    for k, v in (final.get("fabrication") or {}).items()
                ]
                replaced = _rows_to_docs(final["results"], "resume")
                score(f"minilm+{method}", {t: with_documents(x, replaced) for t, x in tasks.items()})
            for method, stats in compare_fabrication(reports).items():
                rows.append(
                    {
                        "system": f"minilm+{method}",
                        "task": "fabrication",
                        "metrics": {"unsupported_skills_pct": round(100 * stats["rate"], 2)},
                        "documents": int(stats["documents"]),
                        "skills": int(stats["skills"]),
                    }
                )
                _say(f"fabrication {method}: {100 * stats['rate']:.1f}% of {int(stats['skills'])} skills unsupported")

    if "lgir" in systems:
        train_r = set(corpus.split_ids("resume", "train"))
        train_j = set(corpus.split_ids("job", "train"))
        train_inter = [i for i in corpus.interactions if i.resume_id in train_r and i.job_id in train_j]
        _say(f"LGIR head on {len(train_r)} train resumes, {len(train_j)} jobs, {len(train_inter)} interactions")
        rvecs = embed_documents(encoder, [corpus.resumes[r] for r in sorted(train_r)])
        jvecs = embed_documents(encoder, [corpus.jobs[j] for j in sorted(train_j)])
        model = fit_lgir(rvecs, jvecs, train_inter, LGIRConfig(seed=args.seed))
        score("lgir", tasks, LGIRRanker(model, encoder))

    total = time.perf_counter() - t0
    _say(f"done in {total:.0f}s")
    if not args.no_write and not args.limit:
        cmd = "nice -n 5 python benchmarks/augmentation.py " + " ".join(sys.argv[1:])
        path = write_results("augmentation", rows, cmd.strip(), total, out_dir=REPO / "benchmarks" / "results")
        print(results_table_markdown(path))


if __name__ == "__main__":
    main()
