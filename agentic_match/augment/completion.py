"""LGIR resume completion: SRC (self-report) and IRC (interaction-based) completions.

LGIR (Du, Luo, Yan et al., "Enhancing Job Recommendation through LLM-based Generative
Adversarial Networks", AAAI 2024) completes sparse resumes with an LLM: SRC reads the resume alone,
IRC also reads the job posts the user interacted with. What the model infers is kept
apart from what the user wrote: the completed document keeps every original field and text,
and adds one field, ``inferred`` (rendered under its own ``## inferred`` heading), whose
content is also stored structured in ``metadata["inferred"]`` with the method that made it.

:func:`fabrication_report` counts generated skills that neither the resume nor the interacted
jobs state (some content word of the skill appears in neither), so SRC and IRC can be compared
(:func:`compare_fabrication`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

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
from agentic_match.data.schema import Document, Interaction
from agentic_match.errors import ConfigError, DataError, Problem

CompletionMethod = Literal["src", "irc"]
INFERRED_FIELD = "inferred"
_WORD = re.compile(r"[^\W_]+(?:[+#.][^\W_]*)*|[+#]+", re.UNICODE)
# Words that carry no skill on their own ("management of", "skills in").
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "or",
        "of",
        "the",
        "in",
        "on",
        "for",
        "with",
        "to",
        "by",
        "at",
        "as",
        "from",
        "skill",
        "skills",
        "experience",
        "knowledge",
        "strong",
        "good",
        "excellent",
        "basic",
        "advanced",
        "proficiency",
        "proficient",
        "using",
        "use",
        "working",
        "work",
    ]
)


class CompletionOutput(BaseModel):
    """What a completion prompt asks the model for (bounded so a small model cannot loop)."""

    summary: str = Field(max_length=1200, description="Two or three sentences on the candidate's profile")
    skills: list[str] = Field(max_length=15, description="Concrete skills the candidate very likely has")


@dataclass(frozen=True)
class CompletionConfig:
    """Settings of SRC / IRC completion."""

    method: CompletionMethod = setting("src", help="``src`` (resume only) or ``irc`` (resume + interacted jobs).")
    max_jobs: int = setting(3, help="Interacted jobs shown per resume in IRC (the first ones, in file order).")
    resume_chars: int = setting(2000, help="The resume is cut to this many characters.")
    job_chars: int = setting(600, help="Each interacted job is cut to this many characters.")
    max_tokens: int = setting(320, help="Generation budget of one completion.")

    def __post_init__(self) -> None:
        if self.method not in ("src", "irc"):
            raise ConfigError(f"CompletionConfig.method must be 'src' or 'irc', not {self.method!r}")
        if self.max_jobs < 1:
            raise ConfigError("CompletionConfig.max_jobs must be >= 1")


def interacted_jobs(
    interactions: Iterable[Interaction], jobs: Mapping[str, Document], *, source: str = "interactions"
) -> dict[str, list[Document]]:
    """``{resume_id: [job, ...]}`` in interaction order (repeats dropped).

    Raises:
        DataError: an interaction names a job that is not in ``jobs`` (every one listed).
    """
    out: dict[str, list[Document]] = {}
    seen: set[tuple[str, str]] = set()
    problems = []
    for i, it in enumerate(interactions, 1):
        if it.job_id not in jobs:
            problems.append(Problem(source, i, "job_id", f"unknown job id {it.job_id!r}"))
            continue
        if (it.resume_id, it.job_id) in seen:
            continue
        seen.add((it.resume_id, it.job_id))
        out.setdefault(it.resume_id, []).append(jobs[it.job_id])
    if problems:
        raise DataError(problems)
    return out


def completion_messages(
    resume: Document,
    jobs: Sequence[Document] = (),
    config: CompletionConfig = CompletionConfig(),
    render_config: RenderConfig = RenderConfig(),
) -> list[dict[str, str]]:
    """Chat messages of an SRC (``jobs`` ignored) or IRC completion of ``resume``."""
    rcfg = RenderConfig(**{**render_config.__dict__, "max_total_chars": config.resume_chars})
    resume_block = prompts.fence(render(_without_inferred(resume), rcfg), "resume")
    if config.method == "src":
        return [{"role": "user", "content": prompts.render("complete_src", resume=resume_block)}]
    jcfg = RenderConfig(**{**render_config.__dict__, "max_total_chars": config.job_chars})
    shown = list(jobs)[: config.max_jobs]
    job_blocks = "\n\n".join(prompts.fence(render(j, jcfg), "job post") for j in shown) or "(none)"
    return [{"role": "user", "content": prompts.render("complete_irc", resume=resume_block, jobs=job_blocks)}]


def _without_inferred(doc: Document) -> Document:
    # A resume completed before must not feed its own inferences back as if the user wrote them.
    if INFERRED_FIELD not in doc.fields:
        return doc
    fields = {k: v for k, v in doc.fields.items() if k != INFERRED_FIELD}
    return Document(doc.id, doc.kind, fields, doc.text, doc.metadata)


def inferred_text(output: CompletionOutput) -> str:
    """The text of the ``inferred`` field."""
    skills = ", ".join(s.strip() for s in output.skills if s.strip())
    parts = [output.summary.strip()]
    if skills:
        parts.append(f"Likely skills: {skills}")
    return "\n".join(p for p in parts if p)


def completed_document(
    resume: Document, output: CompletionOutput, method: CompletionMethod, *, attempts: int = 1
) -> Document:
    """``resume`` plus the ``inferred`` field; the user's own fields and text are untouched."""
    fields = {**_without_inferred(resume).fields, INFERRED_FIELD: inferred_text(output)}
    meta = {
        **resume.metadata,
        "inferred": {
            "method": method,
            "summary": output.summary.strip(),
            "skills": [s.strip() for s in output.skills if s.strip()],
            "attempts": attempts,
            "field": INFERRED_FIELD,
        },
    }
    return Document(resume.id, resume.kind, fields, resume.text, meta)


