"""Training data for the generator, built from the data contract as Hugging Face datasets.

Three builders, all in TRL's *conversational* formats:

* :func:`build_hyre_sft` - prompt-completion: the HyRe prompt for a job (the same prompt
  :func:`agentic_match.augment.hyre_messages` sends at generation time) and, as the
  completion, a resume accepted for that job. Like ConFit v2 (appendix B.4), only the
  accepted pairs that the current encoder scores highest are kept (``keep_top_fraction``).
* :func:`build_dpo` - preference pairs: the same prompt; ``chosen`` is an accepted (or
  higher-graded) resume for the job, ``rejected`` a rejected (or lower-graded) one.
* :func:`build_irc_sft` - prompt-completion for IRC resume completion: the prompt shows a
  resume *without* its summary and skills sections plus the jobs its owner interacted with
  (or was accepted for); the completion is the JSON answer
  (:class:`~agentic_match.augment.completion.CompletionOutput`) holding the summary and
  skills the owner actually wrote. Completion is thus learnt from real resumes.

Splits are deterministic: jobs (resumes for IRC) are ordered by a seeded hash of their id
and the first ``eval_fraction`` of them are held out, so a job is never in both splits;
evaluation labels can also be given explicitly (the benchmark's dev labels). Leakage is an
error: a job of the corpus's ``dev`` / ``test`` split in the training data, or a ``test``
job in the evaluation data, raises :class:`~agentic_match.errors.DataError` naming them.

Token budget: completions are cut to ``max_completion_tokens`` (384 by default, at a line
end when one is near) and prompts must fit ``max_prompt_tokens`` (640): a longer prompt is
rebuilt with a shorter target document, then dropped. Everything dropped, cut or skipped is
counted in the build report, never silently lost. Counting uses the base model's tokenizer
(:class:`TokenBudget`), or about 4 characters per token when none is given (tests).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from agentic_match.augment.completion import CompletionOutput, completion_messages
from agentic_match.augment.hyre import hyre_messages, pick_examples
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Corpus, Document, Label
from agentic_match.errors import DataError, Problem
from agentic_match.types import Messages
from finetune.config import DataConfig

Scorer = Callable[[Sequence[tuple[Document, Document]]], Sequence[float]]
"""Scores (job, resume) pairs; higher is a better match (an encoder's cosine)."""

_SHOWN = 10  # ids named in an error message or report list


# --------------------------------------------------------------------------- tokens


class TokenBudget:
    """Counts and cuts tokens with the base model's tokenizer (or an estimate).

    Args:
        tokenizer: A Hugging Face tokenizer; ``None`` estimates 4 characters per token.
    """

    def __init__(self, tokenizer: Any = None):
        self.tokenizer = tokenizer

    def count(self, text: str) -> int:
        """Tokens of ``text``."""
        if self.tokenizer is None:
            return (len(text) + 3) // 4
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt_tokens(self, messages: Messages) -> int:
        """Tokens of a chat prompt, chat template and generation header included."""
        if self.tokenizer is None or not getattr(self.tokenizer, "chat_template", None):
            return sum(self.count(m["content"]) + 4 for m in messages) + 4
        ids = self.tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
        if hasattr(ids, "keys"):  # transformers 5 returns a BatchEncoding
            ids = ids["input_ids"]
        return len(ids)

    def cut(self, text: str, max_tokens: int) -> tuple[str, bool]:
        """``text`` cut to ``max_tokens`` (at a line end in the last fifth when there is one)."""
        if self.tokenizer is None:
            limit = max_tokens * 4
            if len(text) <= limit:
                return text, False
            head = text[:limit]
        else:
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            if len(ids) <= max_tokens:
                return text, False
            head = self.tokenizer.decode(ids[:max_tokens], skip_special_tokens=True)
        nl = head.rfind("\n")
        if nl >= 0.8 * len(head):
            head = head[:nl]
        return head.rstrip(), True


# --------------------------------------------------------------------------- splits, leakage


def _rank(key: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def split_ids(
    ids: Iterable[str], eval_fraction: float, seed: int, *, what: str = "jobs"
) -> tuple[list[str], list[str]]:
    """Deterministic ``(train, eval)`` split of ``ids`` by a seeded hash.

    ``round(eval_fraction * n)`` ids (at least one when ``eval_fraction > 0``) go to eval.

    Raises:
        DataError: too few ids to hold any out and still train (the set is too small to split).
    """
    ordered = sorted(set(ids), key=lambda i: _rank(i, seed))
    if eval_fraction <= 0:
        return sorted(ordered), []
    n_eval = max(1, round(eval_fraction * len(ordered)))
    if len(ordered) - n_eval < 1:
        raise DataError(
            f"too small to split: {len(ordered)} {what} with usable labels; holding out "
            f"{eval_fraction:.0%} for evaluation leaves none to train on (add labels, or set eval_fraction=0)"
        )
    return sorted(ordered[n_eval:]), sorted(ordered[:n_eval])


def _leaks(corpus: Corpus, kind: str, ids: Iterable[str], forbid: Sequence[str], message) -> None:
    """Raise one problem per ``forbid`` split holding some of ``ids`` (``kind``: jobs | resumes)."""
    if not corpus.splits or not forbid:
        return
    members = corpus.splits.get(kind, {})
    ids = set(ids)
    problems = []
    for split in forbid:
        leak = sorted(ids & set(members.get(split, ())))
        if leak:
            shown = ", ".join(leak[:_SHOWN]) + (" ..." if len(leak) > _SHOWN else "")
            field = "job_id" if kind == "jobs" else "resume_id"
            problems.append(Problem(corpus.source, None, field, message(len(leak), split, shown)))
    if problems:
        raise DataError(problems)


def check_leakage(corpus: Corpus, job_ids: Iterable[str], forbid: Sequence[str], what: str) -> None:
    """Refuse ``what`` data that contains jobs of the corpus's ``forbid`` splits.

    Raises:
        DataError: one problem per leaking split, naming its jobs.
    """
    _leaks(
        corpus,
        "jobs",
        job_ids,
        forbid,
        lambda n, split, shown: (
            f"leakage: {n} job(s) of the '{split}' split in the {what} data: {shown}; "
            "train only on labels of training jobs"
        ),
    )


def _check_resume_leakage(corpus: Corpus, resume_ids: Iterable[str], forbid: Sequence[str], what: str) -> None:
    _leaks(
        corpus,
        "resumes",
        resume_ids,
        forbid,
        lambda n, split, shown: f"leakage: {n} resume(s) of '{split}' in {what}: {shown}",
    )


# --------------------------------------------------------------------------- result


@dataclass
class FinetuneData:
    """A built dataset and what building it kept, cut and dropped.

    Attributes:
        task: ``hyre`` or ``irc``.
        kind: ``sft`` (prompt / completion) or ``dpo`` (prompt / chosen / rejected).
        dataset: ``DatasetDict`` with ``train`` and (possibly empty) ``eval``.
        report: Counts of everything kept, cut and dropped, and the few-shot pair ids.
        examples: The few-shot (job, resume) pairs inside every HyRe prompt; generation
            with the adapter must show the same ones.
        config: The settings the data was built with (its prompt settings are recorded
            with the adapter, since generation must use the same prompt).
    """

    task: str
    kind: str
    dataset: Any
    report: dict[str, Any]
    examples: list[tuple[Document, Document]] = field(default_factory=list)
    config: DataConfig = field(default_factory=DataConfig)

    def prompt_settings(self) -> dict[str, Any]:
        """The prompt settings generation with an adapter trained on this data must use."""
        if self.task == "irc":
            return {"irc": asdict(self.config.irc)}
        return {"hyre": asdict(self.config.hyre), "few_shot": [[j.id, r.id] for j, r in self.examples]}

    @property
    def digest(self) -> str:
        """Content hash of both splits (recorded with the adapter trained on them)."""
        h = hashlib.sha256()
        for split in ("train", "eval"):
            if split in self.dataset:
                for row in self.dataset[split]:
                    h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode("utf-8"))
            h.update(b"|")
        return h.hexdigest()[:16]

    def sizes(self) -> dict[str, int]:
        return {s: len(self.dataset[s]) for s in self.dataset}

    def describe(self) -> dict[str, Any]:
        """What ``adapter_meta.json`` records about the data an adapter saw."""
        return {
            "task": self.task,
            "kind": self.kind,
            "digest": self.digest,
            "sizes": self.sizes(),
            "report": self.report,
            "few_shot": [[j.id, r.id] for j, r in self.examples],
        }


def _dataset_dict(train: list[dict], eval_rows: list[dict], columns: Sequence[str]) -> Any:
    from datasets import Dataset, DatasetDict

    def make(rows: list[dict]) -> Any:
        if rows:
            return Dataset.from_list(rows)
        return Dataset.from_dict({c: [] for c in columns})

    return DatasetDict({"train": make(train), "eval": make(eval_rows)})


# --------------------------------------------------------------------------- helpers


def _grades(labels: Iterable[Label]) -> dict[str, dict[str, float]]:
    """``{job_id: {resume_id: grade}}`` (the last label of a repeated pair wins)."""
    out: dict[str, dict[str, float]] = {}
    for lab in labels:
        out.setdefault(lab.job_id, {})[lab.resume_id] = float(lab.label)
    return out


def _known(corpus: Corpus, grades: dict[str, dict[str, float]], where: str) -> None:
    problems = []
    for j, per in grades.items():
        if j not in corpus.jobs:
            problems.append(Problem(where, None, "job_id", f"unknown job id {j!r}"))
        for r in per:
            if r not in corpus.resumes:
                problems.append(Problem(where, None, "resume_id", f"unknown resume id {r!r} (job {j!r})"))
    if problems:
        raise DataError(problems)


def _completion(text: str) -> Messages:
    return [{"role": "assistant", "content": text}]


class _PromptFitter:
    """HyRe prompts within the token budget (shorter target document, else dropped)."""

    def __init__(self, examples: list[tuple[Document, Document]], config: DataConfig, budget: TokenBudget):
        self.examples, self.config, self.budget = examples, config, budget
        self.shortened = 0
        self.dropped: list[str] = []
        self._memo: dict[str, Messages | None] = {}

    def __call__(self, job: Document, render_config: RenderConfig) -> Messages | None:
        if job.id in self._memo:
            return self._memo[job.id]
        cfg = self.config.hyre
        msgs = hyre_messages(job, self.examples, cfg, render_config)
        n = self.budget.prompt_tokens(msgs)
        if n > self.config.max_prompt_tokens:
            # Cut the target job (the one part that varies) in proportion, once.
            excess = n - self.config.max_prompt_tokens
            shown = min(cfg.job_chars, len(render(job, render_config)))
            chars = max(200, shown - int(excess * 4.5) - 40)
            msgs = hyre_messages(job, self.examples, replace(cfg, job_chars=chars), render_config)
            if self.budget.prompt_tokens(msgs) > self.config.max_prompt_tokens:
                self.dropped.append(job.id)
                msgs = None
            else:
                self.shortened += 1
        self._memo[job.id] = msgs
        return msgs


def _split_jobs(
    corpus: Corpus,
    labels: Sequence[Label],
    eval_labels: Sequence[Label] | None,
    config: DataConfig,
    exclude: set[str],
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    grades = {j: g for j, g in _grades(labels).items() if j not in exclude}
    _known(corpus, grades, "labels")
    if eval_labels is None:
        train_ids, eval_ids = split_ids(grades, config.eval_fraction, config.seed)
        train_g = {j: grades[j] for j in train_ids}
        eval_g = {j: grades[j] for j in eval_ids}
    else:
        train_g = grades
        eval_g = {j: g for j, g in _grades(eval_labels).items() if j not in exclude}
        _known(corpus, eval_g, "evaluation labels")
        both = sorted(set(train_g) & set(eval_g))
        if both:
            raise DataError(
                f"leakage: {len(both)} job(s) in both the training and the evaluation labels: "
                + ", ".join(both[:_SHOWN])
            )
    check_leakage(corpus, train_g, config.forbid_splits, "training")
    check_leakage(corpus, eval_g, [s for s in config.forbid_splits if s == "test"], "evaluation")
    return train_g, eval_g


def _count_rows(report: dict[str, Any], fit: Any, truncated: int, train_rows: list, eval_rows: list) -> None:
    """What the build report says of every dataset: prompts cut or dropped, completions cut, sizes."""
    report.update(
        {
            "prompts_shortened": fit.shortened,
            "prompts_too_long": len(fit.dropped),
            "prompts_too_long_ids": fit.dropped[:_SHOWN],
            "completions_truncated": truncated,
            "train": len(train_rows),
            "eval": len(eval_rows),
        }
    )


def _too_small(n: int, config: DataConfig, what: str, report: dict[str, Any]) -> None:
    if n < config.min_train_examples:
        raise DataError(
            f"too small to train: {n} {what} training example(s), need at least {config.min_train_examples} "
            f"(build report: {json.dumps({k: v for k, v in report.items() if not isinstance(v, list)})})"
        )


def _few_shot(corpus: Corpus, labels: Sequence[Label], config: DataConfig, held: set[str]) -> list:
    _known(corpus, _grades(labels), "labels")  # before drawing from them
    accepted = [lb for lb in labels if lb.label > 0 and lb.job_id not in held]
    if not accepted:
        raise DataError(
            f"{corpus.source}: no accepted pair (label > 0) in the labels; SFT and DPO learn from "
            "accepted resumes, so at least one job needs one"
        )
    return pick_examples(corpus, accepted, config.hyre)


# --------------------------------------------------------------------------- HyRe SFT


def build_hyre_sft(
    corpus: Corpus,
    labels: Sequence[Label] | None = None,
    *,
    eval_labels: Sequence[Label] | None = None,
    config: DataConfig = DataConfig(),
    scorer: Scorer | None = None,
    budget: TokenBudget | None = None,
    render_config: RenderConfig = RenderConfig(),
) -> FinetuneData:
    """SFT examples for HyRe: (HyRe prompt for a job, a resume accepted for it).

    Args:
        corpus: Documents (and splits, for the leakage check).
        labels: Training labels (default: the corpus's ``train`` labels, else all).
        eval_labels: Held-out labels (e.g. ``corpus.label_splits["dev"]``); default: a
            seeded share of the jobs of ``labels``.
        config: Split, filter and budget settings.
        scorer: Scores accepted (job, resume) pairs (see :func:`encoder_scorer`); the
            training pairs outside the top ``keep_top_fraction`` are dropped. ``None``: keep all.
        budget: Token counting (the base model's tokenizer).
        render_config: How documents are rendered (as at generation time).

    Raises:
        DataError: no accepted pair at all, leakage, unknown ids, or too few examples.
    """
    budget = budget or TokenBudget()
    labels = list(_default_labels(corpus) if labels is None else labels)
    report: dict[str, Any] = {"labels": len(labels)}
    # The few-shot pair is drawn from the training labels, outside the held-out jobs.
    held = set(_grades(eval_labels)) if eval_labels is not None else set()
    examples = _few_shot(corpus, labels, config, held)
    example_jobs = {j.id for j, _ in examples}
    # The few-shot job never is a target: the prompt would hold its own answer.
    train_g, eval_g = _split_jobs(corpus, labels, eval_labels, config, example_jobs)
    fit = _PromptFitter(examples, config, budget)
    no_accepted = sorted(j for j, g in train_g.items() if not any(v > 0 for v in g.values()))
    report.update(
        {
            "jobs_train": len(train_g),
            "jobs_eval": len(eval_g),
            "jobs_without_accepted": len(no_accepted),
            "jobs_without_accepted_ids": no_accepted[:_SHOWN],
        }
    )

    def pairs_of(grades: dict[str, dict[str, float]]) -> list[tuple[str, str]]:
        return [(j, r) for j in sorted(grades) for r, v in sorted(grades[j].items()) if v > 0]

    train_pairs = pairs_of(train_g)
    if not train_pairs:
        raise DataError(
            f"{corpus.source}: none of the {len(train_g)} training job(s) has an accepted pair (label > 0); "
            "SFT learns from accepted resumes"
        )
    report["accepted_pairs_train"] = len(train_pairs)
    scores: dict[tuple[str, str], float] = {}
    if scorer is not None:
        values = scorer([(corpus.jobs[j], corpus.resumes[r]) for j, r in train_pairs])
        scores = dict(zip(train_pairs, (float(v) for v in values)))
        keep = max(1, round(config.keep_top_fraction * len(train_pairs)))
        ranked = sorted(train_pairs, key=lambda p: (-scores[p], p))
        kept = set(ranked[:keep])
        report["dropped_by_encoder_filter"] = len(train_pairs) - len(kept)
        report["encoder_score_threshold"] = round(scores[ranked[keep - 1]], 4)
        train_pairs = [p for p in train_pairs if p in kept]
    else:
        report["dropped_by_encoder_filter"] = 0

    truncated = 0

    def rows_for(pairs: list[tuple[str, str]], tag: str) -> list[dict]:
        nonlocal truncated
        by_job: dict[str, list[str]] = {}
        for j, r in pairs:
            by_job.setdefault(j, []).append(r)
        rows = []
        for j in sorted(by_job):
            resumes = sorted(by_job[j], key=lambda r: (-scores.get((j, r), 0.0), r))[: config.max_examples_per_job]
            key = f"capped_per_job_{tag}"
            report[key] = report.get(key, 0) + len(by_job[j]) - len(resumes)
            prompt = fit(corpus.jobs[j], render_config)
            if prompt is None:
                continue
            for r in resumes:
                text, cut = budget.cut(render(corpus.resumes[r], render_config), config.max_completion_tokens)
                truncated += cut
                rows.append({"prompt": prompt, "completion": _completion(text), "job_id": j, "resume_id": r})
        return rows

    train_rows = rows_for(train_pairs, "train")
    eval_rows = rows_for(pairs_of(eval_g), "eval")
    _count_rows(report, fit, truncated, train_rows, eval_rows)
    _too_small(len(train_rows), config, "HyRe SFT", report)
    ds = _dataset_dict(train_rows, eval_rows, ("prompt", "completion", "job_id", "resume_id"))
    return FinetuneData("hyre", "sft", ds, report, examples, config)


def _default_labels(corpus: Corpus) -> list[Label]:
    if corpus.label_splits:
        if "train" not in corpus.label_splits:
            raise DataError(f"{corpus.source}: no 'train' labels; pass the labels to train on")
        return list(corpus.label_splits["train"])
    return list(corpus.labels)


def encoder_scorer(encoder: Any, batch_size: int = 32) -> Scorer:
    """A :data:`Scorer` from a :class:`~agentic_match.retrieval.encoder.BiEncoder` (cosine)."""
    import numpy as np

    def score(pairs: Sequence[tuple[Document, Document]]) -> list[float]:
        if not pairs:
            return []
        jobs = encoder.encode([j for j, _ in pairs], batch_size=batch_size)
        resumes = encoder.encode([r for _, r in pairs], batch_size=batch_size)
        return [float(x) for x in np.sum(np.asarray(jobs) * np.asarray(resumes), axis=1)]

    return score


# --------------------------------------------------------------------------- DPO


def build_dpo(
    corpus: Corpus,
    labels: Sequence[Label] | None = None,
    *,
    eval_labels: Sequence[Label] | None = None,
    config: DataConfig = DataConfig(),
    budget: TokenBudget | None = None,
    render_config: RenderConfig = RenderConfig(),
    examples: Sequence[tuple[Document, Document]] | None = None,
) -> FinetuneData:
    """DPO pairs for HyRe: the job's HyRe prompt, a better and a worse resume for that job.

    ``chosen`` has the higher label (accepted, or the higher grade), ``rejected`` the lower
    (rejected, or a lower grade); at most ``max_pairs_per_job`` pairs per job, drawn with
    the seed. Jobs without an accepted resume, or without a lower-labelled one, give no
    pair and are counted in the report.

    Args:
        examples: Few-shot pairs of the prompts (pass the SFT data's ``examples`` so that
            both stages train on one prompt); default: drawn as :func:`build_hyre_sft` does.

    Raises:
        DataError: no job with both a higher and a lower labelled resume, leakage,
            unknown ids, or too few pairs.
    """
    budget = budget or TokenBudget()
    labels = list(_default_labels(corpus) if labels is None else labels)
    held = set(_grades(eval_labels)) if eval_labels is not None else set()
    examples = list(examples) if examples is not None else _few_shot(corpus, labels, config, held)
    train_g, eval_g = _split_jobs(corpus, labels, eval_labels, config, {j.id for j, _ in examples})
    fit = _PromptFitter(examples, config, budget)
    rng = random.Random(config.seed)
    report: dict[str, Any] = {"labels": len(labels), "jobs_train": len(train_g), "jobs_eval": len(eval_g)}
    truncated = 0
    texts: dict[str, str] = {}

    def text(rid: str) -> str:
        nonlocal truncated
        if rid not in texts:
            t, cut = budget.cut(render(corpus.resumes[rid], render_config), config.max_completion_tokens)
            truncated += cut
            texts[rid] = t
        return texts[rid]

    def rows_for(grades: dict[str, dict[str, float]], tag: str) -> list[dict]:
        rows = []
        no_accepted, no_lower = [], []
        for j in sorted(grades):
            g = grades[j]
            if not any(v > 0 for v in g.values()):
                no_accepted.append(j)
                continue
            pairs = [(hi, lo) for hi in sorted(g) for lo in sorted(g) if g[hi] > 0 and g[hi] > g[lo]]
            if not pairs:
                no_lower.append(j)
                continue
            if len(pairs) > config.max_pairs_per_job:
                pairs = rng.sample(pairs, config.max_pairs_per_job)
            prompt = fit(corpus.jobs[j], render_config)
            if prompt is None:
                continue
            for hi, lo in pairs:
                rows.append(
                    {
                        "prompt": prompt,
                        "chosen": _completion(text(hi)),
                        "rejected": _completion(text(lo)),
                        "job_id": j,
                        "chosen_id": hi,
                        "rejected_id": lo,
                    }
                )
        report[f"jobs_without_accepted_{tag}"] = len(no_accepted)
        report[f"jobs_without_accepted_{tag}_ids"] = no_accepted[:_SHOWN]
        report[f"jobs_without_lower_{tag}"] = len(no_lower)
        return rows

    train_rows = rows_for(train_g, "train")
    if not train_rows and not fit.dropped:
        raise DataError(
            f"{corpus.source}: no training job has both an accepted (or higher-graded) and a rejected "
            "(or lower-graded) resume, so there is no preference pair for DPO"
        )
    eval_rows = rows_for(eval_g, "eval")
    _count_rows(report, fit, truncated, train_rows, eval_rows)
    _too_small(len(train_rows), config, "DPO", report)
    cols = ("prompt", "chosen", "rejected", "job_id", "chosen_id", "rejected_id")
    return FinetuneData("hyre", "dpo", _dataset_dict(train_rows, eval_rows, cols), report, list(examples), config)


# --------------------------------------------------------------------------- IRC SFT

_SUMMARY_HEADINGS = frozenset(
    "summary|professional summary|profile|professional profile|objective|career objective|"
    "executive summary|career overview|overview|about me".split("|")
)
_SKILL_HEADINGS = frozenset(
    "skills|technical skills|core competencies|key skills|skill highlights|highlights|"
    "core qualifications|areas of expertise|competencies".split("|")
)
_OTHER_HEADINGS = frozenset(
    "experience|work experience|professional experience|employment history|work history|education|"
    "education and training|certifications|certificates|accomplishments|achievements|interests|"
    "additional information|languages|projects|awards|affiliations|references|training|publications|"
    "volunteer experience|activities".split("|")
)
_SKILL_SPLIT = re.compile(r"[,;\n•·|]+")


def _heading(line: str) -> str | None:
    key = line.strip().rstrip(":").strip().lower()
    if key in _SUMMARY_HEADINGS:
        return "summary"
    if key in _SKILL_HEADINGS:
        return "skills"
    if key in _OTHER_HEADINGS:
        return "other"
    return None


def profile_sections(resume: Document) -> tuple[Document, str, list[str]]:
    """``(resume without them, summary, skills)``: the parts IRC learns to infer.

    Fields ``summary`` and ``skills`` are used when the resume has fields; a free-text
    resume is split at heading lines (``Summary``, ``Skills``, ``Highlights``...). Missing
    parts come back empty.
    """
    if resume.fields:
        summary = resume.fields.get("summary", "")
        skills_text = resume.fields.get("skills", "")
        rest = {k: v for k, v in resume.fields.items() if k not in ("summary", "skills")}
        rest_doc = Document(resume.id, resume.kind, rest, resume.text, resume.metadata)
    else:
        kept: list[str] = []
        parts: dict[str, list[str]] = {"summary": [], "skills": []}
        current = None
        for line in (resume.text or "").splitlines():
            h = _heading(line)
            if h is not None:
                current = h if h in parts else None
                if current is None:
                    kept.append(line)
                continue
            (parts[current] if current else kept).append(line)
        summary = "\n".join(parts["summary"])
        skills_text = "\n".join(parts["skills"])
        rest_doc = Document(resume.id, resume.kind, {}, "\n".join(kept), resume.metadata)
    skills: list[str] = []
    for s in _SKILL_SPLIT.split(skills_text):
        s = s.strip(" \t-*.")
        if 2 <= len(s) <= 60 and s.lower() not in {x.lower() for x in skills}:
            skills.append(s)
    summary = " ".join(summary.split())
    if len(summary) > 600:
        cut = summary[:600]
        summary = cut[: cut.rfind(". ") + 1] if ". " in cut else cut
    return rest_doc, summary, skills[:15]


def build_irc_sft(
    corpus: Corpus,
    labels: Sequence[Label] | None = None,
    *,
    eval_labels: Sequence[Label] | None = None,
    config: DataConfig = DataConfig(),
    budget: TokenBudget | None = None,
    render_config: RenderConfig = RenderConfig(),
) -> FinetuneData:
    """SFT examples for IRC completion: (IRC prompt, the summary and skills the owner wrote).

    Resumes with an accepted label are used; the jobs shown are the owner's interactions
    (``corpus.interactions``) or, without any, the jobs the resume was accepted for. The
    resume in the prompt lacks its summary and skills sections, which form the target
    JSON answer; a resume with fewer than two skills to learn from is skipped (counted).
    The split is by resume (seeded hash); no job of a forbidden split may be shown.

    Raises:
        DataError: no accepted pair, leakage, or too few examples.
    """
    budget = budget or TokenBudget()
    labels = list(_default_labels(corpus) if labels is None else labels)
    accepted: dict[str, list[str]] = {}
    for lab in labels:
        if lab.label > 0 and lab.job_id in corpus.jobs and lab.resume_id in corpus.resumes:
            accepted.setdefault(lab.resume_id, []).append(lab.job_id)
    if not accepted:
        raise DataError(
            f"{corpus.source}: no accepted pair (label > 0) in the labels; IRC learns from accepted resumes"
        )
    if eval_labels is None:
        train_ids, eval_ids = split_ids(accepted, config.eval_fraction, config.seed, what="resumes")
        eval_acc = {r: accepted[r] for r in eval_ids}
    else:
        train_ids = sorted(accepted)
        eval_acc = {}
        for lab in eval_labels:
            if lab.label > 0 and lab.resume_id not in accepted:
                eval_acc.setdefault(lab.resume_id, []).append(lab.job_id)
        eval_ids = sorted(eval_acc)
    interacted: dict[str, list[str]] = {}
    for it in corpus.interactions:
        if it.job_id in corpus.jobs and it.job_id not in interacted.get(it.resume_id, []):
            interacted.setdefault(it.resume_id, []).append(it.job_id)

    report: dict[str, Any] = {"labels": len(labels), "resumes_train": len(train_ids), "resumes_eval": len(eval_ids)}
    truncated = 0
    skipped: list[str] = []
    jobs_shown: dict[str, set[str]] = {"train": set(), "eval": set()}

    def rows_for(ids: list[str], acc: dict[str, list[str]], tag: str) -> list[dict]:
        nonlocal truncated
        rows = []
        for rid in ids:
            rest, summary, skills = profile_sections(corpus.resumes[rid])
            if len(skills) < 2:
                skipped.append(rid)
                continue
            job_ids = interacted.get(rid) or acc[rid]
            jobs = [corpus.jobs[j] for j in job_ids[: config.irc.max_jobs]]
            jobs_shown[tag].update(j.id for j in jobs)
            msgs = completion_messages(rest, jobs, config.irc, render_config)
            if budget.prompt_tokens(msgs) > config.max_prompt_tokens:
                msgs = completion_messages(rest, jobs[:1], replace(config.irc, resume_chars=600), render_config)
                if budget.prompt_tokens(msgs) > config.max_prompt_tokens:
                    report["prompts_too_long"] = report.get("prompts_too_long", 0) + 1
                    continue
            answer = CompletionOutput(summary=summary, skills=skills).model_dump_json()
            answer, cut = budget.cut(answer, config.max_completion_tokens)
            if cut:  # a cut JSON answer would teach invalid JSON
                truncated += 1
                continue
            rows.append({"prompt": msgs, "completion": _completion(answer), "resume_id": rid, "job_ids": job_ids})
        return rows

    train_rows = rows_for(train_ids, accepted, "train")
    eval_rows = rows_for(eval_ids, eval_acc, "eval")
    check_leakage(corpus, jobs_shown["train"], config.forbid_splits, "IRC training")
    check_leakage(corpus, jobs_shown["eval"], [s for s in config.forbid_splits if s == "test"], "IRC evaluation")
    _check_resume_leakage(corpus, [r["resume_id"] for r in train_rows], config.forbid_splits, "IRC training")
    test_only = [s for s in config.forbid_splits if s == "test"]
    _check_resume_leakage(corpus, [r["resume_id"] for r in eval_rows], test_only, "IRC evaluation")
    report.update(
        {
            "skipped_without_skills": len(skipped),
            "skipped_without_skills_ids": skipped[:_SHOWN],
            "answers_too_long": truncated,
            "train": len(train_rows),
            "eval": len(eval_rows),
        }
    )
    _too_small(len(train_rows), config, "IRC SFT", report)
    ds = _dataset_dict(train_rows, eval_rows, ("prompt", "completion", "resume_id", "job_ids"))
    return FinetuneData("irc", "sft", ds, report, [], config)


def build(
    task: str,
    kind: str,
    corpus: Corpus,
    labels: Sequence[Label] | None = None,
    **kwargs: Any,
) -> FinetuneData:
    """Dispatch to :func:`build_hyre_sft`, :func:`build_dpo` or :func:`build_irc_sft`."""
    if kind == "dpo":
        if task != "hyre":
            raise DataError("DPO pairs are built for HyRe (resumes ranked by label); IRC has SFT only")
        kwargs.pop("scorer", None)
        return build_dpo(corpus, labels, **kwargs)
    if task == "hyre":
        kwargs.pop("examples", None)
        return build_hyre_sft(corpus, labels, **kwargs)
    if task == "irc":
        kwargs.pop("scorer", None)
        kwargs.pop("examples", None)
        return build_irc_sft(corpus, labels, **kwargs)
    raise DataError(f"unknown fine-tuning task {task!r}; use hyre or irc")


def limit(data: FinetuneData, max_train: int | None = None, max_eval: int | None = None) -> FinetuneData:
    """``data`` with at most ``max_train`` / ``max_eval`` examples, drawn with its seed.

    For time budgets (a CPU smoke run): the kept share is recorded in the report.
    """
    ds = dict(data.dataset)
    report = dict(data.report)
    for split, cap in (("train", max_train), ("eval", max_eval)):
        n = len(ds[split])
        if cap is not None and n > cap:
            keep = sorted(random.Random(data.config.seed).sample(range(n), cap))
            ds[split] = ds[split].select(keep)
            report[f"{split}_before_limit"] = n
            report[split] = cap
    from datasets import DatasetDict

    return FinetuneData(data.task, data.kind, DatasetDict(ds), report, data.examples, data.config)


# --------------------------------------------------------------------------- save / load

BUILD_FILE = "build.json"


def save_data(data: FinetuneData, folder: str | Path) -> Path:
    """Save a built dataset (``save_to_disk``) and how it was built, atomically.

    The folder holds the ``DatasetDict`` and ``build.json`` (task, kind, report, the
    few-shot documents, the data settings); :func:`load_data` reads it back as it was.
    """
    import shutil
    import uuid

    from agentic_match.data import document_to_row
    from agentic_match.files import replace_dir

    out = Path(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        data.dataset.save_to_disk(str(tmp / "dataset"))
        build = {
            "task": data.task,
            "kind": data.kind,
            "digest": data.digest,
            "report": data.report,
            "examples": [[document_to_row(j), document_to_row(r)] for j, r in data.examples],
            "config": data.config.to_dict(),
        }
        (tmp / BUILD_FILE).write_text(json.dumps(build, indent=2, ensure_ascii=False), encoding="utf-8")
        replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def load_data(folder: str | Path) -> FinetuneData:
    """A dataset saved by :func:`save_data`.

    Raises:
        DataError: the folder is not a saved fine-tuning dataset.
    """
    from datasets import load_from_disk

    from agentic_match.augment.completion import CompletionConfig
    from agentic_match.augment.hyre import HyReConfig
    from agentic_match.data import document_from_row

    base = Path(folder)
    try:
        build = json.loads((base / BUILD_FILE).read_text(encoding="utf-8"))
        ds = load_from_disk(str(base / "dataset"))
    except (OSError, ValueError) as e:
        raise DataError(f"{base}: not a saved fine-tuning dataset ({e})") from None
    cfg = dict(build["config"])
    cfg["hyre"] = HyReConfig(**cfg["hyre"])
    cfg["irc"] = CompletionConfig(**cfg["irc"])
    cfg["forbid_splits"] = tuple(cfg["forbid_splits"])
    examples = [(document_from_row(j, "job"), document_from_row(r, "resume")) for j, r in build["examples"]]
    data = FinetuneData(build["task"], build["kind"], ds, build["report"], examples, DataConfig(**cfg))
    if data.digest != build["digest"]:
        raise DataError(f"{base}: the saved dataset does not match its digest (changed or damaged)")
    return data
