"""The eight steps of the train pipeline as plain functions ``step(ctx) -> outputs``.

Each step reads what earlier steps recorded (``ctx.upstream``), calls one capability
(HyRe, ConFit* training, Runner-Up Mining, the judge, RankPO, evaluation) and writes its
artefacts under its own folder (``ctx.folder``). They know nothing of graphs or
checkpoints: :func:`agentic_match.pipeline.runfolder.run_step` decides whether a step runs,
and :mod:`graphs.train_pipeline` chains them. Paths in outputs are relative to the run
folder, so a run folder can be moved.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agentic_match.data.schema import Corpus
from agentic_match.errors import ConfigError, DataError, Problem
from agentic_match.files import digest, write_json
from agentic_match.pipeline.config import PipelineConfig
from agentic_match.pipeline.runfolder import STEPS, StepRecord

StepFn = Callable[["StepContext"], dict[str, Any]]


@dataclass(frozen=True)
class StepSpec:
    """What a step's inputs digest covers.

    Attributes:
        needs: Earlier steps whose outputs it reads.
        settings: :class:`PipelineConfig` sections (or dotted settings) it reads.
        uses_llm: Whether it calls the generator (its identity then joins the digest).
    """

    needs: tuple[str, ...]
    settings: tuple[str, ...]
    uses_llm: bool = False


STEP_SPECS: dict[str, StepSpec] = {
    "augment": StepSpec((), ("skip_augment", "hyre"), uses_llm=True),
    "train": StepSpec(("augment",), ("confit",)),
    "mine": StepSpec(("augment", "train"), ("mining",)),
    "retrain": StepSpec(("augment", "mine"), ("confit",)),
    "judge": StepSpec(("augment", "retrain"), ("skip_judge", "pairs", "judge"), uses_llm=True),
    "rankpo": StepSpec(
        ("augment", "retrain", "judge"),
        ("rankpo", "pairs.held_out", "pairs.seed", "preference_source", "label_pairs"),
    ),
    "evaluate": StepSpec(("augment", "train", "retrain", "rankpo"), ("confit.encoder", "evaluation")),
    "report": StepSpec(STEPS[:-1], ()),
}


def inputs_digest(
    step: str, config: PipelineConfig, data_fingerprint: str, upstream: dict[str, StepRecord], llm_id: str = ""
) -> str:
    """The digest a step's ``done.json`` must carry to be skipped."""
    spec = STEP_SPECS[step]
    missing = [n for n in spec.needs if n not in upstream]
    if missing:
        raise RuntimeError(f"step {step} runs before {', '.join(missing)}")
    return digest(
        step,
        config.subset(spec.settings),
        data_fingerprint,
        {n: upstream[n].outputs_digest for n in spec.needs},
        llm_id if spec.uses_llm else None,
    )


# --------------------------------------------------------------------------- data


def load_data(spec: str) -> Corpus:
    """``"demo"``: the packaged demo corpus; otherwise a folder in the benchmark layout."""
    from agentic_match.data import load_benchmark, load_demo

    return load_demo() if spec == "demo" else load_benchmark(spec)


def corpus_fingerprint(corpus: Corpus) -> str:
    """A hash of everything in a corpus that the pipeline reads."""
    from agentic_match.data.writers import document_to_row

    def labels(xs):
        return sorted([x.resume_id, x.job_id, x.label] for x in xs)

    return digest(
        [document_to_row(d) for d in corpus.resumes.values()],
        [document_to_row(d) for d in corpus.jobs.values()],
        labels(corpus.labels),
        {k: labels(v) for k, v in corpus.label_splits.items()},
        corpus.splits,
        corpus.qrels,
    )


