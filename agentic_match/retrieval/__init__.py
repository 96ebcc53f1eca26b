"""Retrieval: BM25, the bi-encoder, its training, hard-negative mining, FAISS indexes, reranking.

Names are imported lazily so that ``import agentic_match.retrieval`` stays cheap (the
encoder pulls in torch); add a name to ``_LAZY`` to export it.
"""

from __future__ import annotations

from agentic_match.evaluation.ranker import Ranker
from agentic_match.lazy import lazy_exports
from agentic_match.types import Run

_LAZY: dict[str, str] = {
    "BM25Config": "agentic_match.retrieval.bm25",
    "BM25Ranker": "agentic_match.retrieval.bm25",
    "bm25_top_k": "agentic_match.retrieval.bm25",
    "BiEncoder": "agentic_match.retrieval.encoder",
    "EncoderSettings": "agentic_match.retrieval.encoder",
    "ConFitLoss": "agentic_match.retrieval.losses",
    "confit_loss": "agentic_match.retrieval.losses",
    "UniquePairBatchSampler": "agentic_match.retrieval.batching",
    "unique_pair_batches": "agentic_match.retrieval.batching",
    "ConFitConfig": "agentic_match.retrieval.training",
    "TrainResult": "agentic_match.retrieval.training",
    "train_confit": "agentic_match.retrieval.training",
    "iterative_rum": "agentic_match.retrieval.training",
    "mine_runner_up": "agentic_match.retrieval.mining",
    "choose_band": "agentic_match.retrieval.mining",
    "bm25_negatives": "agentic_match.retrieval.mining",
    "rejected_negatives": "agentic_match.retrieval.mining",
    "PairNegatives": "agentic_match.retrieval.mining",
    "load_negatives": "agentic_match.retrieval.mining",
    "save_negatives": "agentic_match.retrieval.mining",
    "VectorIndex": "agentic_match.retrieval.index",
    "build_document_index": "agentic_match.retrieval.index",
    "open_index": "agentic_match.retrieval.index",
    "SearchIndex": "agentic_match.retrieval.index",
    "MilvusConfig": "agentic_match.retrieval.milvus_index",
    "MilvusIndex": "agentic_match.retrieval.milvus_index",
    "RerankedRanker": "agentic_match.retrieval.rerank",
    "CrossEncoderReranker": "agentic_match.retrieval.rerank",
    "LLMReranker": "agentic_match.retrieval.rerank",
}


__getattr__, _NAMES = lazy_exports(__name__, _LAZY)


__all__ = ["Ranker", "Run", *_NAMES]
