"""LoRA fine-tuning of the generator with TRL: ``SFTTrainer`` and ``DPOTrainer`` + PEFT.

:func:`train_sft` and :func:`train_dpo` take a built dataset (:mod:`finetune.data`) and a
:class:`~finetune.config.FinetuneConfig`, and write one adapter folder. Training happens
in ``.<name>.partial/`` next to it, with a checkpoint every ``save_steps``; running the same
command again after an interruption resumes from the last checkpoint (a run with other
data or settings is refused there unless ``force``). Only when training has finished is
the adapter saved, with ``adapter_meta.json`` (:mod:`finetune.adapters`), and renamed into
place, so the final folder is never half-written. An existing adapter is never replaced
without ``force``.

DPO on top of SFT (ConFit v2's recipe) passes ``init_adapter=<sft adapter>``: the SFT
adapter is trained further, and TRL keeps a frozen copy of it as the reference model, so
the result is one adapter (SFT + DPO) that vLLM serves on the base model.
"""

from __future__ import annotations

import json
import logging
import resource
import shutil
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentic_match.errors import AdapterError, ConfigError
from agentic_match.files import digest, write_json
from agentic_match.models import model_fingerprint, resolve_generator
from finetune.adapters import adapter_fingerprint, check_base, is_adapter, make_meta, read_meta, write_meta
from finetune.config import FinetuneConfig
from finetune.data import FinetuneData

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
_COLUMNS = {"sft": ("prompt", "completion"), "dpo": ("prompt", "chosen", "rejected")}


@dataclass
class TrainResult:
    """What a training call did.

    Attributes:
        adapter_dir: The final adapter folder.
        meta: Its ``adapter_meta.json``.
        resumed_from: The checkpoint training resumed from (``None``: started fresh).
    """

    adapter_dir: Path
    meta: dict[str, Any]
    resumed_from: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def use_gpu(config: FinetuneConfig) -> bool:
    """Whether training runs on a GPU (``device="auto"`` uses one when torch sees it)."""
    import torch

    if config.device == "cpu":
        return False
    available = torch.cuda.is_available()
    if config.device == "cuda" and not available:
        raise ConfigError("device='cuda' but torch sees no GPU; use device='auto' or 'cpu'")
    return available


def trl_args(kind: str, config: FinetuneConfig, output_dir: Path, *, gpu: bool, has_eval: bool) -> Any:
    """The TRL ``SFTConfig`` / ``DPOConfig`` of a run.

    CPU: fp32, no bf16, no gradient checkpointing unless asked (recomputation costs time),
    no pinned memory. GPU: bf16 where supported (else fp16) and gradient checkpointing.
    ``config.extra`` is applied last.
    """
    import torch

    common: dict[str, Any] = {
        "output_dir": str(output_dir),
        "per_device_train_batch_size": config.batch_size,
        "per_device_eval_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.grad_accum,
        "learning_rate": config.lr(kind),
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps,
        # transformers >= 5 (pinned) reads a warmup_steps below 1 as a share of all steps.
        "warmup_steps": config.warmup_ratio,
        "logging_steps": config.logging_steps,
        "save_strategy": "steps",
        "save_steps": config.save_steps,
        "save_total_limit": config.save_total_limit,
        "eval_strategy": "steps" if (config.eval_steps and has_eval) else "no",
        "eval_steps": config.eval_steps,
        "seed": config.seed,
        "data_seed": config.seed,
        "report_to": "none",
        "max_length": config.max_length,
        "dataloader_num_workers": 0,
    }
    checkpointing = gpu if config.gradient_checkpointing is None else config.gradient_checkpointing
    if gpu:
        bf16 = torch.cuda.is_bf16_supported()
        common.update(bf16=bf16, fp16=not bf16, gradient_checkpointing=checkpointing)
    else:
        common.update(
            use_cpu=True, bf16=False, fp16=False, gradient_checkpointing=checkpointing, dataloader_pin_memory=False
        )
    if kind == "sft":
        from trl import SFTConfig

        return SFTConfig(**common, completion_only_loss=True, packing=False, **config.extra)
    from trl import DPOConfig

    return DPOConfig(**common, beta=config.beta, **config.extra)


