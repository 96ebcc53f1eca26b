"""The local LLM judge: which of two resumes fits a job better.

Pairs come from the stage-1 encoder's top-k for each training query
(:func:`candidate_pairs`). Four modes (``JudgeConfig.mode``), measured against each other by
``benchmarks/alignment.py --sections judge``:

* ``pairwise`` - the model names the better resume (JSON with a reason), asked twice with the
  passages swapped; when the two answers disagree the model only followed the position, so
  the pair is a tie (counted: the position-flip rate). The reason has a hard length cap so a
  tiny model cannot loop until ``max_tokens``.
* ``pairwise-logprob`` - the same question answered by one letter; P(A) of the two orders is
  averaged (``(P₁(A) + 1 − P₂(A)) / 2``), so a constant position prior cancels, and the pair is
  decided when that average clears ``0.5 ± tie_margin``.
* ``pointwise`` - each resume alone, scored by P(yes) to "does it fit?".
* ``graded`` - each resume alone, with a short rubric (title, required skills, years,
  seniority), scored by the expected grade ``Σ g·P(g)`` over the first token's probabilities
  of "0".."4"; optional calibration shots from train labels come first (a shared prompt
  prefix). Pointwise modes have no position to be biased by.

Every answer is in the generation cache, so a rerun sends no request.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field

import prompts
from agentic_match.align.preferences import preference_record
from agentic_match.config import setting
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Corpus, DocKind
from agentic_match.errors import ConfigError, StructuredOutputError
from agentic_match.evaluation.ranker import Ranker

T = TypeVar("T", bound=BaseModel)
REASON_MAX_CHARS = 200
JudgeMode = Literal["pairwise", "pairwise-logprob", "pointwise", "graded"]
JUDGE_MODES: tuple[str, ...] = ("pairwise", "pairwise-logprob", "pointwise", "graded")
GRADES: tuple[str, ...] = ("0", "1", "2", "3", "4")


class StructuredModel(Protocol):
    """What the judge needs from a client (``LLMClient`` or a test fake)."""

    def structured(self, messages: list[dict[str, str]], schema: type[T], **sampling: Any) -> T: ...


class JudgeVerdict(BaseModel):
    """The judge's answer for one ordering of a pair."""

    preferred: Literal["A", "B"] = Field(description="The resume that fits the job post better.")
    reason: str = Field("", max_length=REASON_MAX_CHARS, description="One short sentence.")


@dataclass(frozen=True)
class JudgeConfig:
    """Settings of the judge."""

    max_doc_chars: int = setting(
        1500,
        help=(
            "Characters of each rendered document shown to the judge (three documents must fit the served context; "
            "also what the preference file stores)."
        ),
    )
    max_tokens: int = setting(96, help="Cap on the answer's tokens (the JSON object and a short reason).")
    both_orders: bool = setting(
        True,
        help=(
            "Ask with the passages swapped too and drop disagreements (position bias); ``False`` trusts a single "
            "ordering (cheaper, biased)."
        ),
    )
    mode: JudgeMode = setting(
        "pairwise",
        help=(
            "``pairwise`` (the model names the better resume, with a reason, in both orders), ``pairwise-logprob`` "
            "(one letter in both orders, P(A) averaged so the position prior cancels), ``pointwise`` (each resume "
            'alone: P(yes) to "does it fit this job?") or ``graded`` (each resume alone: the expected grade 0-4 '
            "under a rubric). Small models that always name the first position yield no consistent pairwise "
            "verdict; pointwise scores have no position to be biased by."
        ),
        choices=JUDGE_MODES,
    )
    tie_margin: float = setting(
        0.05,
        help=(
            "Below this a pair is a tie (dropped): the P(yes) difference (pointwise), the expected-grade difference "
            "on 0-4 (graded), or |mean P(A) - 0.5| over both orders (pairwise-logprob). Choose it on dev."
        ),
    )

    def __post_init__(self) -> None:
        if self.max_doc_chars < 100:
            raise ConfigError(f"max_doc_chars must be >= 100, got {self.max_doc_chars}")
        if self.max_tokens < 16:
            raise ConfigError(f"max_tokens must be >= 16, got {self.max_tokens}")
        if self.mode not in JUDGE_MODES:
            raise ConfigError(f"judge mode must be one of {', '.join(JUDGE_MODES)}, got {self.mode!r}")
        if self.tie_margin < 0:
            raise ConfigError(f"tie_margin must be >= 0, got {self.tie_margin}")


