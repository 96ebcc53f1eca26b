"""LLM augmentation of documents before matching (HyRe and, later, completion and clean-up)."""

from agentic_match.augment.hyre import HyReConfig, augment_job_text, hyre_messages, pick_examples

__all__ = ["HyReConfig", "augment_job_text", "hyre_messages", "pick_examples"]
