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
    def judge_dev_pairs(self) -> tuple[list[JudgePair], dict[str, str]]:
        """Pairs of dev resumes for a dev job whose benchmark grades differ, and the better one of each."""
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
        return pairs, truth

    def judge_quality(self, llm) -> None:
        """Per mode: every pair scored once (cached), the tie margin chosen on half the dev jobs,
        decided share / agreement / flip rate reported on the other half."""
        from dataclasses import replace as dc_replace

        from agentic_match.align.judge import label_shots

        pairs, truth = self.judge_dev_pairs()
        jobs = sorted({p.query_id for p in pairs})
        random.Random(self.a.seed + 1).shuffle(jobs)
        choose_jobs = set(jobs[: len(jobs) // 2])
        timings_path = self.work / f"judge-timings-{self.a.judge_model_name}.json"
        timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
        for spec in self.a.judge_modes:
            mode, _, shots_n = spec.partition("+shots")
            shots = label_shots(self.corpus, int(shots_n or 2), seed=self.a.seed) if "+shots" in spec else ()
            cfg = dc_replace(self.judge_config, mode=mode, tie_margin=0.0)
            t0 = time.perf_counter()
            rep = judge_pairs(llm, pairs, cfg, concurrency=self.a.concurrency, shots=shots)
            wall = time.perf_counter() - t0
            # The first (uncached) run's time is the judge's cost; a rerun reads the cache.
            timings.setdefault(spec, {"wall_s": round(wall, 1), "pairs": len(pairs)})
            timings_path.write_text(json.dumps(timings, indent=2))
            choose = [o for o in rep.outcomes if o.pair.query_id in choose_jobs]
            report = [o for o in rep.outcomes if o.pair.query_id not in choose_jobs]
            margin = choose_margin(choose, truth, self.a.min_decided) if mode != "pairwise" else 0.0
            m = judge_metrics(report, truth, margin)
            m["margin"] = margin
            m["agreement_all_pairs"] = judge_metrics(report, truth, 0.0)["agreement"]
            m["s_per_pair"] = round(timings[spec]["wall_s"] / max(1, timings[spec]["pairs"]), 3)
            m["pairs_choose"], m["pairs_report"] = len(choose), len(report)
            self.rows.append(
                {
                    "system": f"judge-{self.a.judge_model_name}-{spec}",
                    "task": "judge_dev_pairs",
                    "params": {"mode": mode, "shots": len(shots), "max_doc_chars": cfg.max_doc_chars},
                    "metrics": m,
                }
            )
            _say(f"judge quality ({spec}): {m}")

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

    def label_preferences(self, split: str = "train", seed: int | None = None) -> Path:
        """Preferences from the labels of ``split`` (accepted over rejected per job): the people source.

        Train pairs: ``--pref-jobs`` train jobs sampled with ``seed`` (each seed another sample).
        Held-out pairs: every dev job's label pairs (jobs stage 1 never trained on).
        """
        from agentic_match.align.label_pairs import LabelPairConfig, label_preference_records

        seed = self.a.seed if seed is None else seed
        path = self.work / f"{split}-preferences.labels.s{seed}.jsonl"
        records, report = label_preference_records(
            self.corpus, LabelPairConfig(split=split, max_pairs_per_query=self.a.pref_pairs, seed=seed)
        )
        if split == "train" and self.a.pref_jobs:
            jobs = sorted({r["query_id"] for r in records})
            keep = set(random.Random(seed).sample(jobs, min(self.a.pref_jobs, len(jobs))))
            records = [r for r in records if r["query_id"] in keep]
        write_preferences(path, records)
        self.notes.setdefault("label_pairs", {})[f"{split}-s{seed}"] = {
            **report.as_dict(),
            "kept": len(records),
            "jobs": len({r["query_id"] for r in records}),
        }
        _say(f"{split} label preferences (seed {seed}): {len(records)} pairs")
        return path

    def within_pairs(self):
        from agentic_match.align.within_category import within_category_pairs

        if not hasattr(self, "_within"):
            self._within = {t: within_category_pairs(self.corpus, "dev", t, seed=self.a.seed) for t in TASKS}
            self.notes["within_category_pairs"] = {t: len(v) for t, v in self._within.items()}
        return self._within

    def within_metrics(self, enc) -> dict[str, float]:
        from agentic_match.align.within_category import pair_order_accuracy

        return {f"within_{t}": pair_order_accuracy(enc, self.corpus, p, t) for t, p in self.within_pairs().items()}

    def tradeoff(self, sources: dict[str, Path]) -> None:
        """Every method x learning rate x seed on the same pairs of each source; held-out split by job."""
        from agentic_match.align.trainer import AlignConfig, preference_accuracy, train_align
        from agentic_match.retrieval.encoder import BiEncoder

        base = self.encoder()
        raw = BiEncoder.load(self.a.raw_encoder)
        self.rows.append(
            self._tradeoff_row("raw", {"model": self.a.raw_encoder}, float("nan"), raw, task="within_floor")
        )
        for source, path in sources.items():
            for seed in self.a.seeds:
                if source == "labels":
                    # Each seed trains on another sample of train jobs; all are measured on the dev jobs' labels.
                    train = load_preferences(self.label_preferences("train", seed), self.corpus).preferences
                    held = load_preferences(self.label_preferences("dev", 0), self.corpus).preferences
                else:
                    train, held = split_preferences(load_preferences(path, self.corpus).preferences, 0.25, seed)
                self.notes["subsamples"][f"tradeoff_{source}_s{seed}"] = (
                    f"{len(train)} train / {len(held)} held-out preferences "
                    f"({len({p.query_id for p in train})} / {len({p.query_id for p in held})} jobs)"
                )
                params = {"source": source, "seed": seed}
                self.rows.append(
                    self._tradeoff_row(f"stage1-{source}-s{seed}", params, preference_accuracy(base, held), base)
                )
                for method in self.a.methods:
                    for lr in self.a.lrs:
                        for beta in self.a.betas if method in ("rankpo", "simrankpo") else [None]:
                            name = f"{method}-lr{lr:g}" + (f"-b{beta:g}" if beta is not None else "")
                            cfg = AlignConfig(
                                base=self.stage1,
                                method=method,
                                learning_rate=lr,
                                beta=beta or 2.0,
                                epochs=self.a.align_epochs,
                                batch_size=self.a.align_batch,
                                eval_split=None,
                                seed=seed,
                            )
                            t0 = time.perf_counter()
                            run_dir = self.work / "align" / source / f"s{seed}" / name
                            res = train_align(train, cfg, run_dir, held_out=held, progress=False)
                            enc = BiEncoder.load(res.model_dir)
                            row = self._tradeoff_row(
                                f"{name}-{source}-s{seed}",
                                {"method": method, "lr": lr, "beta": beta, **params},
                                preference_accuracy(enc, held),
                                enc,
                            )
                            row["metrics"]["train_s"] = round(time.perf_counter() - t0, 1)
                            self.rows.append(row)

    def wise(self) -> None:
        """WiSE-FT: stage 1 interpolated with the raw encoder, and the chosen stage-2 model with stage 1."""
        from agentic_match.align.wise import interpolate_encoders
        from agentic_match.retrieval.encoder import BiEncoder

        pairs = [("stage1", self.a.raw_encoder, self.stage1)]
        if self.a.wise_stage2:
            pairs.append(("stage2", self.stage1, str(Path(self.a.wise_stage2).expanduser())))
        for stage, base, tuned in pairs:
            for alpha in self.a.alphas:
                folder = self.work / "wise" / f"{stage}-a{alpha:g}"
                if not (folder / "modules.json").is_file():
                    interpolate_encoders(base, tuned, alpha, folder)
                enc = BiEncoder.load(folder)
                row = self._tradeoff_row(
                    f"{stage}-a{alpha:g}", {"stage": stage, "alpha": alpha}, float("nan"), enc, task="wise_ft"
                )
                self.rows.append(row)

    def _tradeoff_row(self, name: str, params: dict, alignment: float, enc, task: str = "rankpo_tradeoff") -> dict:
        m = {"alignment": None if math.isnan(alignment) else alignment}
        splits = self.a.retention_splits if task != "within_floor" else ["dev"]
        for split in splits:
            r = self.retention(enc, split, self.a.eval_queries or None)
            m.update({f"{split}_{t}_ndcg@10": v for t, v in r.items()})
            m[f"{split}_retention_ndcg@10"] = sum(r.values()) / len(r)
        m.update(self.within_metrics(enc))
        _say(f"{task} {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in m.items() if isinstance(v, float)))
        prefix = {"rankpo_tradeoff": "align", "wise_ft": "wise", "within_floor": "within"}[task]
        return {"system": f"{prefix}-{name}", "task": task, "params": params, "metrics": m}

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
            f"first {self.a.rerank_queries or 'all'} test queries per task (the LLM reranker the first "
            f"{self.a.llm_rerank_queries or 'all'} of them), depth {self.a.depth}"
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
                    "metrics": {
                        "ndcg@10": base.metrics["ndcg@10"],
                        "ndcg@10_ci": bootstrap_ci(t.qrels, base.run, seed=self.a.seed),
                        "queries": len(t.queries),
                    },
                }
            )
            for name, rr in rerankers.items():
                tt = t
                if name.startswith("llm") and self.a.llm_rerank_queries:
                    tt = copy.copy(t)
                    tt.queries = t.queries[: self.a.llm_rerank_queries]
                    tt.qrels = {q.id: t.qrels[q.id] for q in tt.queries}
                ranker = RerankedRanker(first, rr, depth=self.a.depth)
                t0 = time.perf_counter()
                res = evaluate(ranker, tt, k=self.a.depth, metrics=("ndcg@10",))
                wall = time.perf_counter() - t0
                self.rows.append(
                    {
                        "system": f"rerank-{name}",
                        "task": task,
                        "metrics": {
                            "ndcg@10": res.metrics["ndcg@10"],
                            "ndcg@10_ci": bootstrap_ci(tt.qrels, res.run, seed=self.a.seed),
                            "queries": len(tt.queries),
                            "s_per_query": round(wall / max(1, len(tt.queries)), 3),
                        },
                    }
                )
                _say(f"rerank {name} {task}: {self.rows[-1]['metrics']}")


def bootstrap_ci(qrels: dict, run: dict, metric: str = "ndcg@10", n: int = 1000, seed: int = 0) -> list[float]:
    """A 95 % percentile-bootstrap interval of the mean per-query ``metric`` (queries resampled)."""
    import numpy as np

    from agentic_match.evaluation import per_query_scores

    scores = np.array(list(per_query_scores(qrels, run, [metric])[metric].values()))
    rng = np.random.default_rng(seed)
    means = rng.choice(scores, size=(n, len(scores)), replace=True).mean(axis=1)
    return [round(float(np.percentile(means, 2.5)), 2), round(float(np.percentile(means, 97.5)), 2)]


def wilson(k: int, n: int, z: float = 1.96) -> list[float] | None:
    """The Wilson 95 % interval of ``k`` successes in ``n`` (0–100)."""
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(100 * (centre - half), 1), round(100 * (centre + half), 1)]


