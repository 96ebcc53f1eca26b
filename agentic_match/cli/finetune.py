"""Generator fine-tuning commands: ``finetune dataset|sft|dpo|eval|merge|info|switch|run``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from agentic_match.cli.context import settings
from agentic_match.cli.options import config_options, corpus_options
from finetune.config import FinetuneConfig

console = Console(stderr=True)
finetune_app = typer.Typer(
    help="Fine-tune the generator (HyRe / IRC) on your own labels: LoRA by SFT and DPO.", no_args_is_help=True
)

TaskOpt = Annotated[str, typer.Option(help="hyre (hypothetical resumes) or irc (resume completion).")]
EncoderOpt = Annotated[
    Optional[str],
    typer.Option(help="Encoder scoring accepted pairs for the HyRe SFT filter ('none': keep every pair)."),
]
EvalSplitOpt = Annotated[
    Optional[str],
    typer.Option("--eval-split", help="Evaluate on this labels split (e.g. dev); default: a seeded share of jobs."),
]
KeepOpt = Annotated[float, typer.Option(help="Share of accepted pairs kept by the encoder filter (HyRe SFT).")]
MaxTrainOpt = Annotated[
    Optional[int], typer.Option(help="Train on at most this many examples (seeded sample; for time budgets).")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing adapter / discard an unfinished run.")]


def _build(
    corpus,
    task: str,
    kind: str,
    base: str,
    encoder: str | None,
    eval_split: str | None,
    keep: float,
    seed: int,
    max_train: int | None,
    examples=None,
):
    from finetune.config import DataConfig
    from finetune.data import build, limit
    from graphs.finetune_adapter import default_budget, default_scorer

    cfg = DataConfig(keep_top_fraction=keep, seed=seed)
    scorer = None
    if task == "hyre" and kind == "sft" and encoder and encoder.lower() != "none":
        scorer = default_scorer(encoder)
    eval_labels = corpus.labels_for(eval_split) if eval_split else None
    data = build(
        task,
        kind,
        corpus,
        None,
        eval_labels=eval_labels,
        config=cfg,
        scorer=scorer,
        budget=default_budget(base),
        examples=examples,
    )
    data = limit(data, max_train)
    _show_report(data)
    return data


def _show_report(data) -> None:
    rep = {k: v for k, v in data.report.items() if not isinstance(v, list)}
    console.print(
        f"{data.task} {data.kind} data: [bold]{data.sizes()['train']}[/] train, {data.sizes()['eval']} eval "
        f"(digest {data.digest})",
        highlight=False,
    )
    console.print("  " + ", ".join(f"{k}={v}" for k, v in rep.items()), highlight=False)


def _print_result(res) -> None:
    t = res.meta["training"]
    m = res.meta["metrics"]
    console.print(
        f"[bold green]adapter[/] {res.adapter_dir} ({res.meta['kind']}, {t['global_steps']} steps, "
        f"{t.get('s_per_step', '?')} s/step, peak RSS {t['peak_rss_mb']} MB"
        + (f", resumed from {res.resumed_from}" if res.resumed_from else "")
        + ")",
        highlight=False,
    )
    shown = {k: v for k, v in m.items() if k in ("train_loss", "loss", "rewards/accuracies", "rewards/margins")}
    console.print("  " + ", ".join(f"{k}={v}" for k, v in shown.items()), highlight=False)


@finetune_app.command("dataset")
@corpus_options(demo=True)
def dataset_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder to save the dataset in (save_to_disk + build.json).")],
    task: TaskOpt = "hyre",
    kind: Annotated[str, typer.Option(help="sft or dpo.")] = "sft",
    base: Annotated[Optional[str], typer.Option(help="Base model (its tokenizer counts tokens).")] = None,
    encoder: EncoderOpt = None,
    eval_split: EvalSplitOpt = None,
    keep: KeepOpt = 0.5,
    seed: Annotated[int, typer.Option(help="Seed of the job split and pair sampling.")] = 0,
    corpus: Any = None,
) -> None:
    """Build a fine-tuning dataset, show what was kept and dropped, and save it (for inspection)."""
    from finetune.data import save_data

    built = _build(
        corpus, task, kind, base or settings().llm.model, encoder or settings().encoder, eval_split, keep, seed, None
    )
    console.print(f"saved to {save_data(built, out)}")


def _finetune_defaults() -> dict[str, str]:
    return {"base_model": settings().llm.model}


@config_options("finetune", FinetuneConfig, exclude=("extra", "target_modules"), defaults=_finetune_defaults)
@corpus_options(demo=True)
def sft(
    out: Annotated[Path, typer.Option("--out", help="Adapter folder to create (rerun the command to resume).")],
    task: TaskOpt = "hyre",
    encoder: EncoderOpt = None,
    eval_split: EvalSplitOpt = None,
    keep: KeepOpt = 0.5,
    max_train_examples: MaxTrainOpt = None,
    force: ForceOpt = False,
    config: FinetuneConfig | None = None,
    corpus: Any = None,
) -> None:
    """Train a LoRA adapter by SFT: HyRe (prompt -> accepted resume) or IRC (resume -> summary, skills)."""
    from finetune.trainer import train_sft

    assert config is not None  # built by config_options
    enc = encoder or settings().encoder
    built = _build(corpus, task, "sft", config.base_model, enc, eval_split, keep, config.seed, max_train_examples)
    _print_result(train_sft(built, config, out, force=force, models_dir=settings().models_dir))


@config_options("finetune", FinetuneConfig, exclude=("extra", "target_modules"), defaults=_finetune_defaults)
@corpus_options(demo=True)
def dpo(
    out: Annotated[Path, typer.Option("--out", help="Adapter folder to create (rerun the command to resume).")],
    init: Annotated[
        Optional[Path], typer.Option("--from", help="SFT adapter to continue from (the DPO reference).")
    ] = None,
    eval_split: EvalSplitOpt = None,
    max_train_examples: MaxTrainOpt = None,
    force: ForceOpt = False,
    config: FinetuneConfig | None = None,
    corpus: Any = None,
) -> None:
    """Train a LoRA adapter by DPO on (accepted, rejected) resumes per job, after SFT with --from."""
    from finetune.adapters import read_meta
    from finetune.trainer import train_dpo

    assert config is not None  # built by config_options
    examples = None
    if init is not None:
        meta = read_meta(init)
        if meta.get("base_model") and config.base_model == settings().llm.model:  # not given: the SFT base
            config = replace(config, base_model=meta["base_model"])
        # The DPO prompts must show the same few-shot pair as the SFT adapter's prompts.
        ids = (meta.get("data") or {}).get("few_shot") or []
        examples = [(corpus.jobs[j], corpus.resumes[r]) for j, r in ids if j in corpus.jobs and r in corpus.resumes]
        examples = examples if len(examples) == len(ids) and ids else None
    built = _build(
        corpus, "hyre", "dpo", config.base_model, None, eval_split, 0.5, config.seed, max_train_examples, examples
    )
    _print_result(train_dpo(built, config, out, init_adapter=init, force=force, models_dir=settings().models_dir))


@finetune_app.command("info")
def info(adapter: Annotated[Path, typer.Argument(help="Adapter folder.")]) -> None:
    """Print an adapter's metadata: base model, data it saw, settings, measurements."""
    from finetune.adapters import read_meta

    typer.echo(json.dumps(read_meta(adapter), indent=2))


