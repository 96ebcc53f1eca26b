"""Every CLI entry point, fed the bad-input corpus: exit 2, a located message, no traceback.

Each case runs the real entry point (``agentic_match.cli.main``) as a user would. The
message must name the file and line (and the field where there is one) or the option; the
process must not print a traceback; nothing starts an LLM server or trains a model first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._cli import run_cli


def _cases(b: dict[str, Path], tmp: Path) -> list[tuple[str, list[str], str]]:
    """``(name, argv, text the message must contain)``."""
    r, j, lab = str(b["resumes"]), str(b["jobs"]), str(b["labels"])
    mal, dup = b["malformed_jsonl"], b["duplicate_ids"]
    return [
        ("validate malformed", ["data", "validate", str(mal)], f"{mal}:2: malformed JSON"),
        ("validate duplicate", ["data", "validate", str(dup)], f"{dup}:2 [id]: duplicate id"),
        ("validate missing id", ["data", "validate", str(b["missing_id"])], f"{b['missing_id']}:1 [id]"),
        ("validate not utf-8", ["data", "validate", str(b["not_utf8"])], f"{b['not_utf8']}:1"),
        ("validate labels", ["data", "validate", r, j, str(b["bad_labels"])], f"{b['bad_labels']}:1 [label]"),
        ("validate stray cr", ["data", "validate", str(b["stray_cr_csv"])], f"{b['stray_cr_csv']}:3"),
        ("validate missing file", ["data", "validate", str(tmp / "gone.jsonl")], "no such file"),
        ("train bad resumes", ["train", "--resumes", str(mal), "--jobs", j, "--labels", lab, "--out", str(tmp / "t")], f"{mal}:2"),
        ("train bad labels", ["train", "--resumes", r, "--jobs", j, "--labels", str(b["bad_labels"]), "--out", str(tmp / "t")], f"{b['bad_labels']}:1 [label]"),
        ("train two sources", ["train", "--data", str(tmp), "--resumes", r, "--out", str(tmp / "t")], "not both"),
        ("mine bad band", ["mine", "--encoder", "x", "--band", "9-2", "--data", str(tmp), "--out", str(tmp / "n")], "band"),
        ("index build bad docs", ["index", "build", "--docs", str(dup), "--kind", "resume", "--out", str(tmp / "i")], f"{dup}:2 [id]"),
        ("index build bad kind", ["index", "build", "--docs", r, "--kind", "team", "--out", str(tmp / "i")], "--kind"),
        ("index search no index", ["index", "search", "--index", str(tmp / "none"), "--text", "x"], "no saved index"),
        ("index search k 0", ["index", "search", "--index", str(tmp / "none"), "--text", "x", "-k", "0"], "'-k'"),
        ("augment bad jobs", ["augment", "--jobs", str(mal), "--resumes", r, "--labels", lab], f"{mal}:2"),
        ("complete bad resumes", ["complete", "--resumes", str(b["not_utf8"])], f"{b['not_utf8']}:1"),
        ("clean bad resumes", ["clean", "--resumes", str(dup)], f"{dup}:2 [id]"),
        ("align bad preferences", ["align", "--preferences", str(mal), "--base", "all-minilm-l6-v2", "--out", str(tmp / "a")], f"{mal}:2"),
        ("pipeline no data", ["pipeline", "run", "--out", str(tmp / "p")], "--data"),
        ("pipeline bad setting", ["pipeline", "run", "--demo", "--out", str(tmp / "p"), "--mining.band", "x"], "band"),
        ("finetune bad data", ["finetune", "dataset", "--resumes", str(mal), "--jobs", j, "--labels", lab, "--out", str(tmp / "f")], f"{mal}:2"),
        ("unknown command", ["nosuch"], "No such command"),
        ("unknown option", ["train", "--bogus"], "No such option"),
        ("missing option", ["index", "build", "--docs", r], "Missing option"),
        ("bad --set", ["--set", "llm.max_concurrency=zero", "config", "show"], "llm.max_concurrency"),
        ("unknown section key", ["--set", "pipeline.confit.epoch=2", "pipeline", "run", "--demo", "--out", str(tmp / "p")], "pipeline.confit.epoch"),
    ]  # fmt: skip


def test_every_entry_point_refuses_bad_input_cleanly(bad, tmp_path, capsys):
    failures = []
    for name, argv, expected in _cases(bad, tmp_path):
        code, text = run_cli(argv, capsys)
        if code != 2 or "Traceback" in text or expected not in text:
            failures.append(f"{name}: exit {code}, expected {expected!r} in: {text[:300]}")
    assert not failures, "\n".join(failures)


def test_skip_mode_loses_nothing_it_accepted(bad, capsys):
    """A bad CSV record is one counted row; every good row after it is kept."""
    import json

    code, text = run_cli(["data", "stats", "--json", str(bad["stray_cr_csv"])], capsys)
    assert code == 0 and "Traceback" not in text
    stats = json.loads(text[text.index("{") :])
    entry = stats[str(bad["stray_cr_csv"])]
    assert entry["documents"]["count"] == 3 and entry["problems_skipped"] == 1


@pytest.mark.parametrize(
    "argv_of",
    [
        lambda tmp: [
            "eval",
            "--data",
            str(tmp),
            "--task",
            "rank_resume",
            "--system",
            "bm25",
            "--run-out",
            str(tmp / "jobs.jsonl" / "run.json"),
        ],
        lambda tmp: [
            "index",
            "build",
            "--docs",
            str(tmp / "resumes.jsonl"),
            "--kind",
            "resume",
            "--out",
            str(tmp / "jobs.jsonl" / "idx"),
        ],
    ],
)
def test_unwritable_outputs_are_refused_before_the_work(bad, tmp_path, capsys, argv_of):
    # The output's folder is a file (root may write anywhere a permission bit says not to).
    code, text = run_cli(argv_of(tmp_path), capsys)
    assert code == 2 and "Traceback" not in text and "not a writable folder" in text


def test_api_refuses_a_taken_port_and_an_unusable_store_before_loading_anything(tmp_path, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code, text = run_cli(["api", "--no-llm", "--port", str(port)], capsys)
    assert code == 2 and "Traceback" not in text and f"--port {port}" in text and "in use" in text
    (tmp_path / "db").mkdir()
    code, text = run_cli(["api", "--no-llm", "--feedback-db", str(tmp_path / "db")], capsys)
    assert code == 2 and "Traceback" not in text and "--feedback-db" in text
    (tmp_path / "junk.sqlite").write_text("not a database")
    code, text = run_cli(["api", "--no-llm", "--feedback-db", str(tmp_path / "junk.sqlite")], capsys)
    assert code == 2 and "Traceback" not in text and "not a usable SQLite store" in text


def test_index_saved_by_another_version_asks_for_a_rebuild(tmp_path, capsys):
    import json

    folder = tmp_path / "idx"
    folder.mkdir()
    (folder / "ids.json").write_text("[]")
    meta = {"format_version": 1, "dim": 384, "config": {"kind": "flat", "quantum": 3}, "info": {"encoder": "x"}}
    (folder / "meta.json").write_text(json.dumps(meta))
    from agentic_match.retrieval.index import VectorIndex

    with pytest.raises(Exception, match="rebuild it"):
        VectorIndex.load(folder)
    del meta["config"]
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(Exception, match="rebuild it"):
        VectorIndex.load(folder)
