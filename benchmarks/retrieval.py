"""Retrieval benchmark: BM25, raw MiniLM, MNRL baselines and ConFit* variants on benchmark v1.

Protocol: train on train labels only; dev chooses checkpoints (best epoch), the RUM band
(``band="auto"``) and which ConFit* row gets the chunked-inference variant; test is only
reported. Relevance is *topical* (category crosswalk), not hiring outcomes.

Resumable: every row's metrics, and every trained model, live in ``--work`` (outside the
repository); rerunning skips finished rows and resumes unfinished training. Run files go
to ``benchmarks/results/runs/retrieval-<system>-<task>.json.gz``, the table to
``benchmarks/results/retrieval.json``.

    nice -n 5 python benchmarks/retrieval.py > ~/.cache/agentic-match/bench-retrieval.log 2>&1
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]

from agentic_match.data import load_benchmark  # noqa: E402
from agentic_match.evaluation import evaluate, load_task, results_table_markdown, write_results  # noqa: E402
from agentic_match.files import atomic_write_bytes  # noqa: E402
from agentic_match.retrieval.training import ConFitConfig  # noqa: E402

TASKS = ("rank_resume", "rank_job")
log = logging.getLogger("bench.retrieval")


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.work).expanduser()
        self.work.mkdir(parents=True, exist_ok=True)
        self.corpus = load_benchmark(args.data)
        self.runs_dir = REPO / "benchmarks" / "results" / "runs"
        self.config = ConFitConfig(
            encoder=args.encoder,
            epochs=args.epochs,
            batch_size=args.batch_size,
            max_seq_length=args.max_seq_length,
            learning_rate=args.lr,
            seed=args.seed,
        )

    # ------------------------------------------------------------------ row cache
    def _row_file(self, system: str) -> Path:
        return self.work / "rows" / f"{system}.json"

    def row(self, system: str, make: Callable[[], tuple[Any, dict]]) -> dict:
        """Evaluate ``system`` on test once; ``make()`` returns ``(ranker, params)``."""
        path = self._row_file(system)
        if path.is_file():
            row = json.loads(path.read_text())
            _say(f"{system}: cached ({row['wall_s']:.0f}s)")
            return row
        _say(f"{system}: start")
        t0 = time.perf_counter()
        ranker, params = make()
        metrics = {}
        for task in TASKS:
            res = evaluate(
                ranker,
                load_task(self.corpus, "test", task),
                k=100,
                run_path=self.runs_dir / f"retrieval-{system}-{task}.json.gz",
            )
            metrics[task] = {k: round(v, 2) for k, v in res.metrics.items()}
        wall = time.perf_counter() - t0 + params.pop("_extra_wall_s", 0.0)
        row = {"system": system, "metrics": metrics, "wall_s": round(wall, 1), "params": params}
        atomic_write_bytes(path, json.dumps(row, indent=2).encode())
        _say(
            f"{system}: test nDCG@10 {metrics['rank_resume']['ndcg@10']:.1f} / "
            f"{metrics['rank_job']['ndcg@10']:.1f} ({wall:.0f}s)"
        )
        return row

    # ------------------------------------------------------------------ helpers
    def train_pairs(self) -> list[tuple[str, str]]:
        from agentic_match.data.labels import accepted_pairs

        return accepted_pairs(self.corpus.label_splits["train"])

    def confit(self, name: str, negatives: Any = None, mode: str = "none") -> tuple[Any, dict]:
        """Train (or resume) a ConFit* model in the work folder and load it for test."""
        from agentic_match.retrieval.encoder import BiEncoder
        from agentic_match.retrieval.training import train_confit

        cfg = replace(self.config, negatives=mode)
        res = train_confit(self.corpus, cfg, self.work / "models" / name, negatives, progress=self.args.progress)
        return BiEncoder.load(res.model_dir), self._train_params(res, cfg)

    @staticmethod
    def _train_params(res: Any, cfg: ConFitConfig) -> dict:
        from agentic_match.retrieval.encoder import BiEncoder

        window = BiEncoder.load(res.model_dir).max_seq_length  # one window: trained on, served with
        return {
            "model": str(res.model_dir),
            "epochs": cfg.epochs,
            "best_epoch": res.best_epoch,
            "dev_ndcg@10_by_epoch": [h["dev_ndcg@10"] for h in res.history],
            "train_s": round(sum(h.get("train_s", 0.0) for h in res.history), 1),
            "train_max_seq_length": window,
            "infer_max_seq_length": window,
            "batch_size": cfg.batch_size,
            "lr": cfg.learning_rate,
            "temperature": cfg.temperature,
            "lam": cfg.lam,
            "hard_negatives_per_pair_side": cfg.hard_negatives if cfg.negatives != "none" else 0,
        }

    def mnrl(self, name: str, mined: bool) -> tuple[Any, dict]:
        """sentence-transformers' own recipe: MNRL on (resume, job) accepted pairs, 1 epoch."""
        from datasets import Dataset
        from sentence_transformers import (
            SentenceTransformer,
            SentenceTransformerTrainer,
            SentenceTransformerTrainingArguments,
        )
        from sentence_transformers.base.sampler import BatchSamplers
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

        from agentic_match.data import render
        from agentic_match.models import resolve_encoder
        from agentic_match.retrieval.encoder import BiEncoder

        out = self.work / "models" / name
        window = (
            self.config.max_seq_length
            or SentenceTransformer(str(resolve_encoder(self.config.encoder)), device="cpu").max_seq_length
        )
        params: dict[str, Any] = {
            "epochs": 1,
            "batch_size": 16,
            "train_max_seq_length": window,
            "infer_max_seq_length": window,
            "lr": 5e-5,
            "batch_sampler": "NO_DUPLICATES",
        }
        if not (out / "modules.json").is_file():
            model = SentenceTransformer(str(resolve_encoder(self.config.encoder)), device="cpu")
            model.max_seq_length = window
            pairs = self.train_pairs()
            ds = Dataset.from_dict(
                {
                    "anchor": [render(self.corpus.resumes[r]) for r, _ in pairs],
                    "positive": [render(self.corpus.jobs[j]) for _, j in pairs],
                }
            )
            if mined:
                from sentence_transformers.util import mine_hard_negatives

                train_jobs = [render(self.corpus.jobs[j]) for j in self.corpus.split_ids("job", "train")]
                # NV-Retriever's TopK-PercPos(95%) recipe, as the sentence-transformers docs advise.
                ds = mine_hard_negatives(
                    ds,
                    model,
                    corpus=train_jobs,
                    num_negatives=1,
                    relative_margin=0.05,
                    # The default window (top ~13) is where a raw model ranks jobs above the
                    # positive, so the margin rejects them all and ~93% of pairs are dropped.
                    range_max=100,
                    sampling_strategy="top",
                    batch_size=32,
                    verbose=False,
                )
                params["mining"] = "mine_hard_negatives(relative_margin=0.05, range_max=100, num_negatives=1, top)"
                params["triplets_kept"] = f"{len(ds)} of {len(pairs)} pairs"
            args = SentenceTransformerTrainingArguments(
                output_dir=str(self.work / "tmp" / name),
                num_train_epochs=1,
                per_device_train_batch_size=16,
                learning_rate=5e-5,
                warmup_steps=0.1,
                batch_sampler=BatchSamplers.NO_DUPLICATES,
                save_strategy="no",
                report_to="none",
                logging_steps=20,
                seed=self.args.seed,
                disable_tqdm=not self.args.progress,
                use_cpu=True,
            )
            trainer = SentenceTransformerTrainer(
                model=model, args=args, train_dataset=ds, loss=MultipleNegativesRankingLoss(model)
            )
            trainer.train()
            tmp = out.parent / f".{name}.tmp"
            model.save(str(tmp))
            from agentic_match.files import replace_dir

            replace_dir(tmp, out)
        return BiEncoder.load(out), params

    # ------------------------------------------------------------------ the table
    def run(self) -> list[dict]:
        from agentic_match.retrieval.bm25 import BM25Ranker
        from agentic_match.retrieval.encoder import BiEncoder
        from agentic_match.retrieval.mining import (
            band_label,
            bm25_negatives,
            choose_band,
            parse_band,
        )
        from agentic_match.retrieval.training import iterative_rum

        rows = []
        want = set(self.args.rows.split(",")) if self.args.rows else None

        def add(system: str, make: Callable[[], tuple[Any, dict]]) -> None:
            if want is None or system in want:
                rows.append(self.row(system, make))

        # RUM: mine with the in-batch ConFit* model; the band is chosen on dev (or given).
        def rum(t: int) -> tuple[Any, dict]:
            first, _ = self.confit("confit-inbatch")
            band_file = self.work / "rum-band.json"
            if self.args.band == "auto":
                if band_file.is_file():
                    info = json.loads(band_file.read_text())
                else:
                    band, shares = choose_band(first, self.corpus)
                    info = {"band": list(band), "dev_positive_share": shares}
                    atomic_write_bytes(band_file, json.dumps(info).encode())
                band = tuple(info["band"])
            else:
                band, info = parse_band(self.args.band), {}
            t0 = time.perf_counter()
            results = iterative_rum(
                self.corpus,
                replace(self.config, negatives="none"),
                self.work / "models" / "rum",
                rounds=t,
                band=band,
                first_encoder=first.folder,
                progress=self.args.progress,
            )
            res = results[-1]
            params = self._train_params(res, self.config)
            params.update({"band": band_label(band), "rounds": t, "band_choice": info, "mined_per_pair_side": 1})
            _say(f"rum t={t}: band {band_label(band)} {info}; {time.perf_counter() - t0:.0f}s")
            return BiEncoder.load(res.model_dir), params

        def bm25neg() -> tuple[Any, dict]:
            from agentic_match.retrieval.mining import load_negatives, save_negatives

            path = self.work / "bm25-negatives.jsonl"
            if path.is_file():
                negs = load_negatives(path)
            else:
                negs = bm25_negatives(self.corpus, top_k=10, per_pair=1, seed=self.args.seed)
                save_negatives(path, negs)
            ranker, params = self.confit("confit-bm25", negs)
            params["negatives"] = "BM25 top-10, 1 per pair and side"
            return ranker, params

        def best_chunk() -> None:
            # Chunked inference for the best ConFit* row *by dev* (never by test), among the
            # ConFit* rows finished so far.
            confit_rows = [
                r for r in rows if r["system"].startswith("confit-") and r["params"].get("dev_ndcg@10_by_epoch")
            ]
            if not confit_rows or (want is not None and "confit-best-chunk" not in want):
                return
            best = max(confit_rows, key=lambda r: max(x for x in r["params"]["dev_ndcg@10_by_epoch"] if x is not None))
            rows.append(
                self.row(
                    "confit-best-chunk",
                    lambda: (
                        BiEncoder.load(best["params"]["model"], mode="chunk"),
                        {"mode": "chunk", "max_chunks": 8, "chosen_on_dev_from": best["system"]},
                    ),
                )
            )

        # Cheapest and most important rows first: a run cut short by the time budget still
        # holds the core comparison; the table is printed in ORDER anyway.
        enc = self.config.encoder
        add("bm25", lambda: (BM25Ranker(), {}))
        add(
            "minilm-raw",
            lambda: (
                BiEncoder.load(enc, max_seq_length=self.config.max_seq_length),
                {"mode": "truncate", "infer_max_seq_length": self.config.max_seq_length or 256},
            ),
        )
        add("minilm-raw-chunk", lambda: (BiEncoder.load(enc, mode="chunk"), {"mode": "chunk", "max_chunks": 8}))
        add("confit-inbatch", lambda: self.confit("confit-inbatch"))
        add("confit-rum-t1", lambda: rum(1))
        add("st-mnrl", lambda: self.mnrl("st-mnrl", mined=False))
        add("confit-rejected", lambda: self.confit("confit-rejected", mode="rejected"))
        add("confit-rum-t2", lambda: rum(2))
        best_chunk()
        add("confit-bm25", bm25neg)
        add("st-mnrl-mined", lambda: self.mnrl("st-mnrl-mined", mined=True))

        order = {name: i for i, name in enumerate(ORDER)}
        return sorted(rows, key=lambda r: order.get(r["system"], len(order)))


