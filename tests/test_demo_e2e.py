"""The demo end to end: real vLLM server (packaged SmolLM2), real encoder, real FAISS."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from agentic_match.config import load_settings
from agentic_match.data import load_demo
from agentic_match.demo import run_demo

pytestmark = pytest.mark.e2e


def test_demo_generates_and_ranks(tmp_path):
    settings = load_settings(overrides={"cache_dir": str(tmp_path / "cache")})
    out = io.StringIO()
    result = run_demo(settings, n_jobs=2, top_k=5, out=tmp_path / "demo.json", console=Console(file=out, width=120))
    corpus = load_demo()
    # Every job was written for or rejected with a reason (a 135M writer mostly copies);
    # what is shown passed the checks.
    assert set(result.generated) | set(result.rejected) == set(result.rankings) and len(result.rankings) == 2
    assert not set(result.generated) & set(result.rejected)
    assert all(len(text.split()) >= 10 for text in result.generated.values()), result.generated
    assert all(result.rejected.values())
    assert "smoke-test model" in out.getvalue() and "--model" in out.getvalue()
    for job_id in result.rankings:
        for ranked in (result.rankings[job_id], result.rankings_plain[job_id]):
            assert len(ranked) == 5 and len({d for d, _ in ranked}) == 5
            scores = [s for _, s in ranked]
            assert scores == sorted(scores, reverse=True)
        # Real rankings: most of the top 5 come from the job's own occupational family.
        # (Only for the job text alone: what a 135M generator adds is too erratic to assert.)
        family = corpus.jobs[job_id].metadata["family"]
        same = sum(corpus.resumes[d].metadata.get("family") == family for d, _ in result.rankings_plain[job_id])
        assert same >= 3, (job_id, result.rankings_plain[job_id])
    assert (tmp_path / "demo.json").exists() and "Top candidates" in out.getvalue()
    # A rerun is served from the generation cache.
    again = run_demo(settings, n_jobs=2, top_k=5, console=Console(file=io.StringIO()))
    assert again.generated == result.generated and again.rejected == result.rejected
