"""Reranking a first stage's top-k: a trained cross-encoder, or a local LLM's P(yes).

* :class:`CrossEncoderReranker` - a sentence-transformers ``CrossEncoder`` built from the
  encoder backbone and trained on the hiring labels
  (:func:`agentic_match.retrieval.training.cross_encoder.train_cross_encoder`, binary
  cross-entropy or LambdaLoss).
* :class:`LLMReranker` - asks the served model "does this resume fit this job?" and scores
  P(yes) from the first answer token's log-probabilities (one token generated per pair,
  through the one :class:`~agentic_match.llm.LLMClient`, cached).
* :class:`RerankedRanker` - a ``Ranker``: the first stage's (FAISS) top ``depth``, reranked.

Rerankers always score ``(job, resume)`` pairs, so one reranker serves both tasks; the
wrapper orients the pairs by the query's kind. :func:`rerank_run` and
:func:`make_rerank_node` rerank an existing run (e.g. inside a graph).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import prompts
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Document
from agentic_match.errors import ConfigError, DataError, LLMError
from agentic_match.evaluation.ranker import Ranker, Run

log = logging.getLogger(__name__)

Pair = tuple[Document, Document]
"""``(job, resume)``."""


@runtime_checkable
class Reranker(Protocol):
    """Scores ``(job, resume)`` pairs; higher is a better fit."""

    def score(self, pairs: Sequence[Pair]) -> list[float]: ...


# ---------------------------------------------------------------------------- wrapper


def _oriented(query: Document, cands: Sequence[Document]) -> list[Pair]:
    return [(query, c) if query.kind == "job" else (c, query) for c in cands]


def rerank_run(
    reranker: Reranker, queries: Sequence[Document], candidates: Sequence[Document], run: Run, depth: int = 100
) -> Run:
    """Each query's top ``depth`` documents of ``run``, rescored by ``reranker`` (sorted).

    Raises:
        DataError: the run names a query or document that is not given.
    """
    by_id = {c.id: c for c in candidates}
    out: Run = {}
    for q in queries:
        top = sorted(run.get(q.id, {}).items(), key=lambda x: -x[1])[:depth]
        missing = [d for d, _ in top if d not in by_id]
        if missing:
            raise DataError(f"run of query {q.id!r} names unknown candidate(s): {', '.join(missing[:5])}")
        docs = [by_id[d] for d, _ in top]
        scores = reranker.score(_oriented(q, docs)) if docs else []
        out[q.id] = dict(sorted(zip((d.id for d in docs), map(float, scores)), key=lambda x: -x[1]))
    return out


class RerankedRanker:
    """A ``Ranker``: ``first_stage``'s top ``depth`` per query, reranked by ``reranker``.

    Only the reranked top ``depth`` is returned (a run of fewer than ``k`` documents when
    ``k > depth``); the first stage's scores are discarded.
    """

    def __init__(self, first_stage: Ranker, reranker: Reranker, depth: int = 100) -> None:
        if depth < 1:
            raise ConfigError(f"depth must be >= 1, got {depth}")
        self.first_stage, self.reranker, self.depth = first_stage, reranker, depth
        self.last_rerank_s = 0.0
        """Seconds spent in the reranker by the last :meth:`rank` call (latency reports)."""

    def rank(self, queries: Sequence[Document], candidates: Sequence[Document], k: int = 100) -> Run:
        run = self.first_stage.rank(queries, candidates, k=max(k, self.depth))
        t0 = time.perf_counter()
        out = rerank_run(self.reranker, queries, candidates, run, self.depth)
        self.last_rerank_s = time.perf_counter() - t0
        return {q: dict(list(docs.items())[:k]) for q, docs in out.items()}


def make_rerank_node(reranker: Reranker, depth: int = 100) -> Callable[[dict], dict]:
    """A graph node: state ``{"queries", "candidates"}`` (document rows) + ``"run"`` -> ``{"run"}``."""
    from agentic_match.data.rows import document_from_row

    def docs(rows: list[dict]) -> list[Document]:
        out = []
        for r in rows:
            kind = r.get("kind") or ("job" if "fields" in r else "resume")
            d = document_from_row(r, kind, where=("<state>", None))
            if isinstance(d, list):
                raise DataError(d)
            out.append(d)
        return out

    def rerank(state: dict) -> dict:
        return {"run": rerank_run(reranker, docs(state["queries"]), docs(state["candidates"]), state["run"], depth)}

    return rerank


# ---------------------------------------------------------------------------- cross-encoder


class CrossEncoderReranker:
    """A trained cross-encoder scoring ``(job, resume)`` pairs (raw logits: ranking only).

    Args:
        model: A ``CrossEncoder`` or the folder :func:`train_cross_encoder` wrote.
        batch_size: Pairs per forward pass.
        max_doc_chars: Characters of each rendered document (as in training).
        render_config: How documents become text.
    """

    def __init__(
        self,
        model: Any,
        *,
        batch_size: int = 32,
        max_doc_chars: int | None = None,
        render_config: RenderConfig = RenderConfig(),
        device: str | None = None,
    ) -> None:
        if isinstance(model, (str, Path)):
            from sentence_transformers.cross_encoder import CrossEncoder

            folder = Path(model)
            if not (folder / "config.json").is_file():
                from agentic_match.errors import ModelNotFoundError

                raise ModelNotFoundError(f"{folder} is not a cross-encoder folder (no config.json)")
            from agentic_match.retrieval.training.cross_encoder import MODEL_CONFIG_FILE

            meta = folder / MODEL_CONFIG_FILE
            saved = json.loads(meta.read_text(encoding="utf-8"))["config"] if meta.is_file() else {}
            max_doc_chars = max_doc_chars or saved.get("max_doc_chars")
            model = CrossEncoder(
                str(folder), num_labels=1, max_length=saved.get("max_seq_length"), device=device, local_files_only=True
            )
        self.model = model
        self.batch_size = batch_size
        self.max_doc_chars = max_doc_chars or 2000
        self.render_config = render_config

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        cut = self.max_doc_chars
        inputs = [(render(j, self.render_config)[:cut], render(r, self.render_config)[:cut]) for j, r in pairs]
        import torch

        scores = self.model.predict(
            inputs, batch_size=self.batch_size, activation_fn=torch.nn.Identity(), show_progress_bar=False
        )
        return [float(s) for s in scores]


# ---------------------------------------------------------------------------- LLM


def p_yes(top_logprobs: dict[str, float]) -> float | None:
    """P(yes) among the yes / no answers of one token's top log-probabilities.

    Tokens are matched case-insensitively after stripping spaces (``"Yes"``, ``" yes"``);
    ``None`` when neither answer is among them (the caller counts those).
    """
    yes = sum(math.exp(lp) for t, lp in top_logprobs.items() if t.strip().lower() == "yes")
    no = sum(math.exp(lp) for t, lp in top_logprobs.items() if t.strip().lower() == "no")
    return yes / (yes + no) if yes + no > 0 else None


def fit_messages(job: str, resume: str, max_doc_chars: int = 1500) -> list[dict[str, str]]:
    """The yes/no prompt "does this resume fit this job?" over two rendered texts, fenced."""
    content = prompts.render(
        "rerank",
        job=prompts.fence(job[:max_doc_chars], "job"),
        resume=prompts.fence(resume[:max_doc_chars], "resume"),
    )
    return [{"role": "user", "content": content}]


class LLMReranker:
    """Scores a pair by the served model's P(yes) to "does this resume fit this job?".

    One token is generated per pair with ``logprobs=True, top_logprobs=...`` (vLLM's
    OpenAI server supports both), through the client's sampling keywords, so requests are
    cached like every other. Pairs whose top tokens hold neither yes nor no score 0.5 and
    are counted in ``unanswered``.

    Args:
        llm: An :class:`~agentic_match.llm.LLMClient` (its ``Completion`` must carry
            ``top_logprobs``).
        top_logprobs: Alternatives returned for the first token.
        max_doc_chars: Characters of each rendered document in the prompt.
    """

    def __init__(
        self,
        llm: Any,
        *,
        top_logprobs: int = 10,
        max_doc_chars: int = 1500,
        render_config: RenderConfig = RenderConfig(),
    ) -> None:
        self.llm, self.top_logprobs, self.max_doc_chars = llm, top_logprobs, max_doc_chars
        self.render_config = render_config
        self.unanswered = 0

    def messages(self, job: Document, resume: Document) -> list[dict[str, str]]:
        return fit_messages(render(job, self.render_config), render(resume, self.render_config), self.max_doc_chars)

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        done = self.llm.chat_many(
            [self.messages(j, r) for j, r in pairs],
            max_tokens=1,
            temperature=0.0,
            logprobs=True,
            top_logprobs=self.top_logprobs,
        )
        out = []
        for c in done:
            tops = getattr(c, "top_logprobs", None)
            if tops is None:
                raise LLMError(
                    "the LLM client returned no log-probabilities: LLMReranker needs Completion.top_logprobs "
                    "(client support) and a server that honours logprobs=True"
                )
            p = p_yes(tops[0]) if tops else None
            if p is None:
                self.unanswered += 1
                p = 0.5
            out.append(p)
        return out


__all__ = [
    "CrossEncoderReranker",
    "LLMReranker",
    "RerankedRanker",
    "Reranker",
    "fit_messages",
    "make_rerank_node",
    "p_yes",
    "rerank_run",
]
