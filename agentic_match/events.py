"""Progress and partial-result events, as typed dicts: one module for every stream.

The graphs emit them on LangGraph's ``custom`` stream (``stream_mode="custom"``); the plain
Python paths (``Matcher.match(on_event=...)``, the pipeline's steps) pass the same dicts to
a callback. Every event has an ``"event"`` key naming its kind; consumers (the CLI's
progress printers, the HTTP service) switch on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypedDict

# --------------------------------------------------------------------------- document batches


class StartEvent(TypedDict):
    """A batch run starts: how many items, how many already done (a resumed run)."""

    event: Literal["start"]
    documents: int
    done: int


class DocumentEvent(TypedDict):
    """One document (or judged pair) finished: ``ok`` false keeps it unchanged."""

    event: Literal["document"]
    id: str
    ok: bool
    problem: str | None
    attempts: int


class BatchEvent(TypedDict):
    """One parallel batch finished."""

    event: Literal["batch"]
    index: int
    batches: int


# --------------------------------------------------------------------------- the match workflow


class AugmentedEvent(TypedDict):
    """The query's augmentation (HyRe / IRC) is known."""

    event: Literal["augmented"]
    query_id: str
    augmentation: dict[str, Any]


class CandidatesEvent(TypedDict):
    """The first stage's (``retrieved``) or the reranker's (``reranked``) top ``k``."""

    event: Literal["retrieved", "reranked"]
    candidates: list[dict[str, Any]]


class ExplanationEvent(TypedDict):
    """One candidate's verified explanation."""

    event: Literal["explanation"]
    id: str
    explanation: dict[str, Any]


class DoneEvent(TypedDict):
    """The match result is complete."""

    event: Literal["done"]
    candidates: int


# --------------------------------------------------------------------------- the train pipeline


class StepEvent(TypedDict, total=False):
    """A pipeline step starts (``step_start``) or ends (``step_done``: whether it ran, its time)."""

    event: Literal["step_start", "step_done"]
    step: str
    ran: bool
    wall_s: float
    skipped: str | None


# --------------------------------------------------------------------------- recruiter feedback


class FeedbackEvent(TypedDict, total=False):
    """The feedback loop showed a shortlist, recorded picks, or ran an update."""

    event: Literal["shown", "recorded", "update"]
    job_id: str
    model: str
    candidates: int
    added: int
    pending: int
    threshold: int
    result: dict[str, Any] | None


Event = (
    StartEvent
    | DocumentEvent
    | BatchEvent
    | AugmentedEvent
    | CandidatesEvent
    | ExplanationEvent
    | DoneEvent
    | StepEvent
    | FeedbackEvent
)
EventSink = Callable[[Any], None]
"""Receives events (a LangGraph stream writer, or any callback)."""


def ignore(_event: Any) -> None:
    """An :data:`EventSink` that drops everything."""


def document_event(doc_id: str, ok: bool, problem: str | None, attempts: int) -> DocumentEvent:
    """The event of one finished document."""
    return DocumentEvent(event="document", id=doc_id, ok=ok, problem=problem, attempts=attempts)


__all__ = [
    "AugmentedEvent",
    "BatchEvent",
    "CandidatesEvent",
    "DocumentEvent",
    "DoneEvent",
    "Event",
    "EventSink",
    "ExplanationEvent",
    "FeedbackEvent",
    "StartEvent",
    "StepEvent",
    "document_event",
    "ignore",
]
