"""``agentic-match audit`` writes a Markdown and an HTML report (real packaged MiniLM)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from agentic_match.cli.fairness import register


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # a group, like the real root app
        pass

    register(app)
    return app


def _write_data(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    resumes = [
        {"id": "r1", "text": "She is a registered nurse; her patients praised her.", "metadata": {"gender": "f"}},
        {"id": "r2", "text": "He builds Python APIs; his services scale.", "metadata": {"gender": "m"}},
        {
            "id": "r3",
            "text": "Nurse with ten years on surgical wards. Mr. Smith was his mentor.",
            "metadata": {"gender": "m"},
        },
        {"id": "r4", "text": "Backend engineer, Python and Go; she leads code reviews.", "metadata": {"gender": "f"}},
    ]
    jobs = [
        {"id": "j1", "fields": {"title": "Registered nurse", "responsibilities": "Care for patients"}},
        {"id": "j2", "fields": {"title": "Python developer", "responsibilities": "Build APIs"}},
    ]
    for name, rows in (("resumes", resumes), ("jobs", jobs)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_audit_writes_both_reports(tmp_path):
    data = _write_data(tmp_path / "data")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _app(),
        [
            "audit",
            "--encoder",
            "all-minilm-l6-v2",
            "--data",
            str(data),
            "--split",
            "test",
            "--out",
            str(out),
            "--k",
            "1",
            "--group-key",
            "gender",
        ],
    )
    assert result.exit_code == 0, result.output
    md = (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    assert "# Fairness audit" in md and "Worst pairs" in md and "![shift_hist](shift_hist.png)" in md
    assert "Group fairness of the original ranking" in md and "metadata['gender']" in md
    assert page.startswith("<!doctype html>") and page.count("data:image/png;base64,") == 3
    assert (out / "shift_hist.png").stat().st_size > 1000 and (out / "group_share.png").is_file()
    audit = json.loads((out / "audit.json").read_text())
    assert audit["summary"]["n_changed"] == 4.0 and audit["fairness"]["k"] == 1
    # no resume text in the report, only ids and swapped terms
    assert "patients praised" not in md and "patients praised" not in page
    assert "wrote" in result.output


def test_audit_rejects_unknown_dimension(tmp_path):
    data = _write_data(tmp_path / "data")
    result = CliRunner().invoke(
        _app(), ["audit", "--data", str(data), "--out", str(tmp_path / "o"), "--dimension", "colour"]
    )
    assert result.exit_code != 0 and not (tmp_path / "o").exists()


def test_audit_with_injected_names_and_lexicon_groups(tmp_path):
    data = _write_data(tmp_path / "data")
    out = tmp_path / "report"
    args = ["audit", "--data", str(data), "--out", str(out), "--k", "1", "--inject-names", "--group-key", "lexicon"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    md = (out / "report.md").read_text()
    assert "lexicon-inferred gender (weak proxy), 4 of 4 resumes" in md
    assert "Group fairness of the original ranking" in md and "female-male" in md