def judge_metrics(outcomes: list, truth: dict[str, str], margin: float) -> dict[str, Any]:
    """Decided share, agreement (with its interval) and flip rate of outcomes at a tie margin."""
    from agentic_match.align.judge import decide

    judged = [o for o in outcomes if o.preferred is not None]
    verdicts = [(o, o.preferred if o.score is None else decide(o.score, margin)) for o in judged]
    decided = [(o, v) for o, v in verdicts if v in ("A", "B")]
    agree = sum(v == truth[o.pair.key] for o, v in decided)
    flips = [o.flipped for o in judged if o.flipped is not None]
    return {
        "pairs": len(outcomes),
        "failures": len(outcomes) - len(judged),
        "decided_pct": 100 * len(decided) / len(outcomes) if outcomes else None,
        "agreement": 100 * agree / len(decided) if decided else None,
        "agreement_ci": wilson(agree, len(decided)),
        "flip_rate": 100 * sum(flips) / len(flips) if flips else None,
    }


def choose_margin(outcomes: list, truth: dict[str, str], min_decided: float) -> float:
    """The tie margin with the best agreement that still decides ``min_decided`` % of the pairs."""
    scores = sorted(abs(o.score) for o in outcomes if o.score is not None)
    best, best_agree = 0.0, -1.0
    for q in range(0, 100, 5):
        margin = scores[int(q / 100 * (len(scores) - 1))] if scores else 0.0
        m = judge_metrics(outcomes, truth, margin)
        if (m["decided_pct"] or 0) >= min_decided and (m["agreement"] or 0) > best_agree:
            best, best_agree = margin, m["agreement"] or 0
    return round(best, 4)