@dataclass(frozen=True)
class PairSamplingConfig:
    """Which pairs are judged: drawn from the stage-1 model's top-k of each training job."""

    k: int = setting(10, help="Top-k of the stage-1 model per train job that the pairs are drawn from.")
    pairs_per_query: int = setting(5, help="Pairs judged per train job.")
    max_pairs: int | None = setting(None, help="Cap on judged pairs (a seeded sample of jobs; None: every job).")
    held_out: float = setting(0.2, help="Share of judged jobs held out to measure alignment (preference accuracy).")
    seed: int = setting(0, help="Seed of the job sample, the pair draw and the held-out split.")

    def __post_init__(self) -> None:
        problems = []
        if self.k < 2 or self.pairs_per_query < 1:
            problems.append("k must be >= 2 and pairs_per_query >= 1")
        if self.max_pairs is not None and self.max_pairs < 1:
            problems.append("max_pairs must be >= 1 (or None for no cap)")
        if not 0 <= self.held_out < 1:
            problems.append("held_out must be in [0, 1)")
        if problems:
            raise ConfigError("invalid pair sampling: " + "; ".join(problems))

    @property
    def max_queries(self) -> int | None:
        """Jobs to sample so that ``max_pairs`` can be reached."""
        return math.ceil(self.max_pairs / self.pairs_per_query) if self.max_pairs else None


@dataclass(frozen=True)
class JudgeRunConfig:
    """Settings of ``agentic-match judge``: which pairs, and how the judge decides them."""

    split: str = setting("train", help="Split whose jobs are judged.")
    pairs: PairSamplingConfig = setting(factory=PairSamplingConfig, help="Which pairs are judged.")
    judge: JudgeConfig = setting(factory=JudgeConfig, help="How the judge decides.")


@dataclass(frozen=True)
class JudgePair:
    """Two passages to compare for one query (texts as the judge reads them)."""

    query_id: str
    passage1_id: str
    passage2_id: str
    query: str
    passage1: str
    passage2: str
    query_kind: DocKind = "job"

    @property
    def key(self) -> str:
        """A stable id of the pair (results and checkpoints are keyed by it)."""
        return f"{self.query_id}|{self.passage1_id}|{self.passage2_id}"

    def to_row(self) -> dict[str, Any]:
        return {"id": self.key, **asdict(self)}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JudgePair:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__ if k in row})


@dataclass
class JudgeOutcome:
    """What the judge said about one pair.

    Attributes:
        preferred: ``"A"`` (passage1), ``"B"`` (passage2), ``"tie"`` (the two orders
            disagree, or the scores are within the tie margin), or ``None`` when the judge
            failed (``problem`` says why).
        reason: The reason given in the first ordering (scores in the probability modes).
        score: How strongly passage1 is preferred (positive) or passage2 (negative): the
            score difference (pointwise, graded) or mean P(A) − 0.5 (pairwise-logprob);
            ``None`` in ``pairwise`` mode. A margin can be chosen on it after the fact.
        flipped: Whether the two orders named the same *position* (the verdict followed the
            position, not the passage); ``None`` in the pointwise modes (no position).
    """

    pair: JudgePair
    preferred: Literal["A", "B", "tie"] | None
    reason: str = ""
    problem: str | None = None
    score: float | None = None
    flipped: bool | None = None

    def record(self) -> dict[str, Any] | None:
        """The preference-file record (``None`` for ties and failures)."""
        if self.preferred not in ("A", "B"):
            return None
        p = self.pair
        return preference_record(
            p.query_id,
            p.passage1_id,
            p.passage2_id,
            p.query,
            p.passage1,
            p.passage2,
            self.preferred,
            self.reason,
            p.query_kind,
        )


