"""End to end on real components: TRL SFT then DPO LoRA on SmolLM2-135M, served by vLLM.

A few steps on a handful of demo examples with short prompts (about 450 tokens), an
interruption and resume in the middle of SFT, then the real vLLM server with the SFT
adapter, a completion by adapter name, a switch that loads the DPO adapter into the
running server, and a HyRe graph run with it. About 3-4 minutes on 2 idle CPU cores.
"""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer, TrainerCallback

from agentic_match.augment.hyre import HyReConfig
from agentic_match.config import load_settings
from agentic_match.data import load_demo
from agentic_match.llm import ManagedServer, client_for
from agentic_match.models import model_fingerprint, resolve_generator
from finetune import serving
from finetune.adapters import hyre_settings, read_meta
from finetune.config import DataConfig, FinetuneConfig
from finetune.data import TokenBudget, build_dpo, build_hyre_sft, limit
from finetune.trainer import train_dpo, train_sft
from graphs import augment_jobs

pytestmark = pytest.mark.e2e

SHORT = DataConfig(
    hyre=HyReConfig(n_examples=1, example_chars=150, job_chars=250, max_tokens=48),
    max_prompt_tokens=384,
    max_completion_tokens=48,
)


class _StopAfterFirstCheckpoint(TrainerCallback):
    """Simulates Ctrl-C right after the first checkpoint was written."""

    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt("interrupted after a checkpoint")


def test_sft_dpo_lora_served_by_vllm(tmp_path):
    base = resolve_generator("smollm2-135m")  # converted once into the user's model cache
    budget = TokenBudget(AutoTokenizer.from_pretrained(base))
    corpus = load_demo()
    cfg = FinetuneConfig(
        base_model=str(base), lora_r=8, lora_alpha=16, max_steps=2, grad_accum=1, max_length=448,
        save_steps=1, logging_steps=1,
    )  # fmt: skip

    sft = limit(build_hyre_sft(corpus, config=SHORT, budget=budget), max_train=3, max_eval=1)
    out = tmp_path / "adapters" / "hyre-sft"
    with pytest.raises(KeyboardInterrupt):
        train_sft(sft, cfg, out, callbacks=[_StopAfterFirstCheckpoint()])
    assert not out.exists() and (tmp_path / "adapters" / ".hyre-sft.partial" / "checkpoints").is_dir()
    res = train_sft(sft, cfg, out)  # the same command again resumes
    assert res.resumed_from == "checkpoint-1" and res.meta["training"]["global_steps"] == 2
    meta = read_meta(out)
    assert meta["base_fingerprint"] == model_fingerprint(base) and meta["data"]["digest"] == sft.digest
    assert meta["metrics"]["loss"] > 0 and meta["training"]["peak_rss_mb"] > 0
    assert not (tmp_path / "adapters" / ".hyre-sft.partial").exists()
    assert hyre_settings(out) == (SHORT.hyre, [(j.id, r.id) for j, r in sft.examples])

    dpo = limit(build_dpo(corpus, config=SHORT, budget=budget, examples=sft.examples), max_train=2, max_eval=1)
    dpo_out = tmp_path / "adapters" / "hyre-sft-dpo"
    res = train_dpo(dpo, FinetuneConfig(**{**cfg.to_dict(), "max_steps": 1}), dpo_out, init_adapter=out)
    assert res.meta["kind"] == "sft+dpo" and res.meta["parent_adapter"]["path"] == str(out.resolve())
    assert "rewards/accuracies" in res.meta["metrics"]

    settings = load_settings(overrides={"cache_dir": str(tmp_path / "cache"), "llm": {"max_concurrency": 4}})
    with ManagedServer(str(base), settings, served_name="smollm2-135m", adapters={"hyre-sft": out}) as info:
        client = client_for(settings, info)
        msgs = sft.dataset["eval"][0]["prompt"]
        text = client.chat(msgs, model="hyre-sft", max_tokens=24).text
        assert text.strip()
        # Switch: the DPO adapter is loaded into the running server under a versioned name.
        name = serving.versioned_name("hyre", dpo_out)
        record = serving.switch_adapter(tmp_path / "adapters", name, dpo_out, server=info)
        assert record["loaded_into_server"] and name in serving.served_adapters(info)
        assert client.chat(msgs, model=name, max_tokens=24).text.strip()
        # A generating graph takes the adapter by name.
        job = corpus.jobs[sft.dataset["eval"][0]["job_id"]]
        graph = augment_jobs.build_graph(client, SHORT.hyre, adapter=name)
        final = graph.invoke(augment_jobs.inputs_for([job], sft.examples))
        assert len(final["results"]) + len(final["failures"]) == 1
