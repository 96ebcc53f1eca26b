"""What the LLM-generation benchmarks (``hyre.py``, ``lgir.py``) share: where things are, the
writers by name, the generation options, timestamped progress lines and cached JSON files."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from agentic_match.files import atomic_write_bytes

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MODELS = Path("~/.cache/offline-models").expanduser()

#: The local writers by name: the packaged SmolLM2, and the Qwen GGUF files that
#: ``../shared/models/get-model.sh`` assembles.
WRITERS = {
    "smollm2-135m": "smollm2-135m",
    "qwen2.5-coder-0.5b": str(MODELS / "qwen2.5-coder-0.5b" / "model.gguf"),
    "qwen2.5-coder-1.5b": str(MODELS / "qwen2.5-coder-1.5b" / "model.gguf"),
}


def add_generation_args(p: argparse.ArgumentParser) -> None:
    """``--concurrency`` and ``--batch-size-docs``, as every generation benchmark reads them."""
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight (graph tasks run at once)")
    p.add_argument(
        "--batch-size-docs",
        type=int,
        default=2,
        help="documents per graph task; each task generates its documents one after another, so the "
        "requests in flight are min(concurrency, tasks): keep it small so that every slot is used",
    )


def say(msg: str) -> None:
    """A progress line with the time of day (benchmarks run for hours in the background)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def read_json(path: Path, default: Any) -> Any:
    """The JSON in ``path``, or ``default`` when there is no such file."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` atomically (an interrupted run never leaves half a file)."""
    atomic_write_bytes(path, json.dumps(obj, indent=1, default=str).encode())
