"""The match path shared by the ``match`` graph, the HTTP API and the CLI.

Given a job, rank resumes; given a resume, rank jobs::

    query -> augment (HyRe for a job; IRC completion for a resume with interactions)
          -> embed + FAISS retrieval -> (rerank the top ``rerank_depth``) -> explanations

:class:`Matcher` holds what every request needs - the bi-encoder, one FAISS index per
document kind (built from the corpus on first use, or loaded), an optional reranker and an
optional LLM client - and exposes each step as a method (the graph runs them as nodes) and
:meth:`Matcher.match` for all of them at once (the API). Both paths call the same methods.

Thread-safety: the torch models (encoder, cross-encoder) are called under one lock, so a
threaded server may share one matcher; LLM calls (augmentation, explanations, an LLM
reranker) run outside it and in parallel.

Example::

    from agentic_match.data import load_demo
    from agentic_match.llm import open_llm
    from agentic_match.matching import Matcher
    from agentic_match.retrieval.encoder import BiEncoder

    with open_llm() as llm:
        matcher = Matcher(BiEncoder.load("all-minilm-l6-v2"), load_demo(), llm=llm)
        result = matcher.match("demo-j-01", kind="job", k=5, explain=True)
        for c in result.candidates:
            print(c.rank, c.id, round(c.score, 3), [e.requirement for e in c.explanation.met])
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from agentic_match.augment.completion import INFERRED_FIELD, CompletionConfig, complete_resume
from agentic_match.augment.generation import GenerationPolicy
from agentic_match.augment.hyre import HyReConfig, hyre_document, pick_examples
from agentic_match.config import setting
from agentic_match.data.schema import Corpus, DocKind, Document, Label
from agentic_match.errors import AgenticMatchError, ConfigError
from agentic_match.events import AugmentedEvent, CandidatesEvent, DoneEvent, EventSink, ExplanationEvent, ignore
from agentic_match.matching.batcher import MicroBatcher
from agentic_match.matching.evidence import EvidenceConfig, explain_with_evidence
from agentic_match.matching.explain import ExplainConfig, Explanation, explain_match

if TYPE_CHECKING:
    from agentic_match.retrieval.encoder import BiEncoder
    from agentic_match.retrieval.index import SearchIndex
    from agentic_match.retrieval.rerank import Reranker
    from agentic_match.retrieval.store import IndexStoreConfig

AugmentMethod = Literal["hyre", "irc"]


class QueryNotFoundError(AgenticMatchError):
    """A query id names no document of the corpus (the API answers 404)."""


class UnavailableError(AgenticMatchError):
    """A requested step needs a component this matcher was built without (reranker, LLM)."""


# --------------------------------------------------------------------------- results


class Augmentation(BaseModel):
    """What augmentation did to the query."""

    method: AugmentMethod | None = Field(None, description="hyre (job), irc (resume), or none")
    applied: bool = Field(False, description="True when the query text used for retrieval was augmented")
    note: str | None = Field(None, description="Why augmentation was skipped or failed")
    generated: str | None = Field(None, description="The generated text added to the query (never evidence)")


class Candidate(BaseModel):
    """One ranked candidate."""

    id: str
    rank: int = Field(description="1 = best")
    score: float = Field(description="Final score: reranker score when reranked, else cosine similarity")
    retrieval_score: float = Field(description="Cosine similarity of the first stage (FAISS)")
    explanation: Explanation | None = None


class MatchResult(BaseModel):
    """The ranked candidates of one query, best first."""

    query_id: str
    query_kind: DocKind
    candidate_kind: DocKind
    candidates: list[Candidate]
    augmentation: Augmentation
    reranked: bool = False
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per step")


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class MatchConfig:
    """Settings of the match path."""

    k: int = setting(10, help="Candidates returned by default.")
    max_k: int = setting(100, help="Largest ``k`` a caller may ask for.")
    rerank_depth: int = setting(30, help="First-stage candidates the reranker rescores (at least ``k`` are).")
    hyre: HyReConfig = setting(factory=lambda: HyReConfig(max_tokens=200), help="HyRe settings for job queries.")
    completion: CompletionConfig = setting(
        factory=lambda: CompletionConfig(method="irc"),
        help="Resume completion settings (IRC needs the resume's interactions).",
    )
    generation: GenerationPolicy = setting(
        factory=lambda: GenerationPolicy(attempts=2), help="Attempts and checks of augmentation generations."
    )
    explain_method: str = setting(
        "evidence",
        help=(
            "How candidates are explained: 'evidence' (requirements from the job, evidence sentences of the resume"
            " ranked by the encoder, met by a threshold chosen on dev; no LLM needed), 'evidence+llm' (the same, the"
            " LLM's P(yes) per sentence decides met), 'llm_quotes' (the LLM lists requirements and quotes, quotes"
            " checked; small models' quotes mostly fail the check)."
        ),
    )
    evidence: EvidenceConfig = setting(
        factory=EvidenceConfig,
        help="Evidence explanation settings (the resume is rendered with the encoder's settings).",
    )
    explain: ExplainConfig = setting(
        factory=ExplainConfig, help="'llm_quotes' explanation settings (rendered with the encoder's settings)."
    )
    explain_workers: int = setting(8, help="Explanations generated at once (the LLM server batches them).")
    query_cache: int = setting(4096, help="Query vectors remembered (by text), so a repeated query skips encoding.")
    batch_window_ms: float = setting(
        2.0,
        help=(
            "Concurrent queries arriving within this many milliseconds share one encoder forward pass and one"
            " FAISS search (dynamic batching; 0: only queries that queue while a batch runs are batched)."
        ),
    )
    max_batch: int = setting(64, help="Queries per shared forward pass (1: every query encoded alone).")

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.max_k:
            raise ConfigError(f"MatchConfig.k must be in 1..max_k ({self.max_k}), got {self.k}")
        if self.rerank_depth < 1 or self.explain_workers < 1 or self.query_cache < 0:
            raise ConfigError("MatchConfig: rerank_depth and explain_workers must be >= 1, query_cache >= 0")
        if self.max_batch < 1 or self.batch_window_ms < 0:
            raise ConfigError("MatchConfig: max_batch must be >= 1 and batch_window_ms >= 0")
        if self.explain_method not in EXPLAIN_METHODS:
            raise ConfigError(
                f"MatchConfig.explain_method must be one of {', '.join(EXPLAIN_METHODS)}, got {self.explain_method!r}"
            )

    @property
    def explain_needs_llm(self) -> bool:
        """Whether explanations need an LLM (every method but ``evidence``)."""
        return self.explain_method != "evidence"


EXPLAIN_METHODS = ("evidence", "evidence+llm", "llm_quotes")


def other_kind(kind: DocKind) -> DocKind:
    """The kind of the candidates of a ``kind`` query."""
    return "resume" if kind == "job" else "job"


def as_written(doc: Document) -> Document:
    """``doc`` without LLM-inferred content (the ``inferred`` field), i.e. what its author wrote."""
    if INFERRED_FIELD not in doc.fields:
        return doc
    fields = {k: v for k, v in doc.fields.items() if k != INFERRED_FIELD}
    return Document(doc.id, doc.kind, fields, doc.text, doc.metadata)


# --------------------------------------------------------------------------- matcher


class Matcher:
    """Encoder + indexes + optional reranker + optional LLM: one match path for everything.

    Args:
        encoder: The bi-encoder (its render settings are used for queries and candidates).
        corpus: Resumes and jobs to match (candidates and known queries), the labels that
            give HyRe its few-shot examples, and the interactions IRC reads.
        indexes: Prebuilt indexes by the kind of documents they hold (``{"resume": idx}``);
            missing ones are built from the corpus on first use. Each must have been built
            with ``encoder`` (checked by fingerprint).
        reranker: Rescores the first stage's top ``rerank_depth`` (``rerank=True``).
        llm: The client for augmentation and explanations (``None``: both unavailable).
        config: Defaults and limits.
        store: Where indexes built from the corpus live (the ``index`` section: FAISS in
            process, or Milvus collections named by kind and encoder fingerprint).
    """

    def __init__(
        self,
        encoder: BiEncoder,
        corpus: Corpus,
        *,
        indexes: Mapping[DocKind, SearchIndex] | None = None,
        reranker: Reranker | None = None,
        llm: Any = None,
        config: MatchConfig = MatchConfig(),
        store: IndexStoreConfig | None = None,
    ) -> None:
        self.encoder = encoder
        self.store = store
        self.corpus = corpus
        self.reranker = reranker
        self.llm = llm
        self.config = config
        # Explanations see documents rendered like the encoder sees them (same excluded fields).
        self._explain_config = dataclasses.replace(config.explain, render_config=encoder.render_config)
        self._evidence_config = dataclasses.replace(config.evidence, render_config=encoder.render_config)
        self._indexes: dict[DocKind, SearchIndex] = {}
        self._model_lock = threading.RLock()
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        labels = corpus.label_splits.get("train") or corpus.labels
        self._accepted: list[Label] = [lb for lb in labels if lb.label > 0]
        self._interactions: dict[str, list[str]] = {}
        for it in corpus.interactions:
            seen = self._interactions.setdefault(it.resume_id, [])
            if it.job_id in corpus.jobs and it.job_id not in seen:
                seen.append(it.job_id)
        for kind, index in (indexes or {}).items():
            self.set_index(kind, index)
        self._batcher: MicroBatcher[tuple[Document, int], list[tuple[str, float]]] | None = None
        if config.max_batch > 1:
            self._batcher = MicroBatcher(
                self.retrieve_many, window_s=config.batch_window_ms / 1000.0, max_batch=config.max_batch
            )

    # ------------------------------------------------------------------ indexes
    def set_index(self, kind: DocKind, index: SearchIndex) -> None:
        """Use ``index`` for ``kind`` candidates (refused when built with another encoder)."""
        from agentic_match.retrieval.index import IndexMismatchError

        fp = index.encoder_fingerprint
        if fp is not None and fp != self.encoder.fingerprint():
            raise IndexMismatchError(
                f"the {kind} index was built with encoder {fp}, the matcher's encoder is {self.encoder.fingerprint()}"
            )
        docs = self.corpus.resumes if kind == "resume" else self.corpus.jobs
        unknown = [i for i in index.ids[:1000] if i not in docs]
        if unknown:
            raise ConfigError(f"the {kind} index holds ids that are not in the corpus: {', '.join(unknown[:5])}")
        self._indexes[kind] = index

    def index(self, kind: DocKind) -> SearchIndex:
        """The index of ``kind`` documents (built from the corpus on first use)."""
        if kind not in self._indexes:
            with self._model_lock:
                if kind not in self._indexes:
                    self._indexes[kind] = self._build_index(kind, self.encoder)
        return self._indexes[kind]

    def _build_index(self, kind: DocKind, encoder: BiEncoder) -> SearchIndex:
        from agentic_match.retrieval.store import index_documents

        docs = self.corpus.resumes if kind == "resume" else self.corpus.jobs
        if not docs:
            raise UnavailableError(f"the corpus holds no {kind}s to match against")
        # One Milvus collection per kind and encoder: a model swap (use_encoder) fills a new
        # one while the old still answers, and a restart with the same model upserts in place.
        return index_documents(
            [docs[i] for i in sorted(docs)],
            encoder,
            self.store,
            collection=f"{kind}_{encoder.fingerprint()}",
            render_config=encoder.render_config,
        )

    def use_encoder(self, encoder: BiEncoder) -> None:
        """Switch to another encoder (a feedback update's model) without stopping queries.

        The new indexes are built first, with the old encoder still answering; then encoder,
        indexes and the query-vector cache are swapped together under the model lock, so no
        query mixes a vector of one model with an index of the other.
        """
        fresh = {kind: self._build_index(kind, encoder) for kind in list(self._indexes)}
        with self._model_lock:
            self.encoder = encoder
            self._explain_config = dataclasses.replace(self.config.explain, render_config=encoder.render_config)
            self._evidence_config = dataclasses.replace(self.config.evidence, render_config=encoder.render_config)
            self._indexes = fresh
            self._query_vectors.clear()

    def prepare(self, kinds: Sequence[DocKind] = ("resume", "job")) -> Matcher:
        """Build the indexes now (a server calls this so that no request waits for it)."""
        for kind in kinds:
            docs = self.corpus.resumes if kind == "resume" else self.corpus.jobs
            if docs:
                self.index(kind)
        return self

    # ------------------------------------------------------------------ queries
    def document(self, doc_id: str, kind: DocKind) -> Document:
        """A corpus document by id."""
        docs = self.corpus.jobs if kind == "job" else self.corpus.resumes
        try:
            return docs[doc_id]
        except KeyError:
            raise QueryNotFoundError(f"no {kind} with id {doc_id!r} in {self.corpus.source}") from None

    def resolve(self, query: Document | str, kind: DocKind | None = None) -> Document:
        """The query document: given, or a corpus id (``kind`` says which; else looked up in both)."""
        if isinstance(query, Document):
            if kind is not None and query.kind != kind:
                raise ConfigError(f"query document {query.id!r} is a {query.kind}, not a {kind}")
            return query
        if kind is not None:
            return self.document(query, kind)
        hits = [k for k, docs in (("job", self.corpus.jobs), ("resume", self.corpus.resumes)) if query in docs]
        if not hits:
            raise QueryNotFoundError(f"no job or resume with id {query!r} in {self.corpus.source}")
        if len(hits) > 1:
            raise ConfigError(f"id {query!r} names both a job and a resume; give the kind")
        return self.document(query, hits[0])  # type: ignore[arg-type]

    # ------------------------------------------------------------------ steps
    def augment(self, query: Document) -> tuple[Document, Augmentation]:
        """HyRe for a job, IRC completion for a resume with interactions; else unchanged.

        A failed generation keeps the query as it is (``note`` says why); an unreachable
        LLM server raises :class:`~agentic_match.errors.LLMUnavailableError`.
        """
        method: AugmentMethod = "hyre" if query.kind == "job" else "irc"
        if self.llm is None:
            return query, Augmentation(method=method, note="no LLM configured")
        if query.kind == "job":
            cfg = self.config.hyre
            accepted = [lb for lb in self._accepted if lb.job_id != query.id]
            if len(accepted) < cfg.n_examples:
                return query, Augmentation(method=method, note="not enough accepted labels for HyRe examples")
            examples = pick_examples(self.corpus, accepted, cfg)
            out, outcome = hyre_document(
                self.llm, query, examples, cfg, policy=self.config.generation, render_config=self.encoder.render_config
            )
            if not outcome.ok:
                return query, Augmentation(method=method, note=outcome.problem)
            return out, Augmentation(
                method=method, applied=True, generated=out.metadata.get("hyre", {}).get("generated")
            )
        jobs = [self.corpus.jobs[j] for j in self._interactions.get(query.id, [])]
        if self.config.completion.method == "irc" and not jobs:
            return query, Augmentation(method=method, note="no interactions for IRC")
        out, outcome = complete_resume(
            self.llm,
            as_written(query),
            jobs,
            self.config.completion,
            policy=self.config.generation,
            render_config=self.encoder.render_config,
        )
        if not outcome.ok:
            return query, Augmentation(method=method, note=outcome.problem)
        return out, Augmentation(method=method, applied=True, generated=out.fields.get(INFERRED_FIELD))

    def encode_query(self, query: Document) -> np.ndarray:
        """The query's vector, shape ``(1, dim)`` (remembered by text, LRU)."""
        return self.encode_queries([query])

    def encode_queries(self, queries: Sequence[Document]) -> np.ndarray:
        """The queries' vectors, shape ``(len(queries), dim)``: the ones not remembered (by
        the text the encoder reads, LRU) in one forward pass."""
        views = self.encoder.views(list(queries))  # what the encoder reads (HyRe fusion: two texts)
        keys = [hashlib.sha1(json.dumps(v).encode("utf-8")).hexdigest() for v in views]
        with self._model_lock:
            found: dict[str, np.ndarray] = {}
            for key in keys:
                hit = self._query_vectors.get(key)
                if hit is not None:
                    self._query_vectors.move_to_end(key)
                    found[key] = hit
            todo = {key: q for key, q in zip(keys, queries) if key not in found}  # repeats encoded once
            if todo:
                # The encoder's own memo would grow with every query a server ever sees.
                memo, self.encoder.memoize = self.encoder.memoize, False
                try:
                    vecs = self.encoder.encode(list(todo.values()))
                finally:
                    self.encoder.memoize = memo
                for key, vec in zip(todo, vecs):
                    found[key] = vec[None, :]
                    if self.config.query_cache:
                        self._query_vectors[key] = found[key]
                while len(self._query_vectors) > self.config.query_cache:
                    self._query_vectors.popitem(last=False)
        return np.concatenate([found[key] for key in keys], axis=0)

    def retrieve(self, query: Document, k: int) -> list[tuple[str, float]]:
        """Top-``k`` ``(candidate id, cosine)`` of the other kind, by FAISS.

        Concurrent calls (a server's request threads) are batched (:class:`MicroBatcher`,
        ``MatchConfig.batch_window_ms`` / ``max_batch``): one forward pass and one search per
        batch, the same results as one at a time.
        """
        if self._batcher is not None:
            return self._batcher((query, k))
        return self.retrieve_many([(query, k)])[0]

    def retrieve_many(self, requests: Sequence[tuple[Document, int]]) -> list[list[tuple[str, float]]]:
        """:meth:`retrieve` for several ``(query, k)`` at once (one encoder pass, one search per kind)."""
        with self._model_lock:  # the vectors and the indexes come from the same encoder
            kinds = sorted({other_kind(q.kind) for q, _ in requests})
            indexes = {kind: self.index(kind) for kind in kinds}
            vecs = self.encode_queries([q for q, _ in requests])
        out: list[list[tuple[str, float]]] = [[] for _ in requests]
        for kind in kinds:
            rows = [i for i, (q, _) in enumerate(requests) if other_kind(q.kind) == kind]
            ids, scores = indexes[kind].search(vecs[rows], k=max(requests[i][1] for i in rows))
            for r, i in enumerate(rows):
                k = requests[i][1]
                out[i] = [(d, float(x)) for d, x in zip(ids[r][:k], scores[r][:k])]
        return out

    def rerank(self, query: Document, hits: Sequence[tuple[str, float]], k: int) -> list[tuple[str, float]]:
        """The first ``rerank_depth`` hits (at least ``k``) rescored by the reranker, top ``k``."""
        if self.reranker is None:
            raise UnavailableError("no reranker configured")
        cand_kind = other_kind(query.kind)
        depth = max(k, self.config.rerank_depth)
        docs = [self.document(d, cand_kind) for d, _ in hits[:depth]]
        plain = as_written(query)
        pairs = [(plain, c) if query.kind == "job" else (c, plain) for c in docs]
        if getattr(self.reranker, "llm", None) is not None:
            scores = self.reranker.score(pairs)  # LLM calls: no torch model to protect
        else:
            with self._model_lock:
                scores = self.reranker.score(pairs)
        ranked = sorted(zip((d.id for d in docs), map(float, scores)), key=lambda x: -x[1])
        return ranked[:k]

    def explain(self, query: Document, candidate_id: str) -> Explanation:
        """The verified skill-gap explanation of ``query`` and one candidate
        (:attr:`MatchConfig.explain_method`).

        Uses the documents as written (never the augmented query): every quote is a span of
        the resume its author wrote.
        """
        method = self.config.explain_method
        if self.config.explain_needs_llm and self.llm is None:
            raise UnavailableError(f"explain_method {method!r} needs an LLM; none is configured")
        cand = self.document(candidate_id, other_kind(query.kind))
        plain = as_written(query)
        job, resume = (plain, as_written(cand)) if query.kind == "job" else (cand, plain)
        if method == "llm_quotes":
            return explain_match(self.llm, job, resume, self._explain_config)
        cfg = dataclasses.replace(self._evidence_config, llm_decides=method == "evidence+llm")
        return explain_with_evidence(self.encoder, job, resume, cfg, llm=self.llm, lock=self._model_lock)

    def check_k(self, k: int | None) -> int:
        """``k`` or the default, checked against ``max_k``."""
        k = self.config.k if k is None else int(k)
        if not 1 <= k <= self.config.max_k:
            raise ConfigError(f"k must be between 1 and {self.config.max_k}, got {k}")
        return k

    # ------------------------------------------------------------------ all steps
    def match(self, query: Document | str, *, on_event: EventSink | None = None, **request: Any) -> MatchResult:
        """Rank candidates for ``query`` (a document, or a corpus id) and optionally explain them.

        ``request`` holds :func:`start_match`'s keywords: ``kind``, ``k``, ``augment`` (default
        true), ``rerank`` and ``explain`` (default false).

        The workflow's steps are the module-level functions below (:func:`start_match`,
        :func:`augment_query`, :func:`retrieve_candidates`, :func:`rerank_candidates`,
        :func:`explain_candidate`, :func:`match_result`); the ``match`` graph runs the same
        functions as its nodes. ``on_event`` receives the partial results as they come
        (:mod:`agentic_match.events`: ``augmented``, ``retrieved``, ``reranked``, one
        ``explanation`` per candidate, ``done``).

        Raises:
            QueryNotFoundError: an unknown query id.
            UnavailableError: ``rerank`` / ``explain`` without a reranker / an LLM.
            ConfigError: ``k`` out of range.
        """
        emit = on_event or ignore
        t0 = time.perf_counter()
        req = start_match(self, query, **request)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        used, aug = augment_query(self, req)
        if req.augment:
            timings["augment_s"] = time.perf_counter() - t
        emit(AugmentedEvent(event="augmented", query_id=req.query.id, augmentation=aug.model_dump()))
        t = time.perf_counter()
        hits = retrieve_candidates(self, req, used)
        timings["retrieve_s"] = time.perf_counter() - t
        emit(CandidatesEvent(event="retrieved", candidates=candidate_rows(hits[: req.k])))
        ranked = hits[: req.k]
        if req.rerank:
            t = time.perf_counter()
            ranked = rerank_candidates(self, req, hits)
            timings["rerank_s"] = time.perf_counter() - t
            emit(CandidatesEvent(event="reranked", candidates=candidate_rows(ranked)))
        explanations: dict[str, Explanation] = {}
        if req.explain and ranked:
            t = time.perf_counter()
            llm_s = 0.0
            with ThreadPoolExecutor(min(len(ranked), self.config.explain_workers)) as pool:
                futures = {d: pool.submit(_timed, explain_candidate, self, req, d) for d, _ in ranked}
                for d, _ in ranked:
                    explanations[d], took = futures[d].result()
                    llm_s += took
                    emit(ExplanationEvent(event="explanation", id=d, explanation=explanations[d].model_dump()))
            timings["explain_s"] = time.perf_counter() - t
            timings["explain_llm_s"] = llm_s
        timings["total_s"] = time.perf_counter() - t0
        result = match_result(req, hits, ranked, aug, explanations, timings)
        emit(DoneEvent(event="done", candidates=len(result.candidates)))
        return result


# --------------------------------------------------------------------------- the workflow's steps


@dataclass(frozen=True)
class MatchRequest:
    """One checked match request (what :func:`start_match` returns)."""

    query: Document
    k: int
    augment: bool = True
    rerank: bool = False
    explain: bool = False
    rerank_depth: int = 30

    @property
    def depth(self) -> int:
        """First-stage candidates to retrieve (more when they are reranked)."""
        return max(self.k, self.rerank_depth) if self.rerank else self.k


def start_match(
    matcher: Matcher,
    query: Document | str,
    *,
    kind: DocKind | None = None,
    k: int | None = None,
    augment: bool = True,
    rerank: bool = False,
    explain: bool = False,
) -> MatchRequest:
    """Check a request before any work: ``k`` in range, the optional steps available, the query known."""
    k = matcher.check_k(k)
    if rerank and matcher.reranker is None:
        raise UnavailableError("rerank=true but no reranker is configured")
    if explain and matcher.config.explain_needs_llm and matcher.llm is None:
        raise UnavailableError(f"explain=true with explain_method {matcher.config.explain_method!r} needs an LLM")
    doc = matcher.resolve(query, kind)
    return MatchRequest(doc, k, augment, rerank, explain, matcher.config.rerank_depth)


def augment_query(matcher: Matcher, req: MatchRequest) -> tuple[Document, Augmentation]:
    """The query text used for retrieval (augmented when asked) and what augmentation did."""
    if not req.augment:
        return req.query, Augmentation(note="not requested")
    return matcher.augment(req.query)


def retrieve_candidates(matcher: Matcher, req: MatchRequest, used: Document) -> list[tuple[str, float]]:
    """The first stage's top ``req.depth`` for the (augmented) query."""
    return matcher.retrieve(used, req.depth)


def rerank_candidates(
    matcher: Matcher, req: MatchRequest, hits: Sequence[tuple[str, float]]
) -> list[tuple[str, float]]:
    """The reranked top ``req.k`` of the first stage's hits."""
    return matcher.rerank(req.query, hits, req.k)


def explain_candidate(matcher: Matcher, req: MatchRequest, candidate_id: str) -> Explanation:
    """One candidate's verified explanation."""
    return matcher.explain(req.query, candidate_id)


def match_result(
    req: MatchRequest,
    hits: Sequence[tuple[str, float]],
    ranked: Sequence[tuple[str, float]],
    augmentation: Augmentation,
    explanations: Mapping[str, Explanation | dict],
    timings: Mapping[str, float],
) -> MatchResult:
    """The :class:`MatchResult` of a finished request."""
    first = dict(hits)
    cands = [
        Candidate(id=d, rank=i, score=s, retrieval_score=first.get(d, s), explanation=explanations.get(d))
        for i, (d, s) in enumerate(ranked, 1)
    ]
    return MatchResult(
        query_id=req.query.id,
        query_kind=req.query.kind,
        candidate_kind=other_kind(req.query.kind),
        candidates=cands,
        augmentation=augmentation,
        reranked=req.rerank,
        timings={name: round(v, 4) for name, v in timings.items()},
    )


def candidate_rows(items: Sequence[tuple[str, float]]) -> list[dict[str, Any]]:
    """``[{"id", "score"}]`` (the events' and the graph state's form of a ranking)."""
    return [{"id": d, "score": float(s)} for d, s in items]


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    return fn(*args), time.perf_counter() - t


# --------------------------------------------------------------------------- building


def load_reranker(spec: str | None, llm: Any = None) -> Reranker | None:
    """``None``, ``"llm"`` (P(yes) of the served model) or a cross-encoder folder."""
    if not spec:
        return None
    from agentic_match.retrieval.rerank import CrossEncoderReranker, LLMReranker

    if spec == "llm":
        if llm is None:
            raise ConfigError("the LLM reranker needs an LLM; start the service with one")
        return LLMReranker(llm)
    return CrossEncoderReranker(Path(spec))


def load_corpus_for_matching(data: str | Path | None) -> Corpus:
    """A corpus from a folder in the benchmark layout, or the packaged demo corpus (``None``)."""
    from agentic_match.data import load_benchmark, load_demo

    return load_demo() if data is None else load_benchmark(data)


def build_matcher(
    *,
    data: str | Path | None = None,
    encoder: str = "all-minilm-l6-v2",
    reranker: str | None = None,
    llm: Any = None,
    config: MatchConfig = MatchConfig(),
    prepare: bool = True,
    store: IndexStoreConfig | None = None,
) -> Matcher:
    """A matcher over ``data`` (benchmark layout; ``None``: the demo corpus).

    Args:
        data: Corpus folder, or ``None`` for the demo corpus.
        encoder: Encoder spec or folder (a trained model folder works).
        reranker: ``None``, ``"llm"`` or a cross-encoder folder.
        llm: An LLM client (augmentation, explanations, the LLM reranker), or ``None``.
        config: Match settings.
        prepare: Build both indexes now.
        store: Where the indexes live (the ``index`` section; ``None``: FAISS in process).
    """
    from agentic_match.retrieval.encoder import BiEncoder

    matcher = Matcher(
        BiEncoder.load(encoder),
        load_corpus_for_matching(data),
        reranker=load_reranker(reranker, llm),
        llm=llm,
        config=config,
        store=store,
    )
    return matcher.prepare() if prepare else matcher


__all__ = [
    "Augmentation",
    "Candidate",
    "MatchConfig",
    "MatchResult",
    "Matcher",
    "MatchRequest",
    "QueryNotFoundError",
    "UnavailableError",
    "as_written",
    "augment_query",
    "candidate_rows",
    "explain_candidate",
    "match_result",
    "rerank_candidates",
    "retrieve_candidates",
    "start_match",
    "build_matcher",
    "load_corpus_for_matching",
    "load_reranker",
    "other_kind",
]
