"""Preference alignment (stage 2): the local LLM judge, the preference format, RankPO.

Names are imported lazily so that ``import agentic_match.align`` stays cheap (training
pulls in torch).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "JudgeConfig": "agentic_match.align.judge",
    "JudgePair": "agentic_match.align.judge",
    "JudgeVerdict": "agentic_match.align.judge",
    "candidate_pairs": "agentic_match.align.judge",
    "judge_pair": "agentic_match.align.judge",
    "judge_pairs": "agentic_match.align.judge",
    "Preference": "agentic_match.align.preferences",
    "PreferenceSet": "agentic_match.align.preferences",
    "load_preferences": "agentic_match.align.preferences",
    "write_preferences": "agentic_match.align.preferences",
    "RankPOLoss": "agentic_match.align.losses",
    "PreferenceSFTLoss": "agentic_match.align.losses",
    "AlignConfig": "agentic_match.align.trainer",
    "train_align": "agentic_match.align.trainer",
    "preference_accuracy": "agentic_match.align.trainer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agentic_match.align' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_LAZY)
