"""``agentic-match feedback show|pick|status``: recruiter picks as preferences, and learning from them.

``feedback show`` ranks the resumes for a job and pauses for the recruiter's picks;
``feedback pick`` (any later time, any process) resumes that session with the picks, stores
them as preference pairs and, once enough pairs are new, runs a guarded RankPO update.
"""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from agentic_match.cli.context import settings
from agentic_match.cli.options import config_options
from agentic_match.cli.pipeline import data_spec
from agentic_match.errors import ConfigError
from agentic_match.feedback.config import FeedbackConfig

console = Console(highlight=False, soft_wrap=True)

feedback_app = typer.Typer(help="Recruiter feedback: show a shortlist, record picks, learn.", no_args_is_help=True)

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
    saver = stack.enter_context(checkpointer_at(settings().checkpoints(deps.checkpoint_path)))
    return stack, build_graph(deps.store, deps.corpus, deps.registry, deps.config, checkpointer=saver)


@feedback_app.command("show")
@config_options("feedback", FeedbackConfig, as_overrides=True)
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
    recruiter: Annotated[Optional[str], typer.Option(help="Who reviews (pairs are unique per recruiter).")] = None,
    session: Annotated[Optional[str], typer.Option(help="Session id (default: a new one).")] = None,
    config: dict[str, Any] | None = None,
) -> None:
    """Rank the resumes for a job with the current model and wait for the recruiter's picks."""
    from graphs.feedback import inputs_for, open_feedback

    spec = data_spec(data, demo) if (data is not None or demo) else None
    overrides = config or {}
    fb = _folder(folder)
    if store is None and not (fb / "feedback.json").is_file():
        store = Path(settings().run_dir) / "feedback.sqlite"  # the store `agentic-match api` writes by default
    deps = open_feedback(fb, data=spec, model=model or settings().encoder, store_path=store, config=overrides)
    session = session or f"{job}-{uuid.uuid4().hex[:8]}"
    stack, graph = _session(deps.folder, deps)
    with stack:
        final = graph.invoke(
            inputs_for(job, k=overrides.get("k"), recruiter=recruiter), {"configurable": {"thread_id": session}}
        )
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
    """Add ``feedback`` to the root app."""
    app.add_typer(feedback_app, name="feedback")
