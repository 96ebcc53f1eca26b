"""Explanation benchmark: do evidence explanations separate fitting candidates, and are they right?

For each backend (``encoder``: the bi-encoder's cosine decides *met*; ``encoder+<llm>``: the
served model's P(yes) over the encoder's top sentences decides it), on (job, resume) pairs of
the benchmark (``--positives`` judged-relevant and ``--negatives`` unjudged resumes per job,
``agentic_match.evaluation.explanations.explanation_pairs``):

1. every pair is scored once, threshold-free (per requirement: the best sentence and its
   score), cached and resumable in ``--work``;
2. the threshold is chosen on **dev** by the met-share AUC, then applied to **test**;
3. reported on test: the met-share ROC AUC against relevance, the threshold-free mean-score
   AUC, evidence precision on the hand-labelled sample ``benchmarks/data/evidence_labels.jsonl``
   (ids and offsets only: the texts stay in ``../shared/data``), fabricated quotes (0 by
   construction: counted, not assumed), seconds per candidate.

    python benchmarks/explanations.py                                   # encoder only
    python benchmarks/explanations.py --llm smollm2-135m --llm qwen2.5-coder-1.5b
    python benchmarks/explanations.py --sample-for-labels 60 > sample.txt   # texts to label (not saved)

Results: ``benchmarks/results/explanations.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from generation_common import REPO, SHARED, WRITERS, say  # noqa: E402

from agentic_match.data import load_benchmark  # noqa: E402
from agentic_match.evaluation.explanations import (  # noqa: E402
    choose_threshold,
    evidence_precision,
    explanation_pairs,
    mean_score_auc,
    met_share_auc,
)
from agentic_match.evaluation.results import results_table_markdown, write_results  # noqa: E402
from agentic_match.matching.evidence import EvidenceConfig, score_requirements  # noqa: E402

LABELS = REPO / "benchmarks" / "data" / "evidence_labels.jsonl"


def score_split(
    name: str, encoder: Any, corpus: Any, pairs: list, path: Path, config: EvidenceConfig, llm: Any = None
) -> list[dict]:
    """One record per pair (cached in ``path``, one JSON line each; a rerun scores only the rest)."""
    done = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                done[(r["job_id"], r["resume_id"])] = r
    todo = [p for p in pairs if (p[0], p[1]) not in done]
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with path.open("a", encoding="utf-8") as out:
        for n, (job_id, resume_id, grade) in enumerate(todo, 1):
            t = time.perf_counter()
            s = score_requirements(encoder, corpus.jobs[job_id], corpus.resumes[resume_id], config, llm=llm)
            quotes = [s.text[s.spans[j][0] : s.spans[j][1]] for j in s.best]
            rec = {
                "job_id": job_id,
                "resume_id": resume_id,
                "grade": grade,
                "scores": [round(x, 5) for x in s.scores],
                "evidence": [list(s.spans[j]) for j in s.best],
                # A quote must be a span of the resume as rendered: counted, not assumed.
                "fabricated": sum(1 for q in quotes if q not in s.text),
                "problem": s.problem,
                "s": round(time.perf_counter() - t, 4),
            }
            out.write(json.dumps(rec) + "\n")
            out.flush()
            done[(job_id, resume_id)] = rec
            if n % 50 == 0 or n == len(todo):
                say(f"{name}: {n}/{len(todo)} pairs ({(time.perf_counter() - t0) / n:.2f} s each)")
    return [done[(p[0], p[1])] for p in pairs]


def sample_for_labels(corpus: Any, records: list[dict], n: int, config: EvidenceConfig, threshold: float) -> None:
    """Print ``n`` (requirement, best sentence) items of test pairs to label by hand (texts are
    printed, never written to the repository): drawn among the quotes the backend *shows*
    (score >= the dev-chosen ``threshold``), since evidence precision is measured on those."""
    import random

    from agentic_match.data.render import render
    from agentic_match.matching.evidence import job_requirements

    rng = random.Random(1)
    items = [(r, i) for r in records if not r["problem"] for i, x in enumerate(r["scores"]) if x >= threshold]
    for r, i in rng.sample(items, min(n, len(items))):
        req = job_requirements(corpus.jobs[r["job_id"]], config)[i]
        text = render(corpus.resumes[r["resume_id"]], config.render_config)
        a, b = r["evidence"][i]
        key = {"job_id": r["job_id"], "resume_id": r["resume_id"], "requirement": i, "start": a, "end": b}
        print(json.dumps(key))
        print(f"  REQ: {req.text}\n  SENT: {text[a:b]}\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(SHARED / "data" / "benchmark" / "v1"))
    p.add_argument(
        "--encoder", action="append", default=[], help="encoder spec or trained folder (repeatable; default MiniLM)"
    )
    p.add_argument("--llm", action="append", default=[], help="a served model for P(yes) (repeatable)")
    p.add_argument("--positives", type=int, default=4, help="judged-relevant resumes per job")
    p.add_argument("--negatives", type=int, default=4, help="unjudged resumes per job")
    p.add_argument("--jobs", type=int, default=80, help="judged jobs per split (drawn with --seed)")
    p.add_argument("--llm-pairs", type=int, default=None, help="pairs per split for LLM backends (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", default="~/.cache/agentic-match/bench-explanations")
    p.add_argument("--sample-for-labels", type=int, default=0, help="print N test items to label, then stop")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()

    from agentic_match.retrieval.encoder import BiEncoder

    t_start = time.perf_counter()
    work = Path(args.work).expanduser()
    corpus = load_benchmark(args.data)
    pairs = {
        s: explanation_pairs(
            corpus, s, positives=args.positives, negatives=args.negatives, max_jobs=args.jobs, seed=args.seed
        )
        for s in ("dev", "test")
    }
    labels = (
        [json.loads(x) for x in LABELS.read_text(encoding="utf-8").splitlines() if x.strip()]
        if LABELS.is_file()
        else []
    )
    rows: list[dict] = []
    for encoder_spec in args.encoder or ["all-minilm-l6-v2"]:
        encoder = BiEncoder.load(encoder_spec)
        config = EvidenceConfig()
        enc_path = Path(encoder_spec)
        # A trained folder is ``.../<run>/model``: the run names it. The cache is per settings too,
        # so a changed EvidenceConfig scores again instead of reusing other settings' records.
        enc_name = enc_path.parent.name if enc_path.name == "model" else enc_path.name
        fingerprint = hashlib.sha256(json.dumps(dataclasses.asdict(config), sort_keys=True, default=str).encode())
        label = enc_name
        enc_name = f"{enc_name}-{fingerprint.hexdigest()[:8]}"

        backends: list[tuple[str, Any, Any]] = [("encoder", None, None)]
        for spec in args.llm:
            backends.append((f"encoder+{spec}", spec, None))
        for name, spec, _ in backends:
            tag = f"{enc_name}/{name}"
            if spec is None:
                records = {
                    s: score_split(f"{name} {s}", encoder, corpus, pairs[s], work / tag / f"{s}.jsonl", config)
                    for s in pairs
                }
            else:
                from agentic_match.config import load_settings
                from agentic_match.llm import ManagedServer, client_for

                settings = load_settings(overrides={"llm": {"model": WRITERS.get(spec, spec), "max_concurrency": 16}})
                llm_config = dataclasses.replace(config, llm_decides=True)
                sub = {s: pairs[s][: args.llm_pairs] if args.llm_pairs else pairs[s] for s in pairs}
                with ManagedServer(settings=settings) as info:
                    llm = client_for(settings, info)
                    records = {
                        s: score_split(
                            f"{name} {s}", encoder, corpus, sub[s], work / tag / f"{s}.jsonl", llm_config, llm
                        )
                        for s in sub
                    }
            threshold, dev_auc = choose_threshold([r for r in records["dev"] if not r["problem"]])
            if args.sample_for_labels:
                sample_for_labels(corpus, records["test"], args.sample_for_labels, config, threshold)
                return
            test = [r for r in records["test"] if not r["problem"]]
            precision, labelled = evidence_precision(test, labels, threshold)
            metrics = {
                "auc": round(met_share_auc(test, threshold), 4),
                "mean_score_auc": round(mean_score_auc(test), 4),
                "dev_auc": round(dev_auc, 4),
                "evidence_precision": None if precision is None else round(precision, 4),
                "labelled_quotes_shown": labelled,
                "fabricated_quotes": sum(r["fabricated"] for r in records["test"]),
                "pairs": len(test),
                "pairs_without_explanation": len(records["test"]) - len(test),
                "s_per_candidate": round(sum(r["s"] for r in records["test"]) / max(1, len(records["test"])), 4),
                "met_share_relevant": round(_mean_share(test, threshold, True), 4),
                "met_share_other": round(_mean_share(test, threshold, False), 4),
            }
            params = {
                "threshold": threshold,
                "threshold_chosen_on": "dev",
                "encoder": encoder_spec,
                "llm": spec,
                "dev_pairs": len(records["dev"]),
                "labels": len(labels),
                "config": _config_params(config),
            }
            say(f"{name}: {metrics}")
            rows.append(
                {"system": f"explain:{label}:{name}", "task": "explain_test", "metrics": metrics, "params": params}
            )
    if not args.no_write:
        cmd = "python benchmarks/explanations.py " + " ".join(sys.argv[1:])
        path = write_results(
            "explanations", rows, cmd.strip(), time.perf_counter() - t_start, out_dir=REPO / "benchmarks" / "results"
        )
        print(results_table_markdown(path))


def _mean_share(records: list[dict], threshold: float, relevant: bool) -> float:
    import numpy as np

    from agentic_match.evaluation.explanations import met_share

    vals = [met_share(r["scores"], threshold) for r in records if (r["grade"] > 0) == relevant]
    return float(np.mean(vals)) if vals else 0.0


def _config_params(config: EvidenceConfig) -> dict[str, Any]:
    return {
        "max_requirements": config.max_requirements,
        "min_sentence_chars": config.min_sentence_chars,
        "llm_sentences": config.llm_sentences,
    }


if __name__ == "__main__":
    main()
