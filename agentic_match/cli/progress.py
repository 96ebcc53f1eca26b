"""Progress lines for long CLI work that runs as a batch graph (augment, complete, clean, judge)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console


def batch_progress(console: Console, verbose: bool = False, noun: str = "document") -> Callable[[str, Any], None]:
    """An ``on_event`` for :func:`graphs.batching.run_graph`: a line when the run starts
    (with what an earlier run already finished), per failed item, and per finished batch."""
    state = {"done": 0, "failed": 0, "total": 0}

    def on_event(mode: str, part: Any) -> None:
        if mode != "custom" or not isinstance(part, dict):
            return
        ev = part.get("event")
        if ev == "start":
            state["total"] = part["documents"]
            state["done"] = part.get("done", 0)
            console.print(f"{part['documents']} {noun}(s), {state['done']} already done in this run")
        elif ev == "document":
            state["done"] += 1
            if not part["ok"]:
                state["failed"] += 1
                console.print(
                    f"  [yellow]{part['id']}[/]: failed after {part['attempts']} attempt(s): {part['problem']}"
                )
            elif verbose:
                console.print(f"  {part['id']}: ok")
        elif ev == "batch":
            console.print(
                f"  batch {part['index'] + 1}/{part['batches']} done ({state['done']}/{state['total']} {noun}s)"
            )

    return on_event
