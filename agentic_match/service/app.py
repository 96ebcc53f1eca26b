"""The FastAPI app: match queries and recruiter feedback over one :class:`Matcher`.

* ``POST /match`` - ranked (optionally reranked, explained) candidates for a job or resume.
* ``POST /feedback`` - a recruiter's picks, stored as preference pairs.
* ``GET /feedback/stats`` - pairs stored, pairs not yet used by a RankPO update, and (with a
  :class:`~agentic_match.feedback.learner.FeedbackLearner`) the updates the picks triggered.
* ``GET /health`` - liveness (no key needed; says nothing about the data).
* ``GET /openapi.json`` - the schema (no key needed). The interactive docs pages are off:
  they load scripts from a CDN, and nothing here reaches the network.

Every other request needs the API key, as ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``
(401 otherwise). Bad requests get a 4xx whose ``detail`` says why: 422 for a body that does
not validate, 404 for an unknown query id, 400 for a request the service cannot serve (a
step it was started without, picks that were not shown), 503 when the LLM server is down.

Handlers are plain functions, so FastAPI runs them in its thread pool (``threads`` of them),
off the event loop; concurrent ``/match`` requests share one encoder forward pass and one FAISS
search (the matcher's dynamic batching, ``MatchConfig.batch_window_ms``), the matcher guards
its torch models with a lock, and LLM calls run in parallel.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from agentic_match import __version__
from agentic_match.errors import AgenticMatchError, LLMUnavailableError
from agentic_match.feedback.learner import FeedbackLearner
from agentic_match.feedback.store import FeedbackStore
from agentic_match.matching import Matcher, MatchResult, QueryNotFoundError
from agentic_match.service.guard import MAX_BODY_BYTES, RequestGuard
from agentic_match.service.models import (
    ErrorBody,
    FeedbackRequest,
    FeedbackResponse,
    FeedbackStats,
    Health,
    LearningStatus,
    MatchRequest,
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The request cannot be served (reason in detail)"},
    401: {"model": ErrorBody, "description": "Missing or wrong API key"},
    404: {"model": ErrorBody, "description": "Unknown query id"},
    503: {"model": ErrorBody, "description": "The LLM server is unavailable; retry later"},
}


def _status_of(error: AgenticMatchError) -> int:
    if isinstance(error, QueryNotFoundError):
        return 404
    if isinstance(error, LLMUnavailableError):
        return 503
    return 400


def create_app(
    matcher: Matcher,
    store: FeedbackStore | None,
    api_key: str,
    *,
    title: str = "agentic-match",
    learner: FeedbackLearner | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    threads: int | None = None,
) -> FastAPI:
    """The HTTP API over ``matcher`` and the feedback ``store`` (``None``: feedback disabled).

    Args:
        matcher: Serves ``/match``; its corpus also gives the texts of feedback pairs.
        store: Where ``/feedback`` stores pairs.
        api_key: The key every data endpoint requires (must not be empty).
        title: The OpenAPI title.
        learner: Starts RankPO updates from the stored picks and switches the matcher's
            encoder (``None``: picks are only stored).
        max_body_bytes: Larger request bodies are refused (413) without being read.
        threads: Request handlers that run at once (the worker threads; ``None``: anyio's
            default, 40). Queries waiting for a thread queue on the event loop.
    """
    if threads is not None and threads < 1:
        raise ValueError(f"create_app: threads must be >= 1, got {threads}")
    if learner is not None and learner.store is not store:
        raise ValueError("the learner must read the store the API writes to")
    if not api_key:
        raise ValueError("create_app needs a non-empty api_key (the API never runs without one)")
    expected = api_key.encode("utf-8")
    header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="The service's API key")
    bearer = HTTPBearer(auto_error=False, description="The service's API key as a bearer token")

    def require_key(
        key: str | None = Security(header_key),
        token: HTTPAuthorizationCredentials | None = Security(bearer),
    ) -> None:
        given = key or (token.credentials if token else None)
        # compare_digest: the time taken says nothing about how much of a guess was right.
        if not given or not secrets.compare_digest(given.encode("utf-8"), expected):
            raise HTTPException(
                status_code=401,
                detail="missing or wrong API key: send it as 'X-API-Key: KEY' or 'Authorization: Bearer KEY'",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if threads is not None:
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title=title,
        version=__version__,
        description="Resume-job matching on local models: ranked candidates with verified explanations, "
        "and recruiter feedback stored as preference pairs.",
        docs_url=None,
        redoc_url=None,
    )

    # The key and the body size are checked before the body is read (see guard.py); the
    # route dependency below keeps the key requirement visible in the OpenAPI schema.
    app.add_middleware(RequestGuard, api_key=api_key, max_body_bytes=max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def _invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The field and the reason only: echoing the input back could echo text that cannot
        # be encoded (a lone surrogate), or a large body.
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(AgenticMatchError)
    async def _known_error(request: Request, exc: AgenticMatchError) -> JSONResponse:
        return JSONResponse(status_code=_status_of(exc), content={"detail": str(exc)})

    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """Liveness; no key needed."""
        return Health(
            resumes=len(matcher.corpus.resumes),
            jobs=len(matcher.corpus.jobs),
            llm=matcher.llm is not None,
            reranker=matcher.reranker is not None,
            feedback=store is not None,
        )

    @app.post(
        "/match", response_model=MatchResult, responses=_ERRORS, dependencies=[Depends(require_key)], tags=["match"]
    )
    def match(req: MatchRequest) -> MatchResult:
        """Rank resumes for a job (``kind="job"``) or jobs for a resume, best first."""
        query = req.query.to_document(req.kind) if req.query is not None else req.query_id
        return matcher.match(
            query,  # type: ignore[arg-type]
            kind=req.kind,
            k=req.k,
            augment=req.augment,
            rerank=req.rerank,
            explain=req.explain,
        )

    def _store() -> FeedbackStore:
        if store is None:
            raise HTTPException(status_code=400, detail="this service was started without a feedback store")
        return store

    feedback_route: dict[str, Any] = {
        "responses": _ERRORS,
        "dependencies": [Depends(require_key)],
        "tags": ["feedback"],
    }

    @app.post("/feedback", response_model=FeedbackResponse, **feedback_route)
    def feedback(req: FeedbackRequest) -> FeedbackResponse:
        """Store a recruiter's picks: each pick is preferred over each shown candidate not picked."""
        st = _store()
        texts = None
        corpus = matcher.corpus
        names_a_document = req.query_id in corpus.jobs or req.query_id in corpus.resumes
        if req.query_text is not None and (names_a_document or req.query_id in req.shown_ids):
            # Client text stands only for an ad hoc query: it never replaces a document's text.
            raise HTTPException(
                status_code=422,
                detail=f"query_text is for an ad hoc query id; {req.query_id!r} names a document (or a shown id)",
            )
        if req.query_id not in (corpus.jobs if req.kind == "job" else corpus.resumes):
            if not (req.query_text or "").strip():
                raise QueryNotFoundError(
                    f"no {req.kind} with id {req.query_id!r} in the corpus; send its text as 'query_text'"
                )
            texts = {req.query_id: req.query_text}
        added = st.add_picks(
            req.query_id,
            req.shown_ids,
            req.picked_ids,
            recruiter=req.recruiter,
            query_kind=req.kind,
            texts=texts,
            reason=req.note,
        )
        update = learner.maybe_start() if learner is not None else None
        return FeedbackResponse(pairs_added=added, pairs_total=len(st), new_pairs=st.count_new(), update=update)

    @app.get("/feedback/stats", response_model=FeedbackStats, **feedback_route)
    def feedback_stats() -> FeedbackStats:
        """How many pairs are stored, and how many a RankPO update has not used yet."""
        st = _store()
        learning = LearningStatus(**learner.status()) if learner is not None else None
        return FeedbackStats(pairs_total=len(st), new_pairs=st.count_new(), watermark=st.watermark(), learning=learning)

    return app


__all__ = ["create_app"]
