"""``agentic-match pipeline run|status``: the whole training recipe, resumable step by step.

``pipeline run`` trains the whole recipe (HyRe -> ConFit* -> RUM -> retrain -> judge ->
RankPO -> evaluate -> report) in a run folder; the same command resumes a run that stopped,
at the step that stopped, and redoes no finished step.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from agentic_match.cli.context import settings
from agentic_match.errors import ConfigError

console = Console(highlight=False, soft_wrap=True)

pipeline_app = typer.Typer(help="The whole training recipe, resumable step by step.", no_args_is_help=True)


def data_spec(data: Path | None, demo: bool) -> str:
    if demo and data is not None:
        raise ConfigError("give either --data DIR or --demo, not both")
    if demo:
        return "demo"
    if data is None:
        raise ConfigError("give --data DIR (a folder in the benchmark layout) or --demo")
    return str(data)


def _llm_id(s: Any) -> str:
    return f"{s.llm.model}@{s.llm.base_url}" if s.llm.base_url else str(s.llm.model)


def _pipeline_progress(total: int):
    def on_event(mode: str, part: Any) -> None:
        if mode != "custom" or not isinstance(part, dict):
            return
        from agentic_match.pipeline import STEPS

        ev = part.get("event")
        if ev == "step_start":
            console.print(f"[bold][{STEPS.index(part['step']) + 1}/{total}] {part['step']}[/]")
        elif ev == "step_done":
            if part.get("skipped"):
                console.print(f"  skipped: {part['skipped']}")
            elif not part.get("ran"):
                console.print(f"  already done in this run folder ({part['wall_s']:.1f} s then); not redone")
            else:
                console.print(f"  done in {part['wall_s']:.1f} s")

    return on_event


@pipeline_app.command("run")
def pipeline_run(
    out: Annotated[
        Path, typer.Option("--out", help="Run folder (step folders, checkpoints, report); rerun to resume.")
    ],
    data: Annotated[Optional[Path], typer.Option("--data", help="A folder in the benchmark layout.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Use the packaged (made-up) demo corpus.")] = False,
    run_id: Annotated[
        Optional[str], typer.Option("--run-id", help="Checkpoint id (default: the folder's name).")
    ] = None,
    encoder: Annotated[Optional[str], typer.Option(help="Base encoder (default: settings encoder).")] = None,
    epochs: Annotated[int, typer.Option(help="ConFit* epochs of each training.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Accepted pairs per ConFit* batch.")] = 16,
    lr: Annotated[float, typer.Option(help="ConFit* peak learning rate.")] = 5e-5,
    max_seq_length: Annotated[int, typer.Option(help="Training tokens per text.")] = 128,
    band: Annotated[str, typer.Option(help="RUM band LOW-HIGH (e.g. 3-4) or 'auto' (chosen on dev).")] = "auto",
    skip_augment: Annotated[bool, typer.Option(help="No HyRe: train on the plain job posts.")] = False,
    hyre_max_tokens: Annotated[int, typer.Option(help="Generation budget per job (HyRe).")] = 256,
    skip_judge: Annotated[bool, typer.Option(help="No LLM judge and so no RankPO.")] = False,
    judge_k: Annotated[int, typer.Option(help="Top-k of the RUM model that judged pairs come from.")] = 10,
    pairs_per_query: Annotated[int, typer.Option(help="Pairs judged per train job.")] = 5,
    max_judge_pairs: Annotated[Optional[int], typer.Option(help="Cap on judged pairs (default: no cap).")] = None,
    rankpo_method: Annotated[str, typer.Option(help="rankpo, simrankpo or sft.")] = "rankpo",
    rankpo_epochs: Annotated[int, typer.Option(help="Stage-2 epochs.")] = 1,
    rankpo_lr: Annotated[float, typer.Option(help="Stage-2 peak learning rate.")] = 1e-5,
    beta: Annotated[float, typer.Option(help="β of the preference loss.")] = 2.0,
    tau: Annotated[float, typer.Option(help="τ of the similarity margin.")] = 0.1,
    eval_split: Annotated[str, typer.Option(help="Split whose qrels the evaluate step scores.")] = "test",
    seed: Annotated[int, typer.Option(help="Seed of every sampling step.")] = 0,
    keep_checkpoints: Annotated[bool, typer.Option(help="Keep training checkpoints once a step is done.")] = False,
) -> None:
    """Run (or resume) the train pipeline: augment, ConFit*, RUM, retrain, judge, RankPO, evaluate, report."""
    from agentic_match.llm import open_llm
    from agentic_match.pipeline import STEPS, PipelineConfig
    from graphs.train_pipeline import run_pipeline

    s = settings()
    spec = data_spec(data, demo)
    config = PipelineConfig(
        encoder=encoder or s.encoder,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=lr,
        max_seq_length=max_seq_length,
        band=band,
        skip_augment=skip_augment,
        hyre_max_tokens=hyre_max_tokens,
        skip_judge=skip_judge,
        judge_k=judge_k,
        judge_pairs_per_query=pairs_per_query,
        max_judge_pairs=max_judge_pairs,
        rankpo_method=rankpo_method,
        rankpo_epochs=rankpo_epochs,
        rankpo_learning_rate=rankpo_lr,
        rankpo_beta=beta,
        rankpo_tau=tau,
        eval_split=eval_split,
        seed=seed,
        concurrency=s.llm.max_concurrency,
        keep_checkpoints=keep_checkpoints,
    )
    console.print(f"pipeline in {out} on {spec}")
    with ExitStack() as stack:
        # The LLM server starts only when a step needs it (not when those steps are done).
        final = run_pipeline(
            out,
            spec,
            config,
            llm_factory=lambda: stack.enter_context(open_llm(s)),
            llm_id=_llm_id(s),
            run_id=run_id,
            on_event=_pipeline_progress(len(STEPS)),
        )
    report = final.get("report") or {}
    if report.get("report"):
        console.print(f"report: {out / report['report']}")
        console.print(f"final model: {out / report['final_model']}" if report.get("final_model") else "")


@pipeline_app.command("status")
def pipeline_status(
    run_dir: Annotated[Path, typer.Argument(help="The run folder of `pipeline run --out`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Which steps of a run are done, started (stopped part-way) or pending, and how long each took."""
    from agentic_match.pipeline import MANIFEST_FILE, run_status

    if not (run_dir / MANIFEST_FILE).is_file():
        raise ConfigError(f"{run_dir} is not a pipeline run folder (no {MANIFEST_FILE})")
    rows = run_status(run_dir)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("step", "state", "wall s", "note")
    for r in rows:
        wall = "" if r["wall_s"] is None else f"{r['wall_s']:.1f}"
        table.add_row(r["step"], r["state"], wall, r["note"])
    console.print(table)
    done = [r for r in rows if r["state"] in ("done", "skipped")]
    console.print(f"{len(done)}/{len(rows)} steps finished, {sum(r['wall_s'] or 0 for r in done):.1f} s of work")


def register(app: typer.Typer) -> None:
    """Add ``pipeline`` to the root app."""
    app.add_typer(pipeline_app, name="pipeline")
