"""The train pipeline graph with tiny fake steps: kill at each step, resume, never redo a step.

The fakes stand in for the real steps (those run end to end in ``test_pipeline_e2e.py``):
each appends its name to ``started.log`` when it starts and to ``done.log`` when it finishes,
so the tests count executions across runs and processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentic_match.align.trainer import RankPOConfig
from agentic_match.errors import AgenticMatchError, ConfigError, DataError
from agentic_match.pipeline import (
    CHECKPOINT_FILE,
    HISTORY_DIR,
    STEP_SPECS,
    STEPS,
    PipelineConfig,
    StepContext,
    check_inputs,
    digest,
    read_record,
    run_status,
    step_dir,
)
from agentic_match.pipeline.config import EvaluationConfig
from agentic_match.retrieval.mining import MiningConfig
from agentic_match.retrieval.training import ConFitConfig
from graphs.train_pipeline import build_graph, run_pipeline

REPO = Path(__file__).resolve().parents[2]
QUIET = dict(say=lambda _m: None)


def fake_steps(markers: Path, kill: str | None = None, how: str = "raise") -> dict:
    """One fake per step; ``kill`` dies (once) when that step starts: raise, or ``os._exit``."""
    markers.mkdir(parents=True, exist_ok=True)

    def log(name: str, what: str) -> None:
        with open(markers / f"{what}.log", "a", encoding="utf-8") as f:
            f.write(name + "\n")

    def make(name: str):
        def step(ctx: StepContext) -> dict:
            log(name, "started")
            flag = markers / f"killed-{name}"
            if kill == name and not flag.exists():
                flag.touch()
                (ctx.folder / "partial.txt").write_text("half done")  # what a dying step leaves behind
                if how == "exit":
                    os._exit(3)  # no cleanup, no exception handling: a killed process
                raise RuntimeError(f"killed at {name}")
            # A value that depends on the step's settings and its inputs, like a real artefact.
            value = digest(
                name,
                ctx.config.subset(STEP_SPECS[name].settings),
                {n: r.outputs.get("value") for n, r in sorted(ctx.upstream.items())},
            )
            (ctx.folder / "artefact.txt").write_text(value)
            log(name, "done")
            out = {"value": value, "artefacts": ["artefact.txt"]}
            if name == "report":
                out["all"] = {n: r.outputs.get("value") for n, r in ctx.upstream.items()}
            return out

        return step

    return {n: make(n) for n in STEPS}


def counts(markers: Path, what: str) -> dict[str, int]:
    path = markers / f"{what}.log"
    lines = path.read_text().split() if path.is_file() else []
    return {n: lines.count(n) for n in STEPS}


def run(tmp: Path, markers: Path, config: PipelineConfig | None = None, **kw) -> dict:
    return run_pipeline(tmp / "run", "demo", config or PipelineConfig(), steps=fake_steps(markers, **kw), **QUIET)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """The final report of an uninterrupted run."""
    tmp = tmp_path_factory.mktemp("ref")
    final = run(tmp, tmp / "m")
    assert counts(tmp / "m", "done") == dict.fromkeys(STEPS, 1)
    return final["report"]


@pytest.mark.parametrize("killed", STEPS)
def test_killed_at_each_step_the_rerun_resumes_there_with_the_same_results(tmp_path, reference, killed):
    markers = tmp_path / "m"
    with pytest.raises(RuntimeError, match=f"killed at {killed}"):
        run(tmp_path, markers, kill=killed)
    before = STEPS[: STEPS.index(killed)]
    assert counts(markers, "done") == {n: int(n in before) for n in STEPS}
    status = {r["step"]: r["state"] for r in run_status(tmp_path / "run")}
    assert status[killed] == "started" and all(status[n] == "done" for n in before)

    final = run(tmp_path, markers, kill=killed)  # the same command again
    assert final["report"] == reference  # same results
    assert counts(markers, "done") == dict.fromkeys(STEPS, 1)  # every step done exactly once overall
    assert counts(markers, "started") == {n: 1 + (n == killed) for n in STEPS}  # only the killed one restarted
    assert all(r["state"] == "done" for r in run_status(tmp_path / "run"))


def _subprocess_run(tmp: Path, markers: Path, kill: str | None) -> subprocess.CompletedProcess:
    code = (
        "import sys; from pathlib import Path; import tests.pipeline.test_pipeline as t; "
        "t.run(Path(sys.argv[1]), Path(sys.argv[2]), kill=sys.argv[3] or None, how='exit')"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code, str(tmp), str(markers), kill or ""],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("killed", ["augment", "rankpo"])
def test_a_process_killed_mid_step_resumes_at_that_step(tmp_path, reference, killed):
    """A real process death (``os._exit``, no unwinding) in a step: the rerun resumes there."""
    markers = tmp_path / "m"
    first = _subprocess_run(tmp_path, markers, killed)
    assert first.returncode == 3, first.stderr[-2000:]
    assert (step_dir(tmp_path / "run", killed) / "partial.txt").is_file()
    second = _subprocess_run(tmp_path, markers, killed)
    assert second.returncode == 0, second.stderr[-2000:]
    assert counts(markers, "done") == dict.fromkeys(STEPS, 1)
    assert counts(markers, "started") == {n: 1 + (n == killed) for n in STEPS}
    report = read_record(step_dir(tmp_path / "run", "report"))
    assert report is not None and report.outputs == reference


def test_a_lost_checkpoint_still_redoes_nothing(tmp_path, reference):
    """``done.json`` alone keeps finished steps from running again (checkpoint deleted)."""
    markers = tmp_path / "m"
    run(tmp_path, markers)
    for p in (tmp_path / "run").glob(CHECKPOINT_FILE + "*"):
        p.unlink()
    final = run(tmp_path, markers)
    assert final["report"] == reference
    assert counts(markers, "started") == dict.fromkeys(STEPS, 1)


def test_a_changed_setting_reruns_only_what_depends_on_it_and_keeps_the_old_version(tmp_path):
    markers = tmp_path / "m"
    run(tmp_path, markers)
    old = read_record(step_dir(tmp_path / "run", "rankpo"))
    run(tmp_path, markers, PipelineConfig(rankpo=RankPOConfig(beta=1.0)))
    again = {"rankpo", "evaluate", "report"}
    assert counts(markers, "done") == {n: 1 + (n in again) for n in STEPS}
    history = sorted(p.name for p in (tmp_path / "run" / HISTORY_DIR).iterdir())
    assert [h.split("-")[1] for h in history] == ["rankpo", "evaluate", "report"]
    kept = json.loads((tmp_path / "run" / HISTORY_DIR / history[0] / "done.json").read_text())
    assert kept["inputs_digest"] == old.inputs_digest  # the earlier version is intact


def test_a_run_stopped_part_way_refuses_other_settings(tmp_path):
    markers = tmp_path / "m"
    with pytest.raises(RuntimeError):
        run(tmp_path, markers, kill="mine")
    with pytest.raises(AgenticMatchError, match="stopped part-way with other input"):
        run(tmp_path, markers, PipelineConfig(confit=ConFitConfig(epochs=2)), kill="mine")


def test_steps_that_need_the_llm_refuse_to_start_without_one(tmp_path):
    graph = build_graph(**QUIET)
    with pytest.raises(ConfigError, match="needs the local LLM"):
        graph.invoke({"run_dir": str(tmp_path), "data": "demo", "config": PipelineConfig().to_dict()})
    assert not any(tmp_path.iterdir())  # nothing started


def test_inputs_the_pipeline_cannot_finish_on_are_refused_up_front():
    from agentic_match.data import load_demo

    corpus = load_demo()
    corpus.qrels = {k: v for k, v in corpus.qrels.items() if not k.startswith("test_")}
    with pytest.raises(DataError, match="no 'test' qrels"):
        check_inputs(corpus, PipelineConfig())
    corpus.qrels = {}
    with pytest.raises(DataError, match="band 'auto' needs dev qrels"):
        check_inputs(corpus, PipelineConfig(evaluation=EvaluationConfig(split="train")))
    with pytest.raises(ConfigError, match="band"):
        PipelineConfig(mining=MiningConfig(band="nine"))


def _cli(argv: list[str], capsys) -> tuple[int, str]:
    from tests._cli import run_cli

    return run_cli(argv, capsys)


def test_cli_pipeline_run_and_status(tmp_path, monkeypatch, capsys):
    import graphs.train_pipeline as tp

    markers = tmp_path / "m"
    monkeypatch.setattr(tp, "DEFAULT_STEPS", fake_steps(markers, kill="judge"))
    out = tmp_path / "run"
    args = ["pipeline", "run", "--demo", "--out", str(out), "--confit.epochs", "1", "--pairs.max-pairs", "10"]
    with pytest.raises(RuntimeError, match="killed at judge"):
        _cli(args, capsys)
    code, text = _cli(["pipeline", "status", str(out)], capsys)
    assert code == 0 and "started" in text and "4/8 steps finished" in text
    code, text = _cli(["pipeline", "status", str(out), "--json"], capsys)
    assert {r["step"]: r["state"] for r in json.loads(text)}["judge"] == "started"
    code, text = _cli(args, capsys)
    assert code == 0, text
    assert "[5/8] judge" in text and "[4/8]" not in text  # resumed at the step that died
    assert counts(markers, "done") == dict.fromkeys(STEPS, 1)
    manifest = json.loads((out / "pipeline.json").read_text())
    assert manifest["config"]["pairs"]["max_pairs"] == 10 and manifest["config"]["confit"]["epochs"] == 1
    code, text = _cli(["pipeline", "run", "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "--data" in text
    code, text = _cli(["pipeline", "status", str(tmp_path / "nothing")], capsys)
    assert code == 2 and "not a pipeline run folder" in text


def _all_ties_judge():
    from agentic_match.pipeline import StepRecord

    counts = {"pairs": 65, "preferences": 0, "ties": 65, "failures": 0}
    return StepRecord("judge", "d", {"preferences": "05-judge/preferences.jsonl", "counts": counts}, "o", 1.0, "", "")


def test_rankpo_on_judge_preferences_only_is_skipped_with_the_reason_when_the_judge_decided_none(tmp_path):
    """SmolLM2-135M flips every verdict: all ties, so the judge gives RankPO nothing to learn."""
    from agentic_match.pipeline import no_llm
    from agentic_match.pipeline.steps import step_rankpo

    cfg = PipelineConfig(preference_source="judge")
    ctx = StepContext(tmp_path, tmp_path / "06-rankpo", cfg, {"judge": _all_ties_judge()}, lambda: None, no_llm)
    assert step_rankpo(ctx) == {
        "skipped": "no judged preference: the judge decided no pair (65 ties: the two orders disagreed, "
        "0 failures, of 65 pairs)"
    }


def test_rankpo_falls_back_to_label_pairs_when_the_judge_decided_none(tmp_path, monkeypatch):
    """``auto``: the train labels' pairs (accepted over rejected) train stage 2, and the step says so."""
    import agentic_match.align.trainer as trainer
    from agentic_match.pipeline import StepRecord, no_llm
    from agentic_match.pipeline.steps import step_rankpo
    from agentic_match.retrieval.training import TrainResult
    from tests._retrieval_toy import toy_corpus

    seen = {}

    def fake_train_align(train, acfg, out_dir, **kw):
        seen.update(train=train, held=kw["held_out"], base=acfg.base)
        (out_dir / "model").mkdir(parents=True)
        return TrainResult(out_dir=out_dir, model_dir=out_dir / "model", best_epoch=1, history=[{"epoch": 1}])

    monkeypatch.setattr(trainer, "train_align", fake_train_align)
    retrain = StepRecord("retrain", "d", {"model": "04-retrain/model"}, "o", 1.0, "", "")
    folder = tmp_path / "06-rankpo"
    folder.mkdir()
    corpus = toy_corpus()
    upstream = {"judge": _all_ties_judge(), "retrain": retrain}
    out = step_rankpo(StepContext(tmp_path, folder, PipelineConfig(), upstream, lambda: corpus, no_llm))
    assert out["preference_source"] == "labels" and out["label_pairs"]["pairs"] == 8
    assert "preferences.labels.jsonl" in out["artefacts"]
    prefs = seen["train"] + seen["held"]
    accepted = {(lb.job_id, lb.resume_id) for lb in corpus.labels if lb.label > 0}
    assert len(prefs) == 8 and all((p.query_id, p.chosen_id) in accepted for p in prefs)
    assert seen["base"].endswith("04-retrain/model")


def test_one_process_at_a_time_in_a_run_folder(tmp_path):
    from filelock import FileLock

    (tmp_path / "run").mkdir()
    with FileLock(str(tmp_path / "run" / ".lock")):  # another process is running it
        with pytest.raises(ConfigError, match="another process is running the pipeline"):
            run(tmp_path, tmp_path / "m")
    assert counts(tmp_path / "m", "started") == dict.fromkeys(STEPS, 0)
    run(tmp_path, tmp_path / "m")  # free again