@finetune_app.command("merge")
def merge(
    adapter: Annotated[Path, typer.Argument(help="Adapter folder.")],
    out: Annotated[Path, typer.Option("--out", help="Folder of the merged standalone model.")],
    force: ForceOpt = False,
) -> None:
    """Merge an adapter into its base model's weights (a plain model folder, usable as --model)."""
    from finetune.adapters import merge_adapter

    console.print(f"merged model written to {merge_adapter(adapter, out, force=force)}")


@finetune_app.command("switch")
def switch(
    adapter: Annotated[Path, typer.Argument(help="Adapter folder to make active.")],
    registry: Annotated[Path, typer.Option(help="Folder of active.json.")] = Path("runs/adapters"),
    name: Annotated[Optional[str], typer.Option(help="Served name prefix (default: the adapter's task).")] = None,
) -> None:
    """Record an adapter as the active one, and load it into running servers of its base model."""
    from agentic_match.llm.server import running_servers
    from finetune.adapters import read_meta
    from finetune.serving import switch_adapter, versioned_name

    meta = read_meta(adapter)
    served = versioned_name(name or meta.get("task") or "adapter", adapter)
    servers = [s for s in running_servers(settings()) if s.adapters and s.fingerprint == meta.get("base_fingerprint")]
    record = switch_adapter(
        registry, served, adapter, metrics=meta.get("metrics"), server=servers[0] if servers else None
    )
    where = f"loaded into {servers[0].base_url}" if servers else "no running server with adapters to load it into"
    console.print(f"active adapter: [bold]{record['name']}[/] -> {record['path']} ({where})", highlight=False)


@finetune_app.command("run")
@config_options("finetune", FinetuneConfig, exclude=("extra", "target_modules"), defaults=_finetune_defaults)
def run(
    out: Annotated[Path, typer.Option("--out", help="Run folder: datasets, adapters, active.json.")],
    data: Annotated[str, typer.Option("--data", help="A benchmark-layout folder, or 'demo'.")],
    task: TaskOpt = "hyre",
    stages: Annotated[str, typer.Option(help="sft or sft,dpo.")] = "sft,dpo",
    encoder: EncoderOpt = None,
    eval_split: EvalSplitOpt = None,
    max_eval_examples: Annotated[int, typer.Option(help="Held-out examples evaluated per system.")] = 64,
    run_id: Annotated[
        Optional[str], typer.Option("--run-id", help="Checkpoint id; the same id resumes a stopped run.")
    ] = None,
    force: ForceOpt = False,
    config: FinetuneConfig | None = None,
) -> None:
    """The whole pipeline as a graph: build data, train, evaluate, switch the served adapter if better."""
    from graphs.batching import checkpointer_at, run_graph
    from graphs.finetune_adapter import build_graph, inputs_for

    s = settings()
    cfg = config
    enc = encoder or s.encoder
    with checkpointer_at(s.checkpoints(Path(s.run_dir) / "graphs.sqlite")) as saver:
        final = run_graph(
            build_graph(config=cfg, checkpointer=saver),
            inputs_for(
                data,
                task=task,
                stages=tuple(x.strip() for x in stages.split(",") if x.strip()),
                out_dir=str(out),
                encoder=None if enc.lower() == "none" else enc,
                eval_split=eval_split,
                max_eval_examples=max_eval_examples,
                force=force,
            ),
            run_id or f"finetune:{out.resolve()}",
            on_event=lambda mode, part: console.print(part, highlight=False) if mode == "custom" else None,
        )
    console.print(json.dumps(final.get("metrics", {}), indent=2), highlight=False)
    d = final.get("decision", {})
    console.print(f"[bold]{'switched to ' + d.get('name', '') if d.get('switch') else 'kept the active adapter'}[/]: "
                  f"{d.get('reason', '')}", highlight=False)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the ``finetune`` group to the root app."""
    finetune_app.command("sft")(sft)
    finetune_app.command("dpo")(dpo)
    app.add_typer(finetune_app, name="finetune")
