"""Preferences from people: pairs derived from a team's own hiring labels.

The LLM judge is one source of preferences; a team's accepted / rejected labels (and graded
labels) are another, and the more trustworthy one. For each query (a job by default, or a
resume), every two documents it was labelled with at different grades make a pair: the
higher grade is preferred. Pairs are written in the preference-file format of
:mod:`agentic_match.align.preferences` (``"source": "labels"``), so RankPO reads them exactly
as it reads the judge's.

Which passage is shown first is random (seeded), so a file carries no position pattern; a
document labelled twice for the same query with different grades is ambiguous and left out
(counted in the report, never silently).

Example::

    from agentic_match.align.label_pairs import LabelPairConfig, label_preference_records
    from agentic_match.align.preferences import write_preferences

    records, report = label_preference_records(corpus, LabelPairConfig(split="train"))
    write_preferences("prefs.labels.jsonl", records)
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agentic_match.align.preferences import preference_record
from agentic_match.config import setting
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Corpus, DocKind, Label
from agentic_match.errors import ConfigError

QUERY_KINDS: tuple[str, ...] = ("job", "resume")


@dataclass(frozen=True)
class LabelPairConfig:
    """Which labels become preference pairs."""

    split: str | None = setting(
        "train", help="Label split the pairs come from (None: all labels). Never the split you evaluate on."
    )
    query_kind: DocKind = setting(
        "job", help="'job': resumes compared for a job; 'resume': jobs compared for a resume.", choices=QUERY_KINDS
    )
    max_pairs_per_query: int | None = setting(
        20, help="At most this many pairs per query, drawn at random (seeded); None keeps all."
    )
    max_doc_chars: int | None = setting(
        None, help="Cut each text to this many characters (None: the encoder's window cuts it)."
    )
    seed: int = setting(0, help="Seed of the pair draw and of which passage is shown first.")

    def __post_init__(self) -> None:
        if self.query_kind not in QUERY_KINDS:
            raise ConfigError(f"LabelPairConfig.query_kind must be 'job' or 'resume', not {self.query_kind!r}")
        if self.max_pairs_per_query is not None and self.max_pairs_per_query < 1:
            raise ConfigError(f"LabelPairConfig.max_pairs_per_query must be >= 1, got {self.max_pairs_per_query}")


@dataclass
class LabelPairReport:
    """What the labels gave: pairs written, and what could not become a pair (and why)."""

    labels: int = 0
    queries: int = 0
    pairs: int = 0
    pairs_available: int = 0
    single_grade_queries: int = 0
    conflicting_labels: list[tuple[str, str]] = field(default_factory=list)
    unknown_documents: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "queries": self.queries,
            "pairs": self.pairs,
            "pairs_available": self.pairs_available,
            "single_grade_queries": self.single_grade_queries,
            "conflicting_labels": len(self.conflicting_labels),
            "unknown_documents": self.unknown_documents,
        }


def _grades(
    labels: Iterable[Label], corpus: Corpus, kind: DocKind, report: LabelPairReport
) -> dict[str, dict[str, float]]:
    """``{query_id: {passage_id: grade}}``; a passage graded twice differently is dropped."""
    seen: dict[str, dict[str, set[float]]] = defaultdict(lambda: defaultdict(set))
    for lb in labels:
        report.labels += 1
        if lb.job_id not in corpus.jobs or lb.resume_id not in corpus.resumes:
            report.unknown_documents += 1
            continue
        q, p = (lb.job_id, lb.resume_id) if kind == "job" else (lb.resume_id, lb.job_id)
        seen[q][p].add(float(lb.label))
    out: dict[str, dict[str, float]] = {}
    for q, passages in seen.items():
        grades = {}
        for p, values in passages.items():
            if len(values) > 1:
                report.conflicting_labels.append((q, p))
            else:
                grades[p] = next(iter(values))
        out[q] = grades
    return out


def label_preference_records(
    corpus: Corpus,
    config: LabelPairConfig = LabelPairConfig(),
    *,
    render_config: RenderConfig = RenderConfig(),
) -> tuple[list[dict[str, Any]], LabelPairReport]:
    """Preference records (the judge's file format) from ``corpus``'s labels.

    Args:
        corpus: Documents and labels (``config.split`` picks ``label_splits[split]``; a corpus
            without label splits gives all its labels).
        config: Split, query kind, pairs per query, seed.
        render_config: How documents become the texts stage 2 trains on.

    Returns:
        ``(records, report)``: records ordered by query id, each with ``"source": "labels"``
        and the two grades; the report counts what could not become a pair.

    Raises:
        ConfigError: ``corpus`` has label splits and ``config.split`` is none of them.
    """
    if config.split is None or not corpus.label_splits:
        # A corpus without label splits: all its labels are training labels (as ConFit* reads them).
        labels = corpus.labels
    elif config.split in corpus.label_splits:
        labels = corpus.label_splits[config.split]
    else:
        known = ", ".join(sorted(corpus.label_splits))
        raise ConfigError(f"the corpus has no '{config.split}' label split (it has: {known})")
    kind = config.query_kind
    queries, passages = (corpus.jobs, corpus.resumes) if kind == "job" else (corpus.resumes, corpus.jobs)
    report = LabelPairReport()
    rng = random.Random(config.seed)
    cut = config.max_doc_chars

    def text(doc: Any) -> str:
        t = render(doc, render_config)
        return t[:cut] if cut is not None else t

    records: list[dict[str, Any]] = []
    for q, grades in sorted(_grades(labels, corpus, kind, report).items()):
        if len(set(grades.values())) < 2:
            report.single_grade_queries += 1
            continue
        ids = sorted(grades)
        pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :] if grades[a] != grades[b]]
        report.queries += 1
        report.pairs_available += len(pairs)
        if config.max_pairs_per_query is not None and len(pairs) > config.max_pairs_per_query:
            pairs = sorted(rng.sample(pairs, config.max_pairs_per_query))
        for a, b in pairs:
            if rng.random() < 0.5:
                a, b = b, a
            preferred = "A" if grades[a] > grades[b] else "B"
            records.append(
                preference_record(
                    q,
                    a,
                    b,
                    text(queries[q]),
                    text(passages[a]),
                    text(passages[b]),
                    preferred,  # type: ignore[arg-type]
                    reason=f"labelled {grades[a]:g} vs {grades[b]:g}",
                    query_kind=kind,
                    source="labels",
                    grades=[grades[a], grades[b]],
                )
            )
    report.pairs = len(records)
    return records, report


__all__ = ["LabelPairConfig", "LabelPairReport", "label_preference_records"]
