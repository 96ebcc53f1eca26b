"""LoRA adapter folders: their metadata, the base-model check, loading and merging.

An adapter folder is PEFT's (``adapter_config.json``, ``adapter_model.safetensors``) plus
``adapter_meta.json``, which records the base model (spec, folder, fingerprint), the data
the adapter saw (digest, sizes, build report, few-shot pair ids), the training settings and
measurements. Loading, serving (:class:`agentic_match.llm.ManagedServer`) and merging all
refuse an adapter whose recorded base fingerprint differs from the base model's.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from agentic_match.errors import AdapterError
from agentic_match.files import replace_dir, write_json
from agentic_match.models import ADAPTER_META_FILE, adapter_base_problem, model_fingerprint, resolve_generator

META_FORMAT = 1


def is_adapter(folder: str | Path) -> bool:
    """True when ``folder`` holds a PEFT adapter."""
    return (Path(folder) / "adapter_config.json").is_file()


def read_meta(adapter: str | Path) -> dict[str, Any]:
    """The ``adapter_meta.json`` of an adapter folder.

    Raises:
        AdapterError: not an adapter folder, or no readable metadata.
    """
    folder = Path(adapter)
    if not is_adapter(folder):
        raise AdapterError(f"{folder} is not a LoRA adapter folder (no adapter_config.json inside)")
    path = folder / ADAPTER_META_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AdapterError(f"{path} is missing: the adapter was not trained by agentic-match finetune") from None
    except ValueError as e:
        raise AdapterError(f"{path}: invalid JSON ({e})") from None


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    """Write ``adapter_meta.json`` into ``folder`` atomically."""
    path = Path(folder) / ADAPTER_META_FILE
    write_json(path, meta)


def make_meta(
    *,
    run_id: str,
    kind: str,
    base_model: str,
    base_folder: Path,
    base_fingerprint: str,
    data: dict[str, Any],
    config: dict[str, Any],
    prompt: dict[str, Any],
    training: dict[str, Any],
    metrics: dict[str, Any],
    parent: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The metadata dict saved beside a trained adapter."""
    import peft
    import transformers
    import trl

    return {
        "format": META_FORMAT,
        "run_id": run_id,
        "kind": kind,
        "task": data.get("task"),
        "base_model": base_model,
        "base_folder": str(base_folder),
        "base_fingerprint": base_fingerprint,
        "parent_adapter": parent,
        "data": data,
        "prompt": prompt,
        "config": config,
        "training": training,
        "metrics": metrics,
        "versions": {"trl": trl.__version__, "peft": peft.__version__, "transformers": transformers.__version__},
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def check_base(adapter: str | Path, base_folder: str | Path) -> None:
    """Refuse an adapter trained on another base model than ``base_folder``'s.

    Raises:
        AdapterError: with both fingerprints and the adapter's base spec.
    """
    why = adapter_base_problem(Path(adapter), Path(base_folder))
    if why is not None:
        raise AdapterError(why)


def base_of(adapter: str | Path, base_model: str | None = None, models_dir: Path | None = None) -> Path:
    """The local base-model folder of an adapter, checked against its fingerprint.

    Args:
        adapter: The adapter folder.
        base_model: Generator spec to use (default: the one recorded in the metadata).
        models_dir: Where GGUF conversions are cached.
    """
    meta = read_meta(adapter)
    folder = resolve_generator(base_model or meta["base_model"], models_dir)
    check_base(adapter, folder)
    return folder


def adapter_fingerprint(adapter: str | Path) -> str:
    """Fingerprint of an adapter folder's config and weights (and metadata)."""
    return model_fingerprint(Path(adapter))


def load_for_inference(adapter: str | Path, *, base_model: str | None = None, device: str = "cpu") -> tuple[Any, Any]:
    """``(PeftModel, tokenizer)`` for evaluation, base checked against the adapter."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = base_of(adapter, base_model)
    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device)
    model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    return model, AutoTokenizer.from_pretrained(folder)


def merge_adapter(
    adapter: str | Path, out_dir: str | Path, *, base_model: str | None = None, force: bool = False
) -> Path:
    """Merge an adapter into its base model's weights and save a standalone model folder.

    The merged folder is a plain Hugging Face model (servable without ``--enable-lora``,
    usable as a ``--model`` spec). It is written to a temporary folder and renamed into
    place; an existing ``out_dir`` is only replaced with ``force``.

    Raises:
        AdapterError: ``out_dir`` exists (without ``force``), or the base does not match.
    """
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not force:
        raise AdapterError(f"{out} already exists; pass force=True (--force) to replace it")
    if out.resolve() == Path(adapter).resolve():
        raise AdapterError("the merged model cannot be written over its adapter")
    import torch

    folder = base_of(adapter, base_model)
    base_cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    model, tok = load_for_inference(adapter, base_model=base_model)
    merged = model.merge_and_unload()
    # Merged in fp32, saved in the base model's own dtype (bf16 for the packaged model).
    name = base_cfg.get("dtype") or base_cfg.get("torch_dtype")
    if isinstance(getattr(torch, str(name), None), torch.dtype):
        merged = merged.to(getattr(torch, name))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        merged.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        meta = read_meta(adapter)
        (tmp / "merged_from.json").write_text(
            json.dumps(
                {"adapter": str(Path(adapter).resolve()), "adapter_fingerprint": adapter_fingerprint(adapter), **meta},
                indent=2,
                default=str,
            ),
            encoding="utf-8",
        )
        replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def hyre_settings(adapter: str | Path) -> tuple[Any, list[tuple[str, str]]]:
    """``(HyReConfig, few-shot (job_id, resume_id) pairs)`` the adapter was trained with.

    Generation with a HyRe adapter should use the same prompt: pass them to
    ``pick_examples`` / ``augment_jobs.build_graph(llm, config, adapter=...)``.

    Raises:
        AdapterError: the adapter was not trained for HyRe.
    """
    from agentic_match.augment.hyre import HyReConfig

    prompt = read_meta(adapter).get("prompt") or {}
    if "hyre" not in prompt:
        raise AdapterError(f"{adapter} was not trained for HyRe (no HyRe prompt settings in its metadata)")
    return HyReConfig(**prompt["hyre"]), [tuple(p) for p in prompt.get("few_shot", [])]
