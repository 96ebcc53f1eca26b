"""The train pipeline's library side: settings, run-folder layout, step records, the steps.

The graph that chains the steps is :mod:`graphs.train_pipeline`; everything here works (and
is tested) without it::

    from agentic_match.pipeline import PipelineConfig, run_status

    for row in run_status("runs/pipe-1"):
        print(row["step"], row["state"], row["wall_s"])
"""

from agentic_match.pipeline.config import RUNTIME_ONLY, PipelineConfig
from agentic_match.pipeline.report import build_report, final_model, report_markdown
from agentic_match.pipeline.runfolder import (
    CHECKPOINT_FILE,
    DONE_FILE,
    HISTORY_DIR,
    MANIFEST_FILE,
    STARTED_FILE,
    STEPS,
    StepRecord,
    archive_step,
    digest,
    outputs_digest,
    read_json,
    read_record,
    run_status,
    run_step,
    step_dir,
    utc_now,
    write_json,
)
from agentic_match.pipeline.steps import (
    DEFAULT_STEPS,
    STEP_SPECS,
    StepContext,
    StepFn,
    StepSpec,
    check_inputs,
    corpus_fingerprint,
    inputs_digest,
    load_data,
    no_llm,
    skipped,
)

__all__ = [
    "CHECKPOINT_FILE",
    "DEFAULT_STEPS",
    "DONE_FILE",
    "HISTORY_DIR",
    "MANIFEST_FILE",
    "RUNTIME_ONLY",
    "STARTED_FILE",
    "STEPS",
    "STEP_SPECS",
    "PipelineConfig",
    "StepContext",
    "StepFn",
    "StepRecord",
    "StepSpec",
    "archive_step",
    "build_report",
    "check_inputs",
    "corpus_fingerprint",
    "digest",
    "final_model",
    "inputs_digest",
    "load_data",
    "no_llm",
    "outputs_digest",
    "read_json",
    "read_record",
    "report_markdown",
    "run_status",
    "run_step",
    "skipped",
    "step_dir",
    "utc_now",
    "write_json",
]
