"""Preferences from labels: higher grade over lower for the same query, in the judge's file format."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agentic_match.align.label_pairs import LabelPairConfig, label_preference_records
from agentic_match.align.preferences import load_preferences, write_preferences
from agentic_match.data.schema import Label
from agentic_match.errors import ConfigError
from tests._retrieval_toy import toy_corpus


@pytest.fixture
def corpus():
    c = toy_corpus()
    return replace(c, label_splits={"train": list(c.labels)})


def test_each_job_prefers_its_accepted_resume_over_its_rejected_one(tmp_path, corpus):
    records, report = label_preference_records(corpus)
    prefs = load_preferences(write_preferences(tmp_path / "p.jsonl", records), corpus).preferences
    by_job = {}
    for lb in corpus.labels:
        by_job.setdefault(lb.job_id, {})[lb.resume_id] = lb.label
    assert prefs and len(prefs) == report.pairs
    for p in prefs:
        grades = by_job[p.query_id]
        assert grades[p.chosen_id] > grades[p.rejected_id]
        assert p.query_kind == "job"
    assert all(r["source"] == "labels" for r in records)
    # position is drawn at random, so a file carries no "A always wins" pattern
    assert {r["preferred"] for r in records} == {"A", "B"}


def test_conflicts_single_grade_queries_and_caps_are_reported(corpus):
    j, r = corpus.labels[0].job_id, corpus.labels[0].resume_id
    labels = [*corpus.labels, Label(r, j, 0)]  # the same pair labelled twice, differently
    c = replace(corpus, labels=labels, label_splits={"train": labels})
    records, report = label_preference_records(c)
    assert report.conflicting_labels == [(j, r)]
    assert all(not (x["query_id"] == j and r in (x["passage1_id"], x["passage2_id"])) for x in records)
    assert report.single_grade_queries >= 1
    capped, rep = label_preference_records(c, LabelPairConfig(max_pairs_per_query=1))
    assert rep.pairs_available >= rep.pairs == len(capped)
    assert len({x["query_id"] for x in capped}) == len(capped)


def test_resume_queries_compare_jobs(corpus):
    records, _ = label_preference_records(corpus, LabelPairConfig(query_kind="resume"))
    assert records and all(x["query_kind"] == "resume" and x["query_id"] in corpus.resumes for x in records)


def test_an_unknown_split_is_a_clear_error(corpus):
    with pytest.raises(ConfigError, match="no 'dev' label split"):
        label_preference_records(corpus, LabelPairConfig(split="dev"))
    with pytest.raises(ConfigError, match="query_kind"):
        LabelPairConfig(query_kind="team")  # type: ignore[arg-type]