def check_inputs(corpus: Corpus, config: PipelineConfig) -> None:
    """Refuse, before hours of work, a corpus the configured pipeline cannot finish on.

    Raises:
        DataError: no accepted train pair, no qrels for the evaluation split, or no dev
            qrels to choose the RUM band with (``band="auto"``). Every problem is listed.
    """
    from agentic_match.data.labels import accepted_pairs, training_labels

    where = corpus.source
    problems = []
    try:
        if not accepted_pairs(training_labels(corpus)):
            problems.append(Problem(where, None, "labels", "no accepted (label > 0) train pair to train on"))
    except DataError as e:
        problems += e.problems
    split = config.evaluation.split
    if not any(f"{split}_{t}" in corpus.qrels for t in ("rank_resume", "rank_job")):
        have = ", ".join(sorted(corpus.qrels)) or "none"
        problems.append(Problem(where, None, "qrels", f"no '{split}' qrels to evaluate on (have: {have})"))
    if config.mining.band == "auto" and not any(k.startswith("dev_") for k in corpus.qrels):
        problems.append(Problem(where, None, "qrels", "band 'auto' needs dev qrels; give a band like 3-4"))
    if problems:
        raise DataError(problems)


def _has_dev(corpus: Corpus) -> bool:
    return any(k.startswith("dev_") for k in corpus.qrels)


# --------------------------------------------------------------------------- context


@dataclass
class StepContext:
    """What a step function gets.

    Attributes:
        run_dir: The run folder.
        folder: This step's folder (artefacts go here).
        config: The pipeline settings.
        upstream: Records of the steps already done, by name.
        load_corpus: Returns the input corpus (memoized by the caller).
        get_llm: Returns the generator client (started on first use); raises when none.
        memo: Per-process cache shared by the steps of one graph (the augmented corpus).
        say: Progress line printer.
    """

    run_dir: Path
    folder: Path
    config: PipelineConfig
    upstream: dict[str, StepRecord]
    load_corpus: Callable[[], Corpus]
    get_llm: Callable[[], Any]
    memo: dict[str, Any] = field(default_factory=dict)
    say: Callable[[str], None] = print

    def path(self, rel: str) -> Path:
        """An output path recorded by a step, resolved against the run folder."""
        return self.run_dir / rel

    def rel(self, path: Path) -> str:
        """``path`` relative to the run folder (what outputs record)."""
        return str(Path(path).resolve().relative_to(self.run_dir.resolve()))

    def output(self, step: str, key: str) -> Any:
        """``upstream[step].outputs[key]`` (``None`` when the step was skipped or lacks it)."""
        rec = self.upstream.get(step)
        return None if rec is None else rec.outputs.get(key)

    def corpus(self) -> Corpus:
        """The input corpus with the HyRe-augmented job posts when the augment step made them."""
        jobs_rel = self.output("augment", "jobs")
        if not jobs_rel:
            return self.load_corpus()
        key = f"augmented:{self.upstream['augment'].outputs_digest}"
        if key not in self.memo:
            from agentic_match.data import load_documents

            base = self.load_corpus()
            path = self.path(jobs_rel)
            jobs = {d.id: d for d in load_documents(path, "job")}
            if set(jobs) != set(base.jobs):
                raise DataError(
                    Problem(str(path), None, "id", "the augmented jobs are not the input's jobs (rerun the pipeline)")
                )
            self.memo[key] = replace(base, jobs={j: jobs[j] for j in base.jobs})
        return self.memo[key]


def skipped(reason: str) -> dict[str, Any]:
    """The outputs of a step that a setting (or an empty input) turned off."""
    return {"skipped": reason}


# --------------------------------------------------------------------------- steps


