"""HyRe (ConFit v2): a hypothetical reference resume written for each job post.

The generator sees a few accepted (job, resume) pairs and the target job, and writes an
ideal resume for the target in the same format. The job's text used for matching becomes
``job + separator + generated resume`` (``concat``), or the generated resume alone
(``replace``). All documents enter the prompt fenced as data.

The reverse direction (:func:`reverse_messages`) writes a hypothetical job post for a
resume from the same few-shot pairs. :func:`hyre_document` runs one checked generation
and returns the augmented document; a failed generation leaves the document unchanged.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

import prompts
from agentic_match.augment.generation import (
    ChatModel,
    GenerationPolicy,
    Outcome,
    echo_problem,
    generate_text,
    loop_problem,
    placeholder_problem,
)
from agentic_match.config import setting
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Corpus, Document, Label
from agentic_match.errors import ConfigError, DataError


@dataclass(frozen=True)
class HyReConfig:
    """Settings of HyRe generation."""

    n_examples: int = setting(1, help="Few-shot accepted pairs shown to the generator (fixed for all jobs).")
    seed: int = setting(0, help="Seed of the draw of those pairs from the training labels.")
    mode: str = setting("concat", help="``concat`` (job + separator + generated resume) or ``replace``.")
    separator: str = setting(
        "\n\n## hypothetical reference resume\n",
        help="Text between the job and the generated resume in ``concat`` mode.",
    )
    max_tokens: int = setting(256, help="Generation budget of one hypothetical resume.")
    example_chars: int = setting(800, help="Each few-shot document is cut to this many characters (context budget).")
    job_chars: int = setting(2000, help="The target job is cut to this many characters.")
    max_copied_share: float = setting(
        0.6,
        help=(
            "A generation whose lines are at least this share verbatim copies of the target document, or of a few-"
            "shot example's answer, is rejected and retried (1.0: never)."
        ),
    )

    def __post_init__(self) -> None:
        if self.mode not in ("concat", "replace"):
            raise ConfigError(f"HyReConfig.mode must be 'concat' or 'replace', not {self.mode!r}")


def pick_examples(
    corpus: Corpus, labels: Sequence[Label], config: HyReConfig, exclude_jobs: set[str] = frozenset()
) -> list[tuple[Document, Document]]:
    """Draw ``n_examples`` accepted (job, resume) pairs, seeded, from ``labels``."""
    accepted = sorted({(lb.job_id, lb.resume_id) for lb in labels if lb.label > 0 and lb.job_id not in exclude_jobs})
    if len(accepted) < config.n_examples:
        raise DataError(
            f"{corpus.source}: HyRe needs {config.n_examples} accepted label(s) for few-shot examples, "
            f"found {len(accepted)}"
        )
    rng = random.Random(config.seed)
    return [(corpus.jobs[j], corpus.resumes[r]) for j, r in rng.sample(accepted, config.n_examples)]


def _example_render_config(config: HyReConfig, render_config: RenderConfig) -> RenderConfig:
    return RenderConfig(**{**render_config.__dict__, "max_total_chars": config.example_chars})


def few_shot_answers(
    kind: str,
    examples: Sequence[tuple[Document, Document]],
    config: HyReConfig = HyReConfig(),
    render_config: RenderConfig = RenderConfig(),
) -> list[str]:
    """The few-shot answers exactly as the generator sees them, for a target of ``kind``:
    the example resumes for a job, the example job posts for a resume (reverse HyRe)."""
    cfg = _example_render_config(config, render_config)
    return [render(job if kind == "resume" else resume, cfg) for job, resume in examples]


def _few_shot(
    system: str,
    turn: str,
    example: str,
    field: str,
    label: str,
    answer_label: str,
    shots: Sequence[tuple[Document, Document]],
    target: Document,
    config: HyReConfig,
    render_config: RenderConfig,
) -> list[dict[str, str]]:
    # The examples are untrusted documents too: fenced data in the user's turn, never an
    # assistant turn (text put in the model's own mouth is what it trusts most). The model's
    # copy of a fence is removed from its answer (prompts.unfence).
    ex_cfg = _example_render_config(config, render_config)
    doc_cfg = RenderConfig(**{**render_config.__dict__, "max_total_chars": config.job_chars})
    parts = [
        prompts.render(
            example,
            given=prompts.fence(render(given, ex_cfg), label),
            answer=prompts.fence(render(answer, ex_cfg), answer_label),
        )
        for given, answer in shots
    ]
    parts.append(prompts.render(turn, **{field: prompts.fence(render(target, doc_cfg), label)}))
    return [{"role": "system", "content": prompts.render(system)}, {"role": "user", "content": "\n".join(parts)}]


def hyre_messages(
    job: Document,
    examples: Sequence[tuple[Document, Document]],
    config: HyReConfig = HyReConfig(),
    render_config: RenderConfig = RenderConfig(),
) -> list[dict[str, str]]:
    """Chat messages asking for a hypothetical reference resume for ``job``: the
    instructions as the system message; the few-shot pairs and the job as fenced data in
    the user's turn."""
    return _few_shot(
        "hyre", "hyre_turn", "hyre_example", "job", "job post", "resume", examples, job, config, render_config
    )


def reverse_messages(
    resume: Document,
    examples: Sequence[tuple[Document, Document]],
    config: HyReConfig = HyReConfig(),
    render_config: RenderConfig = RenderConfig(),
) -> list[dict[str, str]]:
    """Chat messages asking for a hypothetical job post that suits ``resume`` (reverse HyRe)."""
    shots = [(r, j) for j, r in examples]
    return _few_shot(
        "hyre_reverse",
        "hyre_reverse_turn",
        "hyre_reverse_example",
        "resume",
        "resume",
        "job post",
        shots,
        resume,
        config,
        render_config,
    )


