"""Retrieval: the ``Ranker`` protocol, BM25, the bi-encoder and its training.

Names are imported lazily so that ``import agentic_match.retrieval`` stays cheap (the
encoder pulls in torch); add a name to ``_LAZY`` to export it.
"""

from __future__ import annotations

import importlib
from typing import Any

from agentic_match.retrieval.ranker import Ranker, Run

_LAZY: dict[str, str] = {
    "BM25Config": "agentic_match.retrieval.bm25",
    "BM25Ranker": "agentic_match.retrieval.bm25",
    "bm25_top_k": "agentic_match.retrieval.bm25",
    "BiEncoder": "agentic_match.retrieval.encoder",
    "EncoderSettings": "agentic_match.retrieval.encoder",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agentic_match.retrieval' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["BM25Config", "BM25Ranker", "BiEncoder", "EncoderSettings", "Ranker", "Run", "bm25_top_k"]
