"""The run folder of a pipeline: one sub-folder per step, ``done.json`` when it finished.

Layout::

    <run>/pipeline.json              data spec and fingerprint, settings of the last run
    <run>/checkpoints.sqlite         the graph's LangGraph checkpoints (thread = run id)
    <run>/01-augment/ ... 08-report/ one folder per step:
        started.json                 inputs digest and start time (written before the work)
        done.json                    the StepRecord (inputs digest, outputs, their digest, wall time)
        ...                          the step's artefacts (each written atomically)
    <run>/.history/<NN-step>-<digest>-<time>/   an earlier version of a step whose inputs changed

A step is done when its ``done.json`` exists with the inputs digest of this run: it is then
skipped, whatever the graph's checkpoint says (a process killed between the two finds the
step done). A folder without ``done.json`` holds a step that stopped part-way; running it
again in the same folder lets resumable steps (training) continue. A folder made from other
inputs is moved to ``.history/`` first, never overwritten or deleted.
"""

from __future__ import annotations

import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentic_match.errors import DataError, Problem
from agentic_match.files import digest, read_json, utc_now, write_json

STEPS: tuple[str, ...] = ("augment", "train", "mine", "retrain", "judge", "rankpo", "evaluate", "report")
"""The pipeline's steps in order (their folder numbers follow this order)."""

MANIFEST_FILE = "pipeline.json"
CHECKPOINT_FILE = "checkpoints.sqlite"
STARTED_FILE = "started.json"
DONE_FILE = "done.json"
HISTORY_DIR = ".history"


def step_dir(run_dir: str | Path, step: str) -> Path:
    """``<run>/03-mine`` for ``"mine"``."""
    if step not in STEPS:
        raise ValueError(f"unknown pipeline step {step!r}")
    return Path(run_dir) / f"{STEPS.index(step) + 1:02d}-{step}"


@dataclass
class StepRecord:
    """What one finished step did (its ``done.json``).

    Attributes:
        step: The step's name.
        inputs_digest: Hash of the settings it read and of its inputs' digests.
        outputs: JSON-able results; paths are relative to the run folder. ``artefacts``
            lists the files / folders covered by ``outputs_digest``; ``scratch`` lists
            folders removed once the step is recorded (checkpoints).
        outputs_digest: Hash of ``outputs`` and of the artefacts' contents (what later
            steps' digests depend on).
        wall_s: Seconds the step's work took when it ran.
        started / finished: UTC times.
        skipped: Why the step did nothing (a setting turned it off), else ``None``.
        versions: Package and Python versions that produced it.
    """

    step: str
    inputs_digest: str
    outputs: dict[str, Any]
    outputs_digest: str
    wall_s: float
    started: str
    finished: str
    skipped: str | None = None
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def read_record(folder: str | Path) -> StepRecord | None:
    """The ``done.json`` of a step folder, or ``None`` when the step has not finished."""
    path = Path(folder) / DONE_FILE
    if not path.is_file():
        return None
    data = read_json(path)
    try:
        return StepRecord.from_dict(data)
    except TypeError as e:
        raise DataError(Problem(str(path), None, None, f"not a step record ({e})")) from None


def _versions() -> dict[str, str]:
    from agentic_match import __version__

    return {"agentic_match": __version__, "python": platform.python_version()}


