"""Loaders and writers of agentic_match.data: every format and every bad-input case."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from agentic_match.data import (
    MAX_DOC_CHARS,
    Document,
    Interaction,
    Label,
    demo_dir,
    documents_from_dataset,
    load_benchmark,
    load_corpus,
    load_demo,
    load_documents,
    load_interactions,
    load_labels,
    render,
    write_documents,
    write_interactions,
    write_labels,
)
from agentic_match.data import io as data_io
from agentic_match.errors import DataError
from tools.build_demo import INJECTION_LINES, SOURCE
from tools.build_demo import write as write_demo


def jsonl(path: Path, *rows: object) -> Path:
    """Write rows (dicts as JSON, str/bytes verbatim) one per line."""
    with open(path, "wb") as f:
        for row in rows:
            if isinstance(row, bytes):
                f.write(row)
            elif isinstance(row, str):
                f.write(row.encode())
            else:
                f.write(json.dumps(row).encode())
            f.write(b"\n")
    return path


def problems_of(exc: pytest.ExceptionInfo[DataError]) -> list[tuple[int | None, str | None, str]]:
    return [(p.line, p.field, p.message) for p in exc.value.problems]


# --------------------------------------------------------------------------- JSONL


def test_jsonl_documents_all_row_shapes(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "jobs.jsonl",
        {"id": "j1", "text": "Free text job"},
        {"id": "j2", "fields": {"title": "Nurse", "location": "Here"}, "metadata": {"k": 1}},
        {"id": 3, "title": "Flat title", "salary": 5000, "metadata": {"src": "x"}},
        "",  # blank lines are not rows
    )
    docs = load_documents(path, "job")
    assert [d.id for d in docs] == ["j1", "j2", "3"]
    assert docs[0].text == "Free text job" and docs[0].fields == {}
    assert docs[1].fields == {"title": "Nurse", "location": "Here"}
    assert docs[1].metadata == {"k": 1}
    # String values become fields; other values go to metadata (never rendered).
    assert docs[2].fields == {"title": "Flat title"}
    assert docs[2].metadata == {"src": "x", "salary": 5000}
    assert all(d.kind == "job" for d in docs)
    assert docs.report.ok and docs.report.rows[str(path)] == 3


def test_ndjson_suffix_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "a", "text": "t"}).encode() + b"\n")
    assert load_documents(path, "resume")[0].id == "a"


def test_jsonl_bad_rows_raise_together(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "resumes.jsonl",
        {"id": "ok", "text": "fine"},
        "{not json",
        "[1, 2]",
        {"text": "no id"},
        {"id": "", "text": "blank id"},
        {"id": 1.5, "text": "float id"},
        {"id": "e", "text": "   "},
        {"id": "f", "fields": {"title": 3}},
        {"id": "g", "fields": "nope"},
        {"id": "h", "text": "x", "metadata": []},
        {"id": "ok", "text": "again"},
        {"id": "k", "kind": "job", "text": "x"},
        b"\xff\xfe bad bytes",
    )
    with pytest.raises(DataError) as exc:
        load_documents(path, "resume")
    got = problems_of(exc)
    assert (2, None, "malformed JSON: Expecting property name enclosed in double quotes (column 2)") in got
    assert (3, None, "expected a JSON object, got list") in got
    assert (4, "id", "missing id") in got
    assert (5, "id", "missing id") in got
    assert (6, "id", "id must be a string or an integer, got float") in got
    assert (7, "text", "empty document: no text and no non-blank field") in got
    assert (8, "fields.title", "must be a string, got int") in got
    assert (9, "fields", "must be an object of name -> text, got str") in got
    assert (10, "metadata", "must be an object, got list") in got
    assert (11, "id", "duplicate id 'ok' (first at line 1)") in got
    assert (12, "kind", "row says kind 'job' but it is loaded as 'resume'") in got
    assert (13, None, "not valid UTF-8: byte 0xff at column 1") in got
    assert len(got) == 12
    # The message names file, line and field.
    assert f"{path}:8 [fields.title]: must be a string" in str(exc.value)


def test_skip_mode_counts_and_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = jsonl(
        tmp_path / "resumes.jsonl",
        {"id": "a", "text": "one"},
        "{broken",
        {"id": "a", "text": "dup"},
        {"id": "b", "text": "two"},
    )
    with caplog.at_level(logging.WARNING, logger="agentic_match.data.io"):
        docs = load_documents(path, "resume", on_error="skip")
    assert [d.id for d in docs] == ["a", "b"]
    assert docs[0].text == "one"  # the first of a duplicated id wins
    assert docs.report.skipped == 2
    assert len(docs.report.problems) == 2
    assert "skipped 2 bad row(s)" in caplog.text


def test_on_error_value_checked(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "r.jsonl", {"id": "a", "text": "x"})
    with pytest.raises(ValueError):
        load_documents(path, "resume", on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        load_documents(path, "person")  # type: ignore[arg-type]


def test_over_long_line_is_reported_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_io, "MAX_LINE_BYTES", 64)
    path = jsonl(
        tmp_path / "r.jsonl",
        {"id": "big", "text": "x" * 500},
        {"id": "small", "text": "ok"},
    )
    docs = load_documents(path, "resume", on_error="skip")
    assert [d.id for d in docs] == ["small"]
    (p,) = docs.report.problems
    assert (p.line, p.message) == (1, "line longer than 64 bytes")


def test_absurd_document_size(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "r.jsonl", {"id": "huge", "text": "x" * (MAX_DOC_CHARS + 1)})
    with pytest.raises(DataError) as exc:
        load_documents(path, "resume")
    assert "1,000,001 characters, more than the limit of 1,000,000" in str(exc.value)


def test_missing_empty_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or directory"):
        load_documents(tmp_path / "absent.jsonl", "resume")
    (tmp_path / "r.txt").write_text("hello")
    with pytest.raises(DataError, match="unsupported format '.txt'"):
        load_documents(tmp_path / "r.txt", "resume")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(DataError, match="no rows"):
        load_documents(tmp_path / "empty.jsonl", "resume")


def test_load_with_column_mapping(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "r.jsonl", {"ID": 7, "Resume_text": "body", "Category": "HR"})
    (doc,) = load_documents(path, "resume", id_column="ID", text_column="Resume_text")
    assert doc == Document(id="7", kind="resume", text="body", metadata={"Category": "HR"})


# --------------------------------------------------------------------------- CSV


def test_csv_documents(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(
        "id,title,responsibilities,metadata.team,metadata.level\n"
        'j1,Engineer,"Build things\nand more things",core,3\n'
        "j2,Analyst,,,\n",
        encoding="utf-8",
    )
    docs = load_documents(path, "job")
    assert docs[0].fields == {"title": "Engineer", "responsibilities": "Build things\nand more things"}
    assert docs[0].metadata == {"team": "core", "level": "3"}
    # Empty cells are absent, not empty fields.
    assert docs[1].fields == {"title": "Analyst"} and docs[1].metadata == {}


def test_csv_text_column_and_tsv(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("id,text\nr1,Hello\n")
    (tmp_path / "r.tsv").write_text("id\ttext\nr1\tHello, tabs\n")
    assert load_documents(tmp_path / "r.csv", "resume")[0].text == "Hello"
    assert load_documents(tmp_path / "r.tsv", "resume")[0].text == "Hello, tabs"


def test_csv_problems_have_record_lines(tmp_path: Path) -> None:
    path = tmp_path / "resumes.csv"
    path.write_bytes(
        b"id,text\n"
        b'r1,"multi\nline"\n'  # lines 2-3
        b"r2,fine\n"  # line 4
        b"r3,too,many\n"  # line 5
        b"r4,caf\xe9\n"  # line 6: latin-1, not UTF-8
        b",no id\n"  # line 7
        b"r2,dup\n"  # line 8
        b"r5,\n"  # line 9: empty text
    )
    with pytest.raises(DataError) as exc:
        load_documents(path, "resume")
    got = problems_of(exc)
    assert (5, None, "expected 2 columns, found 3") in got
    assert (6, None, "not valid UTF-8: byte 0xe9 at column 7") in got
    assert (7, "id", "missing id") in got
    assert (8, "id", "duplicate id 'r2' (first at line 4)") in got
    assert (9, "text", "empty document: no text and no non-blank field") in got
    assert len(got) == 5


def test_csv_missing_id_column_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("name,text\na,x\nb,y\n")
    with pytest.raises(DataError) as exc:
        load_documents(path, "resume")
    assert problems_of(exc) == [(1, None, "missing column(s): id")]


def test_csv_large_field_is_accepted(tmp_path: Path) -> None:
    # Larger than the csv module's default 128 KiB field limit.
    path = tmp_path / "r.csv"
    path.write_text("id,text\nr1," + "w" * 200_000 + "\n")
    assert len(load_documents(path, "resume")[0].text or "") == 200_000


# --------------------------------------------------------------------------- datasets


def test_dataset_object_and_folder(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(
        [
            {"id": "r1", "text": "alpha", "metadata": {"src": "a"}},
            {"id": "r2", "text": "beta", "metadata": {"src": "b"}},
        ]
    )
    docs = load_documents(ds, "resume")
    assert [(d.id, d.text, d.metadata) for d in docs] == [
        ("r1", "alpha", {"src": "a"}),
        ("r2", "beta", {"src": "b"}),
    ]
    ds.save_to_disk(str(tmp_path / "resumes_ds"))
    assert load_documents(tmp_path / "resumes_ds", "resume") == docs
    datasets.DatasetDict({"train": ds}).save_to_disk(str(tmp_path / "dd"))
    assert [d.id for d in load_documents(tmp_path / "dd", "resume")] == ["r1", "r2"]


def test_documents_from_dataset_columns() -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict(
        {
            "job_key": ["j1", "j2"],
            "Title": ["Nurse", "Cook"],
            "Duties": ["Care", None],
            "Category": ["HEALTH", "FOOD"],
        }
    )
    docs = documents_from_dataset(ds, "job", id_column="job_key", field_columns=["Title", "Duties"])
    assert docs[0].fields == {"Title": "Nurse", "Duties": "Care"}
    assert docs[0].metadata == {"Category": "HEALTH"}
    assert docs[1].fields == {"Title": "Cook"}
    with pytest.raises(DataError, match=r"missing column\(s\): nope"):
        documents_from_dataset(ds, "job", id_column="job_key", text_column="nope")
    with pytest.raises(TypeError):
        documents_from_dataset([{"id": "x"}], "job")


def test_dataset_dict_needs_split() -> None:
    datasets = pytest.importorskip("datasets")
    row = {"id": ["a"], "text": ["t"]}
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict(row), "test": datasets.Dataset.from_dict(row)})
    with pytest.raises(DataError, match="choose a split"):
        load_documents(dd, "resume")
    assert load_documents(dd, "resume", split="test")[0].id == "a"


def test_dataset_rows_problems_use_row_numbers() -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"id": ["a", "b", "a"], "text": ["x", "", "y"]})
    docs = load_documents(ds, "resume", on_error="skip")
    assert [d.id for d in docs] == ["a"]
    assert [(p.path, p.line, p.field) for p in docs.report.problems] == [
        ("<dataset>", 2, "text"),
        ("<dataset>", 3, "id"),
    ]


def test_not_a_dataset_folder(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataError, match="cannot read as a Hugging Face datasets folder"):
        load_documents(tmp_path / "folder", "resume")


# --------------------------------------------------------------------------- labels, interactions


def test_labels_jsonl_binary_and_graded(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "labels.jsonl",
        {"resume_id": "r1", "job_id": "j1", "label": 1},
        {"resume_id": "r1", "job_id": "j2", "label": 0},
        {"resume_id": 5, "job_id": "j3", "label": 2.5},
    )
    labels = load_labels(path)
    assert labels == [Label("r1", "j1", 1.0), Label("r1", "j2", 0.0), Label("5", "j3", 2.5)]


def test_labels_bad_values(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "labels.jsonl",
        {"resume_id": "r", "job_id": "j", "label": "1"},
        {"resume_id": "r", "job_id": "j2", "label": True},
        {"resume_id": "r", "job_id": "j3"},
        '{"resume_id": "r", "job_id": "j4", "label": NaN}',
        '{"resume_id": "r", "job_id": "j5", "label": 1e999}',
        {"job_id": "j6", "label": 1},
        {"resume_id": "r", "job_id": "j7", "label": 1},
        {"resume_id": "r", "job_id": "j7", "label": 0},
    )
    with pytest.raises(DataError) as exc:
        load_labels(path)
    assert problems_of(exc) == [
        (1, "label", "must be a number, got str"),
        (2, "label", "must be a number, got bool"),
        (3, "label", "missing label"),
        (4, "label", "not a finite number: nan"),
        (5, "label", "not a finite number: inf"),
        (6, "resume_id", "missing resume_id"),
        (8, None, "duplicate label for this pair (first at line 7)"),
    ]


def test_labels_csv(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("resume_id,job_id,label\nr1,j1,1\nr1,j2,0.5\nr1,j3,abc\nr1,j4,inf\n")
    labels = load_labels(path, on_error="skip")
    assert labels == [Label("r1", "j1", 1.0), Label("r1", "j2", 0.5)]
    assert [(p.line, p.message) for p in labels.report.problems] == [
        (4, "not a number: 'abc'"),
        (5, "not a finite number: 'inf'"),
    ]
    (tmp_path / "l2.csv").write_text("resume_id,job_id\nr1,j1\n")
    with pytest.raises(DataError, match=r"missing column\(s\): label"):
        load_labels(tmp_path / "l2.csv")


def test_labels_from_dataset() -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"resume_id": ["r"], "job_id": ["j"], "label": [1]})
    assert load_labels(ds) == [Label("r", "j", 1.0)]


def test_interactions(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "interactions.jsonl",
        {"resume_id": "r1", "job_id": "j1"},
        {"resume_id": "r1", "job_id": "j1"},  # repeats are real behaviour
        {"resume_id": "r2"},
    )
    got = load_interactions(path, on_error="skip")
    assert got == [Interaction("r1", "j1"), Interaction("r1", "j1")]
    assert [(p.line, p.field) for p in got.report.problems] == [(3, "job_id")]
    csv_path = tmp_path / "interactions.csv"
    csv_path.write_text("resume_id,job_id\nr9,j9\n")
    assert load_interactions(csv_path) == [Interaction("r9", "j9")]


# --------------------------------------------------------------------------- corpus


def _small_corpus_files(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    r = jsonl(tmp_path / "resumes.jsonl", {"id": "r1", "text": "a"}, {"id": "r2", "text": "b"})
    j = jsonl(tmp_path / "jobs.jsonl", {"id": "j1", "fields": {"title": "t"}})
    lab = jsonl(
        tmp_path / "labels.jsonl",
        {"resume_id": "r1", "job_id": "j1", "label": 1},
        {"resume_id": "r3", "job_id": "j1", "label": 0},
        {"resume_id": "r2", "job_id": "j9", "label": 0},
    )
    inter = jsonl(
        tmp_path / "interactions.jsonl",
        {"resume_id": "r2", "job_id": "j1"},
        {"resume_id": "rX", "job_id": "j1"},
    )
    return r, j, lab, inter


def test_load_corpus_cross_checks(tmp_path: Path) -> None:
    r, j, lab, inter = _small_corpus_files(tmp_path)
    with pytest.raises(DataError) as exc:
        load_corpus(r, j, lab, inter)
    assert [(Path(p.path).name, p.line, p.field, p.message) for p in exc.value.problems] == [
        ("labels.jsonl", 2, "resume_id", "unknown resume id 'r3'"),
        ("labels.jsonl", 3, "job_id", "unknown job id 'j9'"),
        ("interactions.jsonl", 2, "resume_id", "unknown resume id 'rX'"),
    ]
    corpus = load_corpus(r, j, lab, inter, on_error="skip")
    assert set(corpus.resumes) == {"r1", "r2"} and set(corpus.jobs) == {"j1"}
    assert corpus.labels == [Label("r1", "j1", 1.0)]
    assert corpus.interactions == [Interaction("r2", "j1")]
    assert corpus.report is not None and len(corpus.report.problems) == 3
    assert corpus.report.skipped == 3


def test_load_corpus_from_objects() -> None:
    res = [Document("r1", "resume", text="a")]
    jobs = [Document("j1", "job", fields={"title": "t"})]
    corpus = load_corpus(res, jobs, [Label("r1", "j1", 1)], [Interaction("r1", "j1")])
    assert corpus.labels_for() == [Label("r1", "j1", 1)]
    with pytest.raises(DataError, match="unknown job id 'j2'"):
        load_corpus(res, jobs, [Label("r1", "j2", 1)])


# --------------------------------------------------------------------------- benchmark layout


def _mini_benchmark(root: Path) -> Path:
    root.mkdir()
    jsonl(root / "resumes.jsonl", *({"id": f"r{i}", "text": f"resume {i}"} for i in range(4)))
    jsonl(root / "jobs.jsonl", *({"id": f"j{i}", "fields": {"title": f"job {i}"}} for i in range(2)))
    splits = {"resumes": {"train": ["r0", "r1"], "test": ["r2", "r3"]}, "jobs": {"train": ["j0"], "test": ["j1"]}}
    (root / "splits.json").write_text(json.dumps(splits))
    (root / "labels").mkdir()
    jsonl(root / "labels" / "train.jsonl", {"resume_id": "r0", "job_id": "j0", "label": 1})
    (root / "qrels").mkdir()
    (root / "qrels" / "test_rank_resume.json").write_text(json.dumps({"j1": {"r2": 2, "r3": 1}}))
    (root / "qrels" / "test_rank_job.json").write_text(json.dumps({"r2": {"j1": 2}}))
    jsonl(root / "interactions.jsonl", {"resume_id": "r3", "job_id": "j0"})
    return root


def test_load_benchmark_layout(tmp_path: Path) -> None:
    corpus = load_benchmark(_mini_benchmark(tmp_path / "b"))
    assert len(corpus.resumes) == 4 and len(corpus.jobs) == 2
    assert corpus.split_ids("resume", "test") == ["r2", "r3"]
    assert corpus.labels == corpus.label_splits["train"] == [Label("r0", "j0", 1.0)]
    assert corpus.qrels["test_rank_resume"] == {"j1": {"r2": 2, "r3": 1}}
    assert corpus.qrels["test_rank_job"] == {"r2": {"j1": 2}}
    assert corpus.interactions == [Interaction("r3", "j0")]


def test_load_benchmark_problems(tmp_path: Path) -> None:
    root = _mini_benchmark(tmp_path / "b")
    splits = {"resumes": {"train": ["r0", "r1", "r1"], "test": ["r2", "zz"]}, "jobs": {"train": ["j0"], "test": ["j1"]}}
    (root / "splits.json").write_text(json.dumps(splits))
    jsonl(root / "labels" / "train.jsonl", {"resume_id": "r2", "job_id": "j0", "label": 1})
    (root / "qrels" / "test_rank_resume.json").write_text(json.dumps({"j1": {"r0": 2, "r3": 1.5}}))
    with pytest.raises(DataError) as exc:
        load_benchmark(root)
    msgs = [str(p).replace(str(root) + os.sep, "") for p in exc.value.problems]
    assert msgs == [
        "splits.json [resumes.train[2]]: 'r1' is also in split 'train'",
        "splits.json [resumes.test[1]]: unknown resume id 'zz'",
        "splits.json [resumes]: 1 resumes in no split, e.g. 'r3'",
        "labels/train.jsonl:1 [resume_id]: 'r2' is in split 'test', not 'train'",
        "qrels/test_rank_resume.json [j1.r0]: 'r0' is not in split 'test'",
        "qrels/test_rank_resume.json [j1.r3]: grade must be a non-negative integer, got 1.5",
    ]
    (root / "splits.json").write_text("{oops")
    with pytest.raises(DataError, match=r"splits.json:1: malformed JSON"):
        load_benchmark(root)


def test_load_benchmark_requires_documents(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    with pytest.raises(DataError, match="missing resumes.jsonl, jobs.jsonl"):
        load_benchmark(tmp_path / "b")
    with pytest.raises(DataError, match="not a directory"):
        load_benchmark(tmp_path / "nope")


@pytest.mark.benchmark_data
def test_real_benchmark_counts(benchmark_dir: Path) -> None:
    corpus = load_benchmark(benchmark_dir)
    assert len(corpus.resumes) == 2481 and len(corpus.jobs) == 847
    assert len(corpus.labels) == 3160
    assert sum(lab.label == 1 for lab in corpus.labels) == 1393
    assert {s: len(v) for s, v in corpus.splits["resumes"].items()} == {"train": 1490, "dev": 252, "test": 739}
    assert {s: len(v) for s, v in corpus.splits["jobs"].items()} == {"train": 509, "dev": 80, "test": 258}
    assert len(corpus.qrels["test_rank_resume"]) == 258
    assert len(corpus.qrels["test_rank_job"]) == 512
    assert set(corpus.label_splits) == {"train", "dev"}
    assert corpus.interactions and corpus.report is not None and corpus.report.ok
    job = next(iter(corpus.jobs.values()))
    assert render(job).startswith("## title\n")


# --------------------------------------------------------------------------- writers


def test_write_and_reload_round_trip(tmp_path: Path) -> None:
    docs = [
        Document("r1", "resume", text="Ünïcode text", metadata={"source": "x", "n": 2}),
        Document("j1", "resume", fields={"title": "T", "skills": "a, b"}),
    ]
    out = write_documents(tmp_path / "out" / "docs.jsonl", docs)
    assert load_documents(out, "resume") == docs
    labels = [Label("r1", "j1", 1.0), Label("r1", "j2", 0.25)]
    write_labels(tmp_path / "labels.jsonl", labels)
    assert '"label": 1}' in (tmp_path / "labels.jsonl").read_text()
    assert load_labels(tmp_path / "labels.jsonl") == labels
    write_interactions(tmp_path / "i.jsonl", [Interaction("r1", "j1")])
    assert load_interactions(tmp_path / "i.jsonl") == [Interaction("r1", "j1")]


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "docs.jsonl"
    write_documents(target, [Document("a", "resume", text="old")])
    before = target.read_bytes()

    def broken() -> object:
        yield Document("b", "resume", text="new")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_documents(target, broken())  # type: ignore[arg-type]
    assert target.read_bytes() == before  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["docs.jsonl"]  # no temp file left
    assert target.stat().st_mode & 0o777 != 0o600  # not mkstemp's private mode


# --------------------------------------------------------------------------- demo corpus


def test_demo_corpus() -> None:
    corpus = load_demo()
    assert len(corpus.resumes) == 100 and len(corpus.jobs) == 25
    docs = [*corpus.resumes.values(), *corpus.jobs.values()]
    assert all(d.metadata["source"] == SOURCE == "synthetic demo" for d in docs)
    families = {d.metadata["family"] for d in corpus.resumes.values()}
    assert {"software", "data", "nursing", "accounting", "sales", "logistics"} <= families
    assert all(set(d.fields) >= {"title", "responsibilities"} for d in corpus.jobs.values())
    assert {lab.label for lab in corpus.labels} == {0.0, 1.0}
    assert corpus.interactions
    per = [sum(i.resume_id == r for i in corpus.interactions) for r in corpus.resumes]
    assert max(per) >= 5 * min(per)  # long-tailed
    injected = [d for d in corpus.resumes.values() if d.metadata.get("prompt_injection")]
    assert len(injected) == 2
    assert all(any(line in (d.text or "") for line in INJECTION_LINES) for d in injected)
    assert set(corpus.splits["resumes"]) == {"train", "dev", "test"}
    assert corpus.qrels["test_rank_resume"] and corpus.qrels["dev_rank_job"]
    assert all(grade in (1, 2) for q in corpus.qrels["test_rank_job"].values() for grade in q.values())
    # Labels stay inside a split, like the benchmark.
    for split, labs in corpus.label_splits.items():
        assert all(corpus.resumes[x.resume_id].metadata["split"] == split for x in labs)
        assert all(corpus.jobs[x.job_id].metadata["split"] == split for x in labs)
    assert "synthetic demo" not in render(docs[0])  # metadata is never rendered


def test_demo_files_are_reproducible_and_small(tmp_path: Path) -> None:
    write_demo(tmp_path)
    packaged = demo_dir()
    names = sorted(p.name for p in packaged.iterdir() if not p.name.startswith("."))
    assert names == ["README.md", "interactions.jsonl", "jobs.jsonl", "labels.jsonl", "resumes.jsonl"]
    for name in names:
        assert (tmp_path / name).read_bytes() == (packaged / name).read_bytes(), name
    assert sum((packaged / n).stat().st_size for n in names) < 300_000
    readme = (packaged / "README.md").read_text()
    assert "fictional" in readme and "demo-r-013" in readme
