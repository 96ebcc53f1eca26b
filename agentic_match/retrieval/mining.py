"""Hard negatives for ConFit: rejected labels, Runner-Up Mining (RUM) and BM25.

Runner-Up Mining (ConFit v2): score every train candidate for each accepted pair with an
encoder trained *without* hard negatives, keep the candidates whose rank falls in a
percentile band (the paper's 3%-4%: hard, yet past the head where unlabelled true positives
crowd), drop known positives, sample a few per pair, and retrain from the base encoder.

On a topical benchmark, where one category is a few percent of the pool, the paper's band
can sit inside the positives; ``choose_band`` picks a band on the dev split instead (see
there for the proxy used).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agentic_match.config import setting
from agentic_match.data.schema import Corpus, Label
from agentic_match.errors import ConfigError, DataError

if TYPE_CHECKING:
    from agentic_match.retrieval.encoder import BiEncoder

log = logging.getLogger(__name__)

Band = tuple[float, float]
"""``(low, high)`` rank percentiles, e.g. ``(3.0, 4.0)``: ranks ``r`` (0 = best) of a pool of
``n`` with ``low <= 100 * r / n < high``."""

DEFAULT_BAND: Band = (3.0, 4.0)
AUTO_BANDS: tuple[Band, ...] = ((0, 1), (1, 2), (3, 4), (5, 10), (10, 20), (20, 30))


@dataclass(frozen=True)
class MiningConfig:
    """Settings of Runner-Up Mining."""

    band: str = setting("auto", help="Rank-percentile band LOW-HIGH (e.g. 3-4), or auto (chosen on dev).")
    per_pair: int = setting(1, help="Mined negatives per accepted pair and side.")
    seed: int = setting(1, help="Seed of the draw of negatives from the band.")

    def __post_init__(self) -> None:
        if self.band != "auto":
            parse_band(self.band)
        if self.per_pair < 1:
            raise ConfigError("per_pair must be >= 1")


@dataclass(frozen=True)
class PairNegatives:
    """Hard-negative pools of one accepted pair: jobs for its resume, resumes for its job."""

    jobs: tuple[str, ...] = ()
    resumes: tuple[str, ...] = ()


Negatives = dict[tuple[str, str], PairNegatives]
"""``{(resume_id, job_id): PairNegatives}`` for accepted pairs."""


def parse_band(text: str) -> Band:
    """``"3-4"`` -> ``(3.0, 4.0)`` (percent)."""
    try:
        lo, hi = (float(x) for x in str(text).replace("%", "").split("-"))
    except ValueError:
        raise ConfigError(f"a band is LOW-HIGH in percent, like 3-4; got {text!r}") from None
    if not 0 <= lo < hi <= 100:
        raise ConfigError(f"band must satisfy 0 <= low < high <= 100, got {text!r}")
    return (lo, hi)


# ---------------------------------------------------------------------------- label negatives


def _by_side(labels: Iterable[Label]) -> tuple[dict, dict, dict, dict]:
    acc_r, acc_j, rej_r, rej_j = (defaultdict(list) for _ in range(4))
    for lab in labels:
        if lab.label > 0:
            acc_r[lab.resume_id].append(lab.job_id)
            acc_j[lab.job_id].append(lab.resume_id)
        else:
            rej_r[lab.resume_id].append(lab.job_id)
            rej_j[lab.job_id].append(lab.resume_id)
    return acc_r, acc_j, rej_r, rej_j


def rejected_negatives(labels: Sequence[Label]) -> Negatives:
    """For each accepted pair: the jobs that rejected its resume, the resumes its job rejected."""
    acc_r, _, rej_r, rej_j = _by_side(labels)
    out: Negatives = {}
    for rid, jids in acc_r.items():
        for jid in jids:
            jobs = tuple(dict.fromkeys(rej_r.get(rid, ())))
            resumes = tuple(dict.fromkeys(rej_j.get(jid, ())))
            if jobs or resumes:
                out[(rid, jid)] = PairNegatives(jobs, resumes)
    return out


# ---------------------------------------------------------------------------- band selection


def band_ranks(n: int, band: Band) -> np.ndarray:
    """Rank positions (0 = best) of a pool of ``n`` that fall in ``band``; never empty for n > 0."""
    lo, hi = band
    ranks = np.arange(n)
    pct = 100.0 * ranks / max(n, 1)
    keep = ranks[(pct >= lo) & (pct < hi)]
    if keep.size == 0 and n > 0:
        keep = np.array([min(n - 1, int(lo * n / 100.0))])
    return keep


def band_candidates(scores: np.ndarray, band: Band, exclude: Iterable[int] = ()) -> list[int]:
    """Candidate indices whose rank by ``scores`` (descending) falls in ``band``, minus ``exclude``.

    Known positives are ranked like every candidate (they take their rank slot) and only
    then dropped, so the band keeps meaning "the r-th percentile of the pool".
    """
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    skip = set(exclude)
    return [int(c) for c in order[band_ranks(len(order), band)] if int(c) not in skip]


def _pair_rng(seed: int, *key: str) -> random.Random:
    h = hashlib.sha256(json.dumps([seed, *key]).encode()).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


def sample_band_negatives(
    query_ids: Sequence[str],
    candidate_ids: Sequence[str],
    scores: np.ndarray,
    band: Band,
    positives: Mapping[str, Iterable[str]],
    n: int,
    *,
    seed: int = 0,
) -> dict[str, list[str]]:
    """Per query: up to ``n`` candidates sampled (seeded per query) from its band, positives dropped.

    Args:
        query_ids: Row ids of ``scores``.
        candidate_ids: Column ids of ``scores``.
        scores: ``(len(query_ids), len(candidate_ids))`` similarity matrix.
        band: Rank-percentile band.
        positives: Known positive candidate ids per query id (never returned).
        n: Negatives per query.
        seed: Sampling seed; a query's sample depends only on the seed and its id.
    """
    pos_index = {c: i for i, c in enumerate(candidate_ids)}
    out: dict[str, list[str]] = {}
    for qi, qid in enumerate(query_ids):
        excl = [pos_index[c] for c in positives.get(qid, ()) if c in pos_index]
        pool = [candidate_ids[c] for c in band_candidates(scores[qi], band, excl)]
        rng = _pair_rng(seed, qid)
        out[qid] = pool if len(pool) <= n else rng.sample(pool, n)
    return out


# ---------------------------------------------------------------------------- RUM


@dataclass
class MiningReport:
    """Counts of a mining run (shown by the CLI, stored by the benchmark)."""

    band: Band
    pairs: int
    negative_jobs: int
    negative_resumes: int
    extra: dict[str, Any] = field(default_factory=dict)


def _train_docs(corpus: Corpus, split: str) -> tuple[list[str], list[str]]:
    resumes = corpus.split_ids("resume", split) if corpus.splits else list(corpus.resumes)
    jobs = corpus.split_ids("job", split) if corpus.splits else list(corpus.jobs)
    return resumes, jobs


def mine_runner_up(
    encoder: BiEncoder,
    corpus: Corpus,
    band: Band = DEFAULT_BAND,
    *,
    per_pair: int = 1,
    seed: int = 0,
    split: str = "train",
    labels: Sequence[Label] | None = None,
) -> tuple[Negatives, MiningReport]:
    """Runner-Up Mining: band-ranked train candidates per accepted pair, both directions.

    For an accepted pair ``(r, j)``: the jobs of the train pool ranked for ``r`` whose rank
    falls in ``band`` minus ``r``'s accepted jobs, and the resumes ranked for ``j`` in the
    band minus ``j``'s accepted resumes; ``per_pair`` of each sampled (seeded per pair).
    """
    from agentic_match.data.labels import accepted_pairs, training_labels

    labels = list(labels) if labels is not None else training_labels(corpus, split)
    pairs = accepted_pairs(labels)
    if not pairs:
        from agentic_match.errors import NoTrainingPairsError

        raise NoTrainingPairsError(f"{corpus.source}: no accepted pair in the {split!r} labels to mine for")
    res_ids, job_ids = _train_docs(corpus, split)
    acc_r, acc_j, _, _ = _by_side(labels)
    r_vec = encoder.encode([corpus.resumes[i] for i in res_ids])
    j_vec = encoder.encode([corpus.jobs[i] for i in job_ids])
    scores = r_vec @ j_vec.T
    r_pos = {r: i for i, r in enumerate(res_ids)}
    j_pos = {j: i for i, j in enumerate(job_ids)}
    neg_jobs: dict[str, list[str]] = {}
    neg_res: dict[str, list[str]] = {}
    out: Negatives = {}
    for rid, jid in pairs:
        if rid not in r_pos or jid not in j_pos:
            continue
        if rid not in neg_jobs:
            excl = [j_pos[j] for j in acc_r[rid] if j in j_pos]
            neg_jobs[rid] = [job_ids[c] for c in band_candidates(scores[r_pos[rid]], band, excl)]
        if jid not in neg_res:
            excl = [r_pos[r] for r in acc_j[jid] if r in r_pos]
            neg_res[jid] = [res_ids[c] for c in band_candidates(scores[:, j_pos[jid]], band, excl)]
        rng = _pair_rng(seed, rid, jid)
        jobs = neg_jobs[rid] if len(neg_jobs[rid]) <= per_pair else rng.sample(neg_jobs[rid], per_pair)
        resumes = neg_res[jid] if len(neg_res[jid]) <= per_pair else rng.sample(neg_res[jid], per_pair)
        out[(rid, jid)] = PairNegatives(tuple(jobs), tuple(resumes))
    report = MiningReport(
        band,
        len(out),
        sum(len(v.jobs) for v in out.values()),
        sum(len(v.resumes) for v in out.values()),
    )
    return out, report


def choose_band(
    encoder: BiEncoder,
    corpus: Corpus,
    bands: Sequence[Band] = AUTO_BANDS,
    *,
    split: str = "dev",
    max_positive_share: float = 0.2,
) -> tuple[Band, dict[str, float]]:
    """Pick a RUM band on ``split`` with a cheap, honest proxy of false negatives.

    A retrain per band would cost a training run each; instead, rank the split's full pools
    with the mining encoder (both tasks, the split's qrels) and measure, for each band, the
    share of band members that are judged relevant - the candidates RUM would wrongly call
    negatives. The chosen band is the hardest (closest to the top) whose share is at most
    ``max_positive_share``; if none is, the cleanest band. Percentile bands transfer from the
    dev to the train pool because splits are stratified (same category mix).

    Returns:
        ``(band, {"3-4": share, ...})``.

    Raises:
        DataError: the split has no qrels.
    """
    tasks = [t for t in ("rank_resume", "rank_job") if f"{split}_{t}" in corpus.qrels]
    if not tasks:
        raise DataError(f"{corpus.source}: no '{split}' qrels to choose a band with")
    res_ids, job_ids = _train_docs(corpus, split)
    r_vec = encoder.encode([corpus.resumes[i] for i in res_ids])
    j_vec = encoder.encode([corpus.jobs[i] for i in job_ids])
    counts = {b: [0, 0] for b in bands}  # band -> [relevant, total]
    for task in tasks:
        qrels = corpus.qrels[f"{split}_{task}"]
        if task == "rank_resume":
            q_ids, c_ids, scores = job_ids, res_ids, j_vec @ r_vec.T
        else:
            q_ids, c_ids, scores = res_ids, job_ids, r_vec @ j_vec.T
        for qi, qid in enumerate(q_ids):
            if qid not in qrels:
                continue
            rel = {c for c, g in qrels[qid].items() if g > 0}
            order = np.argsort(-scores[qi], kind="stable")
            for b in bands:
                members = order[band_ranks(len(c_ids), b)]
                counts[b][0] += sum(c_ids[m] in rel for m in members)
                counts[b][1] += len(members)
    shares = {b: (c[0] / c[1] if c[1] else 1.0) for b, c in counts.items()}
    ok = [b for b in bands if shares[b] <= max_positive_share]
    chosen = min(ok, key=lambda b: b[0]) if ok else min(bands, key=lambda b: shares[b])
    return chosen, {band_label(b): round(s, 4) for b, s in shares.items()}


def band_label(band: Band) -> str:
    """``(3.0, 4.0)`` -> ``"3-4"``."""
    return "-".join(f"{x:g}" for x in band)


# ---------------------------------------------------------------------------- BM25


def bm25_negatives(
    corpus: Corpus,
    *,
    top_k: int = 10,
    per_pair: int = 1,
    seed: int = 0,
    split: str = "train",
    labels: Sequence[Label] | None = None,
) -> Negatives:
    """The comparison method: negatives sampled from each side's BM25 top-``top_k``, positives dropped."""
    from agentic_match.data.labels import accepted_pairs, training_labels
    from agentic_match.data.render import render
    from agentic_match.retrieval.bm25 import bm25_top_k

    labels = list(labels) if labels is not None else training_labels(corpus, split)
    pairs = accepted_pairs(labels)
    res_ids, job_ids = _train_docs(corpus, split)
    acc_r, acc_j, _, _ = _by_side(labels)
    q_res = sorted({r for r, _ in pairs})
    q_job = sorted({j for _, j in pairs})
    depth = top_k + 5  # room for the positives that are dropped
    jobs_for = _bm25_lists(
        bm25_top_k([render(corpus.resumes[r]) for r in q_res], [render(corpus.jobs[j]) for j in job_ids], depth),
        q_res,
        job_ids,
    )
    res_for = _bm25_lists(
        bm25_top_k([render(corpus.jobs[j]) for j in q_job], [render(corpus.resumes[r]) for r in res_ids], depth),
        q_job,
        res_ids,
    )
    out: Negatives = {}
    for rid, jid in pairs:
        jpool = [j for j in jobs_for.get(rid, []) if j not in set(acc_r[rid])][:top_k]
        rpool = [r for r in res_for.get(jid, []) if r not in set(acc_j[jid])][:top_k]
        rng = _pair_rng(seed, rid, jid)
        out[(rid, jid)] = PairNegatives(
            tuple(jpool if len(jpool) <= per_pair else rng.sample(jpool, per_pair)),
            tuple(rpool if len(rpool) <= per_pair else rng.sample(rpool, per_pair)),
        )
    return out


def _bm25_lists(
    hits: Sequence[Sequence[tuple[int, float]]], query_ids: Sequence[str], cand_ids: Sequence[str]
) -> dict[str, list[str]]:
    """``bm25_top_k``'s ``(candidate_index, score)`` rows as candidate-id lists, best first."""
    return {q: [cand_ids[int(i)] for i, _ in row] for q, row in zip(query_ids, hits)}


# ---------------------------------------------------------------------------- files


def save_negatives(path: str | Path, negatives: Negatives) -> Path:
    """Write negatives as JSONL atomically: one accepted pair per line."""
    from agentic_match.files import atomic_write_bytes

    lines = [
        json.dumps(
            {"resume_id": r, "job_id": j, "negative_job_ids": list(v.jobs), "negative_resume_ids": list(v.resumes)}
        )
        for (r, j), v in sorted(negatives.items())
    ]
    atomic_write_bytes(path, ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"))
    return Path(path)


def load_negatives(path: str | Path, corpus: Corpus | None = None) -> Negatives:
    """Read a negatives file written by :func:`save_negatives`; ids checked against ``corpus``.

    Raises:
        DataError: missing file, malformed lines or unknown ids (every problem listed).
    """
    from agentic_match.errors import Problem

    path = Path(path)
    if not path.is_file():
        raise DataError(Problem(str(path), None, None, "negatives file not found"))
    out: Negatives = {}
    problems: list[Problem] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key = (str(row["resume_id"]), str(row["job_id"]))
            jobs = tuple(str(x) for x in row.get("negative_job_ids", []))
            resumes = tuple(str(x) for x in row.get("negative_resume_ids", []))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            problems.append(Problem(str(path), n, None, f"expected resume_id, job_id, negative_*_ids ({e})"))
            continue
        if corpus is not None:
            bad = [r for r in (key[0], *resumes) if r not in corpus.resumes]
            bad += [j for j in (key[1], *jobs) if j not in corpus.jobs]
            if bad:
                problems.append(Problem(str(path), n, None, f"unknown id(s): {', '.join(bad[:5])}"))
                continue
        out[key] = PairNegatives(jobs, resumes)
    if problems:
        raise DataError(problems)
    return out


__all__ = [
    "MiningConfig",
    "AUTO_BANDS",
    "DEFAULT_BAND",
    "Band",
    "MiningReport",
    "Negatives",
    "PairNegatives",
    "band_candidates",
    "band_label",
    "band_ranks",
    "bm25_negatives",
    "choose_band",
    "load_negatives",
    "mine_runner_up",
    "parse_band",
    "rejected_negatives",
    "sample_band_negatives",
    "save_negatives",
]