def _output_problem(output: CompletionOutput) -> str | None:
    if not output.summary.strip() and not any(s.strip() for s in output.skills):
        return "empty completion"
    return None


def complete_resume(
    llm: ChatModel,
    resume: Document,
    jobs: Sequence[Document] = (),
    config: CompletionConfig = CompletionConfig(),
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    render_config: RenderConfig = RenderConfig(),
) -> tuple[Document, Outcome[CompletionOutput]]:
    """One checked SRC / IRC completion; a failed one returns ``resume`` unchanged."""
    msgs = completion_messages(resume, jobs, config, render_config)
    outcome = generate_structured(
        llm, msgs, CompletionOutput, policy=policy, check=_output_problem, max_tokens=config.max_tokens
    )
    if not outcome.ok or outcome.value is None:
        return resume, outcome
    return completed_document(resume, outcome.value, config.method, attempts=outcome.attempts), outcome


# --------------------------------------------------------------------------- fabrication


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` that can carry a skill (stop words removed)."""
    return {w for w in (m.lower().strip(".") for m in _WORD.findall(text)) if w and w not in _STOP}


def skill_supported(skill: str, evidence_words: set[str], *, every_word: bool = False) -> bool:
    """Whether the evidence supports a skill.

    Loose (the default): one of the skill's content words appears in the evidence. Strict
    (``every_word``): every content word does, so "Kubernetes administration" needs both
    words stated - a shared generic word ("management", "systems") no longer vouches for a
    skill the resume never names.
    """
    words = content_words(skill)
    if not words:
        return False
    return words <= evidence_words if every_word else bool(words & evidence_words)


@dataclass
class FabricationReport:
    """Generated skills of one document, split by support.

    Attributes:
        doc_id: The resume.
        method: ``src`` or ``irc``.
        supported: Skills the resume or the interacted jobs state (every content word of the
            skill appears there).
        unsupported: Skills they do not state (possible fabrications).
    """

    doc_id: str
    method: str
    supported: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.supported) + len(self.unsupported)

    @property
    def rate(self) -> float:
        """Share of generated skills with no support (0 when none were generated)."""
        return len(self.unsupported) / self.total if self.total else 0.0


def fabrication_report(
    resume: Document, skills: Sequence[str], jobs: Sequence[Document] = (), method: str = "src"
) -> FabricationReport:
    """Check each generated skill against the resume (and, for any method, the given jobs).

    The evidence is the resume as the user wrote it (any ``inferred`` field excluded) plus
    the interacted jobs passed in; pass the same jobs for SRC and IRC to compare them fairly.
    """
    evidence = content_words(render(_without_inferred(resume)))
    for j in jobs:
        evidence |= content_words(render(j))
    rep = FabricationReport(resume.id, method)
    for s in skills:
        if not s.strip():
            continue
        (rep.supported if skill_supported(s, evidence, every_word=True) else rep.unsupported).append(s.strip())
    return rep


def compare_fabrication(reports: Iterable[FabricationReport]) -> dict[str, dict[str, float]]:
    """Per method: documents, generated skills, unsupported skills and their rate."""
    out: dict[str, dict[str, float]] = {}
    for r in reports:
        m = out.setdefault(r.method, {"documents": 0, "skills": 0, "unsupported": 0, "rate": 0.0})
        m["documents"] += 1
        m["skills"] += r.total
        m["unsupported"] += len(r.unsupported)
    for m in out.values():
        m["rate"] = m["unsupported"] / m["skills"] if m["skills"] else 0.0
    return out
