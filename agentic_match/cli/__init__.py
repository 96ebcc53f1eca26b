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

    from agentic_match.privacy import install_log_redaction

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    try:
        # Non-standalone click returns the code of typer.Exit(n) instead of exiting with it.
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except AgenticMatchError as e:
        from rich.markup import escape

        # Escaped: messages hold "[field]" locations that rich would read as markup.
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted; finished work is kept, rerun to resume")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as e:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if isinstance(e, click.exceptions.Abort):
            sys.exit(1)
        raise


__all__ = ["app", "main"]