@dataclass
class JudgeReport:
    """Outcomes of many pairs, in input order, with counts."""

    outcomes: list[JudgeOutcome] = field(default_factory=list)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for o in self.outcomes if (r := o.record()) is not None]

    def counts(self) -> dict[str, int]:
        """``{"pairs", "preferences", "ties", "failures"}``."""
        ties = sum(o.preferred == "tie" for o in self.outcomes)
        fails = sum(o.preferred is None for o in self.outcomes)
        return {
            "pairs": len(self.outcomes),
            "preferences": len(self.outcomes) - ties - fails,
            "ties": ties,
            "failures": fails,
        }

    @classmethod
    def from_results(
        cls, pairs: Sequence[JudgePair], results: dict[str, dict[str, Any]], failures: dict[str, str]
    ) -> JudgeReport:
        """The report of pairs judged piecewise (graph batches): ``{key: {"preferred", "reason", ...}}``."""
        outcomes = []
        for p in pairs:
            if p.key in results:
                r = results[p.key]
                outcomes.append(
                    JudgeOutcome(p, r["preferred"], r.get("reason", ""), score=r.get("score"), flipped=r.get("flipped"))
                )
            else:
                outcomes.append(JudgeOutcome(p, None, problem=failures.get(p.key, "not judged")))
        return cls(outcomes)

    def results(self) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """``({key: {"preferred", "reason", "score", "flipped"}}, {key: problem})``: the report as graph state."""
        done = {
            o.pair.key: {"preferred": o.preferred, "reason": o.reason, "score": o.score, "flipped": o.flipped}
            for o in self.outcomes
            if o.preferred
        }
        failed = {o.pair.key: o.problem or "failed" for o in self.outcomes if o.preferred is None}
        return done, failed

    def write(self, path: str | Path) -> Path:
        """The preference file (consistent verdicts) and ``<output>.failures.jsonl`` beside it."""
        from agentic_match.align.preferences import write_preferences
        from agentic_match.augment.batch import failures_path
        from agentic_match.files import atomic_write_lines

        out = write_preferences(path, self.records)
        failed = [o for o in self.outcomes if o.preferred is None]
        if failed:
            atomic_write_lines(failures_path(out), ({"id": o.pair.key, "problem": o.problem} for o in failed))
        else:
            failures_path(out).unlink(missing_ok=True)
        return out

    def flip_rate(self) -> float:
        """Share of judged pairs (failures excluded) whose two orders named the same position.

        ``nan`` in the pointwise modes, which show one resume at a time.
        """
        known = [o.flipped for o in self.outcomes if o.preferred is not None and o.flipped is not None]
        return sum(known) / len(known) if known else float("nan")


def judge_messages(
    query: str, first: str, second: str, query_kind: DocKind = "job", max_doc_chars: int = 1500
) -> list[dict[str, str]]:
    """The chat messages asking which of ``first`` (A) / ``second`` (B) fits ``query`` better.

    Every document is cut to ``max_doc_chars`` and fenced. Only job queries (two resumes
    compared for one job) are supported: that is the recruiter's judgment being learned.
    """
    if query_kind != "job":
        raise ConfigError("the judge compares two resumes for one job (query_kind='job')")
    cut = lambda t: t[:max_doc_chars]  # noqa: E731 - the same cut for all three
    content = prompts.render(
        "judge",
        job=prompts.fence(cut(query), "job"),
        resume_a=prompts.fence(cut(first), "resume A"),
        resume_b=prompts.fence(cut(second), "resume B"),
    )
    return [{"role": "user", "content": content}]


def _ask(llm: StructuredModel, pair: JudgePair, swapped: bool, config: JudgeConfig) -> JudgeVerdict:
    a, b = (pair.passage2, pair.passage1) if swapped else (pair.passage1, pair.passage2)
    msgs = judge_messages(pair.query, a, b, pair.query_kind, config.max_doc_chars)
    return llm.structured(msgs, JudgeVerdict, max_tokens=config.max_tokens)


def graded_messages(
    job: str, resume: str, max_doc_chars: int = 1500, shots: Sequence[tuple[str, str, str]] = ()
) -> list[dict[str, str]]:
    """The rubric prompt "grade this resume for this job, 0-4", after optional calibration shots.

    Each shot ``(job, resume, grade)`` is an earlier user turn with its one-digit answer, so
    every request shares the shots as one prompt prefix (vLLM's prefix cache serves it).
    """

    def turn(j: str, r: str) -> dict[str, str]:
        content = prompts.render(
            "judge_graded",
            job=prompts.fence(j[:max_doc_chars], "job"),
            resume=prompts.fence(r[:max_doc_chars], "resume"),
        )
        return {"role": "user", "content": content}

    msgs: list[dict[str, str]] = []
    for j, r, g in shots:
        msgs += [turn(j, r), {"role": "assistant", "content": g}]
    return [*msgs, turn(job, resume)]


