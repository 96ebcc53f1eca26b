"""Counterfactual audit: does swapping gender (age, nationality) markers move the scores?

No sensitive labels are needed. Each resume is rewritten with the lexicon's terms swapped
(:mod:`agentic_match.fairness.lexicon`); jobs score the original and the counterfactual
resume, and the audit reports

* the distribution of score shifts ``Δ = s(job, resume') - s(job, resume)`` over every
  (job, changed resume) pair, raw and divided by the job's score spread (``z``: comparable
  across models with other temperatures);
* the mean signed gap towards each side (``side1 - side0``, e.g. female minus male) where
  the resume's side can be read from its own terms;
* rank changes: for recruiters (``rank_resume``: a job's top ``k`` resumes), the share of
  top-``k`` lists that differ once every resume is swapped, their overlap, and the share of
  (job, resume) pairs whose top-``k`` membership flips when that resume alone is swapped;
  for candidates (``rank_job``: a resume's top ``k`` jobs), the share of changed resumes
  whose top ``k`` differs;
* the worst pairs (largest ``|z|``) with the swaps that produced them.

Anything that scores (job, resume) pairs can be audited through :class:`Scorer`: the
bi-encoder, any ``Ranker`` (re-rankers), or a plain pairwise function (an LLM judge).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from agentic_match.data.render import RenderConfig, ordered_fields
from agentic_match.data.schema import Document
from agentic_match.errors import ConfigError
from agentic_match.fairness.lexicon import Lexicon

# ---------------------------------------------------------------------------- scorers


@runtime_checkable
class Scorer(Protocol):
    """Scores every candidate for every query: a ``(len(queries), len(candidates))`` array."""

    def score(self, queries: Sequence[Document], candidates: Sequence[Document]) -> np.ndarray:
        """Higher is better; only scores within one query row are compared."""
        ...


class EncoderScorer:
    """A :class:`~agentic_match.retrieval.encoder.BiEncoder` as a :class:`Scorer` (``cos / τ``)."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.name = f"encoder:{getattr(encoder, 'folder', None) or 'in-memory'}"

    def score(self, queries: Sequence[Document], candidates: Sequence[Document]) -> np.ndarray:
        enc = self.encoder
        return enc.similarity(enc.encode(list(queries)), enc.encode(list(candidates)))


class RankerScorer:
    """Any ``Ranker`` (e.g. a re-ranker) as a :class:`Scorer`; it ranks the whole pool.

    Candidates the ranker leaves out of a list get the row's minimum score minus one.
    """

    def __init__(self, ranker: Any, name: str | None = None) -> None:
        self.ranker = ranker
        self.name = name or type(ranker).__name__

    def score(self, queries: Sequence[Document], candidates: Sequence[Document]) -> np.ndarray:
        out = np.full((len(queries), len(candidates)), np.nan, dtype=np.float64)
        run = self.ranker.rank(list(queries), list(candidates), k=len(candidates))
        for i, q in enumerate(queries):
            row = run.get(q.id, {})
            for j, c in enumerate(candidates):
                if c.id in row:
                    out[i, j] = row[c.id]
            fill = np.nanmin(out[i]) - 1.0 if np.isfinite(out[i]).any() else 0.0
            out[i] = np.where(np.isnan(out[i]), fill, out[i])
        return out


class PairScorer:
    """A function ``fn([(query, candidate), ...]) -> [score, ...]`` as a :class:`Scorer`.

    For LLM judges and cross-encoders; it scores every pair, so audit small pools.
    """

    def __init__(
        self, fn: Callable[[list[tuple[Document, Document]]], Sequence[float]], name: str = "pairwise"
    ) -> None:
        self.fn = fn
        self.name = name

    def score(self, queries: Sequence[Document], candidates: Sequence[Document]) -> np.ndarray:
        pairs = [(q, c) for q in queries for c in candidates]
        vals = np.asarray(list(self.fn(pairs)), dtype=np.float64)
        if vals.shape != (len(pairs),):
            raise ValueError(f"pair scorer returned {vals.shape[0] if vals.ndim else 0} scores for {len(pairs)} pairs")
        return vals.reshape(len(queries), len(candidates))


