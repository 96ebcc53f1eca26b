"""The demo with a scripted writer: checked HyRe shown, copies rejected, the model hint."""

from __future__ import annotations

import contextlib
import io

from rich.console import Console

from agentic_match.config import load_settings
from agentic_match.demo import run_demo
from tests._match_fakes import Reply


class CopyingWriter:
    """Writes a resume for the first job it sees and copies the post for the others."""

    def __init__(self) -> None:
        self.jobs: list[str] = []

    def chat(self, messages, **kw):
        post = messages[-1]["content"]
        if not self.jobs or post == self.jobs[0]:
            self.jobs.append(post)
            return Reply(
                "Title: Registered Nurse\nSummary: Eight years of acute care.\n"
                "Skills: triage, patient assessment, medication administration\n"
                "Experience:\n- Staff Nurse, city hospital, 2016-2024, ICU care\nEducation: BSc Nursing"
            )
        body = post.split('<document type="job post">')[-1].split("</document>")[0]
        return Reply(body)


def _run(monkeypatch, tmp_path, model: str):
    writer = CopyingWriter()
    monkeypatch.setattr("agentic_match.llm.open_llm", lambda s: contextlib.nullcontext(writer))
    settings = load_settings(overrides={"cache_dir": str(tmp_path / "cache"), "llm": {"model": model}})
    out = io.StringIO()
    result = run_demo(settings, n_jobs=2, top_k=3, console=Console(file=out, width=200), explain_top=0)
    return result, out.getvalue()


def test_demo_shows_checked_hyre_and_rejects_copies(monkeypatch, tmp_path):
    result, text = _run(monkeypatch, tmp_path, "smollm2-135m")
    assert len(result.generated) == 1 and len(result.rejected) == 1
    (written,) = result.generated.values()
    assert written.startswith("Title: Registered Nurse") and "Title: Registered Nurse" in text
    (why,) = result.rejected.values()
    assert "repeats" in why and "rejected" in text
    # Both jobs are still ranked; the packaged model is named as too small, with the way out.
    assert len(result.rankings) == 2 and all(len(r) == 3 for r in result.rankings.values())
    assert "smoke-test model" in text and "--model" in text


def test_demo_names_no_model_problem_for_a_larger_writer(monkeypatch, tmp_path):
    _, text = _run(monkeypatch, tmp_path, "/models/qwen2.5-coder-1.5b/model.gguf")
    assert "smoke-test model" not in text