def messages_for(
    doc: Document,
    examples: Sequence[tuple[Document, Document]],
    config: HyReConfig = HyReConfig(),
    render_config: RenderConfig = RenderConfig(),
) -> list[dict[str, str]]:
    """HyRe messages for a job (a hypothetical resume) or a resume (a hypothetical job)."""
    if doc.kind == "job":
        return hyre_messages(doc, examples, config, render_config)
    return reverse_messages(doc, examples, config, render_config)


_SKILLS_LINE = re.compile(r"^\W*(?:key\s+)?skills?\b\W*(.*)$", re.IGNORECASE)


def hyre_claims(generated: str, post: str) -> tuple[list[str], list[str]]:
    """The skills a hypothetical resume claims (its ``Skills:`` lines, split on commas,
    semicolons and bullets), as ``(supported, unsupported)`` by the job post: a skill is
    supported when one of its content words appears in the post.

    A reference resume may well hold skills the post does not name; the unsupported share
    says how far a writer strays from the post it was given.
    """
    from agentic_match.augment.completion import content_words, skill_supported

    evidence = content_words(post)
    supported: list[str] = []
    unsupported: list[str] = []
    for line in generated.splitlines():
        m = _SKILLS_LINE.match(line.strip())
        if not m:
            continue
        for item in re.split(r"[,;•|]", m.group(1)):
            item = item.strip(" -*.")
            if item:
                (supported if skill_supported(item, evidence) else unsupported).append(item)
    return supported, unsupported


def augment_job_text(job_text: str, generated: str, config: HyReConfig = HyReConfig()) -> str:
    """The job text used for matching; an empty generation never replaces the original."""
    generated = generated.strip()
    if not generated:
        return job_text
    if config.mode == "replace":
        return generated
    return job_text + config.separator + generated


def reverse_separator(config: HyReConfig) -> str:
    """The separator of the reverse direction (a resume followed by a hypothetical job)."""
    return config.separator.replace("hypothetical reference resume", "hypothetical job post")


def augmented_document(
    doc: Document,
    generated: str,
    config: HyReConfig = HyReConfig(),
    render_config: RenderConfig = RenderConfig(),
    *,
    attempts: int = 1,
) -> Document:
    """``doc`` with its text replaced by the HyRe text used for matching.

    The new document has no fields and ``text = render(doc) + separator + generated`` (or
    the generated text alone in ``replace`` mode), so that rendering it downstream gives
    exactly the augmented text; the generated part is kept apart in ``metadata["hyre"]``.
    An empty ``generated`` returns ``doc`` unchanged.
    """
    if not generated.strip():
        return doc
    cfg = config if doc.kind == "job" else HyReConfig(**{**config.__dict__, "separator": reverse_separator(config)})
    text = augment_job_text(render(doc, render_config), generated, cfg)
    hyre = {"generated": generated.strip(), "mode": config.mode, "attempts": attempts}
    if config.mode == "concat":
        # Kept so that the encoder can recover the post exactly and choose what it reads
        # (agentic_match.retrieval.hyre_view).
        hyre["separator"] = cfg.separator
    meta = {**doc.metadata, "hyre": hyre}
    return Document(id=doc.id, kind=doc.kind, fields={}, text=text, metadata=meta)


def hyre_problem(
    text: str, source: str, answers: Sequence[str], layout: str, config: HyReConfig = HyReConfig()
) -> str | None:
    """Why a HyRe answer is rejected, or None: a copy of the target document or of a few-shot
    answer (``max_copied_share``), a loop (a line repeated more than twice), or the layout's
    placeholders written back instead of filled in.

    Small models fail in all three ways: Qwen2.5-Coder-0.5B wrote ``Summary: 2 sentences on
    experience and strengths`` and the same experience line a dozen times, and bullet-marked
    copies of the post's requirements (see docs/benchmarks.md, HyRe writers).
    """
    problems = [loop_problem(text), placeholder_problem(text, layout)]
    if config.max_copied_share < 1:
        problems.append(echo_problem(text, source, config.max_copied_share))
        problems += [echo_problem(text, a, config.max_copied_share, "a few-shot example's answer") for a in answers]
    return next((p for p in problems if p), None)


def hyre_document(
    llm: ChatModel,
    doc: Document,
    examples: Sequence[tuple[Document, Document]],
    config: HyReConfig = HyReConfig(),
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    render_config: RenderConfig = RenderConfig(),
) -> tuple[Document, Outcome]:
    """One checked HyRe generation for ``doc`` (job or resume).

    Returns the augmented document and the outcome; when every attempt failed the document
    is returned unchanged and ``outcome.problem`` says why. Generations are cached by the
    client, so a rerun sends no request.
    """
    source = render(doc, render_config)
    # Small models also answer with the few-shot example's answer for every job (SmolLM2-135M
    # did so for most test jobs): the same text appended to every job only blurs them.
    answers = few_shot_answers(doc.kind, examples, config, render_config)

    layout = prompts.render("hyre" if doc.kind == "job" else "hyre_reverse")

    def check(text: str) -> str | None:
        return hyre_problem(text, source, answers, layout, config)

    messages = messages_for(doc, examples, config, render_config)
    outcome = generate_text(llm, messages, policy=policy, max_tokens=config.max_tokens, check=check)
    if not outcome.ok:
        return doc, outcome
    return augmented_document(doc, outcome.text or "", config, render_config, attempts=outcome.attempts), outcome
