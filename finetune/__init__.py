"""Generator fine-tuning on a team's own labels: SFT and DPO with TRL + PEFT LoRA.

Typical use::

    from agentic_match.data import load_benchmark
    from finetune import DataConfig, FinetuneConfig, build_hyre_sft, build_dpo, train_sft, train_dpo

    corpus = load_benchmark("../shared/data/benchmark/v1")
    sft = build_hyre_sft(corpus)                          # prompt = HyRe prompt, completion = accepted resume
    train_sft(sft, FinetuneConfig(max_steps=100), "runs/adapters/hyre-sft")
    dpo = build_dpo(corpus, examples=sft.examples)        # chosen = accepted, rejected = rejected resume
    train_dpo(dpo, FinetuneConfig(max_steps=50), "runs/adapters/hyre-sft-dpo", init_adapter="runs/adapters/hyre-sft")

Then ``agentic-match serve --adapter hyre=runs/adapters/hyre-sft-dpo`` serves it beside the
base model, and ``graphs.augment_jobs.build_graph(llm, adapter="hyre")`` generates with it.
Modules: :mod:`finetune.data` (dataset builders, splits, leakage checks), :mod:`finetune.trainer`
(TRL trainers, resumable, atomic adapter folders), :mod:`finetune.adapters` (metadata, base
check, merge), :mod:`finetune.evaluate` (held-out loss, reward accuracy),
:mod:`finetune.serving` (adapter names, the active adapter, switching a running server).
"""

from finetune.adapters import hyre_settings, is_adapter, load_for_inference, merge_adapter, read_meta
from finetune.config import DataConfig, FinetuneConfig
from finetune.data import (
    FinetuneData,
    TokenBudget,
    build,
    build_dpo,
    build_hyre_sft,
    build_irc_sft,
    check_leakage,
    encoder_scorer,
    load_data,
    save_data,
    split_ids,
)
from finetune.evaluate import heldout_loss, preference_accuracy
from finetune.serving import active_adapter, switch_adapter, versioned_name
from finetune.trainer import TrainResult, train_dpo, train_sft

__all__ = [
    "DataConfig",
    "FinetuneConfig",
    "FinetuneData",
    "TokenBudget",
    "TrainResult",
    "active_adapter",
    "build",
    "build_dpo",
    "build_hyre_sft",
    "build_irc_sft",
    "check_leakage",
    "encoder_scorer",
    "heldout_loss",
    "hyre_settings",
    "is_adapter",
    "load_data",
    "load_for_inference",
    "merge_adapter",
    "preference_accuracy",
    "read_meta",
    "save_data",
    "split_ids",
    "switch_adapter",
    "train_dpo",
    "train_sft",
    "versioned_name",
]
