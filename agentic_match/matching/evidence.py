"""Explanations by retrieval: requirements from the job, evidence sentences from the resume.

A small local model is bad at copying spans and at free-form judgement, and good at short,
constrained answers. So an explanation is built the other way round from
:func:`~agentic_match.matching.explain.explain_match`:

1. **Requirements come from the job** (:func:`job_requirements`): the lines of its
   qualification fields (``minimum_qualifications``, ``preferred_qualifications``, ...) with
   their bullets removed, when the post is structured; else its bulleted lines; else, when an
   LLM is given, a JSON-schema list the LLM extracts (:func:`extract_requirements`); else its
   sentences.
2. **Evidence is a resume sentence** (:func:`resume_sentences` gives exact ``(start, end)``
   spans of the rendered resume), ranked for each requirement by the encoder's cosine
   similarity. Every quote is a span of the resume *by construction*: nothing can be
   fabricated.
3. **"Met" is a calibrated score against a threshold** chosen on dev
   (``benchmarks/explanations.py``): the encoder cosine of the best sentence, or, with an LLM,
   its P(yes) to "does this sentence show this requirement?" read from the first answer
   token's log-probabilities (one token per question, no free text) over the encoder's top
   ``llm_sentences`` sentences.
4. The prose summary is optional (:attr:`EvidenceConfig.summary`) and written by the LLM from
   the verified list, never the other way round.

Typical use::

    from agentic_match.matching.evidence import EvidenceConfig, explain_with_evidence
    from agentic_match.retrieval.encoder import BiEncoder

    expl = explain_with_evidence(BiEncoder.load("all-minilm-l6-v2"), job, resume)
    print(f"{expl.met_share:.0%} of the requirements met")
    for ev in expl.met:
        print(ev.requirement, "->", ev.quote, f"({ev.score:.2f})")
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

import prompts
from agentic_match.augment.generation import GenerationPolicy, generate_structured, generate_text
from agentic_match.config import setting
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Document
from agentic_match.errors import LLMError
from agentic_match.matching.explain import Evidence, Explanation

RequirementSource = Literal["fields", "bullets", "llm", "sentences"]

# A bullet or a list number at the start of a line ("- ", "* ", "• ", "1. ", "a) ").
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u25aa\u25e6\u00b7\u2023\u2043>]+|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
# A sentence ends at . ! ? followed by space and an upper-case letter or a digit.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class EvidenceConfig:
    """Settings of :func:`explain_with_evidence`."""

    requirement_fields: tuple[str, ...] = setting(
        ("minimum_qualifications", "preferred_qualifications", "qualifications", "requirements", "skills"),
        help="Job fields whose lines are requirements, in this order (the first are listed first).",
    )
    max_requirements: int = setting(12, help="Requirements explained per job (the first ones).")
    min_requirement_chars: int = setting(8, help="Shorter requirement lines are headings, not requirements.")
    min_sentence_chars: int = setting(
        20, help="Shorter resume lines are not evidence (e.g. 'City', 'State', a date on its own)."
    )
    min_sentence_words: int = setting(
        4, help="Resume lines of fewer words are headings or labels ('Professional Experience'), not evidence."
    )
    max_sentence_chars: int = setting(400, help="Longer evidence sentences are cut (the quote stays an exact span).")
    threshold: float = setting(
        0.415,
        help=(
            "A requirement is met when the encoder cosine of its best sentence reaches this (chosen on dev by"
            " benchmarks/explanations.py for all-MiniLM-L6-v2; a ConFit*-trained MiniLM's cosines run higher:"
            " its dev choice was 0.63)."
        ),
    )
    llm_decides: bool = setting(
        False,
        help=(
            "With an LLM: its P(yes) to 'does this sentence show this requirement?' over the encoder's top"
            " ``llm_sentences`` decides met (one token per question), instead of the encoder cosine."
        ),
    )
    llm_threshold: float = setting(
        0.5, help="With ``llm_decides``: met when P(yes) of the best of its sentences reaches this (chosen on dev)."
    )
    llm_sentences: int = setting(2, help="With ``llm_decides``: the encoder's top sentences the LLM is asked about.")
    summary: bool = setting(False, help="Ask the LLM for a one-sentence summary written from the verified list.")
    summary_max_tokens: int = setting(80, help="Token budget of the summary.")
    render_config: RenderConfig = setting(
        factory=RenderConfig, help="How the resume becomes text (the text every quote is a span of)."
    )

    def __post_init__(self) -> None:
        sizes = (self.max_requirements, self.min_sentence_chars, self.min_sentence_words, self.max_sentence_chars)
        if min(*sizes, self.llm_sentences) < 1:
            raise ValueError(
                "EvidenceConfig: max_requirements, min_sentence_chars, min_sentence_words, max_sentence_chars"
                " and llm_sentences must be >= 1"
            )
        if not 0.0 <= self.llm_threshold <= 1.0:
            raise ValueError(f"EvidenceConfig.llm_threshold must be in [0, 1], got {self.llm_threshold}")


@dataclass(frozen=True)
class Requirement:
    """One requirement of a job: its text and where it came from (a field name, or the
    source kind for unstructured posts)."""

    text: str
    source: str


# --------------------------------------------------------------------------- requirements


def _lines(text: str, min_chars: int) -> list[str]:
    out = []
    for line in text.splitlines():
        line = " ".join(_BULLET.sub("", line).split())
        if len(line) >= min_chars and not line.endswith(":"):
            out.append(line)
    return out


def _dedupe(reqs: list[Requirement], limit: int) -> list[Requirement]:
    seen: set[str] = set()
    out = []
    for r in reqs:
        key = r.text.lower()
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out[:limit]


class RequirementsOutput(BaseModel):
    """What :func:`extract_requirements` asks the LLM for (bounded so small models finish)."""

    model_config = ConfigDict(extra="forbid")

    requirements: list[str] = Field(max_length=10, description="Requirements of the job post, a few words each")


def extract_requirements(llm: Any, job: Document, *, max_chars: int = 2000) -> list[str]:
    """The requirements of an unstructured job post, as the LLM lists them (JSON schema).

    The post is fenced as data. Raises :class:`~agentic_match.errors.LLMError` when no
    schema-valid answer comes back.
    """
    messages = [
        {
            "role": "user",
            "content": prompts.render("requirements", job=prompts.fence(render(job)[:max_chars], "job post")),
        }
    ]
    policy = GenerationPolicy(attempts=2)
    outcome = generate_structured(llm, messages, RequirementsOutput, policy=policy, max_tokens=300)
    if not outcome.ok or outcome.value is None:
        raise LLMError(f"no requirements extracted from job {job.id}: {outcome.problem}")
    return [" ".join(r.split()) for r in outcome.value.requirements if r.strip()]


def job_requirements(job: Document, config: EvidenceConfig = EvidenceConfig(), llm: Any = None) -> list[Requirement]:
    """The requirements of ``job`` (see the module docstring for the order of sources)."""
    reqs = [
        Requirement(line, name)
        for name in config.requirement_fields
        for line in _lines(job.fields.get(name) or "", config.min_requirement_chars)
    ]
    if reqs:
        return _dedupe(reqs, config.max_requirements)
    text = "\n".join([*(v for k, v in job.fields.items() if k != "title"), job.text or ""])
    bullets = [line for line in text.splitlines() if _BULLET.match(line)]
    reqs = [Requirement(x, "bullets") for x in _lines("\n".join(bullets), config.min_requirement_chars)]
    if reqs:
        return _dedupe(reqs, config.max_requirements)
    if llm is not None:
        return _dedupe([Requirement(x, "llm") for x in extract_requirements(llm, job)], config.max_requirements)
    spans = resume_sentences(text, min_chars=config.min_requirement_chars)
    return _dedupe([Requirement(text[a:b], "sentences") for a, b in spans], config.max_requirements)


# --------------------------------------------------------------------------- resume sentences


def resume_sentences(
    text: str, *, min_chars: int = 20, max_chars: int = 400, min_words: int = 1
) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the sentences of ``text``: lines, split again at sentence
    ends, without bullets and surrounding space, at least ``min_chars`` long and ``min_words``
    words (longer than ``max_chars``: cut there). ``text[start:end]`` is the evidence shown,
    exactly."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start_line, pos = pos, pos + len(line)
        bullet = _BULLET.match(line)
        offset = bullet.end() if bullet else 0
        body = line[offset:]
        cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(body)), len(body)]
        for a, b in zip(cuts, cuts[1:]):
            piece = body[a:b]
            lead = len(piece) - len(piece.lstrip())
            piece = piece.strip()
            if len(piece) < min_chars or len(piece.split()) < min_words:
                continue
            s = start_line + offset + a + lead
            spans.append((s, s + min(len(piece), max_chars)))
    return spans


# --------------------------------------------------------------------------- scoring


def evidence_messages(requirement: str, sentence: str) -> list[dict[str, str]]:
    """The yes/no question "does this resume sentence show this requirement?" (both fenced)."""
    content = prompts.render(
        "evidence",
        requirement=prompts.fence(requirement, "requirement"),
        sentence=prompts.fence(sentence, "resume sentence"),
    )
    return [{"role": "user", "content": content}]


def llm_p_yes(llm: Any, questions: Sequence[tuple[str, str]], *, top_logprobs: int = 10) -> list[float | None]:
    """P(yes) of the served model for each ``(requirement, sentence)``: one token each, with
    log-probabilities, sent together (the server batches them; answers are cached).
    ``None`` where neither yes nor no is among the top tokens."""
    from agentic_match.retrieval.rerank import p_yes

    if not questions:
        return []
    done = llm.chat_many(
        [evidence_messages(r, s) for r, s in questions],
        max_tokens=1,
        temperature=0.0,
        logprobs=True,
        top_logprobs=top_logprobs,
    )
    out: list[float | None] = []
    for c in done:
        tops = getattr(c, "top_logprobs", None)
        if tops is None:
            raise LLMError("the LLM client returned no log-probabilities (needs a server honouring logprobs=True)")
        out.append(p_yes(tops[0]) if tops else None)
    return out


def summary_messages(job: Document, expl: Explanation) -> list[dict[str, str]]:
    """Chat messages asking for a one-sentence summary of a *verified* explanation."""
    met = "\n".join(f"- {e.requirement} (evidence: {e.quote})" for e in expl.met) or "- none"
    missing = "\n".join(f"- {e.requirement}" for e in expl.missing) or "- none"
    content = prompts.render(
        "explain_summary",
        title=prompts.fence(job.fields.get("title") or job.id, "job title"),
        met=prompts.fence(met, "requirements met"),
        missing=prompts.fence(missing, "requirements not shown"),
    )
    return [{"role": "user", "content": content}]


@dataclass
class RequirementScores:
    """The threshold-free part of an evidence explanation (what a benchmark caches).

    Attributes:
        requirements: The job's requirements.
        text: The rendered resume (every span indexes it).
        spans: The resume's sentence spans.
        best: For each requirement, the index in ``spans`` of its best sentence.
        scores: For each requirement, the score of that sentence (encoder cosine, or the
            LLM's P(yes) when ``method`` is ``"evidence+llm"``).
        cosines: For each requirement, the encoder cosine of its best-by-encoder sentence.
        method: ``"evidence"`` or ``"evidence+llm"``.
        problem: Why nothing could be scored (no requirements, no sentences).
    """

    requirements: list[Requirement]
    text: str
    spans: list[tuple[int, int]]
    best: list[int]
    scores: list[float]
    cosines: list[float]
    method: str
    problem: str | None = None


def score_requirements(
    encoder: Any,
    job: Document,
    resume: Document,
    config: EvidenceConfig = EvidenceConfig(),
    *,
    llm: Any = None,
    lock: threading.RLock | None = None,
) -> RequirementScores:
    """Each requirement of ``job``, its best sentence of ``resume`` and that sentence's score
    (arguments as :func:`explain_with_evidence`; no threshold is applied here)."""
    judge = llm if config.llm_decides else None
    method = "evidence+llm" if judge is not None else "evidence"
    reqs = job_requirements(job, config, llm)
    text = render(resume, config.render_config)
    spans = resume_sentences(
        text,
        min_chars=config.min_sentence_chars,
        max_chars=config.max_sentence_chars,
        min_words=config.min_sentence_words,
    )
    if not reqs or not spans:
        problem = "the job lists no requirements" if not reqs else "the resume has no sentence to quote"
        return RequirementScores(reqs, text, spans, [], [], [], method, problem)
    sentences = [text[a:b] for a, b in spans]
    with lock or threading.RLock():
        vecs = np.asarray(encoder.encode([r.text for r in reqs] + sentences), dtype=np.float32)
    sims = vecs[: len(reqs)] @ vecs[len(reqs) :].T  # [requirements, sentences], cosines
    order = np.argsort(-sims, axis=1)
    best = [int(j) for j in order[:, 0]]
    cosines = [float(sims[i, j]) for i, j in enumerate(best)]
    scores = list(cosines)
    if judge is not None:
        k = min(config.llm_sentences, len(spans))
        asked = [(i, int(j)) for i in range(len(reqs)) for j in order[i, :k]]
        probs = llm_p_yes(judge, [(reqs[i].text, sentences[j]) for i, j in asked])
        scores = [0.0] * len(reqs)
        for (i, j), p in zip(asked, probs):
            if p is not None and p > scores[i]:
                scores[i], best[i] = p, j
    return RequirementScores(reqs, text, spans, best, scores, cosines, method)


def explanation_from_scores(scored: RequirementScores, job_id: str, resume_id: str, threshold: float) -> Explanation:
    """The :class:`Explanation` of ``scored`` at ``threshold``: met when the score reaches it."""
    expl = Explanation(job_id=job_id, resume_id=resume_id, method=scored.method, problem=scored.problem)
    if scored.problem is not None:
        return expl
    for req, j, score in zip(scored.requirements, scored.best, scored.scores):
        a, b = scored.spans[j]
        if score >= threshold:
            quote = scored.text[a:b]
            expl.met.append(
                Evidence(requirement=req.text, quote=quote, start=a, end=b, score=round(score, 4), source=req.source)
            )
        else:
            expl.missing.append(Evidence(requirement=req.text, score=round(score, 4), source=req.source))
    expl.met_share = len(expl.met) / len(scored.requirements)
    return expl


def explain_with_evidence(
    encoder: Any,
    job: Document,
    resume: Document,
    config: EvidenceConfig = EvidenceConfig(),
    *,
    llm: Any = None,
    lock: threading.RLock | None = None,
) -> Explanation:
    """Which requirements of ``job`` the ``resume`` meets, each with an exact resume span.

    Args:
        encoder: A :class:`~agentic_match.retrieval.encoder.BiEncoder` (anything with
            ``encode(list[str]) -> unit vectors``) that ranks sentences per requirement.
        job / resume: The documents as their authors wrote them (augmented text is no evidence).
        config: Requirement sources, thresholds, whether the LLM decides, the summary.
        llm: Optional client: the requirements of an unstructured post (no qualification
            fields, no bullets), the optional summary, and with ``config.llm_decides`` its
            P(yes) over the encoder's top sentences decides "met".
        lock: Held around encoder calls (the matcher's model lock).

    Returns:
        An :class:`Explanation` with ``method`` ``"evidence"`` (``"evidence+llm"`` when the
        LLM decides): ``met`` and ``missing`` in the job's order, each with its best sentence's
        ``score``; a met requirement carries its quote and offsets; ``met_share`` is the share
        met. ``problem`` is set (and the lists empty) when the job has no requirements or
        the resume no sentence.
    """
    scored = score_requirements(encoder, job, resume, config, llm=llm, lock=lock)
    threshold = config.llm_threshold if scored.method == "evidence+llm" else config.threshold
    expl = explanation_from_scores(scored, job.id, resume.id, threshold)
    if config.summary and llm is not None and expl.problem is None:
        outcome = generate_text(llm, summary_messages(job, expl), max_tokens=config.summary_max_tokens)
        expl.summary = (outcome.text or "").strip() if outcome.ok else ""
    return expl


__all__ = [
    "EvidenceConfig",
    "Requirement",
    "RequirementScores",
    "RequirementsOutput",
    "evidence_messages",
    "explain_with_evidence",
    "explanation_from_scores",
    "extract_requirements",
    "job_requirements",
    "llm_p_yes",
    "resume_sentences",
    "score_requirements",
    "summary_messages",
]
