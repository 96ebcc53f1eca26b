"""The ``Ranker`` protocol: anything that ranks candidate documents for query documents.

Evaluation (:func:`agentic_match.evaluation.evaluate`) only ever talks to this protocol, so
it lives here, with its consumer; BM25 (:class:`~agentic_match.retrieval.bm25.BM25Ranker`),
the bi-encoder (:class:`~agentic_match.retrieval.encoder.BiEncoder`) and any re-ranker of
:mod:`agentic_match.retrieval` implement it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from agentic_match.data.schema import Document
from agentic_match.types import Run


@runtime_checkable
class Ranker(Protocol):
    """Ranks ``candidates`` for each of ``queries``."""

    def rank(self, queries: Sequence[Document], candidates: Sequence[Document], k: int = 100) -> Run:
        """Each query's top ``k`` candidates by score: ``{query_id: {doc_id: score}}``.

        Queries may be jobs (ranking resumes) or resumes (ranking jobs); a ranker must not
        assume a direction. Fewer than ``k`` entries are returned when there are fewer
        candidates. Scores are only compared within one query.
        """
        ...


__all__ = ["Ranker", "Run"]