def lora_config(config: FinetuneConfig) -> Any:
    """PEFT ``LoraConfig`` of a run."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
        bias="none",
        task_type="CAUSAL_LM",
    )


class _StepStats:
    """Trainer callback: wall time of every optimizer step and the peak resident memory."""

    def __init__(self) -> None:
        from transformers import TrainerCallback

        outer = self
        self.times: list[float] = []
        self._t0 = 0.0

        class CB(TrainerCallback):
            def on_step_begin(self, args, state, control, **kw):  # noqa: ANN001 - HF callback API
                outer._t0 = time.perf_counter()

            def on_step_end(self, args, state, control, **kw):  # noqa: ANN001
                outer.times.append(time.perf_counter() - outer._t0)

        self.callback = CB()

    def summary(self) -> dict[str, Any]:
        import torch

        # ru_maxrss is in KiB on Linux: the peak of this process, model loading included.
        out: dict[str, Any] = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        if self.times:
            steady = self.times[1:] or self.times  # the first step also warms up
            out.update(
                {
                    "steps_timed": len(self.times),
                    "s_per_step": round(statistics.mean(steady), 3),
                    "s_per_step_median": round(statistics.median(steady), 3),
                }
            )
        if torch.cuda.is_available():
            out["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        return out


def _work_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.partial"


def _prepare_out(out: Path, force: bool) -> None:
    if out.exists() and not force:
        if is_adapter(out):
            raise AdapterError(f"adapter {out} already exists; pass force=True (--force) to retrain and replace it")
        if out.is_file() or any(out.iterdir()):
            raise AdapterError(f"{out} exists and is not an adapter folder; choose another output folder")


def _claim_work(work: Path, run_id: str, identity: dict[str, Any], force: bool) -> None:
    run_file = work / RUN_FILE
    if run_file.is_file():
        try:
            old = json.loads(run_file.read_text(encoding="utf-8")).get("run_id")
        except ValueError:
            old = None
        if old == run_id:
            return
        if not force:
            raise AdapterError(
                f"{work} holds an unfinished run with other data or settings; rerun with the same ones "
                "to resume it, or pass force=True (--force) to discard it"
            )
        shutil.rmtree(work)
    elif work.exists() and force:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    write_json(run_file, {"run_id": run_id, **identity})


def _finished_run(out: Path) -> str | None:
    try:
        return read_meta(out).get("run_id")
    except AdapterError:
        return None


def _select(dataset: Any, columns: Sequence[str]) -> Any:
    return dataset.select_columns(list(columns))


def _run(
    kind: str,
    data: FinetuneData,
    config: FinetuneConfig,
    out_dir: str | Path,
    *,
    init_adapter: str | Path | None = None,
    force: bool = False,
    callbacks: Sequence[Any] = (),
    models_dir: Path | None = None,
) -> TrainResult:
    if data.kind != kind:
        raise ConfigError(f"{kind} training needs a {kind} dataset, got a {data.kind} one")
    out = Path(out_dir)
    if len(data.dataset["train"]) == 0:
        raise AdapterError("the training split is empty")
    base_folder = resolve_generator(config.base_model, models_dir)
    base_fp = model_fingerprint(base_folder)
    parent = None
    if init_adapter is not None:
        check_base(init_adapter, base_folder)
        pmeta = read_meta(init_adapter)
        parent = {
            "path": str(Path(init_adapter).resolve()),
            "fingerprint": adapter_fingerprint(init_adapter),
            "kind": pmeta.get("kind"),
            "data_digest": (pmeta.get("data") or {}).get("digest"),
        }
        if pmeta.get("data", {}).get("few_shot") not in (None, data.describe()["few_shot"]):
            log.warning("the DPO prompts show other few-shot pairs than the SFT adapter's prompts")
    identity = {
        "kind": kind,
        "config": config.identity(),
        "data_digest": data.digest,
        "base_fingerprint": base_fp,
        "parent": parent,
    }
    run_id = digest(identity)
    if not force and is_adapter(out) and _finished_run(out) == run_id:
        # The same run already finished (a pipeline resumed after its last checkpoint).
        return TrainResult(out, read_meta(out), None)
    _prepare_out(out, force)
    work = _work_dir(out)
    _claim_work(work, run_id, identity, force)
    ckpt_dir = work / "checkpoints"

    # Heavy imports only once the cheap refusals above have passed.
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.trainer_utils import get_last_checkpoint

    gpu = use_gpu(config)
    dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if gpu else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(base_folder)
    model = AutoModelForCausalLM.from_pretrained(base_folder, dtype=dtype)
    peft_config = lora_config(config)
    if init_adapter is not None:
        from peft import PeftModel

        # Train the SFT adapter further; DPOTrainer keeps a frozen copy as the reference.
        model = PeftModel.from_pretrained(model, str(init_adapter), is_trainable=True)
        peft_config = None
    has_eval = len(data.dataset["eval"]) > 0
    args = trl_args(kind, config, ckpt_dir, gpu=gpu, has_eval=has_eval)
    train_ds = _select(data.dataset["train"], _COLUMNS[kind])
    eval_ds = _select(data.dataset["eval"], _COLUMNS[kind]) if has_eval else None
    stats = _StepStats()
    trainer_kwargs = dict(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[stats.callback, *callbacks],
    )
    if kind == "sft":
        from trl import SFTTrainer

        trainer = SFTTrainer(**trainer_kwargs)
    else:
        from trl import DPOTrainer

        trainer = DPOTrainer(**trainer_kwargs)

    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    if last:
        log.info("resuming %s training from %s", kind, last)
    t0 = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    train_s = time.perf_counter() - t0
    metrics: dict[str, Any] = {"train_loss": round(float(result.training_loss), 4)}
    if has_eval:
        ev = trainer.evaluate()
        metrics.update({k.removeprefix("eval_"): round(float(v), 4) for k, v in ev.items() if _is_number(v)})
    training = {
        "device": "cuda" if gpu else "cpu",
        "torch_threads": torch.get_num_threads(),
        "global_steps": trainer.state.global_step,
        "train_seconds_this_call": round(train_s, 1),
        "examples": len(train_ds),
        "resumed_from": Path(last).name if last else None,
        **stats.summary(),
    }
    final = work / "final"
    shutil.rmtree(final, ignore_errors=True)
    # Only the trained adapter: DPO's frozen "ref" copy stays out of the folder.
    trainer.model.save_pretrained(str(final), selected_adapters=["default"])
    (final / "README.md").unlink(missing_ok=True)  # PEFT's empty model card template
    meta = make_meta(
        run_id=run_id,
        kind=kind if parent is None else f"{parent['kind']}+{kind}",
        base_model=config.base_model,
        base_folder=base_folder,
        base_fingerprint=base_fp,
        data=data.describe(),
        config=config.to_dict(),
        prompt=data.prompt_settings(),
        training=training,
        metrics=metrics,
        parent=parent,
    )
    write_meta(final, meta)
    from agentic_match.files import replace_dir

    out.parent.mkdir(parents=True, exist_ok=True)
    replace_dir(final, out)
    history = list(trainer.state.log_history)
    shutil.rmtree(work, ignore_errors=True)
    return TrainResult(out, meta, Path(last).name if last else None, history)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def train_sft(
    data: FinetuneData, config: FinetuneConfig | None = None, out_dir: str | Path = "runs/adapters/hyre-sft", **kw: Any
) -> TrainResult:
    """Train (or resume) a LoRA adapter by SFT on prompt-completion ``data``.

    Args:
        data: From :func:`finetune.data.build_hyre_sft` or :func:`~finetune.data.build_irc_sft`.
        config: LoRA and trainer settings.
        out_dir: The adapter folder to create.
        init_adapter: Continue from this adapter instead of a fresh LoRA.
        force: Replace an existing adapter / discard an unfinished other run.
        callbacks: Extra ``transformers.TrainerCallback`` objects (progress, tests).
        models_dir: Where GGUF conversions are cached (default: the settings').

    Raises:
        AdapterError: the output exists, another run is unfinished there, or the
            initial adapter belongs to another base model.
    """
    return _run("sft", data, config or FinetuneConfig(), out_dir, **kw)


def train_dpo(
    data: FinetuneData, config: FinetuneConfig | None = None, out_dir: str | Path = "runs/adapters/hyre-dpo", **kw: Any
) -> TrainResult:
    """Train (or resume) a LoRA adapter by DPO on preference ``data``.

    With ``init_adapter`` (an SFT adapter) the adapter continues from it and the reference
    model is that SFT adapter, frozen; without it a fresh LoRA is trained against the base.
    Keyword arguments (``init_adapter``, ``force``, ``callbacks``, ``models_dir``) and errors
    as :func:`train_sft`.
    """
    return _run("dpo", data, config or FinetuneConfig(), out_dir, **kw)
