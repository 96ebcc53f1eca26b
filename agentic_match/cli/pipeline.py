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
from agentic_match.cli.options import config_options
from agentic_match.errors import ConfigError
from agentic_match.pipeline.config import PipelineConfig

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


def _runtime_defaults() -> dict[str, Any]:
    """Pipeline defaults that come from the runtime settings (encoder, LLM concurrency)."""
    s = settings()
    return {"confit.encoder": s.encoder, "concurrency": s.llm.max_concurrency}


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
@config_options("pipeline", PipelineConfig, defaults=lambda: _runtime_defaults())
def pipeline_run(
    out: Annotated[
        Path, typer.Option("--out", help="Run folder (step folders, checkpoints, report); rerun to resume.")
    ],
    data: Annotated[Optional[Path], typer.Option("--data", help="A folder in the benchmark layout.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Use the packaged (made-up) demo corpus.")] = False,
    run_id: Annotated[
        Optional[str], typer.Option("--run-id", help="Checkpoint id (default: the folder's name).")
    ] = None,
    config: PipelineConfig | None = None,
) -> None:
    """Run (or resume) the train pipeline: augment, ConFit*, RUM, retrain, judge, RankPO, evaluate, report.

    Every setting of the pipeline is an option below (``--confit.epochs``, ``--pairs.max-pairs``),
    a pipeline.<section> table of the config file, or ``--set pipeline.<section>.<name>=...``.
    """
    from agentic_match.llm import open_llm
    from agentic_match.pipeline import STEPS
    from graphs.train_pipeline import run_pipeline

    assert config is not None  # built by config_options
    s = settings()
    spec = data_spec(data, demo)
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
