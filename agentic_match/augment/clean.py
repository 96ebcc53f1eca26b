"""CV clean-up: a free-text resume turned into structured fields by the LLM.

The model answers with :class:`CleanCV` (JSON schema output); :func:`cleaned_document` turns
it into a document whose fields are the structured record (``title``, ``previous_titles``,
``education``, ``skills``, ``previous_employers``, ``sectors``). The original text is kept
(``keep_text``) so nothing the user wrote is lost, and the record is stored in
``metadata["clean"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

import prompts
from agentic_match.augment.generation import (
    ChatModel,
    GenerationPolicy,
    Outcome,
    generate_structured,
)
from agentic_match.config import setting
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Document


class CleanCV(BaseModel):
    """The structured record of a resume (lists bounded so a small model cannot loop)."""

    current_title: str = Field(max_length=200, description="Most recent job title, '' if none")
    previous_titles: list[str] = Field(default_factory=list, max_length=10)
    education: list[str] = Field(default_factory=list, max_length=6)
    skills: list[str] = Field(default_factory=list, max_length=25)
    previous_employers: list[str] = Field(default_factory=list, max_length=10)
    sectors: list[str] = Field(default_factory=list, max_length=6)


@dataclass(frozen=True)
class CleanConfig:
    """Settings of CV clean-up."""

    resume_chars: int = setting(3000, help="The resume is cut to this many characters in the prompt.")
    max_tokens: int = setting(400, help="Generation budget of one record.")
    keep_text: bool = setting(True, help="Keep the original resume text next to the structured fields.")


def clean_messages(
    resume: Document, config: CleanConfig = CleanConfig(), render_config: RenderConfig = RenderConfig()
) -> list[dict[str, str]]:
    """Chat messages asking for the structured record of ``resume``."""
    rcfg = RenderConfig(**{**render_config.__dict__, "max_total_chars": config.resume_chars})
    return [{"role": "user", "content": prompts.render("clean", resume=prompts.fence(render(resume, rcfg), "resume"))}]


def _join(items: list[str]) -> str:
    # Small models repeat list items; keep the first of each (case-insensitive).
    seen: set[str] = set()
    kept = []
    for x in (i.strip() for i in items):
        if x and x.lower() not in seen:
            seen.add(x.lower())
            kept.append(x)
    return "; ".join(kept)


def cleaned_document(
    resume: Document, cv: CleanCV, config: CleanConfig = CleanConfig(), *, attempts: int = 1
) -> Document:
    """The structured document of ``resume`` (empty parts of the record left out)."""
    fields = {
        "title": cv.current_title.strip(),
        "previous_titles": _join(cv.previous_titles),
        "education": _join(cv.education),
        "skills": _join(cv.skills),
        "previous_employers": _join(cv.previous_employers),
        "sectors": _join(cv.sectors),
    }
    fields = {k: v for k, v in fields.items() if v}
    text = None
    if config.keep_text:
        # The original document, rendered, so fields and text of the input both survive.
        text = render(resume) or None
    meta = {**resume.metadata, "clean": {**cv.model_dump(), "attempts": attempts}}
    return Document(resume.id, resume.kind, fields, text, meta)


def _cv_problem(cv: CleanCV) -> str | None:
    if not cv.current_title.strip() and not any(cv.skills) and not any(cv.previous_titles):
        return "empty record (no title, previous titles or skills)"
    return None


def clean_resume(
    llm: ChatModel,
    resume: Document,
    config: CleanConfig = CleanConfig(),
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    render_config: RenderConfig = RenderConfig(),
) -> tuple[Document, Outcome[CleanCV]]:
    """One checked clean-up; a failed one returns ``resume`` unchanged."""
    outcome = generate_structured(
        llm,
        clean_messages(resume, config, render_config),
        CleanCV,
        policy=policy,
        check=_cv_problem,
        max_tokens=config.max_tokens,
    )
    if not outcome.ok or outcome.value is None:
        return resume, outcome
    return cleaned_document(resume, outcome.value, config, attempts=outcome.attempts), outcome
