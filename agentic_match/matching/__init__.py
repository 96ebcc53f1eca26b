"""Matching: a job to ranked resumes (or a resume to jobs), with verified explanations.

* :mod:`~agentic_match.matching.matcher` - :class:`Matcher` (encoder + indexes + optional
  reranker + optional LLM) and the match workflow's steps, shared by the Python API, the
  ``match`` graph, the CLI and the HTTP service.
* :mod:`~agentic_match.matching.evidence` - explanations by retrieval (the default):
  requirements from the job, evidence sentences of the resume ranked by the encoder, "met"
  by a calibrated score; every quote an exact span by construction.
* :mod:`~agentic_match.matching.explain` - the explanation data model, and the older LLM
  explanations whose quotes are checked against the resume (``explain_method="llm_quotes"``).
"""

from agentic_match.matching.evidence import EvidenceConfig, explain_with_evidence
from agentic_match.matching.explain import Evidence, ExplainConfig, Explanation, explain_match
from agentic_match.matching.matcher import (
    Augmentation,
    Candidate,
    MatchConfig,
    Matcher,
    MatchResult,
    QueryNotFoundError,
    UnavailableError,
    as_written,
    build_matcher,
    load_corpus_for_matching,
    load_reranker,
    other_kind,
)

__all__ = [
    "Augmentation",
    "Candidate",
    "Evidence",
    "EvidenceConfig",
    "ExplainConfig",
    "Explanation",
    "MatchConfig",
    "MatchResult",
    "Matcher",
    "QueryNotFoundError",
    "UnavailableError",
    "as_written",
    "build_matcher",
    "explain_match",
    "explain_with_evidence",
    "load_corpus_for_matching",
    "load_reranker",
    "other_kind",
]
