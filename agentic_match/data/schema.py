"""The data contract: documents (resumes and jobs), labels, interactions and a corpus.

A document is an id plus either named text ``fields`` (for example ``title``,
``responsibilities``) or free ``text``, with optional ``metadata`` that is never rendered
into model inputs (sensitive attributes, categories, sources belong there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from agentic_match.types import Qrels  # re-exported: part of the data contract

if TYPE_CHECKING:
    from agentic_match.data.report import LoadReport

DocKind = Literal["resume", "job"]


@dataclass(frozen=True, slots=True)
class Document:
    """A resume or a job post.

    Attributes:
        id: Unique id within its kind.
        kind: ``"resume"`` or ``"job"``.
        fields: Named text fields (rendered as ``## field`` sections), or empty.
        text: Free text, used when the document has no fields (or in addition to them,
            rendered last under ``## text``).
        metadata: Anything else; never rendered into model inputs.
    """

    id: str
    kind: DocKind
    fields: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """True when neither the fields nor the text hold any non-blank character."""
        return not (self.text or "").strip() and not any((v or "").strip() for v in self.fields.values())


@dataclass(frozen=True, slots=True)
class Label:
    """A supervision label between a resume and a job.

    ``label`` is 1/0 for accepted/rejected, or a graded relevance (higher is better).
    """

    resume_id: str
    job_id: str
    label: float


@dataclass(frozen=True, slots=True)
class Interaction:
    """A resume (user) interacted with a job (applied, clicked, saved)."""

    resume_id: str
    job_id: str


@dataclass(slots=True)
class Corpus:
    """Everything a matching task needs, already validated.

    Attributes:
        resumes: Resume documents by id.
        jobs: Job documents by id.
        labels: Supervision labels (may be empty).
        interactions: Interaction history (may be empty).
        splits: Optional ``{"resumes": {"train": [...], ...}, "jobs": {...}}``.
        qrels: Optional evaluation judgements keyed ``"<split>_rank_resume"`` /
            ``"<split>_rank_job"`` (the benchmark's file names).
        label_splits: Optional labels per split (``{"train": [...], "dev": [...]}``).
        source: Where the corpus was loaded from, for messages.
        report: What loading read, kept and skipped (``on_error="skip"`` keeps the
            problems of dropped rows here); ``None`` for a corpus built in memory.
    """

    resumes: dict[str, Document] = field(default_factory=dict)
    jobs: dict[str, Document] = field(default_factory=dict)
    labels: list[Label] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    splits: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    qrels: dict[str, Qrels] = field(default_factory=dict)
    label_splits: dict[str, list[Label]] = field(default_factory=dict)
    source: str = "<memory>"
    report: LoadReport | None = None

    def split_ids(self, kind: DocKind, split: str) -> list[str]:
        """Ids of ``kind`` documents in ``split``; every id when the corpus has no splits."""
        key = "resumes" if kind == "resume" else "jobs"
        if not self.splits:
            return list((self.resumes if kind == "resume" else self.jobs).keys())
        try:
            return list(self.splits[key][split])
        except KeyError:
            from agentic_match.errors import DataError

            raise DataError(f"{self.source}: no '{split}' split for {key}") from None

    def labels_for(self, split: str | None = None) -> list[Label]:
        """Labels of ``split`` (``None``: all labels)."""
        if split is None:
            return list(self.labels)
        if split in self.label_splits:
            return list(self.label_splits[split])
        from agentic_match.errors import DataError

        raise DataError(f"{self.source}: no labels for split '{split}'")