def step_augment(ctx: StepContext) -> dict[str, Any]:
    """HyRe: a hypothetical reference resume appended to every job post (train, dev and test).

    Few-shot examples come from accepted *train* pairs only. A job whose generation fails
    keeps its text (listed in ``jobs.hyre.failures.jsonl``). Answers are in the client's generation
    cache, so a step killed part-way sends each finished request only once.
    """
    from agentic_match.augment.batch import failures_path, hyre_step, process_documents, write_batch_output
    from agentic_match.augment.hyre import pick_examples
    from agentic_match.data.labels import training_labels

    cfg = ctx.config
    if cfg.skip_augment:
        return skipped("skip_augment is set: the plain job posts are used")
    corpus = ctx.load_corpus()
    hcfg = cfg.hyre
    examples = pick_examples(corpus, training_labels(corpus), hcfg)
    jobs = list(corpus.jobs.values())
    llm = ctx.get_llm()
    ctx.say(f"HyRe for {len(jobs)} job posts ({len(examples)} few-shot pair(s), {cfg.concurrency} in flight)")
    done = [0, 0]

    def on_event(ev: Any) -> None:
        done[0] += 1
        done[1] += not ev["ok"]
        if done[0] % 25 == 0 or done[0] == len(jobs):
            ctx.say(f"  HyRe {done[0]}/{len(jobs)} ({done[1]} failed, kept unchanged)")

    # An unreachable server raises: the graph retries / resumes (answers are in the cache).
    batch = process_documents(jobs, hyre_step(llm, examples, hcfg), concurrency=cfg.concurrency, on_event=on_event)
    path = write_batch_output(ctx.folder / "jobs.hyre.jsonl", jobs, batch.results, batch.failures, "hyre_failed")
    failures = batch.failures
    arts = [path.name] + ([failures_path(path).name] if failures else [])
    return {
        "jobs": ctx.rel(ctx.folder / "jobs.hyre.jsonl"),
        "augmented": len(jobs) - len(failures),
        "failed": len(failures),
        "examples": [[j.id, r.id] for j, r in examples],
        "artefacts": arts,
    }


def confit_config(cfg: PipelineConfig, corpus: Corpus) -> Any:
    """The :class:`ConFitConfig` both trainings use (hard negatives are passed explicitly;
    without dev qrels the last epoch is kept)."""
    return replace(cfg.confit, eval_split=cfg.confit.eval_split if _has_dev(corpus) else None)


def _training_outputs(ctx: StepContext, result: Any, **extra: Any) -> dict[str, Any]:
    history = [
        {k: h.get(k) for k in ("epoch", "train_loss", "dev_ndcg@10", "alignment", "retention_ndcg@10") if k in h}
        for h in result.history
    ]
    return {
        "model": ctx.rel(result.model_dir),
        "best_epoch": result.best_epoch,
        "history": history,
        **extra,
        "artefacts": ["model"],
        "scratch": [] if ctx.config.keep_checkpoints else ["checkpoints"],
    }


def step_train(ctx: StepContext) -> dict[str, Any]:
    """ConFit* from the base encoder with in-batch negatives only (RUM's first round)."""
    from agentic_match.retrieval.training import train_confit

    corpus = ctx.corpus()
    result = train_confit(corpus, confit_config(ctx.config, corpus), ctx.folder, {}, progress=ctx.config.progress)
    return _training_outputs(ctx, result)


def step_mine(ctx: StepContext) -> dict[str, Any]:
    """Runner-Up Mining with the first model; the band is chosen on dev when ``band="auto"``."""
    from agentic_match.retrieval.encoder import BiEncoder
    from agentic_match.retrieval.mining import band_label, choose_band, mine_runner_up, parse_band, save_negatives

    cfg = ctx.config
    corpus = ctx.corpus()
    encoder = BiEncoder.load(ctx.path(ctx.output("train", "model")), device=cfg.confit.device)
    shares: dict[str, float] = {}
    if cfg.mining.band == "auto":
        band, shares = choose_band(encoder, corpus)
    else:
        band = parse_band(cfg.mining.band)
    negatives, report = mine_runner_up(encoder, corpus, band, per_pair=cfg.mining.per_pair, seed=cfg.mining.seed)
    save_negatives(ctx.folder / "negatives.jsonl", negatives)
    ctx.say(f"RUM band {band_label(band)}: {report.negative_jobs} negative jobs, {report.negative_resumes} resumes")
    return {
        "negatives": ctx.rel(ctx.folder / "negatives.jsonl"),
        "band": band_label(band),
        "band_positive_shares": shares,
        "pairs": report.pairs,
        "negative_jobs": report.negative_jobs,
        "negative_resumes": report.negative_resumes,
        "artefacts": ["negatives.jsonl"],
    }


