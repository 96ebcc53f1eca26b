"""Alignment and reranking commands: ``judge``, ``label-pairs``, ``align``, ``wise-ft``, ``rerank train|eval``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from agentic_match.align.judge import JudgeRunConfig
from agentic_match.align.label_pairs import LabelPairConfig
from agentic_match.align.trainer import AlignConfig
from agentic_match.cli.context import settings
from agentic_match.cli.options import config_options
from agentic_match.retrieval.training.cross_encoder import CrossEncoderConfig

console = Console(stderr=True)

DataOpt = Annotated[
    Path, typer.Option("--data", help="A folder in the benchmark layout (resumes.jsonl, jobs.jsonl, labels/, qrels/).")
]


@config_options("judge", JudgeRunConfig)
def judge(
    data: DataOpt,
    encoder: Annotated[str, typer.Option(help="The stage-1 encoder whose top-k gives the pairs (folder or spec).")],
    out: Annotated[Path, typer.Option("--out", help="Preference JSONL to write (failures beside it).")],
    batch_size: Annotated[int, typer.Option(help="Pairs per parallel task.")] = 8,
    run_id: Annotated[
        Optional[str], typer.Option("--run-id", help="Checkpoint id; the same id resumes a stopped run.")
    ] = None,
    config: JudgeRunConfig | None = None,
) -> None:
    """Judge pairs of resumes per job with the local LLM (both orders; ties dropped, counted)."""
    from agentic_match.align.judge import sample_pairs
    from agentic_match.cli.progress import batch_progress
    from agentic_match.data import load_benchmark
    from agentic_match.llm import open_llm
    from agentic_match.retrieval.encoder import BiEncoder
    from graphs.batching import checkpointer_at, run_graph
    from graphs.judge_pairs import build_graph, inputs_for

    assert config is not None  # built by config_options
    sampling, split, k = config.pairs, config.split, config.pairs.k
    corpus = load_benchmark(data)
    pairs = sample_pairs(
        BiEncoder.load(encoder), corpus, sampling, split=split, max_doc_chars=config.judge.max_doc_chars
    )
    console.print(f"{len(pairs)} pairs from the top-{k} of {len({p.query_id for p in pairs})} {split} jobs")
    s = settings()
    cfg = config.judge
    with open_llm(s) as llm, checkpointer_at(s.checkpoints(Path(s.run_dir) / "graphs.sqlite")) as saver:
        final = run_graph(
            build_graph(llm, cfg, checkpointer=saver),
            inputs_for(pairs, output_path=str(out), batch_size=batch_size),
            run_id or f"judge:{out.resolve()}",
            on_event=batch_progress(console, noun="pair"),
            max_concurrency=s.llm.max_concurrency,
        )
    c = final["counts"]
    console.print(
        f"[bold]{c['preferences']}[/] preferences, {c['ties']} ties (orders disagreed, dropped), "
        f"{c['failures']} failed the schema (listed beside the output) of {c['pairs']} pairs -> {final.get('written')}"
    )


@config_options("label_pairs", LabelPairConfig)
def label_pairs(
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", help="Preference JSONL to write (the judge's format).")],
    config: LabelPairConfig | None = None,
) -> None:
    """Preferences from the team's own labels: for each train job, higher-graded resumes over lower ones."""
    from agentic_match.align.label_pairs import label_preference_records
    from agentic_match.align.preferences import write_preferences
    from agentic_match.data import load_benchmark

    assert config is not None  # built by config_options
    records, report = label_preference_records(load_benchmark(data), config)
    if not records:
        console.print(f"[red]no pair[/]: no {config.query_kind} of the labels has two grades ({report.as_dict()})")
        raise typer.Exit(1)
    write_preferences(out, records)
    r = report.as_dict()
    console.print(
        f"[bold]{r['pairs']}[/] preferences from {r['queries']} {config.query_kind}s "
        f"({r['pairs_available']} available; {r['single_grade_queries']} with one grade only, "
        f"{r['conflicting_labels']} conflicting labels left out) -> {out}"
    )


