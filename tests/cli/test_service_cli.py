"""``agentic-match match`` and ``agentic-match api``: one query streamed, clear errors."""

from __future__ import annotations

import json

import pytest

from agentic_match.cli import main


def _run(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, " ".join(out.err.split())


def test_match_command_json_and_streamed(capsys):
    code, out, _ = _run(["match", "--job", "demo-j-01", "--no-llm", "-k", "3", "--json"], capsys)
    assert code == 0
    res = json.loads(out)
    assert res["query_id"] == "demo-j-01" and len(res["candidates"]) == 3
    assert res["augmentation"]["note"] == "no LLM configured"
    code, out, _ = _run(["match", "--text", "Line cook, grill and prep", "--kind", "resume", "--no-llm"], capsys)
    assert code == 0 and "retrieved" in out and "demo-j-" in out


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["match", "--no-llm"], "exactly one of --job"),
        (["match", "--job", "demo-j-01", "--resume", "demo-r-001", "--no-llm"], "exactly one of --job"),
        (
            ["match", "--job", "demo-j-01", "--no-llm", "--explain", "--explain-method", "llm_quotes"],
            "--explain-method llm_quotes needs the LLM",
        ),
        (["match", "--job", "demo-j-01", "--no-llm", "--rerank"], "--rerank needs --reranker"),
        (["match", "--job", "nope", "--no-llm"], "no job with id 'nope'"),
        (["api", "--no-llm", "--host", "0.0.0.0"], "not a loopback address"),
    ],
)
def test_errors_are_clear(argv, reason, capsys):
    code, _, err = _run(argv, capsys)
    assert code == 2 and reason in err