def step_retrain(ctx: StepContext) -> dict[str, Any]:
    """ConFit* from the base encoder again, now with the mined negatives (ConFit* + RUM)."""
    from agentic_match.retrieval.mining import load_negatives
    from agentic_match.retrieval.training import train_confit

    corpus = ctx.corpus()
    negatives = load_negatives(ctx.path(ctx.output("mine", "negatives")), corpus)
    result = train_confit(
        corpus, confit_config(ctx.config, corpus), ctx.folder, negatives, progress=ctx.config.progress
    )
    return _training_outputs(ctx, result)


def step_judge(ctx: StepContext) -> dict[str, Any]:
    """The local LLM judges pairs from the RUM model's top-k of train jobs, in both orders."""
    from agentic_match.align.judge import judge_pairs, sample_pairs
    from agentic_match.augment.batch import failures_path
    from agentic_match.retrieval.encoder import BiEncoder

    cfg = ctx.config
    if cfg.skip_judge:
        return skipped("skip_judge is set: no judged preferences")
    corpus = ctx.corpus()
    encoder = BiEncoder.load(ctx.path(ctx.output("retrain", "model")), device=cfg.confit.device)
    pairs = sample_pairs(encoder, corpus, cfg.pairs, split="train", max_doc_chars=cfg.judge.max_doc_chars)
    llm = ctx.get_llm()
    ctx.say(f"judging {len(pairs)} pairs of {len({p.query_id for p in pairs})} train jobs (both orders)")
    seen = [0]

    def on_done(_outcome: Any) -> None:
        seen[0] += 1
        if seen[0] % 25 == 0 or seen[0] == len(pairs):
            ctx.say(f"  judged {seen[0]}/{len(pairs)}")

    report = judge_pairs(llm, pairs, cfg.judge, concurrency=cfg.concurrency, on_done=on_done)
    path = report.write(ctx.folder / "preferences.jsonl")
    arts = [path.name] + ([failures_path(path).name] if failures_path(path).is_file() else [])
    flip = report.flip_rate()
    return {
        "preferences": ctx.rel(ctx.folder / "preferences.jsonl"),
        "counts": report.counts(),
        "flip_rate": None if math.isnan(flip) else round(flip, 4),
        "artefacts": arts,
    }


def step_rankpo(ctx: StepContext) -> dict[str, Any]:
    """Stage 2: RankPO on real preferences, anchored on the RUM model.

    The judge's preferences, or (``preference_source``) pairs from the train labels: with
    ``auto`` the labels stand in when the judge decided no pair, so a weak judge no longer
    means no stage 2. The outputs say which source was used.
    """
    from agentic_match.align.label_pairs import label_preference_records
    from agentic_match.align.preferences import load_preferences, split_preferences, write_preferences
    from agentic_match.align.trainer import AlignConfig, train_align

    cfg = ctx.config
    corpus = ctx.corpus()
    prefs_rel = ctx.output("judge", "preferences")
    counts = ctx.output("judge", "counts") or {}
    judged = bool(prefs_rel) and bool(counts.get("preferences"))
    why_not_judge = (
        "the judge step was skipped"
        if not prefs_rel
        else f"the judge decided no pair ({counts.get('ties', 0)} ties: the two orders disagreed, "
        f"{counts.get('failures', 0)} failures, of {counts.get('pairs', 0)} pairs)"
    )
    source = cfg.preference_source
    if source == "judge" or (source == "auto" and judged):
        if not judged:
            return skipped(f"no judged preference: {why_not_judge}")
        prefs = load_preferences(ctx.path(prefs_rel), corpus).preferences
        used, note = "judge", None
    else:
        records, report = label_preference_records(corpus, cfg.label_pairs)
        if not records:
            return skipped(f"no preference: the train labels give no pair ({report.as_dict()}), and {why_not_judge}")
        path = write_preferences(ctx.folder / "preferences.labels.jsonl", records)
        prefs = load_preferences(path, corpus).preferences
        used, note = "labels", report.as_dict()
        ctx.say(
            f"RankPO on {len(prefs)} label pairs of {report.queries} train jobs"
            + ("" if source == "labels" else f" ({why_not_judge})")
        )
    train, held = split_preferences(prefs, cfg.pairs.held_out, cfg.pairs.seed)
    if not train:  # too few judged jobs to hold some out
        train, held = prefs, []
    acfg = AlignConfig(
        **cfg.rankpo.method_only(),
        base=str(ctx.path(ctx.output("retrain", "model"))),
    )
    acfg = replace(acfg, eval_split=acfg.eval_split if _has_dev(corpus) else None)
    result = train_align(train, acfg, ctx.folder, corpus=corpus, held_out=held, progress=cfg.progress)
    extra: dict[str, Any] = {"preference_source": used}
    if note is not None:
        extra["label_pairs"] = note
        extra["preferences_file"] = ctx.rel(ctx.folder / "preferences.labels.jsonl")
    out = _training_outputs(ctx, result, preferences=len(train), held_out=len(held), **extra)
    if note is not None:
        out["artefacts"].append("preferences.labels.jsonl")
    return out