def token_messages(query: str, first: str, second: str, max_doc_chars: int = 1500) -> list[dict[str, str]]:
    """The one-letter prompt "which fits better, A (``first``) or B (``second``)?"."""
    content = prompts.render(
        "judge_token",
        job=prompts.fence(query[:max_doc_chars], "job"),
        resume_a=prompts.fence(first[:max_doc_chars], "resume A"),
        resume_b=prompts.fence(second[:max_doc_chars], "resume B"),
    )
    return [{"role": "user", "content": content}]


def expected_grade(top_logprobs: dict[str, float]) -> float | None:
    """``Σ g·P(g) / Σ P(g)`` over the tokens "0".."4" among one token's top log-probabilities."""
    probs = [(int(t.strip()), math.exp(lp)) for t, lp in top_logprobs.items() if t.strip() in GRADES]
    total = sum(p for _, p in probs)
    return sum(g * p for g, p in probs) / total if total > 0 else None


def p_first(top_logprobs: dict[str, float]) -> float | None:
    """P("A") among the answers "A" / "B" of one token's top log-probabilities."""
    a = sum(math.exp(lp) for t, lp in top_logprobs.items() if t.strip() == "A")
    b = sum(math.exp(lp) for t, lp in top_logprobs.items() if t.strip() == "B")
    return a / (a + b) if a + b > 0 else None


def _first_token(llm: Any, messages: list[dict[str, str]], read: Callable[[dict[str, float]], float | None]):
    c = llm.chat(messages, max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=10)
    tops = getattr(c, "top_logprobs", None)
    return read(tops[0]) if tops else None


def _fit_probability(llm: Any, job: str, resume: str, config: JudgeConfig) -> float | None:
    from agentic_match.retrieval.rerank import fit_messages, p_yes

    return _first_token(llm, fit_messages(job, resume, config.max_doc_chars), p_yes)


def _resume_score(
    llm: Any, job: str, resume: str, config: JudgeConfig, shots: Sequence[tuple[str, str, str]] = ()
) -> float | None:
    """The pointwise score of one resume for one job (P(yes), or the expected grade)."""
    if config.mode == "graded":
        return _first_token(llm, graded_messages(job, resume, config.max_doc_chars, shots), expected_grade)
    return _fit_probability(llm, job, resume, config)


def _judge_pointwise(
    llm: Any, pair: JudgePair, config: JudgeConfig, fit: Callable[[str, str], float | None] | None = None
) -> JudgeOutcome:
    if pair.query_kind != "job":
        raise ConfigError("the judge compares two resumes for one job (query_kind='job')")
    fit = fit or (lambda job, resume: _resume_score(llm, job, resume, config))
    pa, pb = fit(pair.query, pair.passage1), fit(pair.query, pair.passage2)
    if pa is None or pb is None:
        what = "grade digit" if config.mode == "graded" else "yes/no"
        return JudgeOutcome(pair, None, problem=f"no {what} among the answer's top tokens")
    reason = ("grade" if config.mode == "graded" else "P(fit)") + f" {pa:.2f} vs {pb:.2f}"
    return JudgeOutcome(pair, decide(pa - pb, config.tie_margin), reason, score=pa - pb)


def _judge_logprob(llm: Any, pair: JudgePair, config: JudgeConfig) -> JudgeOutcome:
    """``pairwise-logprob``: P(A) in both orders; their average decides (the position prior cancels)."""
    if pair.query_kind != "job":
        raise ConfigError("the judge compares two resumes for one job (query_kind='job')")
    n = config.max_doc_chars
    p1 = _first_token(llm, token_messages(pair.query, pair.passage1, pair.passage2, n), p_first)
    p2 = _first_token(llm, token_messages(pair.query, pair.passage2, pair.passage1, n), p_first)
    if p1 is None or p2 is None:
        return JudgeOutcome(pair, None, problem="no A/B among the answer's top tokens")
    score = (p1 + (1.0 - p2)) / 2 - 0.5
    # Both orders named position A (or both B): the answer followed the position.
    flipped = (p1 > 0.5) == (p2 > 0.5)
    reason = f"P(A) {p1:.2f} as shown, {p2:.2f} swapped"
    return JudgeOutcome(pair, decide(score, config.tie_margin), reason, score=score, flipped=flipped)


