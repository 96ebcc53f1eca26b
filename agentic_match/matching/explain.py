"""Skill-gap explanations: which requirements of a job a resume meets, with quoted evidence.

The local LLM reads the job post and the resume (both fenced as data, ``prompts/explain.txt``)
and answers in a fixed schema (:class:`ExplanationOutput`): a short summary, the requirements
met and the requirements missing, each with a quote from the resume. Nothing the model says
about the resume is trusted as is: every quote is looked up in the resume text
(:func:`locate_quote`; case, whitespace runs and typographic quotes/dashes are normalised for
the lookup only) and replaced by the exact span of the resume it matches, with its offsets.
A quote that is not in the resume is dropped:

* a requirement claimed *met* without a real quote moves to ``unverified`` (a claim without
  evidence is not shown as met);
* a *missing* requirement keeps its place, without the quote.

So an :class:`Explanation` never shows fabricated evidence; ``dropped_quotes`` counts what
was removed. Typical use::

    from agentic_match.matching.explain import explain_match

    expl = explain_match(llm, corpus.jobs["j-1"], corpus.resumes["r-7"])
    for ev in expl.met:
        print(ev.requirement, "->", ev.quote)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

import prompts
from agentic_match.augment.generation import ChatModel, GenerationPolicy, generate_structured
from agentic_match.config import setting
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Document

# Typographic variants a model (or a word processor) swaps freely; folded for the lookup only.
_FOLD = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u00a0": " ",
}
_QUOTE_EDGES = "\"'`\u2018\u2019\u201c\u201d\u00ab\u00bb "
_TRAILING_PUNCT = ".,;:!?"


# --------------------------------------------------------------------------- schema


class QuotedRequirement(BaseModel):
    """One requirement as the model states it (its quote is not yet verified)."""

    model_config = ConfigDict(extra="forbid")

    requirement: str = Field(max_length=120, description="A requirement of the job post, in a few words")
    quote: str = Field(max_length=200, description="Words copied exactly from the resume, or '' when none")


class ExplanationOutput(BaseModel):
    """What the explanation prompt asks the model for.

    Bounded (five requirements a side, short strings) so that the constrained decoding of a
    small model ends inside the token budget instead of being cut mid-JSON.
    """

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(max_length=300, description="One or two sentences on the overall fit")
    met: list[QuotedRequirement] = Field(max_length=5, description="Requirements the resume shows")
    missing: list[QuotedRequirement] = Field(max_length=5, description="Requirements the resume does not show")


class Evidence(BaseModel):
    """A requirement with its verified evidence.

    Attributes:
        requirement: The requirement (model text).
        quote: The exact span of the resume text that the model's quote matched (``None``
            when there is no verified quote).
        start / end: Offsets of ``quote`` in the rendered resume text (``None`` with it).
        score: The calibrated score that decided *met* (evidence explanations: the encoder
            cosine or the LLM's P(yes) of the best sentence; ``None`` for LLM quotes).
        source: Where the requirement came from (a job field name, ``"bullets"``, ``"llm"``,
            ``"sentences"``; ``None`` for LLM quotes).
    """

    requirement: str
    quote: str | None = None
    start: int | None = None
    end: int | None = None
    score: float | None = None
    source: str | None = None


class Explanation(BaseModel):
    """A verified skill-gap explanation of one (job, resume) pair.

    Attributes:
        job_id / resume_id: The pair explained.
        summary: The model's short overall judgement (its own words, not evidence).
        met: Requirements met, each with a quote verified to be in the resume.
        missing: Requirements not met (a quote only when a real one was given).
        unverified: Requirements the model called met without a real quote (their quote was
            dropped; not counted as met).
        dropped_quotes: Quotes removed because they are not in the resume.
        problem: Why no explanation could be generated (then the lists are empty).
        method: ``"llm_quotes"`` (this module: the LLM lists requirements and quotes),
            ``"evidence"`` / ``"evidence+llm"`` (:mod:`agentic_match.matching.evidence`).
        met_share: Share of the job's requirements met (evidence explanations).
    """

    job_id: str
    resume_id: str
    method: str = "llm_quotes"
    met_share: float | None = None
    summary: str = ""
    met: list[Evidence] = Field(default_factory=list)
    missing: list[Evidence] = Field(default_factory=list)
    unverified: list[Evidence] = Field(default_factory=list)
    dropped_quotes: int = 0
    problem: str | None = None


@dataclass(frozen=True)
class ExplainConfig:
    """Settings of :func:`explain_match`."""

    job_chars: int = setting(1500, help="The job post is cut to this many characters in the prompt.")
    resume_chars: int = setting(2500, help="The resume is cut to this many characters in the prompt.")
    max_tokens: int = setting(600, help="Generation budget of one explanation.")
    min_quote_chars: int = setting(3, help="Quotes shorter than this (without spaces) are not evidence.")
    repetition_penalty: float | None = setting(
        1.1,
        help=(
            "Sent to the server (vLLM's ``repetition_penalty``; ``None``: not sent). Small models under constrained"
            " decoding otherwise tend to loop on whitespace until the token budget cuts the JSON."
        ),
    )
    policy: GenerationPolicy = setting(
        factory=lambda: GenerationPolicy(attempts=2),
        help="Attempts of a schema-valid answer (the client also makes one repair retry).",
    )
    render_config: RenderConfig = setting(
        factory=RenderConfig, help="How documents become text (the text quotes are checked against)."
    )

    def __post_init__(self) -> None:
        if min(self.job_chars, self.resume_chars, self.max_tokens, self.min_quote_chars) < 1:
            raise ValueError("ExplainConfig: job_chars, resume_chars, max_tokens and min_quote_chars must be >= 1")


# --------------------------------------------------------------------------- quote checking


def _normalised(text: str) -> tuple[str, list[int]]:
    """``text`` lower-cased, folded and with whitespace runs as one space, plus for each
    output character the index of the input character it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        ch = _FOLD.get(ch, ch)
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                where.append(i)
            continue
        for c in unicodedata.normalize("NFKC", ch).lower():
            out.append(c)
            where.append(i)
    return "".join(out), where


def _clean_quote(quote: str) -> str:
    q = quote.strip()
    for _ in range(3):  # quote marks around an ellipsis around the text, in any order
        q = q.strip(_QUOTE_EDGES)
        for ell in ("...", "\u2026"):
            q = q.removeprefix(ell).removesuffix(ell)
    return q.strip(_QUOTE_EDGES)


def locate_quote(text: str, quote: str, *, min_chars: int = 3) -> tuple[int, int] | None:
    """Where ``quote`` occurs in ``text`` as ``(start, end)`` offsets, or ``None``.

    The lookup ignores case, runs of whitespace, typographic quote and dash variants, quote
    marks or an ellipsis around the quote, and one trailing punctuation mark; the returned
    span is of the original ``text`` (``text[start:end]`` is the evidence to show). Quotes
    with fewer than ``min_chars`` non-space characters are never evidence.
    """
    q = _clean_quote(quote)
    norm_text, where = _normalised(text)
    for candidate in (q, q.rstrip(_TRAILING_PUNCT)):
        norm_q = _normalised(candidate)[0].strip()
        if len(norm_q.replace(" ", "")) < min_chars:
            continue
        at = norm_text.find(norm_q)
        if at >= 0:
            return where[at], where[at + len(norm_q) - 1] + 1
    return None


def verify_explanation(
    output: ExplanationOutput,
    resume_text: str,
    *,
    job_id: str,
    resume_id: str,
    min_quote_chars: int = 3,
) -> Explanation:
    """Check every quote of ``output`` against ``resume_text`` (see the module docstring).

    Requirements are kept in the model's order; blank ones and repeats (same text, case
    and spacing ignored) are left out.
    """
    expl = Explanation(job_id=job_id, resume_id=resume_id, summary=output.summary.strip())
    seen: set[str] = set()

    def evidence(item: QuotedRequirement) -> tuple[Evidence | None, bool]:
        req = " ".join(item.requirement.split())
        key = req.lower()
        if not req or key in seen:
            return None, False
        seen.add(key)
        if not item.quote.strip():
            return Evidence(requirement=req), False
        span = locate_quote(resume_text, item.quote, min_chars=min_quote_chars)
        if span is None:
            return Evidence(requirement=req), True
        return Evidence(requirement=req, quote=resume_text[span[0] : span[1]], start=span[0], end=span[1]), False

    for item in output.met:
        ev, dropped = evidence(item)
        if ev is None:
            continue
        expl.dropped_quotes += dropped
        (expl.met if ev.quote is not None else expl.unverified).append(ev)
    for item in output.missing:
        ev, dropped = evidence(item)
        if ev is None:
            continue
        expl.dropped_quotes += dropped
        expl.missing.append(ev)
    return expl


# --------------------------------------------------------------------------- generation


def explain_messages(job: Document, resume: Document, config: ExplainConfig = ExplainConfig()) -> list[dict[str, str]]:
    """Chat messages asking for the explanation of ``(job, resume)``; both are fenced."""
    rc = config.render_config
    content = prompts.render(
        "explain",
        job=prompts.fence(render(job, rc)[: config.job_chars], "job post"),
        resume=prompts.fence(render(resume, rc)[: config.resume_chars], "resume"),
    )
    return [{"role": "user", "content": content}]


def explain_match(
    llm: ChatModel,
    job: Document,
    resume: Document,
    config: ExplainConfig = ExplainConfig(),
) -> Explanation:
    """A verified explanation of how ``resume`` fits ``job``.

    Pass the documents as the user wrote them (not LLM-augmented): quotes are checked
    against the rendered ``resume``, and augmented text is no evidence. A generation that
    fails every attempt gives an explanation with ``problem`` set (never an exception);
    an unreachable server raises :class:`~agentic_match.errors.LLMUnavailableError`.
    """
    extra = (
        {} if config.repetition_penalty is None else {"extra_body": {"repetition_penalty": config.repetition_penalty}}
    )
    outcome = generate_structured(
        llm,
        explain_messages(job, resume, config),
        ExplanationOutput,
        policy=config.policy,
        max_tokens=config.max_tokens,
        **extra,
    )
    if not outcome.ok or outcome.value is None:
        return Explanation(job_id=job.id, resume_id=resume.id, problem=outcome.problem or "no explanation generated")
    return verify_explanation(
        outcome.value,
        render(resume, config.render_config),
        job_id=job.id,
        resume_id=resume.id,
        min_quote_chars=config.min_quote_chars,
    )


__all__ = [
    "Evidence",
    "ExplainConfig",
    "Explanation",
    "ExplanationOutput",
    "QuotedRequirement",
    "explain_match",
    "explain_messages",
    "locate_quote",
    "verify_explanation",
]
