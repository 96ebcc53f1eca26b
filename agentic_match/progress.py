"""One switch for progress bars on long work.

Library calls are quiet by default (a service or a notebook decides for itself); the CLI
turns progress on for the command it runs, so every long step (encoding a corpus for
``eval`` or ``mine``, building an index) shows how far it is without each command passing
a flag down.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_SHOWN: ContextVar[bool] = ContextVar("agentic_match_progress", default=False)


def enabled(explicit: bool | None = None) -> bool:
    """``explicit`` when given, else whether the current command shows progress."""
    return _SHOWN.get() if explicit is None else explicit


@contextmanager
def shown(on: bool = True) -> Iterator[None]:
    """Show progress bars (on stderr) for the work inside the block."""
    token = _SHOWN.set(on)
    try:
        yield
    finally:
        _SHOWN.reset(token)
