"""``agentic-match pipeline run|status`` and ``agentic-match feedback show|pick|status``.

``pipeline run`` trains the whole recipe (HyRe -> ConFit* -> RUM -> retrain -> judge ->
RankPO -> evaluate -> report) in a run folder; the same command resumes a run that stopped,
at the step that stopped, and redoes no finished step. ``feedback show`` ranks the resumes
for a job and pauses for the recruiter's picks; ``feedback pick`` (any later time, any
process) resumes that session with the picks, stores them as preference pairs and, once
enough pairs are new, runs a guarded RankPO update.
"""

from __future__ import annotations

import json
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from agentic_match.cli.app import settings
from agentic_match.errors import ConfigError

console = Console(highlight=False, soft_wrap=True)

pipeline_app = typer.Typer(help="The whole training recipe, resumable step by step.", no_args_is_help=True)
feedback_app = typer.Typer(help="Recruiter feedback: show a shortlist, record picks, learn.", no_args_is_help=True)


def _data_spec(data: Path | None, demo: bool) -> str:
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
    spec = _data_spec(data, demo)
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


# --------------------------------------------------------------------------- feedback

FolderOpt = Annotated[
    Optional[Path], typer.Option("--folder", help="Feedback folder (default: <run_dir>/feedback from the settings).")
]


def _folder(folder: Path | None) -> Path:
    return folder or Path(settings().run_dir) / "feedback"


def _print_shortlist(payload: dict[str, Any], session: str) -> None:
    if payload.get("problem"):
        console.print(f"[yellow]answer refused:[/] {payload['problem']}")
    table = Table("rank", "id", "score", "resume", title=f"{payload['job_id']}  {payload.get('title', '')}")
    for c in payload["candidates"]:
        table.add_row(str(c["rank"]), c["id"], f"{c['score']:.3f}", c["snippet"][:120])
    console.print(table)
    console.print(
        f"session {session} is waiting for picks: agentic-match feedback pick --session {session} ID [ID ...]"
    )


def _report_outcome(final: dict[str, Any]) -> None:
    if "__interrupt__" in final:
        return
    console.print(
        f"{final.get('added', 0)} new preference pair(s); {final.get('pending', 0)} not yet used by an update"
    )
    upd = final.get("update")
    if upd:
        verdict = "switched to the updated model" if upd["switched"] else "kept the current model"
        console.print(
            f"RankPO update on {upd['pairs']} pairs: {upd['metric']} {upd['before']:.2f} -> {upd['after']:.2f}; "
            f"{verdict} ({upd['current']})"
        )


def _session(folder: Path, deps: Any):
    from graphs.batching import checkpointer_at
    from graphs.feedback import build_graph

    stack = ExitStack()
    saver = stack.enter_context(checkpointer_at(deps.checkpoint_path))
    return stack, build_graph(deps.store, deps.corpus, deps.registry, deps.config, checkpointer=saver)


@feedback_app.command("show")
def feedback_show(
    job: Annotated[str, typer.Option("--job", help="The job id to review.")],
    folder: FolderOpt = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Benchmark folder (first use of a folder).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="The demo corpus (first use of a folder).")] = False,
    model: Annotated[Optional[str], typer.Option(help="Starting model (first use; default: settings encoder).")] = None,
    store: Annotated[
        Optional[Path],
        typer.Option(help="Feedback store, shared with `agentic-match api` (default: <run_dir>/feedback.sqlite)."),
    ] = None,
    k: Annotated[Optional[int], typer.Option("-k", help="Candidates shown (default: the folder's setting).")] = None,
    threshold: Annotated[Optional[int], typer.Option(help="New pairs that trigger a RankPO update.")] = None,
    tolerance: Annotated[Optional[float], typer.Option(help="Metric points an update may lose and be kept.")] = None,
    recruiter: Annotated[Optional[str], typer.Option(help="Who reviews (pairs are unique per recruiter).")] = None,
    session: Annotated[Optional[str], typer.Option(help="Session id (default: a new one).")] = None,
) -> None:
    """Rank the resumes for a job with the current model and wait for the recruiter's picks."""
    from graphs.feedback import inputs_for, open_feedback

    spec = _data_spec(data, demo) if (data is not None or demo) else None
    overrides = {k_: v for k_, v in {"k": k, "threshold": threshold, "tolerance": tolerance}.items() if v is not None}
    fb = _folder(folder)
    if store is None and not (fb / "feedback.json").is_file():
        store = Path(settings().run_dir) / "feedback.sqlite"  # the store `agentic-match api` writes by default
    deps = open_feedback(fb, data=spec, model=model or settings().encoder, store_path=store, config=overrides)
    session = session or f"{job}-{uuid.uuid4().hex[:8]}"
    stack, graph = _session(deps.folder, deps)
    with stack:
        final = graph.invoke(inputs_for(job, k=k, recruiter=recruiter), {"configurable": {"thread_id": session}})
    if "__interrupt__" in final:
        _print_shortlist(final["__interrupt__"][0].value, session)


@feedback_app.command("pick")
def feedback_pick(
    session: Annotated[str, typer.Option("--session", help="The session printed by `feedback show`.")],
    ids: Annotated[Optional[list[str]], typer.Argument(help="The picked candidate ids (none: nobody).")] = None,
    folder: FolderOpt = None,
    recruiter: Annotated[Optional[str], typer.Option(help="Who picked.")] = None,
) -> None:
    """Resume a paused session with the recruiter's picks; may trigger a RankPO update."""
    from langgraph.types import Command

    from graphs.feedback import open_feedback

    deps = open_feedback(_folder(folder))
    stack, graph = _session(deps.folder, deps)
    cfg = {"configurable": {"thread_id": session}}
    with stack:
        snap = graph.get_state(cfg)
        if not snap.next:
            raise ConfigError(f"session {session!r} is not waiting for picks (unknown, or already answered)")
        answer: Any = {"picked": list(ids or []), "recruiter": recruiter} if recruiter else list(ids or [])
        final = graph.invoke(Command(resume=answer), cfg)
    if "__interrupt__" in final:
        _print_shortlist(final["__interrupt__"][0].value, session)
        raise typer.Exit(2)
    _report_outcome(final)


@feedback_app.command("status")
def feedback_status(folder: FolderOpt = None) -> None:
    """The current model, pairs not yet used, and every update with its before/after numbers."""
    from graphs.feedback import open_feedback

    deps = open_feedback(_folder(folder))
    c = deps.config
    console.print(f"current model: {deps.registry.current()}")
    console.print(
        f"pairs: {len(deps.store)} stored, {deps.store.count_new(c.consumer)} new (update at {c.threshold}, "
        f"tolerance {c.tolerance} {c.metric})"
    )
    for u in deps.registry.updates():
        console.print(
            f"  {u['at']}: {u['pairs']} pairs, {u['metric']} {u['before']:.2f} -> {u['after']:.2f}, "
            f"{'switched' if u['switched'] else 'kept the previous model'}"
        )


def register(app: typer.Typer) -> None:
    """Add ``pipeline`` and ``feedback`` to the root app."""
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(feedback_app, name="feedback")
