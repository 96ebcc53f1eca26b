"""Types shared across layers (no dependencies): ranked runs, relevance judgments, chat messages."""

from __future__ import annotations

Run = dict[str, dict[str, float]]
"""``{query_id: {doc_id: score}}``; higher scores rank first."""

Qrels = dict[str, dict[str, int]]
"""``{query_id: {doc_id: grade}}``; unlisted documents are non-relevant."""

Pair = tuple[str, str]
"""``(resume_id, job_id)``: a labelled or candidate resume-job pair."""

Messages = list[dict[str, str]]
"""OpenAI-style chat messages: ``[{"role": "system" | "user" | "assistant", "content": ...}]``."""

__all__ = ["Messages", "Pair", "Qrels", "Run"]