SECTION_OF_TASK = {
    "judge_dev_pairs": "judge",
    "rankpo_tradeoff": "tradeoff",
    "rankpo_tradeoff_summary": "summary",
    "within_floor": "tradeoff",
    "wise_ft": "wise",
    "rank_resume": "rerank",
    "rank_job": "rerank",
}


def carry_over(
    rows: list[dict], notes: dict, sections: set[str], previous: Path, command: str, replaced: set[str] = frozenset()
) -> list[dict]:
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
    # Rows of sections not run, and judge rows of other judges / modes than this run's (``replaced``).
    kept = [
        r
        for r in old["rows"]
        if SECTION_OF_TASK.get(r["task"]) not in sections
        or (r["task"] == "judge_dev_pairs" and r["system"] not in replaced)
    ]
    notes["carried_args"] = {}
    for r in kept:
        if SECTION_OF_TASK.get(r["task"]) in sections:
            # A judge row of another judge or mode, from an earlier run: dated on the row itself.
            r.setdefault("from", old_from.get("judge") or {"command": old.get("command"), "date": old.get("date")})
    for sec in sorted({SECTION_OF_TASK.get(r["task"]) for r in kept} - {None} - sections):
        notes["sections_from"][sec] = old_from.get(sec, {"command": old.get("command"), "date": old.get("date")})
        notes["carried_args"][sec] = old_carried.get(sec) or {
            "args": old_notes.get("args"),
            "subsamples": old_notes.get("subsamples"),
        }
        _say(f"kept the {sec} rows of {notes['sections_from'][sec]['date']} (section not run now)")
    return [*kept, *rows]


