"""Alignment benchmark: judge quality, the RankPO trade-off, and reranking, on benchmark v1.

Sections (each resumable; work files live in ``--work``, outside the repository):

1. **Judge quality** - pairs of dev resumes for a dev job whose benchmark grades differ:
   agreement of the judge's (both-orders, consistent) verdict with the higher grade, and
   the position-flip rate (share of pairs whose two orders disagree).
2. **RankPO trade-off** - the judge labels pairs from the stage-1 encoder's top-k on train
   jobs; preferences of a held-out share of jobs measure "alignment" (accuracy of the
   tuned encoder on them); dev / test nDCG@10 (mean of both tasks) measure "retention".
   Swept: learning rate (and β) for RankPO, SimRankPO and the SFT baseline.
3. **Reranking** - FAISS top-``depth`` of the stage-1 encoder reranked by a cross-encoder
   (BCE, LambdaLoss) and by the LLM's P(yes); nDCG@10 on both test tasks and reranking
   latency per query on this machine.

The stage-1 encoder is taken from the retrieval benchmark's cache (ConFit* + RUM when
present, else ConFit* in-batch). Every subsample is a flag and is written into the
results file. Full size (a later session, more cores)::

    nice -n 10 python benchmarks/alignment.py --judge-jobs 0 --pref-jobs 0 --rerank-queries 0

Small configuration (2 shared cores)::

    nice -n 10 python benchmarks/alignment.py --small
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from agentic_match.align.judge import JudgeConfig, JudgePair, candidate_pairs, judge_pairs  # noqa: E402
from agentic_match.align.preferences import load_preferences, split_preferences, write_preferences  # noqa: E402
from agentic_match.data import load_benchmark  # noqa: E402
from agentic_match.data.render import render  # noqa: E402
from agentic_match.evaluation import evaluate, load_task, write_results  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

TASKS = ("rank_resume", "rank_job")
STAGE1_DIR = Path("~/.cache/agentic-match/bench-retrieval/models").expanduser()


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def stage1_model(explicit: str | None) -> tuple[str, str]:
    """``(name, folder)`` of the stage-1 encoder: ConFit* + RUM if cached, else in-batch."""
    if explicit:
        parts = Path(explicit).parts
        # .../models/<name>/... -> <name> (e.g. "rum"), else the folder's own name
        name = parts[parts.index("models") + 1] if "models" in parts[:-1] else Path(explicit).name
        return f"given-{name}", explicit
    rum = sorted(STAGE1_DIR.glob("rum/*/model")) + sorted(STAGE1_DIR.glob("rum/*/*/model"))
    rum = [p for p in rum if (p / "modules.json").is_file()]
    if rum:
        return "confit-rum", str(rum[-1])
    inbatch = STAGE1_DIR / "confit-inbatch" / "model"
    if (inbatch / "modules.json").is_file():
        return "confit-inbatch", str(inbatch)
    raise SystemExit(f"no stage-1 model under {STAGE1_DIR}; run benchmarks/retrieval.py first or pass --stage1")


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.a = args
        self.work = Path(args.work).expanduser()
        self.work.mkdir(parents=True, exist_ok=True)
        self.corpus = load_benchmark(args.data)
        self.stage1_name, self.stage1 = stage1_model(args.stage1)
        self.rows: list[dict[str, Any]] = []
        self.notes: dict[str, Any] = {"stage1": self.stage1_name, "subsamples": {}}
        self._encoder = None
        self.judge_config = JudgeConfig(
            max_doc_chars=args.judge_chars or JudgeConfig().max_doc_chars, mode=args.judge_mode
        )

    def encoder(self):
        from agentic_match.retrieval.encoder import BiEncoder

        if self._encoder is None:
            self._encoder = BiEncoder.load(self.stage1)
        return self._encoder

    def retention(self, ranker, split: str, max_queries: int | None = None) -> dict[str, float]:
        out = {}
        for task in TASKS:
            t = load_task(self.corpus, split, task)
            if max_queries:
                t.queries = t.queries[:max_queries]
                t.qrels = {q.id: t.qrels[q.id] for q in t.queries}
            out[task] = evaluate(ranker, t, k=100).metrics["ndcg@10"]
        return out

    # ------------------------------------------------------------------ 1. judge quality
    def judge_quality(self, llm) -> None:
        rng = random.Random(self.a.seed)
        qrels = self.corpus.qrels["dev_rank_resume"]
        jobs = sorted(qrels)
        if self.a.judge_jobs:
            jobs = rng.sample(jobs, min(self.a.judge_jobs, len(jobs)))
        self.notes["subsamples"]["judge_quality"] = (
            f"{len(jobs)} dev jobs x {self.a.judge_pairs} pairs with differing grades"
        )
        cut = self.judge_config.max_doc_chars
        dev_resumes = [r for r in self.corpus.split_ids("resume", "dev") if r in self.corpus.resumes]
        pairs, truth = [], {}
        for j in jobs:
            graded = qrels[j]
            for _ in range(self.a.judge_pairs):
                a = rng.choice(list(graded))
                b = rng.choice(dev_resumes)
                if graded.get(b, 0) == graded[a]:
                    continue
                if rng.random() < 0.5:
                    a, b = b, a
                p = JudgePair(
                    j,
                    a,
                    b,
                    render(self.corpus.jobs[j])[:cut],
                    render(self.corpus.resumes[a])[:cut],
                    render(self.corpus.resumes[b])[:cut],
                )
                if p.key not in truth:
                    pairs.append(p)
                    truth[p.key] = "A" if graded.get(a, 0) > graded.get(b, 0) else "B"
        from dataclasses import replace as dc_replace

        # Both modes are measured (answers are cached, so the pairwise pass is free on a rerun).
        for mode in ("pairwise", "pointwise"):
            t0 = time.perf_counter()
            rep = judge_pairs(llm, pairs, dc_replace(self.judge_config, mode=mode), concurrency=self.a.concurrency)
            wall = time.perf_counter() - t0
            decided = [o for o in rep.outcomes if o.preferred in ("A", "B")]
            agree = sum(o.preferred == truth[o.pair.key] for o in decided)
            self.rows.append(
                {
                    "system": f"judge-{self.a.judge_model_name}-{mode}",
                    "task": "judge_dev_pairs",
                    "metrics": {
                        "agreement": 100 * agree / len(decided) if decided else None,
                        # pairwise: the two orders disagree; pointwise: P(fit) within the tie margin.
                        "tie_rate": 100 * rep.flip_rate() if decided or rep.counts()["ties"] else None,
                        **rep.counts(),
                        "wall_s": round(wall, 1),
                    },
                }
            )
            _say(f"judge quality ({mode}): {self.rows[-1]['metrics']}")

    # ------------------------------------------------------------------ 2. RankPO trade-off
    def preferences(self, llm) -> Path:
        path = self.work / "train-preferences.jsonl"
        pairs = candidate_pairs(
            self.encoder(),
            self.corpus,
            split="train",
            k=self.a.pref_k,
            pairs_per_query=self.a.pref_pairs,
            max_queries=self.a.pref_jobs or None,
            max_doc_chars=self.judge_config.max_doc_chars,
            seed=self.a.seed,
        )
        self.notes["subsamples"]["preferences"] = (
            f"{len({p.query_id for p in pairs})} train jobs x {self.a.pref_pairs} pairs "
            f"from the stage-1 top-{self.a.pref_k}"
        )
        rep = judge_pairs(llm, pairs, self.judge_config, concurrency=self.a.concurrency)
        write_preferences(path, rep.records)
        self.notes["judge_train_counts"] = rep.counts()
        _say(f"train preferences: {rep.counts()}")
        return path

    def tradeoff(self, prefs_path: Path) -> None:
        from agentic_match.align.trainer import AlignConfig, train_align
        from agentic_match.retrieval.encoder import BiEncoder

        prefs = load_preferences(prefs_path, self.corpus).preferences
        train, held = split_preferences(prefs, 0.25, self.a.seed)
        self.notes["subsamples"]["tradeoff"] = (
            f"{len(train)} train / {len(held)} held-out preferences; retention on the first "
            f"{self.a.eval_queries or 'all'} queries per task"
        )
        from agentic_match.align.trainer import preference_accuracy

        base = self.encoder()
        self.rows.append(self._tradeoff_row("stage1", {}, preference_accuracy(base, held), base))
        for method in self.a.methods:
            for lr in self.a.lrs:
                for beta in self.a.betas if method != "sft" else [None]:
                    name = f"{method}-lr{lr:g}" + (f"-b{beta:g}" if beta is not None else "")
                    cfg = AlignConfig(
                        base=self.stage1,
                        method=method,
                        learning_rate=lr,
                        beta=beta or 2.0,
                        epochs=self.a.align_epochs,
                        batch_size=self.a.align_batch,
                        eval_split=None,
                    )
                    t0 = time.perf_counter()
                    res = train_align(train, cfg, self.work / "align" / name, held_out=held, progress=False)
                    enc = BiEncoder.load(res.model_dir)
                    row = self._tradeoff_row(
                        name, {"method": method, "lr": lr, "beta": beta}, preference_accuracy(enc, held), enc
                    )
                    row["metrics"]["train_s"] = round(time.perf_counter() - t0, 1)
                    self.rows.append(row)

    def _tradeoff_row(self, name: str, params: dict, alignment: float, enc) -> dict:
        m = {"alignment": alignment}
        for split in self.a.retention_splits:
            r = self.retention(enc, split, self.a.eval_queries or None)
            m.update({f"{split}_{t}_ndcg@10": v for t, v in r.items()})
            m[f"{split}_retention_ndcg@10"] = sum(r.values()) / len(r)
        _say(f"tradeoff {name}: {m}")
        return {"system": f"align-{name}", "task": "rankpo_tradeoff", "params": params, "metrics": m}

    # ------------------------------------------------------------------ 3. reranking
    def reranking(self, llm) -> None:
        from agentic_match.retrieval.rerank import CrossEncoderReranker, LLMReranker, RerankedRanker
        from agentic_match.retrieval.training.cross_encoder import CrossEncoderConfig, train_cross_encoder

        rerankers: dict[str, Any] = {}
        for loss in self.a.ce_losses:
            cfg = CrossEncoderConfig(loss=loss, epochs=1, max_seq_length=self.a.ce_max_length, batch_size=16)
            corpus = self.corpus
            if self.a.ce_train_jobs:
                from agentic_match.data.schema import Corpus

                keep = set(
                    random.Random(self.a.seed).sample(
                        sorted({lab.job_id for lab in corpus.label_splits["train"]}), self.a.ce_train_jobs
                    )
                )
                corpus = Corpus(
                    resumes=corpus.resumes,
                    jobs=corpus.jobs,
                    splits=corpus.splits,
                    label_splits={"train": [lab for lab in corpus.label_splits["train"] if lab.job_id in keep]},
                    source=corpus.source,
                )
                self.notes["subsamples"]["cross_encoder_train"] = (
                    f"labels of {self.a.ce_train_jobs} train jobs, max_length {self.a.ce_max_length}"
                )
            rerankers[f"cross-encoder-{loss}"] = CrossEncoderReranker(
                train_cross_encoder(corpus, cfg, self.work / f"ce-{loss}", progress=False)
            )
        from agentic_match.llm import Completion

        if llm is not None and "top_logprobs" in Completion.__dataclass_fields__:
            # Without the generation cache: the latency measured is the model's, also on a rerun.
            uncached = copy.copy(llm)
            uncached.cache = None
            rerankers["llm-pyes"] = LLMReranker(uncached)
        elif llm is not None:
            self.notes["llm_reranker_skipped"] = "LLMClient returns no logprobs yet (Completion.top_logprobs)"
        first = self.encoder()
        self.notes["subsamples"]["reranking"] = (
            f"first {self.a.rerank_queries or 'all'} test queries per task, depth {self.a.depth}"
        )
        for task in TASKS:
            t = load_task(self.corpus, "test", task)
            if self.a.rerank_queries:
                t.queries = t.queries[: self.a.rerank_queries]
                t.qrels = {q.id: t.qrels[q.id] for q in t.queries}
            base = evaluate(first, t, k=100)
            self.rows.append(
                {
                    "system": f"faiss-{self.stage1_name}",
                    "task": task,
                    "metrics": {"ndcg@10": base.metrics["ndcg@10"], "queries": len(t.queries)},
                }
            )
            for name, rr in rerankers.items():
                ranker = RerankedRanker(first, rr, depth=self.a.depth)
                t0 = time.perf_counter()
                res = evaluate(ranker, t, k=self.a.depth, metrics=("ndcg@10",))
                wall = time.perf_counter() - t0
                self.rows.append(
                    {
                        "system": f"rerank-{name}",
                        "task": task,
                        "metrics": {
                            "ndcg@10": res.metrics["ndcg@10"],
                            "queries": len(t.queries),
                            "s_per_query": round(wall / max(1, len(t.queries)), 3),
                        },
                    }
                )
                _say(f"rerank {name} {task}: {self.rows[-1]['metrics']}")


SECTION_OF_TASK = {
    "judge_dev_pairs": "judge",
    "rankpo_tradeoff": "tradeoff",
    "rank_resume": "rerank",
    "rank_job": "rerank",
}


def carry_over(rows: list[dict], notes: dict, sections: set[str], previous: Path, command: str) -> list[dict]:
    """``rows`` plus the previous results file's rows of the sections not run this time.

    A run of some sections (``--sections tradeoff``) must not erase the others' numbers.
    ``notes["sections_from"]`` records, per section, the command and date that produced its
    rows; ``notes["carried_args"]`` the earlier run's arguments and subsample notes.
    """
    now = {"command": command, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    notes["section_of_task"] = SECTION_OF_TASK
    notes["sections_from"] = {s: now for s in sorted(sections)}
    if not previous.is_file():
        return rows
    old = json.loads(previous.read_text(encoding="utf-8"))
    old_from = old.get("notes", {}).get("sections_from", {})
    old_notes = old.get("notes", {})
    old_carried = old_notes.get("carried_args", {})
    kept = [r for r in old["rows"] if SECTION_OF_TASK.get(r["task"]) not in sections]
    notes["carried_args"] = {}
    for sec in sorted({SECTION_OF_TASK.get(r["task"]) for r in kept} - {None}):
        notes["sections_from"][sec] = old_from.get(sec, {"command": old.get("command"), "date": old.get("date")})
        notes["carried_args"][sec] = old_carried.get(sec) or {
            "args": old_notes.get("args"),
            "subsamples": old_notes.get("subsamples"),
        }
        _say(f"kept the {sec} rows of {notes['sections_from'][sec]['date']} (section not run now)")
    return [*kept, *rows]


def plot(rows: list[dict], path: Path) -> None:
    """Alignment (x) vs dev retention (y) of each trade-off row, as a PNG (Pillow only)."""
    from PIL import Image, ImageDraw

    pts = [
        (r["system"], r["metrics"]["alignment"], r["metrics"].get("dev_retention_ndcg@10"))
        for r in rows
        if r["task"] == "rankpo_tradeoff"
    ]
    pts = [p for p in pts if p[1] is not None and p[2] is not None and not math.isnan(p[1])]
    if not pts:
        return
    W, H, M = 900, 600, 70
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    xs, ys = [p[1] for p in pts], [p[2] for p in pts]
    x0, x1 = min(xs) - 2, max(xs) + 2
    y0, y1 = min(ys) - 1, max(ys) + 1
    sx = lambda x: M + (x - x0) / (x1 - x0) * (W - 2 * M)  # noqa: E731
    sy = lambda y: H - M - (y - y0) / (y1 - y0) * (H - 2 * M)  # noqa: E731
    d.line([(M, H - M), (W - M, H - M)], fill="black")
    d.line([(M, M), (M, H - M)], fill="black")
    d.text((W // 2 - 120, H - M + 30), "alignment: held-out judge preference accuracy (%)", fill="black")
    d.text((5, M - 30), "retention: dev nDCG@10 (mean of both tasks)", fill="black")
    for v in (x0, x1):
        d.text((sx(v) - 10, H - M + 8), f"{v:.1f}", fill="black")
    for v in (y0, y1):
        d.text((5, sy(v) - 6), f"{v:.1f}", fill="black")
    colors = {"rankpo": "blue", "simrankpo": "green", "sft": "red", "stage1": "black"}
    for name, x, y in pts:
        c = next((v for k, v in colors.items() if name.removeprefix("align-").startswith(k)), "gray")
        d.ellipse([sx(x) - 5, sy(y) - 5, sx(x) + 5, sy(y) + 5], fill=c)
        d.text((sx(x) + 7, sy(y) - 6), name.removeprefix("align-"), fill=c)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "benchmark" / "v1"))
    p.add_argument("--work", default="~/.cache/agentic-match/bench-alignment")
    p.add_argument("--stage1", default=None, help="Stage-1 encoder folder (default: the retrieval benchmark's cache).")
    p.add_argument("--small", action="store_true", help="The small configuration for 2 shared cores.")
    p.add_argument("--sections", default="judge,tradeoff,rerank")
    p.add_argument("--no-llm", action="store_true", help="Skip everything that needs the LLM server.")
    p.add_argument("--judge-jobs", type=int, default=80, help="Dev jobs for judge quality (0: all).")
    p.add_argument("--judge-pairs", type=int, default=5, help="Pairs per dev job for judge quality.")
    p.add_argument("--pref-jobs", type=int, default=0, help="Train jobs judged for preferences (0: all).")
    p.add_argument("--pref-k", type=int, default=10)
    p.add_argument("--pref-pairs", type=int, default=5)
    p.add_argument("--methods", default="rankpo,simrankpo,sft")
    p.add_argument("--lrs", default="1e-6,1e-5,5e-5")
    p.add_argument("--betas", default="2")
    p.add_argument("--align-epochs", type=int, default=1)
    p.add_argument("--align-batch", type=int, default=16)
    p.add_argument("--eval-queries", type=int, default=0, help="Queries per task for retention (0: all).")
    p.add_argument("--retention-splits", default="dev,test")
    p.add_argument("--ce-losses", default="bce,lambda")
    p.add_argument(
        "--ce-train-jobs", type=int, default=0, help="Train jobs whose labels train the cross-encoder (0: all)."
    )
    p.add_argument("--ce-max-length", type=int, default=256)
    p.add_argument("--rerank-queries", type=int, default=0, help="Test queries per task reranked (0: all).")
    p.add_argument("--depth", type=int, default=100)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default=None, help="Judge / LLM reranker generator spec (default: settings llm.model).")
    p.add_argument("--judge-chars", type=int, default=None, help="Characters of each document shown to the judge.")
    p.add_argument(
        "--judge-mode",
        default="pairwise",
        choices=("pairwise", "pointwise"),
        help="How the training preferences are judged (judge quality reports both).",
    )
    a = p.parse_args()
    if a.model:
        a.model = str(Path(a.model).expanduser())
    if a.small:
        a.judge_jobs, a.judge_pairs, a.pref_jobs, a.pref_pairs = 6, 3, 24, 3
        a.lrs, a.methods, a.eval_queries, a.retention_splits = "5e-5", "rankpo,simrankpo,sft", 40, "dev"
        a.ce_losses, a.ce_train_jobs, a.ce_max_length, a.rerank_queries, a.depth = "bce", 60, 128, 10, 30
    a.methods = a.methods.split(",")
    a.lrs = [float(x) for x in a.lrs.split(",")]
    a.betas = [float(x) for x in a.betas.split(",")]
    a.ce_losses = a.ce_losses.split(",")
    a.retention_splits = a.retention_splits.split(",")
    sections = set(a.sections.split(","))
    t_start = time.perf_counter()
    bench = Bench(a)
    a.judge_model_name = "none"

    def body(llm) -> None:
        if "judge" in sections and llm is not None:
            bench.judge_quality(llm)
        if "tradeoff" in sections:
            prefs = bench.work / "train-preferences.jsonl"
            if not prefs.is_file():
                if llm is None:
                    raise SystemExit("no preferences yet: run without --no-llm once")
                prefs = bench.preferences(llm)
            n_prefs = sum(1 for line in prefs.read_text(encoding="utf-8").splitlines() if line.strip())
            if n_prefs < 4:
                # A judge that only follows the position yields no consistent preference:
                # reported as such, never replaced by another source of labels.
                bench.notes["tradeoff_skipped"] = f"only {n_prefs} consistent judge preference(s) on train pairs"
                _say(bench.notes["tradeoff_skipped"])
            else:
                bench.tradeoff(prefs)
        if "rerank" in sections:
            bench.reranking(llm)

    if a.no_llm:
        body(None)
    else:
        from agentic_match.config import load_settings
        from agentic_match.llm import open_llm

        s = load_settings(overrides={"llm": {"model": a.model}} if a.model else None)
        a.judge_model_name = Path(s.llm.model).parent.name if s.llm.model.endswith(".gguf") else s.llm.model
        with open_llm(s) as llm:
            body(llm)
    wall = time.perf_counter() - t_start
    bench.notes["args"] = {k: v for k, v in vars(a).items()}
    results_dir = REPO / "benchmarks" / "results"
    command = "python " + " ".join(sys.argv)
    rows = carry_over(bench.rows, bench.notes, sections, results_dir / "alignment.json", command)
    out = write_results("alignment", rows, command, wall_s=wall, out_dir=results_dir, notes=bench.notes)
    plot(rows, results_dir / "alignment.png")
    _say(f"wrote {out} ({wall:.0f}s)")


if __name__ == "__main__":
    main()
