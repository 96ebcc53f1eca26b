"""Request and response bodies of the HTTP API (pydantic: validated, and documented in OpenAPI)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentic_match.data.schema import DocKind, Document

MAX_QUERY_CHARS = 100_000
MAX_IDS = 200
MAX_SHOWN_IDS = 50
"""A shortlist is at most this long (with the picks this bounds one event's pairs)."""


class RequestBody(BaseModel):
    """Base of request bodies: no unknown fields, and text that is valid Unicode."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        # JSON may carry lone surrogates ("\ud800"): not text, and fatal to every encoder.
        bad = _first_surrogate(data, "")
        if bad is not None:
            raise ValueError(f"{bad or 'body'}: a lone surrogate (\\ud800-\\udfff) is not valid text")
        return data


def _first_surrogate(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for k, v in items:
        found = _first_surrogate(k, where) if isinstance(k, str) else None
        found = found if found is not None else _first_surrogate(v, f"{where}.{k}" if where else str(k))
        if found is not None:
            return found
    return None


class QueryDocument(RequestBody):
    """An ad hoc query document (not in the served corpus): free text and/or named fields."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field("query", min_length=1, max_length=200, description="Id reported back (default 'query')")
    text: str | None = Field(None, max_length=MAX_QUERY_CHARS, description="Free text of the job post or resume")
    fields: dict[str, str] | None = Field(
        None, description="Named sections (title, responsibilities, experience, skills...), rendered as '## field'"
    )

    @model_validator(mode="after")
    def _not_empty(self) -> QueryDocument:
        if not (self.text or "").strip() and not any((v or "").strip() for v in (self.fields or {}).values()):
            raise ValueError("the query document needs a non-empty 'text' or at least one non-empty field")
        if sum(len(v) for v in (self.fields or {}).values()) > MAX_QUERY_CHARS:
            raise ValueError(f"the query document's fields hold more than {MAX_QUERY_CHARS} characters")
        return self

    def to_document(self, kind: DocKind) -> Document:
        return Document(self.id, kind, fields=dict(self.fields or {}), text=self.text)


class MatchRequest(RequestBody):
    """Rank candidates for a job (resumes) or a resume (jobs)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["job", "resume"] = Field(description="job: rank resumes for a job; resume: rank jobs for a resume")
    query_id: str | None = Field(None, min_length=1, max_length=200, description="A document of the served corpus")
    query: QueryDocument | None = Field(None, description="An ad hoc document (instead of query_id)")
    k: int = Field(10, ge=1, le=100, description="Candidates returned")
    augment: bool = Field(True, description="HyRe for a job, IRC completion for a resume (cached LLM generations)")
    rerank: bool = Field(False, description="Rescore the first stage's top candidates with the reranker")
    explain: bool = Field(False, description="A verified skill-gap explanation per candidate (one LLM call each)")

    @model_validator(mode="after")
    def _one_query(self) -> MatchRequest:
        if (self.query_id is None) == (self.query is None):
            raise ValueError("give exactly one of 'query_id' (a corpus document) or 'query' (an ad hoc document)")
        return self


class FeedbackRequest(RequestBody):
    """A recruiter's picks among the candidates shown for one query."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["job", "resume"] = Field("job", description="Kind of the query (job: resumes were shown)")
    query_id: str = Field(min_length=1, max_length=200, description="The query the candidates were shown for")
    shown_ids: list[str] = Field(min_length=1, max_length=MAX_SHOWN_IDS, description="Candidates shown, in order")
    picked_ids: list[str] = Field(max_length=MAX_SHOWN_IDS, description="Candidates picked (each among shown_ids)")
    recruiter: str | None = Field(None, max_length=200, description="Who picked (pairs are unique per recruiter)")
    query_text: str | None = Field(
        None, max_length=MAX_QUERY_CHARS, description="Text of an ad hoc query that is not in the corpus"
    )
    note: str = Field("", max_length=1000, description="Stored with every pair as its reason")


class FeedbackResponse(BaseModel):
    """What the store holds after the feedback."""

    pairs_added: int = Field(description="New preference pairs (picked over shown-but-not-picked)")
    pairs_total: int = Field(description="Pairs in the store")
    new_pairs: int = Field(description="Pairs not yet used by a RankPO update")
    update: Literal["started", "running"] | None = Field(
        None, description="A RankPO update this feedback started, or one already running (learning on only)"
    )


class LearningStatus(BaseModel):
    """The service's RankPO updates from feedback (``agentic-match api --learn``)."""

    running: bool = Field(description="An update is training or evaluating now")
    threshold: int = Field(description="New pairs that start an update")
    current_model: str = Field(description="The encoder answering queries")
    updates: int = Field(description="Updates recorded so far (switched or not)")
    last_update: dict[str, Any] | None = Field(
        None, description="This process's last update: pairs, before/after metric, switched"
    )
    last_error: str | None = Field(None, description="Why this process's last update failed, if it did")


class FeedbackStats(BaseModel):
    """The feedback store's counters."""

    pairs_total: int
    new_pairs: int = Field(description="Pairs not yet used by a RankPO update")
    watermark: int = Field(description="Sequence number of the last pair used by a RankPO update")
    learning: LearningStatus | None = Field(None, description="Updates from feedback (None: learning off)")


class Health(BaseModel):
    """Liveness and what the service can do."""

    status: Literal["ok"] = "ok"
    resumes: int
    jobs: int
    llm: bool = Field(description="Augmentation and explanations are available")
    reranker: bool
    feedback: bool


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: why the request failed."""

    detail: str | list = Field(description="The reason (a list of field errors for invalid bodies)")


__all__ = [
    "ErrorBody",
    "FeedbackRequest",
    "FeedbackResponse",
    "FeedbackStats",
    "Health",
    "MatchRequest",
    "QueryDocument",
]