def decide(score: float, margin: float) -> Literal["A", "B", "tie"]:
    """``"A"`` above ``margin``, ``"B"`` below ``-margin``, else ``"tie"``."""
    if abs(score) < margin or score == 0:
        return "tie"
    return "A" if score > 0 else "B"


def label_shots(
    corpus: Corpus,
    n: int = 2,
    *,
    split: str = "train",
    max_doc_chars: int = 400,
    seed: int = 0,
    render_config: RenderConfig = RenderConfig(),
) -> list[tuple[str, str, str]]:
    """Calibration shots for the ``graded`` judge from a split's labels: ``(job, resume, grade)``.

    Alternates an accepted resume (grade "4") and a rejected one (grade "1", the labels'
    near misses) for jobs that have both, so the model sees both ends of the scale. Shots are
    cut short: they are a shared prefix of every request.
    """
    labels = corpus.label_splits.get(split, corpus.labels) if corpus.label_splits else corpus.labels
    by_job: dict[str, dict[bool, list[str]]] = {}
    for lb in labels:
        if lb.job_id in corpus.jobs and lb.resume_id in corpus.resumes:
            by_job.setdefault(lb.job_id, {True: [], False: []})[bool(lb.label)].append(lb.resume_id)
    jobs = sorted(j for j, d in by_job.items() if d[True] and d[False])
    rng = random.Random(seed)
    text = lambda d: render(d, render_config)[:max_doc_chars]  # noqa: E731
    shots = []
    for i in range(n):
        if not jobs:
            break
        j = rng.choice(jobs)
        accepted = i % 2 == 0
        r = rng.choice(sorted(by_job[j][accepted]))
        shots.append((text(corpus.jobs[j]), text(corpus.resumes[r]), "4" if accepted else "1"))
    return shots


def judge_pair(llm: StructuredModel, pair: JudgePair, config: JudgeConfig = JudgeConfig()) -> JudgeOutcome:
    """Judge one pair (both orders unless ``config.both_orders`` is off; ``config.mode``).

    An answer that fails the schema (after the client's repair retry) makes the outcome a
    failure with the reason in ``problem``; an unreachable server raises
    (:class:`~agentic_match.errors.LLMUnavailableError`) so callers can retry.
    """
    if config.mode in ("pointwise", "graded"):
        return _judge_pointwise(llm, pair, config)
    if config.mode == "pairwise-logprob":
        return _judge_logprob(llm, pair, config)
    try:
        first = _ask(llm, pair, False, config)
        if not config.both_orders:
            return JudgeOutcome(pair, first.preferred, first.reason)
        second = _ask(llm, pair, True, config)
    except StructuredOutputError as e:
        return JudgeOutcome(pair, None, problem=str(e)[:500])
    # In the swapped ordering "A" is passage2: consistent answers name different letters.
    if first.preferred != second.preferred:
        return JudgeOutcome(pair, first.preferred, first.reason, flipped=False)
    return JudgeOutcome(pair, "tie", first.reason, flipped=True)


