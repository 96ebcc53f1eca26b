"""HyRe (ConFit v2): a hypothetical reference resume written for each job post.

The generator sees a few accepted (job, resume) pairs and the target job, and writes an
ideal resume for the target in the same format. The job's text used for matching becomes
``job + separator + generated resume`` (``concat``), or the generated resume alone
(``replace``). All documents enter the prompt fenced as data.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import prompts
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Corpus, Document, Label
from agentic_match.errors import DataError


@dataclass(frozen=True)
class HyReConfig:
    """Settings of HyRe generation.

    Attributes:
        n_examples: Few-shot accepted pairs shown to the generator (fixed for all jobs).
        seed: Seed of the draw of those pairs from the training labels.
        mode: ``concat`` (job + separator + generated resume) or ``replace``.
        separator: Text between the job and the generated resume in ``concat`` mode.
        max_tokens: Generation budget of one hypothetical resume.
        example_chars: Each few-shot document is cut to this many characters (context budget).
        job_chars: The target job is cut to this many characters.
    """

    n_examples: int = 1
    seed: int = 0
    mode: str = "concat"
    separator: str = "\n\n## hypothetical reference resume\n"
    max_tokens: int = 256
    example_chars: int = 1200
    job_chars: int = 2000

    def __post_init__(self) -> None:
        if self.mode not in ("concat", "replace"):
            raise ValueError(f"HyReConfig.mode must be 'concat' or 'replace', not {self.mode!r}")


def pick_examples(corpus: Corpus, labels: Sequence[Label], config: HyReConfig, exclude_jobs: set[str] = frozenset()) -> list[tuple[Document, Document]]:
    """Draw ``n_examples`` accepted (job, resume) pairs, seeded, from ``labels``."""
    accepted = sorted(
        {(lb.job_id, lb.resume_id) for lb in labels if lb.label > 0 and lb.job_id not in exclude_jobs}
    )
    if len(accepted) < config.n_examples:
        raise DataError(f"{corpus.source}: HyRe needs {config.n_examples} accepted label(s) for few-shot examples, found {len(accepted)}")
    rng = random.Random(config.seed)
    return [(corpus.jobs[j], corpus.resumes[r]) for j, r in rng.sample(accepted, config.n_examples)]


def hyre_messages(job: Document, examples: Sequence[tuple[Document, Document]], config: HyReConfig = HyReConfig(), render_config: RenderConfig = RenderConfig()) -> list[dict[str, str]]:
    """Chat messages asking for a hypothetical reference resume for ``job``."""
    ex_cfg = RenderConfig(**{**render_config.__dict__, "max_total_chars": config.example_chars})
    job_cfg = RenderConfig(**{**render_config.__dict__, "max_total_chars": config.job_chars})
    ex_jobs = "\n\n".join(prompts.fence(render(j, ex_cfg), "job post") for j, _ in examples)
    ex_resumes = "\n\n".join(prompts.fence(render(r, ex_cfg), "resume") for _, r in examples)
    text = prompts.render(
        "hyre", example_job=ex_jobs, example_resume=ex_resumes, job=prompts.fence(render(job, job_cfg), "job post")
    )
    return [{"role": "user", "content": text}]


def augment_job_text(job_text: str, generated: str, config: HyReConfig = HyReConfig()) -> str:
    """The job text used for matching; an empty generation never replaces the original."""
    generated = generated.strip()
    if not generated:
        return job_text
    if config.mode == "replace":
        return generated
    return job_text + config.separator + generated