ORDER = (
    "bm25",
    "minilm-raw",
    "minilm-raw-chunk",
    "st-mnrl",
    "st-mnrl-mined",
    "confit-inbatch",
    "confit-rejected",
    "confit-rum-t1",
    "confit-rum-t2",
    "confit-bm25",
    "confit-best-chunk",
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "benchmark" / "v1"))
    p.add_argument("--work", default="~/.cache/agentic-match/bench-retrieval")
    p.add_argument("--encoder", default="all-minilm-l6-v2")
    p.add_argument("--epochs", type=int, default=1, help="ConFit* epochs (1 fits the 60-minute CPU budget)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument(
        "--max-seq-length",
        type=int,
        default=None,
        help="tokens per text in training and serving (default: the encoder's own window, 256 for MiniLM)",
    )
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--band", default="auto", help="RUM band LOW-HIGH or auto (chosen on dev)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rows", default=None, help="comma-separated subset of systems")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--progress", action="store_true", help="progress bars")
    p.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/retrieval.json")
    p.add_argument("--note", default="", help="appended to the command recorded in the results file")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("httpx", "sentence_transformers", "transformers", "datasets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    bench = Bench(args)
    rows = bench.run()
    _say(f"this invocation: {time.perf_counter() - t0:.0f}s")
    out_rows = []
    for r in rows:
        for task in TASKS:
            out_rows.append(
                {
                    "system": r["system"],
                    "task": task,
                    "metrics": r["metrics"][task],
                    "wall_s": r["wall_s"],
                    "params": r["params"],
                }
            )
    total = sum(r["wall_s"] for r in rows)
    if not args.no_write:
        cmd = "python benchmarks/retrieval.py " + " ".join(a for a in sys.argv[1:] if not a.startswith("--note"))
        if args.note:
            cmd = f"{cmd.strip()}  # {args.note}"
        path = write_results("retrieval", out_rows, cmd.strip(), total, out_dir=REPO / "benchmarks" / "results")
        print(results_table_markdown(path))
    print(markdown(rows, total))


def markdown(rows: list[dict], total: float) -> str:
    cols = ("ndcg@10", "recall@10", "recall@100", "map@100", "mrr@10")
    head = "| system | " + " | ".join(f"{t} {c}" for t in ("resume", "job") for c in cols) + " | wall s |"
    lines = [head, "|" + "---|" * (2 + 2 * len(cols))]
    for r in rows:
        vals = [f"{r['metrics'][t].get(c, float('nan')):.1f}" for t in TASKS for c in cols]
        lines.append(f"| {r['system']} | " + " | ".join(vals) + f" | {r['wall_s']:.0f} |")
    lines.append(
        f"\nsum of row wall times: {total:.0f}s (rank resumes = job queries over test resumes; "
        "rank jobs = resume queries over test jobs)"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