def judge_pairs(
    llm: StructuredModel,
    pairs: Sequence[JudgePair],
    config: JudgeConfig = JudgeConfig(),
    *,
    concurrency: int = 8,
    on_done: Callable[[JudgeOutcome], None] | None = None,
    shots: Sequence[tuple[str, str, str]] = (),
) -> JudgeReport:
    """Judge many pairs with ``concurrency`` requests in flight (threads over the sync client).

    In the pointwise modes each (job, resume) is scored once, however many pairs it is in
    (pairs drawn from one job's top-k share their resumes), then the pairs are decided from
    those scores. ``shots`` (``graded`` only): calibration turns, e.g. :func:`label_shots`.
    """
    if config.mode in ("pointwise", "graded"):
        if any(p.query_kind != "job" for p in pairs):
            raise ConfigError("the judge compares two resumes for one job (query_kind='job')")
        unique = list(dict.fromkeys((p.query, d) for p in pairs for d in (p.passage1, p.passage2)))
        with ThreadPoolExecutor(max(1, concurrency)) as ex:
            scores = dict(zip(unique, ex.map(lambda k: _resume_score(llm, k[0], k[1], config, shots), unique)))
        outcomes = [_judge_pointwise(llm, p, config, fit=lambda q, d: scores[(q, d)]) for p in pairs]
        for o in outcomes:
            if on_done is not None:
                on_done(o)
        return JudgeReport(outcomes)
    with ThreadPoolExecutor(max(1, concurrency)) as ex:
        futures = [ex.submit(judge_pair, llm, p, config) for p in pairs]
        outcomes = []
        for f in futures:
            o = f.result()
            if on_done is not None:
                on_done(o)
            outcomes.append(o)
    return JudgeReport(outcomes)


def sample_pairs(
    ranker: Ranker,
    corpus: Corpus,
    sampling: PairSamplingConfig,
    *,
    split: str = "train",
    max_doc_chars: int = 1500,
    render_config: RenderConfig = RenderConfig(),
) -> list[JudgePair]:
    """:func:`candidate_pairs` with ``sampling``'s settings, capped at ``sampling.max_pairs``."""
    pairs = candidate_pairs(
        ranker,
        corpus,
        split=split,
        k=sampling.k,
        pairs_per_query=sampling.pairs_per_query,
        max_queries=sampling.max_queries,
        max_doc_chars=max_doc_chars,
        seed=sampling.seed,
        render_config=render_config,
    )
    return pairs if sampling.max_pairs is None else pairs[: sampling.max_pairs]


def candidate_pairs(
    ranker: Ranker,
    corpus: Corpus,
    *,
    split: str = "train",
    k: int = 10,
    pairs_per_query: int = 5,
    max_queries: int | None = None,
    max_doc_chars: int = 1500,
    seed: int = 0,
    render_config: RenderConfig = RenderConfig(),
) -> list[JudgePair]:
    """Pairs of resumes from the stage-1 ranker's top-``k`` for each ``split`` job.

    Each query gets up to ``pairs_per_query`` distinct unordered pairs drawn at random
    (seeded) from its top-``k``; which passage is shown first is random too, so the file
    carries no rank-order bias. ``max_queries`` subsamples the jobs (seeded).
    """
    if k < 2 or pairs_per_query < 1:
        raise ConfigError("candidate_pairs needs k >= 2 and pairs_per_query >= 1")
    rng = random.Random(seed)
    job_ids = [j for j in corpus.split_ids("job", split) if j in corpus.jobs]
    if max_queries is not None and len(job_ids) > max_queries:
        job_ids = sorted(rng.sample(job_ids, max_queries), key=job_ids.index)
    resumes = [corpus.resumes[r] for r in corpus.split_ids("resume", split) if r in corpus.resumes]
    run = ranker.rank([corpus.jobs[j] for j in job_ids], resumes, k=k)
    text = lambda d: render(d, render_config)[:max_doc_chars]  # noqa: E731
    out: list[JudgePair] = []
    for jid in job_ids:
        top = sorted(run.get(jid, {}).items(), key=lambda x: -x[1])[:k]
        ids = [d for d, _ in top]
        combos = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
        for a, b in rng.sample(combos, min(pairs_per_query, len(combos))):
            if rng.random() < 0.5:
                a, b = b, a
            out.append(JudgePair(jid, a, b, text(corpus.jobs[jid]), text(corpus.resumes[a]), text(corpus.resumes[b])))
    return out


__all__ = [
    "GRADES",
    "JUDGE_MODES",
    "JudgeConfig",
    "JudgeOutcome",
    "JudgePair",
    "JudgeReport",
    "JudgeRunConfig",
    "JudgeVerdict",
    "PairSamplingConfig",
    "candidate_pairs",
    "decide",
    "expected_grade",
    "graded_messages",
    "judge_messages",
    "judge_pair",
    "judge_pairs",
    "label_shots",
    "p_first",
    "sample_pairs",
    "token_messages",
]
