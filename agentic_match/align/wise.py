"""WiSE-FT: interpolate a fine-tuned encoder's weights with its base's.

Fine-tuning on topical labels (stage 1) or on a few preferences (stage 2) can lose the base
model's finer sense of which of two relevant documents fits better. Weight-space ensembling
(Wortsman et al. 2022, "Robust fine-tuning of zero-shot models") keeps part of it at no
serving cost:

.. math::

    \\theta_\\alpha = \\alpha \\, \\theta_{ft} + (1 - \\alpha) \\, \\theta_{base}

``α = 1`` is the fine-tuned model, ``α = 0`` the base. Both must be the same architecture
(same parameter names and shapes); integer buffers (e.g. position ids) are the fine-tuned
model's. The result is a normal encoder folder (the fine-tuned model's window and encoder
settings) with ``wise_ft.json`` beside it recording ``α`` and both fingerprints. Choose ``α``
on dev (``benchmarks/alignment.py --sections wise`` reports both tasks and within-category
pairs per ``α``).

Example::

    from agentic_match.align.wise import interpolate_encoders

    interpolate_encoders("all-minilm-l6-v2", "runs/confit/model", 0.7, "runs/confit-wise-0.7")
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from agentic_match.errors import ConfigError
from agentic_match.files import replace_dir, temp_sibling

WISE_FILE = "wise_ft.json"
# Files of the fine-tuned folder that describe how it serves (window, score scale, lineage).
_CARRIED = ("bi_encoder.json", "confit_config.json", "align_config.json")


def interpolate_state(base: dict, tuned: dict, alpha: float) -> dict:
    """``α·tuned + (1−α)·base`` for every floating-point tensor; other tensors from ``tuned``.

    Raises:
        ConfigError: the two state dicts differ in parameter names or shapes.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be in [0, 1], got {alpha}")
    if base.keys() != tuned.keys():
        diff = sorted(set(base) ^ set(tuned))[:5]
        raise ConfigError(f"the two encoders have different parameters (e.g. {', '.join(diff)}): not one architecture")
    out = {}
    for name, t in tuned.items():
        b = base[name]
        if b.shape != t.shape:
            raise ConfigError(f"parameter {name} has shape {tuple(b.shape)} in the base, {tuple(t.shape)} fine-tuned")
        out[name] = alpha * t + (1.0 - alpha) * b.to(t.dtype) if t.is_floating_point() else t
    return out


def interpolate_encoders(base: str | Path, tuned: str | Path, alpha: float, out_dir: str | Path) -> Path:
    """Write the WiSE-FT encoder ``α·tuned + (1−α)·base`` to ``out_dir`` (atomically).

    Args:
        base: The model fine-tuning started from (folder or encoder spec, e.g. ``all-minilm-l6-v2``).
        tuned: The fine-tuned encoder folder.
        alpha: Weight of the fine-tuned model, in ``[0, 1]``.
        out_dir: Folder of the result (replaced if present).

    Returns:
        ``out_dir``.

    Raises:
        ConfigError: ``alpha`` outside ``[0, 1]`` or the models are different architectures.
        ModelNotFoundError: a model cannot be found locally.
    """
    from agentic_match.models import model_fingerprint, resolve_encoder
    from agentic_match.retrieval.encoder import load_sentence_transformer

    base_dir, tuned_dir, out = resolve_encoder(str(base)), resolve_encoder(str(tuned)), Path(out_dir)
    base_model = load_sentence_transformer(base_dir, "cpu")
    model = load_sentence_transformer(tuned_dir, "cpu")
    state = interpolate_state(base_model.state_dict(), model.state_dict(), float(alpha))
    del base_model
    model.load_state_dict(state)
    tmp = temp_sibling(out)
    try:
        model.save(str(tmp))
        for name in _CARRIED:
            if (tuned_dir / name).is_file():
                shutil.copy2(tuned_dir / name, tmp / name)
        record = {
            "alpha": float(alpha),
            "base": str(base),
            "base_fingerprint": model_fingerprint(base_dir),
            "tuned": str(tuned),
            "tuned_fingerprint": model_fingerprint(tuned_dir),
        }
        (tmp / WISE_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
        replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


__all__ = ["WISE_FILE", "interpolate_encoders", "interpolate_state"]
