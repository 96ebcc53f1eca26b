"""The pipeline's final report: what each step did and took, and the evaluation table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentic_match.pipeline.config import PipelineConfig
from agentic_match.pipeline.runfolder import STEPS, StepRecord

REPORT_METRICS: tuple[str, ...] = ("ndcg@10", "recall@10", "recall@100", "map@100", "mrr@10")


def final_model(upstream: dict[str, StepRecord]) -> str | None:
    """The model the pipeline hands on: RankPO's when it ran, else ConFit* + RUM's, else ConFit*'s.

    Never chosen by the evaluation split's scores (that would tune on test).
    """
    for step in ("rankpo", "retrain", "train"):
        rec = upstream.get(step)
        if rec is not None and rec.outputs.get("model"):
            return rec.outputs["model"]
    return None


def build_report(run_dir: Path, config: PipelineConfig, upstream: dict[str, StepRecord]) -> dict[str, Any]:
    """The JSON report of a run from the step records (paths relative to the run folder)."""
    steps = []
    for name in STEPS[:-1]:
        rec = upstream.get(name)
        if rec is None:
            continue
        summary = {k: v for k, v in rec.outputs.items() if k not in ("artefacts", "scratch", "metrics", "history")}
        steps.append({"step": name, "wall_s": rec.wall_s, "skipped": rec.skipped, "summary": summary})
    evaluation = upstream.get("evaluate")
    return {
        "run_dir": str(run_dir),
        "config": config.to_dict(),
        "steps": steps,
        "pipeline_wall_s": round(sum(s["wall_s"] for s in steps), 1),
        "evaluation": {
            "split": evaluation.outputs.get("split") if evaluation else None,
            "metrics": evaluation.outputs.get("metrics", {}) if evaluation else {},
        },
        "final_model": final_model(upstream),
    }


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def report_markdown(report: dict[str, Any]) -> str:
    """``report.md``: the steps table and the metrics table."""
    lines = ["# Train pipeline report", "", f"Run folder: `{report['run_dir']}`", ""]
    lines += ["## Steps", "", "| step | wall s | note |", "|---|---:|---|"]
    for s in report["steps"]:
        note = s["skipped"] or ", ".join(
            f"{k}={v}" for k, v in s["summary"].items() if isinstance(v, int | float | str) and k != "skipped"
        )
        lines.append(f"| {s['step']} | {s['wall_s']:.1f} | {note} |")
    lines += ["", f"Pipeline wall time (steps as they ran): {report['pipeline_wall_s']:.1f} s", ""]
    ev = report["evaluation"]
    if ev["metrics"]:
        lines += [f"## Evaluation ({ev['split']} split)", ""]
        lines += ["| system | task | " + " | ".join(REPORT_METRICS) + " |", "|---|---|" + "---:|" * len(REPORT_METRICS)]
        for system, tasks in ev["metrics"].items():
            for task, m in tasks.items():
                lines.append(f"| {system} | {task} | " + " | ".join(_fmt(m.get(k)) for k in REPORT_METRICS) + " |")
        lines.append("")
    lines += [f"Final model: `{report['final_model']}`", ""]
    return "\n".join(lines)


__all__ = ["REPORT_METRICS", "build_report", "final_model", "report_markdown"]
