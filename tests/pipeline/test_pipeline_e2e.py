"""The real train pipeline on the demo corpus: packaged MiniLM, one epoch, an in-process fake LLM.

Every step runs its real capability (HyRe through ``hyre_document``, ConFit* training,
Runner-Up Mining, the judge, RankPO, evaluation, the report); only the generator is a fake
(a real vLLM server would add ~2 minutes of start-up). The fake judge prefers the resume
sharing more words with the job, the same way in both orders, so RankPO gets preferences.
"""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from agentic_match.align.judge import JudgeVerdict, PairSamplingConfig
from agentic_match.align.trainer import RankPOConfig
from agentic_match.llm.client import Completion
from agentic_match.pipeline import STEPS, PipelineConfig, read_record, run_status, step_dir
from agentic_match.retrieval.mining import MiningConfig
from agentic_match.retrieval.training import ConFitConfig
from graphs.train_pipeline import run_pipeline

pytestmark = pytest.mark.e2e

_DOC = re.compile(r'<document type="([^"]+)">\n(.*?)\n</document>', re.S)
_WORD = re.compile(r"[a-z]{3,}")


class FakeGenerator:
    """HyRe answers a short reference resume; the judge answers by word overlap with the job."""

    def __init__(self) -> None:
        self.calls = {"chat": 0, "structured": 0}
        self.lock = threading.Lock()

    def chat(self, messages, **kw):
        with self.lock:
            self.calls["chat"] += 1
        return Completion("Summary: dependable professional.\nSkills: planning, reporting, teamwork, tooling.")

    def structured(self, messages, schema, **kw):
        with self.lock:
            self.calls["structured"] += 1
        docs = dict(_DOC.findall(messages[-1]["content"]))
        job = set(_WORD.findall(docs["job"].lower()))

        def key(label: str) -> tuple[int, str]:
            return len(job & set(_WORD.findall(docs[label].lower()))), docs[label]

        pick = "A" if key("resume A") >= key("resume B") else "B"
        assert schema is JudgeVerdict
        return JudgeVerdict(preferred=pick, reason="more of the job's words")


CONFIG = PipelineConfig(
    confit=ConFitConfig(epochs=1, batch_size=8, max_seq_length=64, negatives="none"),
    mining=MiningConfig(band="auto"),
    pairs=PairSamplingConfig(k=5, pairs_per_query=3, max_pairs=24, held_out=0.25),
    rankpo=RankPOConfig(batch_size=4),
    concurrency=2,
    progress=False,
)


def test_real_pipeline_on_the_demo_corpus_then_a_rerun_redoes_nothing(tmp_path):
    llm = FakeGenerator()
    t0 = time.perf_counter()
    final = run_pipeline(tmp_path / "run", "demo", CONFIG, llm=llm, llm_id="fake", say=lambda _m: None)
    wall = time.perf_counter() - t0
    run = tmp_path / "run"
    records = {s: read_record(step_dir(run, s)) for s in STEPS}
    assert all(r is not None and not r.skipped for r in records.values()), {s: r.skipped for s, r in records.items()}

    aug = records["augment"].outputs
    assert aug["augmented"] == 25 and aug["failed"] == 0
    assert records["mine"].outputs["band"] and records["mine"].outputs["negative_jobs"] > 0
    counts = records["judge"].outputs["counts"]
    assert counts["pairs"] == 24 and counts["preferences"] > 0 and counts["ties"] == 0
    assert records["rankpo"].outputs["preferences"] > 0
    for step in ("train", "retrain", "rankpo"):
        model = run / records[step].outputs["model"]
        assert (model / "model.safetensors").is_file()
        assert not (step_dir(run, step) / "checkpoints").exists()  # scratch removed once recorded
    metrics = records["evaluate"].outputs["metrics"]
    assert set(metrics) == {"base", "confit", "confit-rum", "rankpo"}
    assert all(0 <= m[t]["ndcg@10"] <= 100 for m in metrics.values() for t in ("rank_resume", "rank_job"))

    report = json.loads((run / final["report"]["report_json"]).read_text())
    assert report["final_model"] == records["rankpo"].outputs["model"]
    assert "| rankpo | rank_resume |" in (run / final["report"]["report"]).read_text()
    print(
        f"\npipeline wall time on the demo corpus: {wall:.1f} s; steps: "
        + ", ".join(f"{s['step']} {s['wall_s']:.1f}" for s in report["steps"])
    )

    # The same call again: every step is already done, nothing is recomputed, nothing asked.
    calls = dict(llm.calls)
    again = run_pipeline(run, "demo", CONFIG, llm=llm, llm_id="fake", say=lambda _m: None)
    assert again["report"] == final["report"] and llm.calls == calls
    assert [read_record(step_dir(run, s)).finished for s in STEPS] == [r.finished for r in records.values()]
    assert all(r["state"] == "done" for r in run_status(run))