def as_scorer(obj: Any) -> Scorer:
    """Wrap ``obj`` as a :class:`Scorer`: a Scorer as-is, a BiEncoder, a Ranker, or a pair function."""
    from agentic_match.evaluation.ranker import Ranker

    if hasattr(obj, "encode") and hasattr(obj, "similarity"):
        return EncoderScorer(obj)
    if isinstance(obj, Scorer):
        return obj
    if isinstance(obj, Ranker):
        return RankerScorer(obj)
    if callable(obj):
        return PairScorer(obj)
    raise ConfigError(f"cannot audit a {type(obj).__name__}: give a BiEncoder, a Ranker, a Scorer or a pair function")


# ---------------------------------------------------------------------------- counterfactuals


@dataclass(frozen=True)
class CounterfactualConfig:
    """How counterfactual resumes are made.

    Attributes:
        dimensions: Lexicon dimensions swapped together (``("gender",)``; add ``"age"`` or
            ``"nationality"`` to audit those markers).
        inject_names: Prepend a first name of the lexicon to every resume (of the side its
            own terms suggest, else a seeded random side) before swapping, so that resumes
            without any marker are audited too (most public resumes are anonymised). The
            "original" is then the name-injected resume.
        seed: Seed of the random side and name choice.
    """

    dimensions: tuple[str, ...] = ("gender",)
    inject_names: bool = False
    seed: int = 0


@dataclass
class CounterfactualPair:
    """A resume as audited (``base``) and its counterfactual.

    Attributes:
        base: The original document (name-injected when configured).
        counterfactual: ``base`` with the lexicon's terms swapped (same id).
        swaps: ``"source->target"`` for every replacement, in text order.
        base_side: The side ``base`` reads as (majority of its terms; ``None``: unclear).
    """

    base: Document
    counterfactual: Document
    swaps: list[str]
    base_side: str | None

    @property
    def changed(self) -> bool:
        return bool(self.swaps)


def _inject_name(doc: Document, name: str, render_config: RenderConfig) -> Document:
    line = f"Name: {name}"
    if (doc.text or "").strip():
        return replace(doc, text=f"{line}\n{doc.text}")
    rendered = ordered_fields(doc, render_config)
    if not rendered:
        return replace(doc, text=line)
    first = rendered[0][0]
    fields = dict(doc.fields)
    fields[first] = f"{line}\n{fields[first]}"
    return replace(doc, fields=fields)


def counterfactual_pair(
    doc: Document,
    lexicon: Lexicon,
    config: CounterfactualConfig = CounterfactualConfig(),
    *,
    rng: random.Random | None = None,
    render_config: RenderConfig = RenderConfig(),
) -> CounterfactualPair:
    """The :class:`CounterfactualPair` of one document (fields and free text swapped)."""
    dims = tuple(config.dimensions)
    primary = lexicon.dimension(dims[0])
    side = lexicon.infer_side(_all_text(doc), primary.name)
    base = doc
    if config.inject_names:
        if not primary.names:
            raise ConfigError(f"lexicon dimension {primary.name!r} has no names to inject")
        rng = rng or random.Random(config.seed)
        if side is None:
            side = primary.sides[rng.randrange(2)]
        pair = primary.names[rng.randrange(len(primary.names))]
        base = _inject_name(doc, pair[primary.sides.index(side)], render_config)
    swaps: list[str] = []
    fields = {}
    for name, value in base.fields.items():
        res = lexicon.swap(value or "", dims)
        fields[name] = res.text
        swaps += [f"{s.source}->{s.target}" for s in res.swaps]
    text = base.text
    if text:
        res = lexicon.swap(text, dims)
        text = res.text
        swaps += [f"{s.source}->{s.target}" for s in res.swaps]
    cf = replace(base, fields=fields, text=text)
    return CounterfactualPair(base, cf, swaps, side)


def _all_text(doc: Document) -> str:
    return "\n".join([*(v or "" for v in doc.fields.values()), doc.text or ""])


def make_counterfactuals(
    docs: Sequence[Document],
    lexicon: Lexicon,
    config: CounterfactualConfig = CounterfactualConfig(),
    *,
    render_config: RenderConfig = RenderConfig(),
) -> list[CounterfactualPair]:
    """:func:`counterfactual_pair` of each document, in order (one seeded stream)."""
    rng = random.Random(config.seed)
    return [counterfactual_pair(d, lexicon, config, rng=rng, render_config=render_config) for d in docs]


