"""BM25 over rendered documents (bm25s): a baseline ranker and hard-negative miner.

Texts are lower-cased, split on word characters, stripped of English stopwords and
Snowball-stemmed (PyStemmer, no downloads). The index is built over the candidate pool of
each call, so IDF statistics come from that pool, as in the benchmark's full-pool tasks.
Only candidates sharing at least one term with the query are returned (score > 0), as in
Lucene; the others have no BM25 evidence and would only add arbitrary ties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from agentic_match.data.schema import Document
from agentic_match.errors import AgenticMatchError, ConfigError
from agentic_match.evaluation.ranker import Run

if TYPE_CHECKING:
    from agentic_match.data.render import RenderConfig


@dataclass(frozen=True)
class BM25Config:
    """BM25 scoring and tokenisation.

    Attributes:
        k1: Term-frequency saturation (bm25s / Lucene default 1.5).
        b: Length normalisation (0: none, 1: full; default 0.75).
        method: bm25s variant: ``lucene``, ``robertson``, ``atire``, ``bm25l``, ``bm25+``.
        stopwords: Stopword language for bm25s (``"english"``) or ``None`` to keep all words.
        stemmer: Snowball stemmer language (PyStemmer) or ``None`` for no stemming.
    """

    k1: float = 1.5
    b: float = 0.75
    method: str = "lucene"
    stopwords: str | None = "english"
    stemmer: str | None = "english"

    def __post_init__(self) -> None:
        if self.k1 < 0 or not 0 <= self.b <= 1:
            raise ConfigError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={self.k1}, b={self.b}")
        if self.method not in ("lucene", "robertson", "atire", "bm25l", "bm25+"):
            raise ConfigError(f"unknown BM25 method {self.method!r}")


def _stemmer(config: BM25Config) -> Any:
    if config.stemmer is None:
        return None
    try:
        import Stemmer
    except ImportError as e:
        raise AgenticMatchError(
            "BM25 stemming needs PyStemmer (pip install PyStemmer), or set BM25Config(stemmer=None)"
        ) from e
    try:
        return Stemmer.Stemmer(config.stemmer)
    except KeyError as e:
        raise ConfigError(f"unknown stemmer language {config.stemmer!r}") from e


def _tokenize(texts: Sequence[str], config: BM25Config, stemmer: Any, *, ids: bool) -> Any:
    import bm25s

    return bm25s.tokenize(
        list(texts),
        stopwords=config.stopwords or [],
        stemmer=stemmer,
        return_ids=ids,
        show_progress=False,
    )


def bm25_top_k(
    query_texts: Sequence[str],
    cand_texts: Sequence[str],
    k: int,
    config: BM25Config = BM25Config(),
) -> list[list[tuple[int, float]]]:
    """For each query text, its top-``k`` candidate texts by BM25 (for hard-negative mining).

    Returns:
        Per query, ``(candidate_index, score)`` pairs, best first, only positive scores
        (ties broken by candidate index).
    """
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}")
    if not query_texts:
        return []
    if not cand_texts:
        return [[] for _ in query_texts]
    import bm25s

    stemmer = _stemmer(config)
    retriever = bm25s.BM25(k1=config.k1, b=config.b, method=config.method)
    retriever.index(_tokenize(cand_texts, config, stemmer, ids=True), show_progress=False)
    queries = _tokenize(query_texts, config, stemmer, ids=False)
    k_eff = min(k, len(cand_texts))
    docs, scores = retriever.retrieve(queries, k=k_eff, show_progress=False)
    out: list[list[tuple[int, float]]] = []
    for row_docs, row_scores in zip(np.asarray(docs), np.asarray(scores)):
        pairs = [(int(d), float(s)) for d, s in zip(row_docs, row_scores) if s > 0]
        pairs.sort(key=lambda p: (-p[1], p[0]))
        out.append(pairs)
    return out


class BM25Ranker:
    """A :class:`~agentic_match.evaluation.ranker.Ranker` that scores rendered documents with BM25.

    Args:
        render_config: How documents become text (default rendering when ``None``).
        config: BM25 parameters and tokenisation.
    """

    def __init__(self, render_config: RenderConfig | None = None, config: BM25Config = BM25Config()) -> None:
        from agentic_match.data.render import RenderConfig

        self.render_config = render_config or RenderConfig()
        self.config = config
        _stemmer(config)  # fail at construction, not in the middle of an evaluation

    def rank(self, queries: Sequence[Document], candidates: Sequence[Document], k: int = 100) -> Run:
        """Top-``k`` candidates per query by BM25 (only candidates sharing a term)."""
        from agentic_match.data.render import render

        q_texts = [render(q, self.render_config) for q in queries]
        c_texts = [render(c, self.render_config) for c in candidates]
        hits = bm25_top_k(q_texts, c_texts, k, self.config)
        return {q.id: {candidates[i].id: s for i, s in row} for q, row in zip(queries, hits)}


__all__ = ["BM25Config", "BM25Ranker", "bm25_top_k"]
