"""The train / mine commands: clear errors (exit 2, no traceback), nothing half-written."""

from __future__ import annotations

import json

import pytest

from agentic_match.cli import main


def _write_toy(tmp_path, accepted=True):
    rows_r = [{"id": f"r{i}", "text": f"resume number {i} about topic {i}"} for i in range(4)]
    rows_j = [{"id": f"j{i}", "text": f"job number {i} about topic {i}"} for i in range(4)]
    labels = [{"resume_id": f"r{i}", "job_id": f"j{i}", "label": 1 if accepted else 0} for i in range(4)]
    for name, rows in (("resumes", rows_r), ("jobs", rows_j), ("labels", labels)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [
        f"--resumes={tmp_path / 'resumes.jsonl'}",
        f"--jobs={tmp_path / 'jobs.jsonl'}",
        f"--labels={tmp_path / 'labels.jsonl'}",
    ]


def _run(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "Traceback" not in err
    return e.value.code, err


def test_train_without_accepted_labels(tmp_path, capsys):
    files = _write_toy(tmp_path, accepted=False)
    code, err = _run(["train", *files, "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "no accepted pair" in err
    assert not (tmp_path / "run").exists()


def test_train_with_missing_encoder_folder(tmp_path, capsys):
    files = _write_toy(tmp_path)
    code, err = _run(["train", *files, "--out", str(tmp_path / "run"), "--encoder", str(tmp_path / "nope")], capsys)
    assert code == 2 and "not found" in err
    assert not (tmp_path / "run").exists()


def test_mine_with_missing_encoder_folder(tmp_path, capsys):
    files = _write_toy(tmp_path)
    out = tmp_path / "neg.jsonl"
    code, err = _run(["mine", "--encoder", str(tmp_path / "missing"), *files, "--out", str(out)], capsys)
    assert code == 2 and "not found" in err
    assert not out.exists()


def test_data_options_are_checked(tmp_path, capsys):
    code, err = _run(["train", "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "--data" in err
    code, err = _run(
        ["mine", "--encoder", "x", "--band", "9-2", "--data", str(tmp_path), "--out", str(tmp_path / "n")], capsys
    )
    assert code == 2 and "band" in err


def test_bm25_mining_writes_a_file(tmp_path, capsys):
    files = _write_toy(tmp_path)
    out = tmp_path / "neg.jsonl"
    main(["mine", "--method", "bm25", *files, "--out", str(out), "--top-k", "2"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4 and all(r["job_id"] not in r["negative_job_ids"] for r in rows)


def test_index_build_shows_progress_on_stderr_only(tmp_path, capsys):
    """A long step reports how far it is, on stderr: stdout stays the command's result."""
    from importlib import resources

    docs = resources.files("agentic_match.data").joinpath("demo", "resumes.jsonl")
    try:
        main(["index", "build", "--docs", str(docs), "--kind", "resume", "--out", str(tmp_path / "idx")])
    except SystemExit as e:
        assert e.code in (0, None)
    out = capsys.readouterr()
    assert "indexing" in out.err and "100/100" in out.err
    assert "indexing" not in out.out and (tmp_path / "idx" / "meta.json").is_file()
