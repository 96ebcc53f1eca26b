"""What every command reads: the layered settings of the current invocation.

The root callback (:mod:`agentic_match.cli.app`) records ``--config`` and ``--set`` here;
command modules import :func:`settings` from this module, never from the app, so that the
app can import the command modules without a cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from agentic_match.config import Settings, load_settings


class _State:
    config: Optional[Path] = None
    overrides: list[str] = []


state = _State()


def settings() -> Settings:
    """The layered settings for the current invocation."""
    return load_settings(state.config, state.overrides)


__all__ = ["settings", "state"]