# ---------------------------------------------------------------------------- audit


@dataclass(frozen=True)
class AuditConfig:
    """Settings of :func:`counterfactual_audit`.

    Attributes:
        k: Top-``k`` cut-off for list changes.
        worst: How many worst pairs to keep.
        counterfactual: How counterfactual resumes are made.
        max_jobs: Audit at most this many jobs (seeded sample; ``None``: all).
        max_resumes: Audit at most this many resumes (seeded sample; ``None``: all).
        seed: Seed of the samples.
    """

    k: int = 10
    worst: int = 10
    counterfactual: CounterfactualConfig = field(default_factory=CounterfactualConfig)
    max_jobs: int | None = None
    max_resumes: int | None = None
    seed: int = 0


@dataclass
class PairShift:
    """One (job, resume) pair's score before and after the swap."""

    job_id: str
    resume_id: str
    base_score: float
    cf_score: float
    delta: float
    z: float
    base_rank: int
    cf_rank: int
    base_side: str | None
    swaps: list[str]


@dataclass
class AuditResult:
    """Everything :func:`counterfactual_audit` measured (see the module docstring).

    Attributes:
        scorer: Name of the audited scorer.
        n_jobs, n_resumes, n_changed: Pool sizes and resumes the lexicon changed.
        shift: Statistics of ``Δ`` and ``|z|`` over (job, changed resume) pairs.
        side_gap: ``{"<side1>-<side0>": mean score difference of the side1 version minus
            the side0 version}`` (``"z"`` variant too), over resumes with a readable side.
        rank_resume: Top-``k`` changes of the jobs' resume lists.
        rank_job: Top-``k`` changes of the changed resumes' job lists.
        worst: The largest ``|z|`` pairs.
        deltas, z: Every pair's shift (for plots).
        base_ranks, cf_ranks: Every pair's rank with the resume alone swapped (for plots).
        base_scores: ``(jobs, resumes)`` scores of the originals (for group metrics).
        job_ids, resume_ids: Row and column ids of ``base_scores``.
        swap_counts: ``{swap: count}`` over changed resumes (which terms drove the audit).
        base_sides: ``{resume_id: side}`` of the audited (possibly name-injected) resumes
            whose side is known: a proxy group for group metrics.
    """

    scorer: str
    k: int
    n_jobs: int
    n_resumes: int
    n_changed: int
    shift: dict[str, float]
    side_gap: dict[str, float]
    rank_resume: dict[str, float]
    rank_job: dict[str, float]
    worst: list[PairShift]
    deltas: np.ndarray
    z: np.ndarray
    base_ranks: np.ndarray
    cf_ranks: np.ndarray
    base_scores: np.ndarray
    job_ids: list[str]
    resume_ids: list[str]
    swap_counts: dict[str, int]
    config: AuditConfig
    base_sides: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        """Flat numbers for a results row."""
        k = self.k
        out = {
            "n_jobs": float(self.n_jobs),
            "n_resumes": float(self.n_resumes),
            "n_changed": float(self.n_changed),
            **{f"shift_{m}": v for m, v in self.shift.items()},
            **{f"gap_{m}": v for m, v in self.side_gap.items()},
            **{f"rank_resume_{m}": v for m, v in self.rank_resume.items()},
            **{f"rank_job_{m}": v for m, v in self.rank_job.items()},
        }
        out[f"top{k}_lists_changed_pct"] = self.rank_resume.get(f"lists_changed@{k}", 0.0) * 100.0
        return out

    def base_run(self, depth: int = 100) -> dict[str, dict[str, float]]:
        """The original scores as a run (``rank_resume``: job -> top ``depth`` resumes)."""
        run = {}
        for i, jid in enumerate(self.job_ids):
            row = self.base_scores[i]
            top = np.argsort(-row, kind="stable")[:depth]
            run[jid] = {self.resume_ids[j]: float(row[j]) for j in top}
        return run


def _sample(docs: Sequence[Document], n: int | None, seed: int) -> list[Document]:
    docs = list(docs)
    if n is None or n >= len(docs):
        return docs
    idx = sorted(random.Random(seed).sample(range(len(docs)), n))
    return [docs[i] for i in idx]


