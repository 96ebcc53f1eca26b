"""``agentic-match data validate|stats``: output, exit codes, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agentic_match.cli import data
from agentic_match.data import demo_dir
from tests.data.test_data_io import jsonl


def _app() -> typer.Typer:
    # The data group alone, so these tests do not depend on other command groups.
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    data.register(app)
    return app


runner = CliRunner()


def _bad_files(tmp_path: Path) -> tuple[Path, Path]:
    r = jsonl(tmp_path / "resumes.jsonl", {"id": "r1", "text": "a"}, {"id": "r1", "text": "b"}, "{x")
    lab = jsonl(tmp_path / "labels.jsonl", {"resume_id": "r1", "job_id": "j1", "label": "yes"})
    return r, lab


def test_validate_ok_exits_zero(tmp_path: Path) -> None:
    r = jsonl(tmp_path / "resumes.jsonl", {"id": "r1", "text": "a"})
    result = runner.invoke(_app(), ["data", "validate", str(r)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "0 problem(s)" in result.output


def test_validate_problems_exit_two_with_locations(tmp_path: Path) -> None:
    r, lab = _bad_files(tmp_path)
    result = runner.invoke(_app(), ["data", "validate", str(r), str(lab), str(tmp_path / "gone.csv")])
    assert result.exit_code == 2
    out = result.output
    assert f"{r}:2 [id]: duplicate id 'r1' (first at line 1)" in out
    assert f"{r}:3: malformed JSON" in out
    assert f"{lab}:1 [label]: must be a number, got str" in out
    assert f"{tmp_path / 'gone.csv'}: no such file or directory" in out
    assert "invalid" in out and "4 problem(s)" in out
    assert "Traceback" not in out


def test_validate_demo_and_stats() -> None:
    result = runner.invoke(_app(), ["data", "validate", str(demo_dir())])
    assert result.exit_code == 0, result.output
    result = runner.invoke(_app(), ["data", "stats", "--json", str(demo_dir())])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)[str(demo_dir())]
    assert stats["resumes"]["count"] == 100 and stats["jobs"]["count"] == 25
    assert stats["resumes"]["mean_chars"] > 200
    assert stats["interactions"]["max_per_resume"] >= 5
    table = runner.invoke(_app(), ["data", "stats", str(demo_dir())])
    assert table.exit_code == 0 and "resumes.count" in table.output


def test_stats_of_files_counts_skipped_rows(tmp_path: Path) -> None:
    r, lab = _bad_files(tmp_path)
    result = runner.invoke(_app(), ["data", "stats", "--json", str(r), str(lab)])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats[str(r)] == {
        "resumes": {
            "count": 1,
            "mean_chars": 1.0,
            "median_chars": 1,
            "max_chars": 1,
            "with_free_text": 1,
            "fields": {},
        },
        "problems_skipped": 2,
    }
    assert stats[str(lab)]["labels"]["count"] == 0


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    code = "import sys; from agentic_match.cli import main; main(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", code, *args], check=False, capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_console_entry_point_exit_codes(tmp_path: Path) -> None:
    """Through the real entry point (agentic_match.cli:main), as a user runs it."""
    r, lab = _bad_files(tmp_path)
    bad = _run_cli("data", "validate", str(r), str(lab), cwd=tmp_path)
    if "No module named" in bad.stderr:
        pytest.skip(f"root CLI not importable in this checkout: {bad.stderr.strip()[-200:]}")
    assert bad.returncode == 2, bad.stderr
    assert f"{r}:2 [id]: duplicate id" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr
    good = _run_cli("data", "validate", str(demo_dir()), cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    missing = _run_cli("data", "stats", str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert missing.returncode == 2
    assert "no such file or directory" in missing.stderr
    assert "Traceback" not in missing.stdout + missing.stderr


@pytest.mark.benchmark_data
def test_validate_real_benchmark(benchmark_dir: Path) -> None:
    result = runner.invoke(_app(), ["data", "validate", str(benchmark_dir)])
    assert result.exit_code == 0, result.output[-2000:]
    assert "0 problem(s)" in result.output