def step_evaluate(ctx: StepContext) -> dict[str, Any]:
    """Both ranking tasks on the evaluation split for the base encoder and every trained model."""
    from agentic_match.evaluation import evaluate, load_task
    from agentic_match.retrieval.encoder import BiEncoder

    cfg = ctx.config
    corpus = ctx.corpus()
    systems: dict[str, str] = {"base": cfg.confit.encoder}
    for name, step in (("confit", "train"), ("confit-rum", "retrain"), ("rankpo", "rankpo")):
        if ctx.output(step, "model"):
            systems[name] = ctx.output(step, "model")
    split, depth = cfg.evaluation.split, cfg.evaluation.k
    tasks = [t for t in ("rank_resume", "rank_job") if f"{split}_{t}" in corpus.qrels]
    metrics: dict[str, dict[str, dict[str, float]]] = {}
    for name, spec in systems.items():
        source = spec if name == "base" else str(ctx.path(spec))
        encoder = BiEncoder.load(source, device=cfg.confit.device)
        metrics[name] = {}
        for task in tasks:
            run_path = ctx.folder / "runs" / f"{name}-{task}.json.gz"
            result = evaluate(encoder, load_task(corpus, split, task), k=depth, run_path=run_path)  # type: ignore[arg-type]
            metrics[name][task] = {k: round(v, 4) for k, v in result.metrics.items()}
            ctx.say(f"  {name} {task}: nDCG@10 {metrics[name][task].get('ndcg@10', float('nan')):.2f}")
    return {"split": split, "tasks": tasks, "systems": systems, "metrics": metrics, "artefacts": ["runs"]}


def step_report(ctx: StepContext) -> dict[str, Any]:
    """``report.md`` and ``report.json``: settings, what each step did and took, the metrics."""
    from agentic_match.files import atomic_write_bytes
    from agentic_match.pipeline.report import build_report, report_markdown

    report = build_report(ctx.run_dir, ctx.config, ctx.upstream)
    write_json(ctx.folder / "report.json", report)
    atomic_write_bytes(ctx.folder / "report.md", report_markdown(report).encode("utf-8"))
    return {
        "report": ctx.rel(ctx.folder / "report.md"),
        "report_json": ctx.rel(ctx.folder / "report.json"),
        "final_model": report["final_model"],
        "artefacts": ["report.json", "report.md"],
    }


DEFAULT_STEPS: dict[str, StepFn] = {
    "augment": step_augment,
    "train": step_train,
    "mine": step_mine,
    "retrain": step_retrain,
    "judge": step_judge,
    "rankpo": step_rankpo,
    "evaluate": step_evaluate,
    "report": step_report,
}


def no_llm() -> Any:
    """The LLM getter of a pipeline built without a generator."""
    raise ConfigError(
        "this pipeline needs the local LLM (HyRe and the judge); pass one, or set skip_augment and skip_judge"
    )


__all__ = [
    "DEFAULT_STEPS",
    "STEP_SPECS",
    "StepContext",
    "StepFn",
    "StepSpec",
    "check_inputs",
    "confit_config",
    "corpus_fingerprint",
    "inputs_digest",
    "load_data",
    "no_llm",
    "skipped",
    "step_augment",
    "step_evaluate",
    "step_judge",
    "step_mine",
    "step_rankpo",
    "step_report",
    "step_retrain",
    "step_train",
]
