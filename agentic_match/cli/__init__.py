"""The ``agentic-match`` command line: a thin shell over the library.

Each command group lives in its own module and registers a typer sub-app here. Errors a
user can cause (:class:`~agentic_match.errors.AgenticMatchError`) become one clear message
and exit code 2, never a traceback.
"""

from __future__ import annotations

import os
import sys

# Nothing may ever be fetched from a model hub; set before any HF import.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")

from agentic_match.cli.app import app  # noqa: E402
from agentic_match.errors import AgenticMatchError  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    import logging

    from rich.console import Console

    from agentic_match import progress
    from agentic_match.privacy import install_log_redaction

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    try:
        # Non-standalone click returns the code of typer.Exit(n) instead of exiting with it.
        with progress.shown():  # every long step of a command shows how far it is
            code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except AgenticMatchError as e:
        from rich.markup import escape

        # Escaped: messages hold "[field]" locations that rich would read as markup.
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted; finished work is kept, rerun to resume")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as e:  # usage errors arrive here in non-standalone mode
        if not _is_click_error(e, "ClickException", "Abort"):
            raise
        if _is_click_error(e, "Abort"):
            sys.exit(1)
        e.show()  # type: ignore[attr-defined]
        # click's own code (2 for usage errors: a bad or missing option, an unknown command).
        sys.exit(int(getattr(e, "exit_code", 2) or 2))


def _is_click_error(e: BaseException, *names: str) -> bool:
    """Whether ``e`` is one of click's exception classes, from click itself or from the copy
    that typer vendors (``typer._click``), which raises its own classes of the same names."""
    return any(c.__name__ in names and c.__module__.split(".")[-1] == "exceptions" for c in type(e).__mro__)


__all__ = ["app", "main"]
