"""Running the real CLI entry point in a test, as a user runs it."""

from __future__ import annotations


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """``(exit code, stdout + stderr with whitespace runs collapsed)`` of ``agentic-match ARGV``."""
    from agentic_match.cli import main

    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    cap = capsys.readouterr()
    return code, " ".join((cap.out + cap.err).split())
