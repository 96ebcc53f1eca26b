"""The root typer app, global options, and registration of command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from agentic_match.cli import (
    align,
    augment,
    core,
    data,
    fairness,
    feedback,
    finetune,
    index,
    pipeline,
    retrieval,
    service,
)
from agentic_match.cli.context import state

app = typer.Typer(
    name="agentic-match",
    help="Resume-job matching on local models: LLM augmentation, bi-encoders, FAISS, graphs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML config file.")] = None,
    set_: Annotated[
        Optional[list[str]],
        typer.Option("--set", help="Override a setting: --set llm.max_concurrency=8 (repeatable)."),
    ] = None,
) -> None:
    state.config = config
    state.overrides = list(set_ or [])


for _group in (core, data, retrieval, index, augment, fairness, align, finetune, pipeline, feedback, service):
    _group.register(app)
