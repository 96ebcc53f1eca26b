"""The bad-input corpus: files a careless or hostile user could hand to any entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _jsonl(path: Path, *rows: object) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def bad(tmp_path: Path) -> dict[str, Path]:
    """Named bad inputs; each value is a file (or folder) whose problem has a known location."""
    good_jobs = _jsonl(tmp_path / "jobs.jsonl", {"id": "j1", "text": "Nurse, ICU"}, {"id": "j2", "text": "Chef"})
    good_resumes = _jsonl(tmp_path / "resumes.jsonl", {"id": "r1", "text": "ICU nurse"}, {"id": "r2", "text": "Cook"})
    out = {
        "jobs": good_jobs,
        "resumes": good_resumes,
        "labels": _jsonl(tmp_path / "labels.jsonl", {"resume_id": "r1", "job_id": "j1", "label": 1}),
        # Line 2 is not JSON.
        "malformed_jsonl": _jsonl(tmp_path / "malformed.jsonl", {"id": "r1", "text": "a"}, "{not json"),
        # Line 2 repeats an id.
        "duplicate_ids": _jsonl(tmp_path / "dupes.jsonl", {"id": "r1", "text": "a"}, {"id": "r1", "text": "b"}),
        # Line 1 has no id field.
        "missing_id": _jsonl(tmp_path / "noid.jsonl", {"text": "a"}),
        # Line 1's label is not a number; line 2 names an unknown resume.
        "bad_labels": _jsonl(
            tmp_path / "badlabels.jsonl",
            {"resume_id": "r1", "job_id": "j1", "label": "yes"},
            {"resume_id": "zz", "job_id": "j1", "label": 1},
        ),
    }
    (tmp_path / "latin1.jsonl").write_bytes(b'{"id": "r1", "text": "caf\xe9"}\n')
    out["not_utf8"] = tmp_path / "latin1.jsonl"
    (tmp_path / "stray_cr.csv").write_bytes(b"id,text\nr1,a\nr2,b\rc\nr3,d\nr4,e\n")
    out["stray_cr_csv"] = tmp_path / "stray_cr.csv"
    return out
