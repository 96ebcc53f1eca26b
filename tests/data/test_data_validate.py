"""validate_paths: kinds, located problems, cross-checks, directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentic_match.data import demo_dir, infer_kind, kind_from_name, validate_paths
from tests.data.test_data_io import _mini_benchmark, jsonl


def test_kind_from_name_and_rows(tmp_path: Path) -> None:
    assert kind_from_name("x/resumes.jsonl") == "resumes"
    assert kind_from_name("jobs_augmented.csv") == "jobs"
    assert kind_from_name("v1/labels/train.jsonl") == "labels"
    assert kind_from_name("interactions.jsonl") == "interactions"
    assert kind_from_name("data.jsonl") is None
    a = jsonl(tmp_path / "a.jsonl", {"resume_id": "r", "job_id": "j", "label": 1})
    b = jsonl(tmp_path / "b.jsonl", {"resume_id": "r", "job_id": "j"})
    c = jsonl(tmp_path / "c.jsonl", {"id": "x", "text": "t"})
    assert [infer_kind(p) for p in (a, b, c)] == ["labels", "interactions", "documents"]
    assert infer_kind("v1/qrels/test_rank_job.json") == "qrels"
    assert infer_kind("v1/splits.json") == "splits"


def test_valid_files(tmp_path: Path) -> None:
    r = jsonl(tmp_path / "resumes.jsonl", {"id": "r1", "text": "a"})
    j = jsonl(tmp_path / "jobs.jsonl", {"id": "j1", "fields": {"title": "t"}})
    report = validate_paths([r, j])
    assert report.ok, report.problems
    assert report.counts == {str(r): 1, str(j): 1}
    assert report.kinds == {str(r): "resumes", str(j): "jobs"}
    assert "0 problem(s)" in report.summary()


def test_every_problem_is_located(tmp_path: Path) -> None:
    r = jsonl(
        tmp_path / "resumes.jsonl",
        {"id": "r1", "text": "a"},
        {"id": "r1", "text": "b"},
        b'{"id": "r2", "text": "\xc3\x28"}',
        {"id": "r3", "text": ""},
        "{oops",
    )
    j = jsonl(tmp_path / "jobs.jsonl", {"id": "j1", "fields": {"title": "t"}})
    lab = jsonl(
        tmp_path / "labels.jsonl",
        {"resume_id": "r1", "job_id": "j1", "label": 1},
        {"resume_id": "r1", "job_id": "nope", "label": 1},
        {"resume_id": "r1", "job_id": "j1", "label": "high"},
    )
    report = validate_paths([r, j, lab])
    assert [str(p) for p in report.problems] == [
        f"{r}:2 [id]: duplicate id 'r1' (first at line 1)",
        f"{r}:3: not valid UTF-8: byte 0xc3 at column 23",
        f"{r}:4 [text]: empty document: no text and no non-blank field",
        f"{r}:5: malformed JSON: Expecting property name enclosed in double quotes (column 2)",
        f"{lab}:2 [job_id]: unknown job id 'nope'",
        f"{lab}:3 [label]: must be a number, got str",
    ]
    assert report.problems_by_file() == {str(r): 4, str(lab): 2}
    assert report.rows[str(r)] == 5 and report.counts[str(r)] == 1
    assert report.counts[str(lab)] == 1


def test_labels_alone_are_not_cross_checked(tmp_path: Path) -> None:
    lab = jsonl(tmp_path / "labels.jsonl", {"resume_id": "r", "job_id": "j", "label": 0})
    assert validate_paths([lab]).ok


def test_missing_and_unreadable_inputs(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "empty").mkdir()
    report = validate_paths([tmp_path / "absent.jsonl", tmp_path / "notes.txt", tmp_path / "empty"])
    assert [p.message.split(":")[0] for p in report.problems] == [
        "no such file or directory",
        "unsupported format '.txt'",
        "missing resumes.jsonl, jobs.jsonl",
    ]


def test_json_file_and_csv(tmp_path: Path) -> None:
    (tmp_path / "splits.json").write_text('{"resumes": [1,\n 2,, 3]}')
    (tmp_path / "jobs.csv").write_bytes(b"id,title\nj1,Nurse\nj2,Caf\xe9\n")
    report = validate_paths([tmp_path / "splits.json", tmp_path / "jobs.csv"])
    assert [(Path(p.path).name, p.line) for p in report.problems] == [("splits.json", 2), ("jobs.csv", 3)]


def test_benchmark_layout_directory(tmp_path: Path) -> None:
    root = _mini_benchmark(tmp_path / "b")
    report = validate_paths([root])
    assert report.ok and report.kinds[str(root)] == "benchmark"
    assert report.kinds[str(root / "labels" / "train.jsonl")] == "labels"
    assert report.kinds[str(root / "splits.json")] == "splits"
    jsonl(root / "interactions.jsonl", {"resume_id": "r3", "job_id": "j7"})
    (root / "qrels" / "test_rank_job.json").write_text(json.dumps({"r2": {"j1": -1}}))
    report = validate_paths([root])
    assert [str(p).replace(str(root), "B") for p in report.problems] == [
        "B/qrels/test_rank_job.json [r2.j1]: grade must be a non-negative integer, got -1",
        "B/interactions.jsonl:1 [job_id]: unknown job id 'j7'",
    ]


def test_datasets_folder(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_dict({"id": ["a", "a"], "text": ["x", "y"]}).save_to_disk(str(tmp_path / "resumes"))
    report = validate_paths([tmp_path / "resumes"])
    assert [(p.line, p.field) for p in report.problems] == [(2, "id")]


def test_packaged_demo_is_valid() -> None:
    report = validate_paths([demo_dir()])
    assert report.ok, report.problems
    assert sum(report.counts.values()) > 100


@pytest.mark.benchmark_data
def test_real_benchmark_validates_clean(benchmark_dir: Path) -> None:
    report = validate_paths([benchmark_dir])
    assert report.ok, report.problems[:10]
    assert report.counts[str(benchmark_dir / "resumes.jsonl")] == 2481
    assert report.counts[str(benchmark_dir / "jobs.jsonl")] == 847
    assert report.counts[str(benchmark_dir / "labels" / "train.jsonl")] == 3160
