"""Intrinsic measures of an adapter on held-out data, computed by TRL itself.

* :func:`heldout_loss` - the mean completion-token loss (what SFT minimises) of the base
  model or of base + adapter on a prompt-completion split: lower means the model finds the
  held-out accepted resumes more likely.
* :func:`preference_accuracy` - DPO's implicit reward on held-out preference pairs:
  ``beta * (log p_policy(y|x) - log p_reference(y|x))``; the share of pairs whose chosen
  resume gets the higher reward, and the mean margin. The reference is another adapter
  (the SFT adapter a DPO adapter started from) or the base model.

Both build a trainer only to run its evaluation loop, so tokenization, chat template and
loss masking are exactly those of training.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentic_match.models import resolve_generator
from finetune.adapters import check_base
from finetune.config import FinetuneConfig
from finetune.data import FinetuneData
from finetune.trainer import _COLUMNS, trl_args, use_gpu


def _load(base_model: str, adapter: str | Path | None, gpu: bool, models_dir: Path | None) -> tuple[Any, Any, Path]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = resolve_generator(base_model, models_dir)
    dtype = torch.bfloat16 if gpu else torch.float32
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
    if adapter is not None:
        from peft import PeftModel

        check_base(adapter, folder)
        model = PeftModel.from_pretrained(model, str(adapter))
    return model, AutoTokenizer.from_pretrained(folder), folder


def _split(data: FinetuneData, split: str, max_examples: int | None) -> Any:
    ds = data.dataset[split].select_columns(list(_COLUMNS[data.kind]))
    if max_examples is not None and len(ds) > max_examples:
        ds = ds.select(range(max_examples))
    if len(ds) == 0:
        from agentic_match.errors import DataError

        raise DataError(f"the '{split}' split is empty: nothing to evaluate")
    return ds


@contextmanager
def _evaluation(
    kind: str, data: FinetuneData, adapter: str | Path | None, config: FinetuneConfig, split: str,
    max_examples: int | None, models_dir: Path | None,
) -> Iterator[tuple[Any, Any, Any, Path, Any]]:  # fmt: skip
    """``(dataset, model, tokenizer, model folder, trainer args)`` of one evaluation, in a temp folder."""
    if data.kind != kind:
        raise ValueError(f"this evaluation needs a {kind.upper()} dataset, not {data.kind}")
    gpu = use_gpu(config)
    ds = _split(data, split, max_examples)
    model, tok, folder = _load(config.base_model, adapter, gpu, models_dir)
    tmp = Path(tempfile.mkdtemp(prefix="am-eval-"))
    try:
        yield ds, model, tok, folder, trl_args(kind, config, tmp, gpu=gpu, has_eval=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def heldout_loss(
    data: FinetuneData,
    adapter: str | Path | None = None,
    *,
    config: FinetuneConfig | None = None,
    split: str = "eval",
    max_examples: int | None = None,
    models_dir: Path | None = None,
) -> dict[str, float]:
    """``{"loss", "mean_token_accuracy", "examples"}`` of base (+ ``adapter``) on an SFT split."""
    from trl import SFTTrainer

    config = config or FinetuneConfig()
    with _evaluation("sft", data, adapter, config, split, max_examples, models_dir) as (ds, model, tok, _, args):
        ev = SFTTrainer(model=model, args=args, train_dataset=ds, eval_dataset=ds, processing_class=tok).evaluate()
    return {
        "loss": round(float(ev["eval_loss"]), 4),
        "mean_token_accuracy": round(float(ev.get("eval_mean_token_accuracy", float("nan"))), 4),
        "examples": len(ds),
    }


def preference_accuracy(
    data: FinetuneData,
    adapter: str | Path,
    *,
    reference: str | Path | None = None,
    config: FinetuneConfig | None = None,
    split: str = "eval",
    max_examples: int | None = None,
    models_dir: Path | None = None,
) -> dict[str, float]:
    """``{"reward_accuracy", "reward_margin", "pairs"}`` of ``adapter`` on a DPO split.

    Args:
        adapter: The policy (base + this adapter).
        reference: The reference adapter (``None``: the base model).
    """
    from peft.utils import load_peft_weights, set_peft_model_state_dict
    from trl import DPOTrainer

    config = config or FinetuneConfig()
    with _evaluation("dpo", data, adapter, config, split, max_examples, models_dir) as (ds, model, tok, folder, args):
        # DPOTrainer copies the policy adapter to "ref"; replace that copy by the reference.
        trainer = DPOTrainer(model=model, args=args, train_dataset=ds, eval_dataset=ds, processing_class=tok)
        peft_model = trainer.model
        if reference is None:
            peft_model.delete_adapter("ref")  # no "ref" adapter: TRL disables adapters (the base)
        else:
            check_base(reference, folder)
            set_peft_model_state_dict(peft_model, load_peft_weights(str(reference)), adapter_name="ref")
        ev = trainer.evaluate()
    return {
        "reward_accuracy": round(float(ev["eval_rewards/accuracies"]), 4),
        "reward_margin": round(float(ev["eval_rewards/margins"]), 4),
        "pairs": len(ds),
    }


def decide_switch(
    sft_data: Any,
    adapters: dict[str, str],
    final_stage: str,
    registry: str | Path,
    config: FinetuneConfig,
    *,
    dpo_data: Any = None,
    max_examples: int | None = None,
    heldout_loss: Any = None,
    preference_accuracy: Any = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Held-out measures of the base model, every new adapter and the active one; switch or not.

    The new (final-stage) adapter is served only when its held-out SFT loss is below the
    active adapter's (or, without one, the base model's). With DPO data, its held-out reward
    accuracy against the SFT adapter is reported too. ``heldout_loss`` /
    ``preference_accuracy`` replace this module's functions (tests inject fakes).

    Returns:
        ``(metrics by system, {"switch": bool, "reason": str})``.
    """
    from agentic_match.errors import AgenticMatchError
    from finetune import serving as ft_serving

    loss_of = heldout_loss or globals()["heldout_loss"]
    accuracy_of = preference_accuracy or globals()["preference_accuracy"]
    if len(sft_data.dataset["eval"]) == 0:
        return {}, {"switch": False, "reason": "no held-out examples to evaluate on"}
    cap = max_examples
    new = adapters[final_stage]
    metrics: dict[str, dict[str, Any]] = {"base": loss_of(sft_data, None, config=config, max_examples=cap)}
    for stage, path in adapters.items():
        metrics[stage] = loss_of(sft_data, path, config=config, max_examples=cap)
    active = ft_serving.active_adapter(registry)
    baseline, against = metrics["base"]["loss"], "the base model"
    if active is not None and Path(active["path"]).resolve() != Path(new).resolve():
        try:
            metrics["active"] = loss_of(sft_data, active["path"], config=config, max_examples=cap)
            baseline, against = metrics["active"]["loss"], f"the active adapter {active['name']}"
        except AgenticMatchError as e:  # trained on another base, or gone: compare with the base
            metrics["active"] = {"error": str(e)}
    if dpo_data is not None and "dpo" in adapters and len(dpo_data.dataset["eval"]):
        metrics["dpo"].update(
            accuracy_of(dpo_data, adapters["dpo"], reference=adapters["sft"], config=config, max_examples=cap)
        )
    loss = metrics[final_stage]["loss"]
    better = loss < baseline
    reason = f"held-out loss {loss:.4f} {'<' if better else '>='} {baseline:.4f} of {against}"
    return metrics, {"switch": better, "reason": reason}
