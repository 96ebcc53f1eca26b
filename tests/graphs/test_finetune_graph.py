"""The ``finetune_adapter`` graph with fake trainers: stages, decision, switch, resume."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from agentic_match.data import load_demo
from agentic_match.errors import AgenticMatchError
from agentic_match.models import ADAPTER_META_FILE
from finetune.data import TokenBudget
from finetune.serving import active_adapter
from finetune.trainer import TrainResult
from graphs.batching import checkpointer_at, run_graph
from graphs.finetune_adapter import FinetuneOps, build_graph, inputs_for


class Fakes:
    """Trainers that write a stub adapter, an evaluator with scripted losses."""

    def __init__(self, losses: dict[str, float], fail_dpo: bool = False):
        self.losses = losses
        self.fail_dpo = fail_dpo
        self.trained: list[str] = []

    def _train(self, kind):
        def train(data, config, out, init_adapter=None, force=False):
            if kind == "dpo" and self.fail_dpo:
                self.fail_dpo = False
                raise KeyboardInterrupt("killed mid-run")
            self.trained.append(kind)
            out = Path(out)
            out.mkdir(parents=True, exist_ok=True)
            (out / "adapter_config.json").write_text(json.dumps({"r": 8}))
            meta = {
                "kind": kind,
                "task": data.task,
                "base_model": "x",
                "base_fingerprint": "f",
                "data": data.describe(),
            }
            (out / ADAPTER_META_FILE).write_text(json.dumps(meta))
            return TrainResult(out, meta)

        return train

    def loss(self, data, adapter, config=None, max_examples=None):
        if adapter is None:
            key = "base"
        else:  # "<run>/<adapter>" when scripted, else the adapter folder's name
            p = Path(adapter)
            key = f"{p.parent.name}/{p.name}" if f"{p.parent.name}/{p.name}" in self.losses else p.name
        return {"loss": self.losses[key], "examples": min(len(data.dataset["eval"]), max_examples or 10**9)}

    def pref(self, data, adapter, reference=None, config=None, max_examples=None):
        return {"reward_accuracy": 0.75, "reward_margin": 0.1, "pairs": len(data.dataset["eval"])}

    def ops(self) -> FinetuneOps:
        return FinetuneOps(
            load_corpus=lambda data: load_demo(),
            scorer=lambda spec: lambda pairs: [1.0] * len(pairs),
            budget=lambda base: TokenBudget(),
            train_sft=self._train("sft"),
            train_dpo=self._train("dpo"),
            heldout_loss=self.loss,
            preference_accuracy=self.pref,
        )


def test_train_evaluate_and_switch_when_better(tmp_path):
    fakes = Fakes({"base": 2.0, "hyre-sft": 1.5, "hyre-sft-dpo": 1.4})
    graph = build_graph(fakes.ops())
    final = graph.invoke(inputs_for("demo", out_dir=str(tmp_path)))
    assert fakes.trained == ["sft", "dpo"]
    assert final["metrics"]["dpo"] == {"loss": 1.4, "examples": 2, "reward_accuracy": 0.75, "reward_margin": 0.1,
                                       "pairs": 4}  # fmt: skip
    assert final["decision"]["switch"] and final["decision"]["name"].startswith("hyre-")
    active = active_adapter(tmp_path)
    assert active["path"] == str((tmp_path / "hyre-sft-dpo").resolve()) and active["metrics"]["base"]["loss"] == 2.0
    assert (tmp_path / "data" / "hyre-sft" / "build.json").is_file()


def test_keeps_the_active_adapter_when_not_better(tmp_path):
    first = build_graph(Fakes({"base": 2.0, "hyre-sft": 1.5}).ops()).invoke(
        inputs_for("demo", stages=("sft",), out_dir=str(tmp_path / "a"), registry=str(tmp_path))
    )
    assert first["decision"]["switch"]
    # A second run whose adapter is worse than the active one leaves the registry alone.
    fakes = Fakes({"base": 2.0, "b/hyre-sft": 1.8, "a/hyre-sft": 1.5})
    final = build_graph(fakes.ops()).invoke(
        inputs_for("demo", stages=("sft",), out_dir=str(tmp_path / "b"), registry=str(tmp_path))
    )
    assert not final["decision"]["switch"] and "of the active adapter" in final["decision"]["reason"]
    assert final["metrics"]["active"]["loss"] == 1.5
    assert active_adapter(tmp_path)["path"] == str((tmp_path / "a" / "hyre-sft").resolve())


def test_resume_after_a_crash_does_not_retrain_finished_stages(tmp_path):
    fakes = Fakes({"base": 2.0, "hyre-sft": 1.5, "hyre-sft-dpo": 1.4}, fail_dpo=True)
    inputs = inputs_for("demo", out_dir=str(tmp_path))
    with checkpointer_at(tmp_path / "g.sqlite") as saver:
        graph = build_graph(fakes.ops(), checkpointer=saver)
        with pytest.raises(KeyboardInterrupt):
            run_graph(graph, inputs, "ft-1")
        assert fakes.trained == ["sft"]
        final = run_graph(graph, inputs, "ft-1")
    assert fakes.trained == ["sft", "dpo"] and final["decision"]["switch"]


def test_irc_runs_sft_only_and_bad_stages_are_refused(tmp_path):
    fakes = Fakes({"base": 2.0, "irc-sft": 1.0})
    final = build_graph(fakes.ops()).invoke(inputs_for("demo", task="irc", stages=("sft",), out_dir=str(tmp_path)))
    assert fakes.trained == ["sft"] and final["decision"]["switch"]
    assert final["decision"]["name"].startswith("irc-")
    with pytest.raises(AgenticMatchError, match="DPO is built for HyRe"):
        inputs_for("demo", task="irc")
    with pytest.raises(AgenticMatchError, match="stages"):
        inputs_for("demo", stages=("dpo",))


def test_leakage_stops_the_pipeline_before_training(tmp_path):
    from agentic_match.data.schema import Label
    from agentic_match.errors import DataError

    def leaky(data):
        c = load_demo()
        test_job = c.splits["jobs"]["test"][0]
        c.label_splits["train"] = c.label_splits["train"] + [Label("demo-r-001", test_job, 1)]
        return c

    fakes = Fakes({"base": 2.0})
    ops = replace(fakes.ops(), load_corpus=leaky)
    with pytest.raises(DataError, match="leakage"):
        build_graph(ops).invoke(inputs_for("demo", out_dir=str(tmp_path)))
    assert fakes.trained == []