@config_options("align", AlignConfig)
def align(
    preferences: Annotated[Path, typer.Option("--preferences", help="Preference JSONL (from `judge`).")],
    out: Annotated[Path, typer.Option("--out", help="Run folder: checkpoints and the final model/ (rerun to resume).")],
    data: Annotated[
        Optional[Path], typer.Option("--data", help="Benchmark folder: checks the ids and measures dev retention.")
    ] = None,
    held_out: Annotated[
        float, typer.Option(help="Share of jobs whose preferences are held out to measure alignment.")
    ] = 0.2,
    skip_bad: Annotated[
        bool, typer.Option(help="Skip (and report) bad preference records instead of failing.")
    ] = False,
    config: AlignConfig | None = None,
) -> None:
    """Stage 2: tune a stage-1 encoder on judged preferences (RankPO / SimRankPO / SFT)."""
    from agentic_match.align.preferences import load_preferences, split_preferences
    from agentic_match.align.trainer import train_align
    from agentic_match.data import load_benchmark

    corpus = load_benchmark(data) if data else None
    loaded = load_preferences(preferences, corpus, on_error="skip" if skip_bad else "raise")
    for p in loaded.problems:
        console.print(f"  [yellow]skipped[/] {p}")
    if loaded.problems:
        console.print(f"{len(loaded.problems)} bad record problem(s) skipped, {len(loaded)} preferences kept")
    assert config is not None  # built by config_options
    train, held = split_preferences(loaded.preferences, held_out, config.seed)
    has_dev = corpus is not None and any(k.startswith(f"{config.eval_split}_") for k in corpus.qrels)
    cfg = replace(config, eval_split=config.eval_split if has_dev else None)
    res = train_align(train, cfg, out, corpus=corpus, held_out=held)
    last = res.history[-1] if res.history else {}
    console.print(
        f"model -> {res.model_dir}  (alignment {last.get('alignment')}, "
        f"retention nDCG@10 {last.get('retention_ndcg@10')})"
    )


def wise_ft(
    base: Annotated[str, typer.Option(help="The model fine-tuning started from (folder or encoder spec).")],
    tuned: Annotated[Path, typer.Option(help="The fine-tuned encoder folder (stage 1 or stage 2 model/).")],
    alpha: Annotated[float, typer.Option(help="Weight of the fine-tuned model in [0, 1] (choose it on dev).")],
    out: Annotated[Path, typer.Option("--out", help="Folder of the interpolated encoder (replaced).")],
) -> None:
    """WiSE-FT: an encoder with weights alpha*tuned + (1-alpha)*base (keeps part of the base's nuance)."""
    from agentic_match.align.wise import interpolate_encoders

    console.print(f"model -> {interpolate_encoders(base, tuned, alpha, out)}  (alpha {alpha:g})")


rerank_app = typer.Typer(help="Rerank the FAISS top-k with a cross-encoder or the local LLM.", no_args_is_help=True)


@rerank_app.command("train")
@config_options("rerank", CrossEncoderConfig)
def rerank_train(
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", help="Run folder (rerun to resume); the model goes to OUT/model.")],
    config: CrossEncoderConfig | None = None,
) -> None:
    """Train a cross-encoder reranker on the training labels."""
    from agentic_match.data import load_benchmark
    from agentic_match.retrieval.training.cross_encoder import train_cross_encoder

    console.print(f"model -> {train_cross_encoder(load_benchmark(data), config, out)}")


@rerank_app.command("eval")
def rerank_eval(
    data: DataOpt,
    encoder: Annotated[str, typer.Option(help="First-stage bi-encoder (folder or spec).")],
    reranker: Annotated[str, typer.Option(help="A cross-encoder folder (from `rerank train`) or 'llm'.")],
    split: Annotated[str, typer.Option(help="Split with qrels.")] = "dev",
    task: Annotated[str, typer.Option(help="rank_resume or rank_job.")] = "rank_resume",
    depth: Annotated[int, typer.Option(help="First-stage candidates reranked per query.")] = 100,
    run_out: Annotated[Optional[Path], typer.Option(help="Also write the reranked run (.json / .json.gz).")] = None,
) -> None:
    """Rerank the bi-encoder's top-k for every query of a task and print the metrics."""
    from agentic_match.data import load_benchmark
    from agentic_match.evaluation import evaluate, load_task
    from agentic_match.retrieval.encoder import BiEncoder
    from agentic_match.retrieval.rerank import CrossEncoderReranker, LLMReranker, RerankedRanker

    corpus = load_benchmark(data)
    first = BiEncoder.load(encoder)
    t = load_task(corpus, split, task)  # type: ignore[arg-type]

    def run(rr) -> None:
        result = evaluate(RerankedRanker(first, rr, depth), t, k=depth, run_path=run_out)
        print(
            json.dumps(
                {"task": task, "split": split, "metrics": result.metrics, "wall_s": round(result.wall_s, 1)}, indent=2
            )
        )

    if reranker == "llm":
        from agentic_match.llm import open_llm

        with open_llm(settings()) as llm:
            run(LLMReranker(llm))
    else:
        run(CrossEncoderReranker(Path(reranker)))


def register(app: typer.Typer) -> None:
    """Add ``judge``, ``label-pairs``, ``align``, ``wise-ft`` and ``rerank`` to the root app."""
    app.command("judge")(judge)
    app.command("label-pairs")(label_pairs)
    app.command("align")(align)
    app.command("wise-ft")(wise_ft)
    app.add_typer(rerank_app, name="rerank")