def _fingerprint_path(path: Path) -> str:
    from agentic_match.models import fingerprint_file

    if path.is_file():
        return fingerprint_file(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return digest([[str(p.relative_to(path)), fingerprint_file(p)] for p in files])
    return "missing"


def outputs_digest(folder: Path, outputs: dict[str, Any]) -> str:
    """Hash of ``outputs`` and of the contents of every path in ``outputs["artefacts"]``."""
    arts = [str(a) for a in outputs.get("artefacts", [])]
    return digest(outputs, [[a, _fingerprint_path(folder / a)] for a in arts])


def archive_step(run_dir: str | Path, folder: Path, old_digest: str) -> Path:
    """Move a step folder made from other inputs to ``<run>/.history/`` (kept, not deleted)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    dest = Path(run_dir) / HISTORY_DIR / f"{folder.name}-{old_digest}-{stamp}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while dest.exists():
        dest = dest.with_name(f"{dest.name}.{n}")
        n += 1
    os.replace(folder, dest)
    return dest


def run_step(
    run_dir: str | Path,
    step: str,
    inputs_digest: str,
    work: Callable[[Path], dict[str, Any]],
    *,
    on_archive: Callable[[Path], None] | None = None,
) -> tuple[StepRecord, bool]:
    """Run one step in its folder unless it is already done with the same inputs.

    Args:
        run_dir: The run folder.
        step: One of :data:`STEPS`.
        inputs_digest: Hash of everything the step reads (settings and inputs' digests).
        work: ``work(folder) -> outputs``: does the step, writing its artefacts under
            ``folder`` (each atomically); ``outputs["skipped"]`` (a reason) marks a step
            that a setting turned off.
        on_archive: Told where an earlier version of the folder was moved.

    Returns:
        ``(record, ran)``: ``ran`` is False when ``done.json`` already covered these inputs.
    """
    folder = step_dir(run_dir, step)
    done = read_record(folder)
    if done is not None and done.inputs_digest == inputs_digest:
        return done, False
    if folder.exists():
        old = done.inputs_digest if done else None
        started = folder / STARTED_FILE
        if old is None and started.is_file():
            old = read_json(started).get("inputs_digest")
        if old != inputs_digest:  # another version (or an unidentifiable folder): keep it aside
            dest = archive_step(run_dir, folder, old or "unknown")
            if on_archive is not None:
                on_archive(dest)
    folder.mkdir(parents=True, exist_ok=True)
    started_at = utc_now()
    write_json(folder / STARTED_FILE, {"step": step, "inputs_digest": inputs_digest, "started": started_at})
    t0 = time.perf_counter()
    outputs = work(folder)
    wall = time.perf_counter() - t0
    record = StepRecord(
        step=step,
        inputs_digest=inputs_digest,
        outputs=outputs,
        outputs_digest=outputs_digest(folder, outputs),
        wall_s=round(wall, 3),
        started=started_at,
        finished=utc_now(),
        skipped=outputs.get("skipped"),
        versions=_versions(),
    )
    write_json(folder / DONE_FILE, record.to_dict())
    # Scratch (training checkpoints) goes only once the step is recorded: a crash before
    # this line resumes training from them instead of starting over.
    for rel in outputs.get("scratch", []):
        shutil.rmtree(folder / rel, ignore_errors=True)
    return record, True


def run_status(run_dir: str | Path) -> list[dict[str, Any]]:
    """Per step: ``state`` (done / skipped / started / pending), wall time, digest, finish time."""
    rows = []
    for step in STEPS:
        folder = step_dir(run_dir, step)
        rec = read_record(folder)
        if rec is not None:
            state = "skipped" if rec.skipped else "done"
            rows.append(
                {
                    "step": step,
                    "state": state,
                    "wall_s": rec.wall_s,
                    "inputs_digest": rec.inputs_digest,
                    "finished": rec.finished,
                    "note": rec.skipped or "",
                }
            )
        elif (folder / STARTED_FILE).is_file():
            info = read_json(folder / STARTED_FILE)
            rows.append(
                {
                    "step": step,
                    "state": "started",
                    "wall_s": None,
                    "inputs_digest": info.get("inputs_digest"),
                    "finished": None,
                    "note": f"started {info.get('started')}, not finished (rerun to resume)",
                }
            )
        else:
            rows.append(
                {"step": step, "state": "pending", "wall_s": None, "inputs_digest": None, "finished": None, "note": ""}
            )
    return rows


__all__ = [
    "CHECKPOINT_FILE",
    "DONE_FILE",
    "HISTORY_DIR",
    "MANIFEST_FILE",
    "STARTED_FILE",
    "STEPS",
    "StepRecord",
    "archive_step",
    "digest",
    "outputs_digest",
    "read_json",
    "read_record",
    "run_status",
    "run_step",
    "step_dir",
    "utc_now",
    "write_json",
]
