"""Preference alignment (stage 2): the local LLM judge, the preference format, RankPO.

Names are imported lazily so that ``import agentic_match.align`` stays cheap (training
pulls in torch).
"""

from __future__ import annotations

from agentic_match.lazy import lazy_exports

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
    "interpolate_encoders": "agentic_match.align.wise",
    "within_category_pairs": "agentic_match.align.within_category",
    "pair_order_accuracy": "agentic_match.align.within_category",
}


__getattr__, __all__ = lazy_exports(__name__, _LAZY)