def _ranks_among(pool: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``1 + #(pool[q] > values[q, c])`` for every row ``q`` and column ``c`` (1 = first)."""
    out = np.zeros(values.shape, dtype=np.int64)
    n = pool.shape[1]
    for q in range(pool.shape[0]):
        ordered = np.sort(pool[q])
        out[q] = 1 + n - np.searchsorted(ordered, values[q], side="right")
    return out


def _topk_sets(scores: np.ndarray, k: int) -> list[set[int]]:
    k = min(k, scores.shape[1])
    # argsort on -scores with a stable sort: ties broken by column order, the same in both worlds.
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return [set(r.tolist()) for r in order]


def _list_changes(before: np.ndarray, after: np.ndarray, k: int) -> dict[str, float]:
    a, b = _topk_sets(before, k), _topk_sets(after, k)
    if not a:
        return {f"lists_changed@{k}": 0.0, f"overlap@{k}": 1.0}
    kk = min(k, before.shape[1])
    changed = [x != y for x, y in zip(a, b)]
    overlap = [len(x & y) / kk for x, y in zip(a, b)]
    return {f"lists_changed@{k}": float(np.mean(changed)), f"overlap@{k}": float(np.mean(overlap))}


def counterfactual_audit(
    scorer: Any,
    jobs: Sequence[Document],
    resumes: Sequence[Document],
    lexicon: Lexicon | None = None,
    config: AuditConfig = AuditConfig(),
) -> AuditResult:
    """Score original and counterfactual resumes against jobs and measure what moved.

    Args:
        scorer: A :class:`Scorer`, a ``BiEncoder``, a ``Ranker`` or a pair function
            (see :func:`as_scorer`).
        jobs: Job documents (the queries of ``rank_resume``, the pool of ``rank_job``).
        resumes: The resume pool; only resumes the lexicon changes are re-scored.
        lexicon: The swap lexicon (default: the packaged one).
        config: Cut-off, sampling and counterfactual settings.
    """
    lexicon = lexicon or Lexicon.load()
    sc = as_scorer(scorer)
    name = getattr(sc, "name", type(sc).__name__)
    jobs = _sample(jobs, config.max_jobs, config.seed)
    resumes = _sample(resumes, config.max_resumes, config.seed + 1)
    if not jobs or not resumes:
        raise ConfigError("the audit needs at least one job and one resume")
    render_config = getattr(getattr(sc, "encoder", None), "render_config", None) or RenderConfig()
    pairs = make_counterfactuals(resumes, lexicon, config.counterfactual, render_config=render_config)
    base_docs = [p.base for p in pairs]
    changed = [i for i, p in enumerate(pairs) if p.changed]
    k = config.k

    s0 = np.asarray(sc.score(jobs, base_docs), dtype=np.float64)
    s1_c = (
        np.asarray(sc.score(jobs, [pairs[i].counterfactual for i in changed]), dtype=np.float64)
        if changed
        else np.zeros((len(jobs), 0))
    )
    spread = s0.std(axis=1, keepdims=True)
    spread = np.where(spread > 0, spread, 1.0)
    delta = s1_c - s0[:, changed]
    z = delta / spread

    # Rank of each changed resume among the pool, alone swapped (others unchanged).
    base_col = s0[:, changed]
    base_rank = _ranks_among(s0, base_col)
    # The resume itself is in the row once; with it swapped, its old score no longer competes.
    cf_rank = _ranks_among(s0, s1_c) - (base_col > s1_c).astype(int)
    in_before, in_after = base_rank <= k, cf_rank <= k
    touched = in_before | in_after
    s_all = s0.copy()
    s_all[:, changed] = s1_c

    rank_resume = _list_changes(s0, s_all, k)
    rank_resume[f"flips@{k}"] = float((in_before != in_after).mean()) if delta.size else 0.0
    rank_resume[f"mean_abs_rank_change_in_top{k}"] = (
        float(np.abs(cf_rank - base_rank)[touched].mean()) if touched.any() else 0.0
    )
    rank_job = (
        _list_changes(s0[:, changed].T, s1_c.T, k) if changed else {f"lists_changed@{k}": 0.0, f"overlap@{k}": 1.0}
    )
    rank_job[f"lists_changed_all@{k}"] = rank_job[f"lists_changed@{k}"] * len(changed) / len(resumes)

    flat, flat_z = delta.ravel(), z.ravel()
    shift = {
        "mean_abs": float(np.abs(flat).mean()) if flat.size else 0.0,
        "mean": float(flat.mean()) if flat.size else 0.0,
        "std": float(flat.std()) if flat.size else 0.0,
        "p95_abs": float(np.percentile(np.abs(flat), 95)) if flat.size else 0.0,
        "max_abs": float(np.abs(flat).max()) if flat.size else 0.0,
        "mean_abs_z": float(np.abs(flat_z).mean()) if flat.size else 0.0,
        "p95_abs_z": float(np.percentile(np.abs(flat_z), 95)) if flat.size else 0.0,
    }

    primary = lexicon.dimension(config.counterfactual.dimensions[0])
    s0_name, s1_name = primary.sides
    sign = np.array([{s0_name: 1.0, s1_name: -1.0}.get(pairs[i].base_side, 0.0) for i in changed])
    side_gap: dict[str, float] = {}
    if changed and (sign != 0).any():
        # Δ is (cf - base); for a side0 base that is side1 - side0, for a side1 base the reverse.
        known = sign != 0
        side_gap[f"{s1_name}-{s0_name}"] = float((delta[:, known] * sign[known]).mean())
        side_gap[f"{s1_name}-{s0_name}_z"] = float((z[:, known] * sign[known]).mean())
        side_gap["n_resumes_with_side"] = float(known.sum())

    worst: list[PairShift] = []
    if flat.size:
        top = np.argsort(-np.abs(flat_z), kind="stable")[: config.worst]
        for f in top:
            qi, ci = divmod(int(f), len(changed))
            p = pairs[changed[ci]]
            worst.append(
                PairShift(
                    job_id=jobs[qi].id,
                    resume_id=p.base.id,
                    base_score=float(s0[qi, changed[ci]]),
                    cf_score=float(s1_c[qi, ci]),
                    delta=float(delta[qi, ci]),
                    z=float(z[qi, ci]),
                    base_rank=int(base_rank[qi, ci]),
                    cf_rank=int(cf_rank[qi, ci]),
                    base_side=p.base_side,
                    swaps=list(dict.fromkeys(p.swaps))[:12],
                )
            )
    counts: dict[str, int] = {}
    for i in changed:
        for s in pairs[i].swaps:
            key = s.lower()
            counts[key] = counts.get(key, 0) + 1
    return AuditResult(
        scorer=name,
        k=k,
        n_jobs=len(jobs),
        n_resumes=len(resumes),
        n_changed=len(changed),
        shift=shift,
        side_gap=side_gap,
        rank_resume=rank_resume,
        rank_job=rank_job,
        worst=worst,
        deltas=flat,
        z=flat_z,
        base_ranks=base_rank.ravel(),
        cf_ranks=cf_rank.ravel(),
        base_scores=s0,
        job_ids=[j.id for j in jobs],
        resume_ids=[r.id for r in resumes],
        swap_counts=dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        config=config,
        base_sides={p.base.id: p.base_side for p in pairs if p.base_side is not None},
    )


def inferred_groups(
    docs: Sequence[Document], lexicon: Lexicon | None = None, dimension: str = "gender"
) -> dict[str, str]:
    """``{doc_id: side}`` for documents whose own terms show a side (a weak proxy label)."""
    lexicon = lexicon or Lexicon.load()
    out = {}
    for d in docs:
        side = lexicon.infer_side(_all_text(d), dimension)
        if side is not None:
            out[d.id] = side
    return out


def metadata_groups(docs: Sequence[Document], key: str) -> dict[str, str]:
    """``{doc_id: str(metadata[key])}`` for documents that carry the attribute."""
    return {d.id: str(d.metadata[key]) for d in docs if d.metadata.get(key) not in (None, "")}


__all__ = [
    "AuditConfig",
    "AuditResult",
    "CounterfactualConfig",
    "CounterfactualPair",
    "EncoderScorer",
    "PairScorer",
    "PairShift",
    "RankerScorer",
    "Scorer",
    "as_scorer",
    "counterfactual_audit",
    "counterfactual_pair",
    "inferred_groups",
    "make_counterfactuals",
    "metadata_groups",
]
