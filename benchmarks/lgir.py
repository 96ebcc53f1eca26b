"""LGIR benchmark: the recommender of the paper, trained and evaluated on its own completions.

LGIR (Du, Luo, Yan et al., AAAI 2024) completes every user's resume with an LLM and trains a
recommender over the completed resumes. Each variant here is trained *and* evaluated on its
own resumes: ``lgir-base`` on the originals, ``lgir-src`` on SRC completions, ``lgir-irc``
on IRC completions, ``lgir-irc+gan`` on IRC completions with the GAN alignment.

Every user with interactions (2,481 in benchmark v1) trains the recommender; the evaluated
users are a sample, ``--users-per-group`` training-split and ``--test-users-per-group``
test-split resumes from each of the five interaction groups, and only they are completed (the
LLM's time is the limit: say how many in the results). A user outside the sample reads their
original resume in every variant.

Stages, resumable in ``--work`` (outside the repository: the texts may not be redistributed):

1. ``complete``: SRC and IRC for the sampled users through the ``complete_resumes`` graph and
   the generation cache, on one vLLM server (``--writer``). IRC reads only the user's
   *training* interactions of the warm split, so no held-out positive is shown to the writer.
   Unsupported-skill rates use the strict support rule (a skill counts as supported only if
   the resume or an interacted job states every word of it, see
   ``agentic_match.augment.completion.fabrication_report``).
2. ``warm`` (the paper's protocol): every user's interactions split train / validation / test
   (``agentic_match.evaluation.sampled.warm_split``); each test positive of a sampled user
   against 20 sampled training jobs the user never touched; MAP@5, nDCG@5, MRR, overall and by
   interaction group; ``--seeds`` initialisations per variant, mean ± sd, and a paired t-test
   per list of each variant against ``lgir-base``.
3. ``cold`` (what a new candidate gets): the recommender trained on the training-split users
   only, evaluated on the sampled test-split users against test jobs it never saw (ids
   unknown: text alone), each relevant test job (the topical qrels) against 20 sampled
   non-relevant ones.

Baselines on the same lists: ``random`` (measured, with the exact expectation in ``params``),
``cosine`` (the untrained encoder), ``bm25``, ``confit-cosine`` (a ConFit* encoder given with
``--confit-model``; the row is left out without one).

A completed resume reaches the encoder as the fusion of two vectors (the resume's and the
completion's, weight ``--completion-weight``): appended after a resume of ~980 tokens it would
be cut off by the 256-token window, the lesson of the HyRe ablation.

    nice -n 5 python benchmarks/lgir.py > ~/.cache/agentic-match/bench-lgir.log 2>&1
    python benchmarks/lgir.py --stages warm,cold   # no LLM: completions from the cache only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from generation_common import REPO, SHARED, WRITERS, add_generation_args, read_json, say, write_json  # noqa: E402

from agentic_match.augment.completion import (  # noqa: E402
    INFERRED_FIELD,
    CompletionConfig,
    compare_fabrication,
    fabrication_report,
    interacted_jobs,
)
from agentic_match.augment.lgir import LGIRConfig, fit_lgir, fuse_completions  # noqa: E402
from agentic_match.data import document_from_row, load_benchmark  # noqa: E402
from agentic_match.data.schema import Corpus, Document, Interaction  # noqa: E402
from agentic_match.evaluation import results_table_markdown, write_results  # noqa: E402
from agentic_match.evaluation.sampled import (  # noqa: E402
    SAMPLED_METRICS,
    SampledLists,
    interaction_groups,
    paired_p_value,
    random_expectation,
    sampled_lists,
    score_lists,
    summarise,
    warm_split,
)

# system: (the users' text, LGIRConfig overrides). The paper's variants, then an ablation of
# the one deviation from it: the recommender without the text-cosine prior.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "lgir-base": ("base", {"gan": False}),
    "lgir-src": ("src", {"gan": False}),
    "lgir-irc": ("irc", {"gan": False}),
    "lgir-irc+gan": ("irc", {"gan": True}),
    "lgir-base-no-prior": ("base", {"gan": False, "text_prior": False}),
}


# ---------------------------------------------------------------------------- users
def select_users(corpus: Corpus, per_group: int, test_per_group: int, seed: int) -> tuple[list[str], dict[str, int]]:
    """Training-split and test-split users drawn from each interaction group (seeded).

    Groups are cut over every resume with interactions, so group 1 holds the fewest-shot
    fifth of all users; test-split users need at least one relevant test job (the cold lists).
    """
    counts: dict[str, int] = {}
    for i in corpus.interactions:
        counts[i.resume_id] = counts.get(i.resume_id, 0) + 1
    groups = interaction_groups(counts)
    train = set(corpus.split_ids("resume", "train"))
    qrels = corpus.qrels.get("test_rank_job", {})
    test = {u for u in corpus.split_ids("resume", "test") if any(g > 0 for g in qrels.get(u, {}).values())}
    rng = random.Random(seed)
    users: list[str] = []
    for g in range(5):
        members = sorted(u for u in counts if groups[u] == g)
        for pool, n in ((train, per_group), (test, test_per_group)):
            cands = [u for u in members if u in pool]
            users += rng.sample(cands, min(n, len(cands)))
    return sorted(users), {u: groups[u] for u in users}


# ---------------------------------------------------------------------------- completion
def load_docs(path: Path, kind: str) -> dict[str, Document]:
    out = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                doc = document_from_row(json.loads(line), kind)
                out[doc.id] = doc
    return out


def complete(args: argparse.Namespace, corpus: Corpus, users: list[str], train_inter: list[Interaction]) -> dict:
    """SRC and IRC for ``users`` on one vLLM server; statistics add up over resumed runs."""
    from agentic_match.config import load_settings
    from agentic_match.llm import ManagedServer, client_for, token_counts
    from graphs import complete_resumes
    from graphs.batching import checkpointer_at, run_graph

    work = Path(args.work).expanduser()
    stats_path = work / "completion-stats.json"
    stats = read_json(stats_path, {})
    spec = WRITERS.get(args.writer, args.writer)
    settings = load_settings(
        overrides={"llm": {"model": spec, "max_concurrency": args.concurrency, "max_tokens": args.max_tokens}}
    )
    resumes = [corpus.resumes[u] for u in users]
    inter = interacted_jobs(train_inter, corpus.jobs)
    t_start = time.perf_counter()
    with ManagedServer(settings=settings) as info, checkpointer_at(work / "graphs.sqlite") as saver:
        ready_s = time.perf_counter() - t_start
        llm = client_for(settings, info)
        for method in ("src", "irc"):
            run_id = f"{method}:{args.writer}"
            p0, g0 = token_counts(info.root_url)
            t0 = time.perf_counter()
            final = run_graph(
                complete_resumes.build_graph(
                    llm, CompletionConfig(method=method, max_tokens=args.max_tokens), checkpointer=saver
                ),  # type: ignore[arg-type]
                complete_resumes.inputs_for(
                    resumes,
                    inter,
                    output_path=str(work / f"resumes.{method}.{args.writer}.jsonl"),
                    batch_size=args.batch_size_docs,
                ),
                run_id,
                max_concurrency=args.concurrency,
            )
            wall = time.perf_counter() - t0
            p1, g1 = token_counts(info.root_url)
            prev = stats.get(run_id, {"wall_s": 0.0, "prompt_tokens": 0, "generated_tokens": 0})
            if g1 > g0:  # a cached rerun measures the cache, not the writer
                prev = {
                    "wall_s": round(prev["wall_s"] + wall, 1),
                    "prompt_tokens": int(prev["prompt_tokens"] + p1 - p0),
                    "generated_tokens": int(prev["generated_tokens"] + g1 - g0),
                    "server_ready_s": round(ready_s, 1),
                }
            prev.update({"documents": len(final.get("results") or {}), "failures": len(final.get("failures") or {})})
            stats[run_id] = prev
            write_json(stats_path, stats)
            say(f"{run_id}: {prev}")
        llm.close()
    return stats


def completions(args: argparse.Namespace, corpus: Corpus, users: list[str], train_inter: list[Interaction]) -> dict:
    """``{"src": {id: doc}, "irc": {...}}`` from the output files, and the fabrication rates."""
    work = Path(args.work).expanduser()
    out: dict[str, Any] = {}
    inter = interacted_jobs(train_inter, corpus.jobs)
    fabrication: dict[str, Any] = {}
    wanted = set(users)
    for method in ("src", "irc"):
        docs = load_docs(work / f"resumes.{method}.{args.writer}.jsonl", "resume")
        out[method] = {u: d for u, d in docs.items() if u in wanted and INFERRED_FIELD in d.fields}
        # The same evidence for both methods (the resume and its training interactions), so
        # their rates compare; a skill is supported only if that evidence states it.
        reports = [
            fabrication_report(
                corpus.resumes[u], d.metadata.get("inferred", {}).get("skills", []), inter.get(u, []), method
            )
            for u, d in out[method].items()
        ]
        fabrication.update(compare_fabrication(reports))
    out["fabrication"] = fabrication
    return out


# ---------------------------------------------------------------------------- vectors
def encode_cached(encoder: Any, ids: list[str], items: list[Any], path: Path) -> dict[str, np.ndarray]:
    """``{id: vector}``, encoded once and kept in ``path`` (an ``.npz`` per encoder and text set)."""
    if path.is_file():
        with np.load(path) as z:
            if list(z["ids"]) == ids:
                return dict(zip(ids, z["vecs"], strict=True))
    vecs = encoder.encode(items) if items else np.zeros((0, 1), dtype=np.float32)
    np.savez(path, ids=np.array(ids), vecs=vecs)
    return dict(zip(ids, vecs, strict=True))


def user_vectors(
    encoder: Any, corpus: Corpus, users: list[str], done: dict, weight: float, work: Path, tag: str
) -> dict[str, dict]:
    """``{variant text: {user: vector}}``: the resume's vector, or its fusion with the completion's."""
    enc_tag = tag.split(".", 1)[0]  # the original resumes do not depend on the writer
    out = {"base": encode_cached(encoder, users, [corpus.resumes[u] for u in users], work / f"vecs.{enc_tag}.base.npz")}
    for method in ("src", "irc"):
        have = [u for u in users if u in done[method]]
        texts = [done[method][u].fields[INFERRED_FIELD] for u in have]
        inferred_by_id = encode_cached(encoder, have, texts, work / f"vecs.{tag}.{method}.npz")
        out[method] = fuse_completions(out["base"], inferred_by_id, weight)
    return out


# ---------------------------------------------------------------------------- protocols
def cosine_scorer(uvecs: dict[str, np.ndarray], jvecs: dict[str, np.ndarray]):
    return lambda u, cands: [float(uvecs[u] @ jvecs[j]) for j in cands]


def bm25_scorer(corpus: Corpus, users: list[str], pool: list[str]):
    from agentic_match.retrieval.bm25 import BM25Ranker

    run = BM25Ranker().rank([corpus.resumes[u] for u in users], [corpus.jobs[j] for j in pool], k=len(pool))
    return lambda u, cands: [run.get(u, {}).get(j, 0.0) for j in cands]


def random_scorer(seed: int):
    rng = random.Random(seed)
    return lambda u, cands: [rng.random() for _ in cands]


def evaluate_protocol(
    args: argparse.Namespace,
    task: str,
    lists: SampledLists,
    groups: dict[str, int],
    baselines: dict[str, Any],
    fit: Any,
    uvecs: dict[str, dict],
    jvecs: dict[str, np.ndarray],
    cache_path: Path,
) -> list[dict]:
    """Baseline rows and ``--seeds`` trained models per variant on the same lists (cached per row).

    The cache file is named by a digest of the lists (users, positives, sampled negatives), so
    other ``--users-per-group``, ``--negatives`` or ``--seed`` never read another run's rows.
    """
    tag = hashlib.sha1(json.dumps(sorted(lists.lists.items()), default=list).encode()).hexdigest()[:10]
    cache_path = cache_path.with_name(f"{cache_path.stem}.{tag}{cache_path.suffix}")
    cache = read_json(cache_path, {})
    n_cands = statistics.mode(len(c) for _, c in lists.lists.values())
    rows: list[dict] = []
    # {system: {list: {metric: score}}}; a variant's score per list is its mean over the seeds.
    per_list_mean: dict[str, dict[str, dict[str, float]]] = {}
    by_seed: dict[str, list[dict]] = {}  # a variant's summary per seed (the spread)
    fits: dict[str, list[dict]] = {}  # a variant's training record per seed
    for name, scorer in baselines.items():
        key = f"{task}/{name}"
        if key not in cache:
            cache[key] = {"per_list": score_lists(lists, scorer)}
            write_json(cache_path, cache)
        per_list_mean[name] = cache[key]["per_list"]
    for name, (text, overrides) in VARIANTS.items():
        runs = []
        for seed in args.seeds:
            key = f"{task}/{name}/s{seed}"
            if key not in cache:
                t0 = time.perf_counter()
                model = fit(uvecs[text], LGIRConfig(seed=seed, **overrides))
                per_list = score_lists(
                    lists,
                    lambda u, cands, m=model, uv=uvecs[text]: m.score(
                        uv[u][None, :], np.stack([jvecs[j] for j in cands]), [u], cands
                    )[0],
                )
                cache[key] = {
                    "per_list": per_list,
                    "best_epoch": model.history.best_epoch,
                    "val_auc": round(max(model.history.val_auc), 4) if model.history.val_auc else None,
                    "train_s": round(time.perf_counter() - t0, 1),
                }
                write_json(cache_path, cache)
                say(f"{key}: best epoch {cache[key]['best_epoch']}, val AUC {cache[key]['val_auc']}")
            runs.append(cache[key])
        per_list_mean[name] = {
            q: {m: statistics.mean(r["per_list"][q][m] for r in runs) for m in SAMPLED_METRICS} for q in lists.lists
        }
        by_seed[name] = [summarise(r["per_list"]) for r in runs]
        fits[name] = [{k: r[k] for k in ("best_epoch", "val_auc", "train_s")} for r in runs]
    base = per_list_mean["lgir-base"]
    for name in [*baselines, *VARIANTS]:
        per_list = per_list_mean[name]
        summary = summarise(per_list, groups)
        metrics = {m: summary[m] for m in SAMPLED_METRICS}
        params: dict[str, Any] = {"lists": len(per_list), "candidates_per_list": n_cands}
        if name == "random":
            params["expected"] = {m: round(random_expectation(n_cands, m), 2) for m in SAMPLED_METRICS}
        if name in VARIANTS:
            for m in SAMPLED_METRICS:
                spread = [float(x[m]) for x in by_seed[name]]
                metrics[f"{m}_sd"] = round(statistics.stdev(spread), 2) if len(spread) > 1 else None
            params["seeds"] = list(args.seeds)
            params["fits"] = fits[name]
        if name != "lgir-base":
            for m in SAMPLED_METRICS:
                p = paired_p_value({q: v[m] for q, v in per_list.items()}, {q: v[m] for q, v in base.items()})
                metrics[f"{m}_p_vs_base"] = round(p, 4) if p is not None else None
        rows.append({"system": name, "task": task, "metrics": metrics, "groups": summary["groups"], "params": params})
        say(f"{task} {name:14s} " + ", ".join(f"{m} {metrics[m]:.2f}" for m in SAMPLED_METRICS))
    return rows


# ---------------------------------------------------------------------------- main
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(SHARED / "data" / "benchmark" / "v1"))
    p.add_argument("--work", default="~/.cache/agentic-match/bench-lgir")
    p.add_argument("--stages", default="complete,warm,cold")
    p.add_argument(
        "--writer",
        default="qwen2.5-coder-1.5b",
        help="completion writer (a name of WRITERS or a spec); the 1.5B is the strongest that runs here",
    )
    # 150 completed users take ~45 min of the 1.5B on 2 cores (SRC + IRC); more did not fit.
    p.add_argument("--users-per-group", type=int, default=20, help="training-split users per interaction group")
    p.add_argument("--test-users-per-group", type=int, default=10, help="test-split users per interaction group")
    p.add_argument("--negatives", type=int, default=20, help="sampled negatives per positive (the paper: 20)")
    p.add_argument("--seeds", default="0,1,2,3,4", help="initialisation seeds per variant")
    p.add_argument("--encoder", default="all-minilm-l6-v2")
    p.add_argument("--confit-model", default=None, help="a ConFit* model folder for the confit-cosine row")
    p.add_argument("--completion-weight", type=float, default=0.5, help="weight of the completion's vector")
    add_generation_args(p)
    p.add_argument("--max-tokens", type=int, default=200, help="generation budget of one completion")
    p.add_argument("--seed", type=int, default=0, help="seed of the user draw, the warm split and the lists")
    p.add_argument(
        "--show-examples",
        action="store_true",
        help="print three cached SRC / IRC completions per interaction group and stop (they stay in --work)",
    )
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    stages = {s.strip() for s in args.stages.split(",") if s.strip()}
    work = Path(args.work).expanduser()
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    corpus = load_benchmark(Path(args.data))
    # Evaluated (and completed) users: a sample per interaction group. Every user with
    # interactions trains the recommender: the sample alone holds too few interactions.
    users, groups = select_users(corpus, args.users_per_group, args.test_users_per_group, args.seed)
    inter = list(corpus.interactions)
    everyone = sorted({i.resume_id for i in inter})
    split = warm_split(inter, args.seed)
    say(
        f"{len(users)} evaluated users of {len(everyone)}, {len(inter)} interactions (warm split "
        f"{len(split.train)}/{len(split.validation)}/{len(split.test)})"
    )
    counts: dict[str, int] = {}
    for i in inter:
        counts[i.resume_id] = counts.get(i.resume_id, 0) + 1
    notes: dict[str, Any] = {
        "evaluated_users": len(users),
        "training_users": len(everyone),
        "interactions": len(inter),
        "writer": args.writer,
        "warm_split": [len(split.train), len(split.validation), len(split.test)],
        "lgir_group_interactions": {
            f"group{g + 1}": [min(c), max(c)] for g in range(5) if (c := [counts[u] for u in users if groups[u] == g])
        },
    }
    if "complete" in stages:
        notes["completion"] = complete(args, corpus, users, split.train)
    else:  # the statistics of the runs that wrote the cached completions
        notes["completion"] = read_json(Path(args.work).expanduser() / "completion-stats.json", {})
    done = completions(args, corpus, users, split.train)
    notes["completed"] = {m: len(done[m]) for m in ("src", "irc")}
    notes["fabrication"] = done["fabrication"]
    # Three completions per group, kept in --work only: they quote the benchmark's resumes
    # (names, employers), which may not be redistributed, so the results file never holds them.
    examples = {
        f"group{g + 1}": [
            {"id": u, **{m: done[m][u].fields[INFERRED_FIELD] for m in ("src", "irc") if u in done[m]}}
            for u in [u for u in users if groups[u] == g and u in done["irc"]][:3]
        ]
        for g in range(5)
    }
    write_json(Path(args.work).expanduser() / "examples.json", examples)
    if args.show_examples:
        for group, items in examples.items():
            print(f"## {group} ({'-'.join(map(str, notes['lgir_group_interactions'][group]))} interactions)\n")
            for e in items:
                for m in ("src", "irc"):
                    print(f"**{e['id']} {m.upper()}**: {e.get(m, '(failed the schema: original resume kept)')}\n")
        return

    from agentic_match.retrieval.encoder import BiEncoder

    encoder = BiEncoder.load(args.encoder)
    tag = f"{Path(args.encoder).name.replace('.', '_')}.{args.writer}"
    uvecs = user_vectors(encoder, corpus, everyone, done, args.completion_weight, work, tag)
    train_jobs = sorted(corpus.split_ids("job", "train"))
    test_jobs = sorted(corpus.split_ids("job", "test"))
    job_ids = train_jobs + test_jobs
    jvecs = encode_cached(
        encoder, job_ids, [corpus.jobs[j] for j in job_ids], work / f"vecs.{tag.split('.', 1)[0]}.jobs.npz"
    )
    confit = BiEncoder.load(args.confit_model) if args.confit_model else None
    if confit is not None:
        cu = dict(zip(users, confit.encode([corpus.resumes[u] for u in users])))
        cj = dict(zip(train_jobs + test_jobs, confit.encode([corpus.jobs[j] for j in train_jobs + test_jobs])))
    rows: list[dict] = []
    # Cached rows belong to one set of recommender defaults and one completion view.
    defaults = {**asdict(LGIRConfig()), "completion_weight": args.completion_weight, "writer": args.writer}
    cfg_tag = hashlib.sha1(json.dumps(defaults, sort_keys=True).encode()).hexdigest()[:10]

    def baselines(pool: list[str]) -> dict[str, Any]:
        out = {
            "random": random_scorer(args.seed),
            "cosine": cosine_scorer(uvecs["base"], jvecs),
            "bm25": bm25_scorer(corpus, users, pool),
        }
        if confit is not None:
            out["confit-cosine"] = cosine_scorer(cu, cj)
        return out

    if "warm" in stages:
        known: dict[str, set[str]] = {}
        for i in inter:
            known.setdefault(i.resume_id, set()).add(i.job_id)
        chosen = set(users)
        lists = sampled_lists(
            [i for i in split.test if i.resume_id in chosen], known, train_jobs, args.negatives, args.seed
        )
        train_vecs = {j: jvecs[j] for j in train_jobs}

        def fit_warm(uv: dict[str, np.ndarray], cfg: LGIRConfig):
            return fit_lgir(uv, train_vecs, split.train, cfg, validation=split.validation)

        rows += evaluate_protocol(
            args,
            "lgir_warm",
            lists,
            groups,
            baselines(train_jobs),
            fit_warm,
            uvecs,
            jvecs,
            work / f"warm.{cfg_tag}.json",
        )
    if "cold" in stages:
        train_split = set(corpus.split_ids("resume", "train"))
        train_users = [u for u in everyone if u in train_split]
        cold_train = [i for i in split.train + split.test if i.resume_id in train_split]
        cold_val = [i for i in split.validation if i.resume_id in train_split]
        qrels = corpus.qrels["test_rank_job"]
        test_users = [u for u in users if u not in train_split]
        positives = [Interaction(u, j) for u in test_users for j, g in qrels.get(u, {}).items() if g > 0]
        relevant = {u: {j for j, g in qrels.get(u, {}).items() if g > 0} for u in test_users}
        lists = sampled_lists(positives, relevant, test_jobs, args.negatives, args.seed)
        train_vecs = {j: jvecs[j] for j in train_jobs}

        def fit_cold(uv: dict[str, np.ndarray], cfg: LGIRConfig):
            return fit_lgir({u: uv[u] for u in train_users}, train_vecs, cold_train, cfg, validation=cold_val)

        rows += evaluate_protocol(
            args,
            "lgir_cold",
            lists,
            groups,
            baselines(test_jobs),
            fit_cold,
            uvecs,
            jvecs,
            work / f"cold.{cfg_tag}.json",
        )
    for method, stats in done["fabrication"].items():
        # Strict rule: a skill is supported only if the resume or an interacted job states every word.
        rows.append(
            {
                "system": method,
                "task": "fabrication",
                "metrics": {
                    "unsupported_skills_pct": round(100 * stats["rate"], 2),
                    "skills": int(stats["skills"]),
                    "documents": int(stats["documents"]),
                },
            }
        )
    write_json(work / "notes.json", notes)
    if not args.no_write and rows:
        cmd = "python benchmarks/lgir.py " + " ".join(sys.argv[1:])
        path = write_results(
            "lgir",
            rows,
            cmd.strip(),
            time.perf_counter() - t_start,
            out_dir=REPO / "benchmarks" / "results",
            notes=notes,
        )
        print(results_table_markdown(path))


if __name__ == "__main__":
    main()