def summary_rows(rows: list[dict]) -> list[dict]:
    """One row per method x learning rate x source: means and sds over the seeds' trade-off rows."""
    import statistics

    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        pr = r.get("params") or {}
        if r["task"] == "rankpo_tradeoff" and "seed" in pr:
            name = r["system"].removeprefix("align-").rsplit("-s", 1)[0].removesuffix(f"-{pr['source']}")
            groups.setdefault((name, pr["source"]), []).append(r)
    out = []
    for (name, source), rs in sorted(groups.items()):
        m: dict[str, Any] = {"seeds": len(rs)}
        for key in ("alignment", "dev_retention_ndcg@10", "within_rank_resume", "within_rank_job", "train_s"):
            vals = [r["metrics"][key] for r in rs if r["metrics"].get(key) is not None]
            if vals:
                m[key] = statistics.fmean(vals)
                if key != "train_s":
                    m[f"{key}_sd"] = statistics.stdev(vals) if len(vals) > 1 else 0.0
        params = {k: v for k, v in (rs[0].get("params") or {}).items() if k not in ("seed",)}
        row = {"system": f"align-{name}-{source}", "task": "rankpo_tradeoff_summary", "params": params, "metrics": m}
        out.append(row)
    return out


def plot(rows: list[dict], path: Path) -> None:
    """Alignment (x) vs dev retention (y): mean over seeds with a ±1 sd cross, as a PNG (Pillow only)."""
    from PIL import Image, ImageDraw

    pts = [
        {
            "name": r["system"].removeprefix("align-"),
            "source": r["params"]["source"],
            "x": r["metrics"]["alignment"],
            "x_sd": r["metrics"].get("alignment_sd", 0.0),
            "y": r["metrics"]["dev_retention_ndcg@10"],
            "y_sd": r["metrics"].get("dev_retention_ndcg@10_sd", 0.0),
        }
        for r in summary_rows(rows)
        if r["metrics"].get("alignment") is not None and r["metrics"].get("dev_retention_ndcg@10") is not None
    ]
    if not pts:
        return
    W, H, M = 1000, 680, 70
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    x0, x1 = min(p["x"] - p["x_sd"] for p in pts) - 2, max(p["x"] + p["x_sd"] for p in pts) + 2
    y0, y1 = min(p["y"] - p["y_sd"] for p in pts) - 1, max(p["y"] + p["y_sd"] for p in pts) + 1
    sx = lambda x: M + (x - x0) / (x1 - x0) * (W - 2 * M)  # noqa: E731
    sy = lambda y: H - M - (y - y0) / (y1 - y0) * (H - 2 * M)  # noqa: E731
    d.line([(M, H - M), (W - M, H - M)], fill="black")
    d.line([(M, M), (M, H - M)], fill="black")
    x_title = "alignment: held-out preference accuracy (%), mean ± sd over seeds"
    d.text((W // 2 - 160, H - M + 30), x_title, fill="black")
    d.text((5, M - 30), "retention: dev nDCG@10 (mean of both tasks)", fill="black")
    for v in (x0, x1):
        d.text((sx(v) - 10, H - M + 8), f"{v:.1f}", fill="black")
    for v in (y0, y1):
        d.text((5, sy(v) - 6), f"{v:.1f}", fill="black")
    colors = {"rankpo": "blue", "simrankpo": "green", "sft2": "red", "sftnce": "orange", "stage1": "black"}
    # Methods that land on the same point (sft2 and simrankpo at β/τ = 1/t) get one joint label.
    same: dict[tuple[float, float, str], list[str]] = {}
    for p in pts:
        same.setdefault((round(p["x"], 6), round(p["y"], 6), p["source"]), []).append(
            p["name"].removesuffix("-" + p["source"])
        )
    for p in pts:
        names = same[(round(p["x"], 6), round(p["y"], 6), p["source"])]
        if p["name"].removesuffix("-" + p["source"]) != names[0]:
            continue
        p = {**p, "name": " = ".join(names)}
        c = next((v for k, v in colors.items() if p["name"].startswith(k)), "gray")
        x, y = sx(p["x"]), sy(p["y"])
        d.line([(sx(p["x"] - p["x_sd"]), y), (sx(p["x"] + p["x_sd"]), y)], fill=c)
        d.line([(x, sy(p["y"] - p["y_sd"])), (x, sy(p["y"] + p["y_sd"]))], fill=c)
        marker = d.ellipse if p["source"] == "labels" else d.rectangle
        marker([x - 4, y - 4, x + 4, y + 4], fill=c)
        d.text((x + 6, y - 12), f"{p['name']} ({p['source']})", fill=c)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "benchmark" / "v1"))
    p.add_argument("--work", default="~/.cache/agentic-match/bench-alignment")
    p.add_argument("--stage1", default=None, help="Stage-1 encoder folder (default: the retrieval benchmark's cache).")
    p.add_argument("--small", action="store_true", help="The small configuration for 2 shared cores.")
    p.add_argument("--sections", default="judge,tradeoff,wise,rerank")
    p.add_argument("--no-llm", action="store_true", help="Skip everything that needs the LLM server.")
    p.add_argument("--judge-jobs", type=int, default=80, help="Dev jobs for judge quality (0: all).")
    p.add_argument("--judge-pairs", type=int, default=5, help="Pairs per dev job for judge quality.")
    p.add_argument("--pref-jobs", type=int, default=0, help="Train jobs judged for preferences (0: all).")
    p.add_argument("--pref-k", type=int, default=10)
    p.add_argument("--pref-pairs", type=int, default=5)
    p.add_argument("--methods", default="rankpo,simrankpo,sft2,sftnce")
    p.add_argument(
        "--pref-source", default="labels", help="Preference sources of the trade-off: labels, judge or labels,judge."
    )
    p.add_argument("--seeds", default="0,1,2", help="Seeds of the held-out split (by job) and of training.")
    p.add_argument("--raw-encoder", default="all-minilm-l6-v2", help="The untrained encoder (within-category floor).")
    p.add_argument("--alphas", default="0,0.25,0.5,0.75,1", help="WiSE-FT weights of the fine-tuned model.")
    p.add_argument("--wise-stage2", default=None, help="A stage-2 model folder to interpolate with stage 1.")
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
    p.add_argument("--rerank-queries", type=int, default=100, help="Test queries per task reranked (0: all).")
    p.add_argument("--depth", type=int, default=20)
    p.add_argument(
        "--llm-rerank-queries", type=int, default=20, help="Of those, queries the LLM reranker scores (0: all)."
    )
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results-dir", default=str(REPO / "benchmarks" / "results"), help="Where alignment.json goes.")
    p.add_argument("--model", default=None, help="Judge / LLM reranker generator spec (default: settings llm.model).")
    p.add_argument("--judge-chars", type=int, default=None, help="Characters of each document shown to the judge.")
    p.add_argument(
        "--judge-modes",
        default="pointwise,graded,graded+shots2,pairwise-logprob",
        help="Judge modes measured on dev pairs ('graded+shotsN': N calibration shots from train labels).",
    )
    p.add_argument(
        "--min-decided", type=float, default=50.0, help="Decided share (%%) the dev-chosen tie margin must keep."
    )
    p.add_argument(
        "--judge-mode",
        default="pairwise",
        choices=("pairwise", "pairwise-logprob", "pointwise", "graded"),
        help="How the training preferences are judged (judge quality reports every --judge-modes).",
    )
    a = p.parse_args()
    if a.model:
        a.model = str(Path(a.model).expanduser())
    if a.small:
        a.judge_jobs, a.judge_pairs, a.pref_jobs, a.pref_pairs = 6, 3, 24, 3
        a.lrs, a.methods, a.eval_queries, a.retention_splits = "5e-5", "rankpo,simrankpo,sft2,sftnce", 40, "dev"
        a.ce_losses, a.ce_train_jobs, a.ce_max_length, a.rerank_queries, a.depth = "bce", 60, 128, 10, 30
    a.methods = a.methods.split(",")
    a.lrs = [float(x) for x in a.lrs.split(",")]
    a.betas = [float(x) for x in a.betas.split(",")]
    a.seeds = [int(x) for x in a.seeds.split(",")]
    a.alphas = [float(x) for x in a.alphas.split(",")]
    a.pref_source = a.pref_source.split(",")
    a.judge_modes = a.judge_modes.split(",")
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
            sources: dict[str, Path] = {}
            if "labels" in a.pref_source:
                sources["labels"] = bench.work  # built per seed by bench.tradeoff
            if "judge" in a.pref_source:
                prefs = bench.work / "train-preferences.jsonl"
                if not prefs.is_file():
                    if llm is None:
                        raise SystemExit("no judge preferences yet: run without --no-llm once")
                    prefs = bench.preferences(llm)
                n_prefs = sum(1 for line in prefs.read_text(encoding="utf-8").splitlines() if line.strip())
                if n_prefs < 4:
                    # A judge that only follows the position yields no consistent preference:
                    # reported as such (the labels source is the other row set).
                    bench.notes["judge_source_skipped"] = f"only {n_prefs} consistent judge preference(s)"
                    _say(bench.notes["judge_source_skipped"])
                else:
                    sources["judge"] = prefs
            bench.tradeoff(sources)
        if "wise" in sections:
            bench.wise()
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
    results_dir = Path(a.results_dir).expanduser()
    command = "python " + " ".join(sys.argv)
    replaced = {f"judge-{a.judge_model_name}-{m}" for m in a.judge_modes} if "judge" in sections else set()
    rows = carry_over(bench.rows, bench.notes, sections, results_dir / "alignment.json", command, replaced)
    rows = [r for r in rows if r["task"] != "rankpo_tradeoff_summary"]
    rows += summary_rows(rows)
    out = write_results("alignment", rows, command, wall_s=wall, out_dir=results_dir, notes=bench.notes)
    plot(rows, results_dir / "alignment.png")
    _say(f"wrote {out} ({wall:.0f}s)")


if __name__ == "__main__":
    main()
