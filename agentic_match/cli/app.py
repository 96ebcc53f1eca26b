"""The root typer app, global options, and registration of command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from agentic_match.config import Settings, load_settings

app = typer.Typer(
    name="agentic-match",
    help="Resume-job matching on local models: LLM augmentation, bi-encoders, FAISS, graphs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class _State:
    config: Optional[Path] = None
    overrides: list[str] = []


state = _State()


def settings() -> Settings:
    """The layered settings for the current invocation."""
    return load_settings(state.config, state.overrides)


@app.callback()
def _root(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML config file.")] = None,
    set_: Annotated[
        list[str],
        typer.Option("--set", help="Override a setting: --set llm.max_concurrency=8 (repeatable)."),
    ] = [],
) -> None:
    state.config = config
    state.overrides = list(set_)


def _register() -> None:
    from agentic_match.cli import (
        commands_align,
        commands_audit,
        commands_augment,
        commands_core,
        commands_data,
        commands_finetune,
        commands_index,
        commands_pipeline,
        commands_retrieval,
        commands_service,
    )

    for group in (
        commands_core,
        commands_data,
        commands_retrieval,
        commands_index,
        commands_augment,
        commands_audit,
        commands_align,
        commands_finetune,
        commands_pipeline,
        commands_service,
    ):
        group.register(app)


_register()
