"""Benchmark results files and their Markdown rendering.

A results file is ``<out_dir>/<name>.json``::

    {"command": "...", "date": "...", "machine": {...}, "wall_s": 12.3,
     "rows": [{"system": "bm25", "task": "rank_resume", "metrics": {"ndcg@10": 28.8, ...}}]}

Rows may carry extra keys (``params``, ``notes``); readers only rely on the three above.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from agentic_match.errors import DataError
from agentic_match.files import atomic_write_bytes


def _version(*dists: str) -> str | None:
    for dist in dists:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpus() -> list[str]:
    # nvidia-smi avoids importing torch (slow) just to describe the machine.
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def describe_machine() -> dict[str, Any]:
    """CPU model, cores, RAM, GPUs, OS and the versions that matter for the numbers."""
    try:
        import psutil

        ram_gib = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover - psutil is a dependency
        ram_gib = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": ram_gib,
        "gpus": _gpus(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "faiss": _version("faiss-cpu", "faiss-gpu-cu12", "faiss-gpu", "faiss"),
        "numpy": _version("numpy"),
    }


def write_results(
    name: str,
    rows: Sequence[Mapping[str, Any]],
    command: str | None = None,
    wall_s: float | None = None,
    out_dir: str | Path = "benchmarks/results",
    notes: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``<out_dir>/<name>.json`` atomically in the project's results format.

    Args:
        name: File stem, e.g. ``"index_scale"``.
        rows: ``{"system", "task", "metrics": {name: value}}`` dicts (extra keys kept).
        command: The command that produced the numbers (default: this process's argv).
        wall_s: Wall time of the whole benchmark in seconds.
        out_dir: Folder of results files.
        notes: Protocol details and side measurements kept beside the rows (JSON-able).

    Returns:
        The path written.
    """
    for i, row in enumerate(rows):
        missing = [k for k in ("system", "task", "metrics") if k not in row]
        if missing:
            raise DataError(f"results row {i} lacks {', '.join(missing)}")
    payload = {
        "command": command if command is not None else " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "wall_s": None if wall_s is None else round(float(wall_s), 2),
        "rows": [dict(r) for r in rows],
    }
    if notes:
        payload["notes"] = dict(notes)
    path = Path(out_dir) / f"{name}.json"
    atomic_write_bytes(path, (json.dumps(payload, indent=2) + "\n").encode("utf-8"))
    return path


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        if 0 < abs(value) < 0.01:  # learning rates, p-values: two decimals would show 0.00
            return f"{value:.3g}"
        return f"{value:.2f}" if abs(value) < 1e5 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 1e4 else str(value)
    return str(value).replace("|", "\\|")


def results_table_markdown(
    path: str | Path,
    columns: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    provenance: bool = False,
    params: Sequence[str] = (),
) -> str:
    """Render a results file as a Markdown table (one row per result, one column per metric).

    Args:
        path: A results file.
        columns: Metric columns to show, in this order (default: every metric, first-seen order).
        tasks: Only rows of these tasks (default: all).
        provenance: Add a line with the file's command, date and machine under the table (for
            rows a partial rerun kept from an earlier run, that run's command and date).
        params: Row ``params`` shown as columns after the task (e.g. ``seed``, ``split``), so
            repeated systems can be told apart.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data["rows"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise DataError(f"{path}: not a results file ({e})") from e
    if tasks is not None:
        rows = [r for r in rows if r.get("task") in tasks]
    if columns is None:
        columns = []
        for row in rows:
            for m in row.get("metrics", {}):
                if m not in columns:
                    columns.append(m)
    header = ["system", "task", *params, *columns]
    align = ["---"] * (2 + len(params)) + ["---:"] * len(columns)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for row in rows:
        metrics, extra = row.get("metrics", {}), row.get("params") or {}
        cells = [_fmt(row.get("system")), _fmt(row.get("task"))] + [_fmt(extra.get(p)) for p in params]
        cells += [_fmt(metrics.get(c)) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    if provenance:
        m = data.get("machine") or {}
        machine = m if isinstance(m, str) else f"{m.get('cpu')}, {m.get('cores')} cores, {m.get('ram_gib')} GiB"
        command, date, wall = data.get("command"), data.get("date"), data.get("wall_s")
        # A benchmark run of some sections keeps the other sections' rows from an earlier run
        # (notes: section_of_task, sections_from): name the run that produced these rows.
        notes = data.get("notes") or {}
        sections = {(notes.get("section_of_task") or {}).get(r.get("task")) for r in rows} - {None}
        source = (notes.get("sections_from") or {}).get(next(iter(sections))) if len(sections) == 1 else None
        if source and source.get("command") != command:
            command, date, wall = source.get("command"), source.get("date"), None
        lines.append("")
        lines.append(
            f"`{command}` - {date} - {machine}" + (f" - wall {wall:.0f} s" if isinstance(wall, (int, float)) else "")
        )
    return "\n".join(lines) + "\n"


__all__ = ["describe_machine", "results_table_markdown", "write_results"]
