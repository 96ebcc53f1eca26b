"""The preference-file format: round trip, per-record errors, nothing silently dropped."""

from __future__ import annotations

import json

import pytest

from agentic_match.align.preferences import (
    load_preferences,
    preference_record,
    split_preferences,
    write_preferences,
)
from agentic_match.errors import DataError
from tests._retrieval_toy import toy_corpus


def _rec(q="j-nurse", a="r-nurse", b="r-chef", pref="A"):
    return preference_record(q, a, b, "job text", "resume a", "resume b", pref, "fits")


def test_round_trip_resolves_chosen_and_rejected(tmp_path):
    path = write_preferences(tmp_path / "p.jsonl", [_rec(pref="A"), _rec(a="r-dev", b="r-law", pref="B")])
    prefs = load_preferences(path, toy_corpus()).preferences
    assert (prefs[0].chosen_id, prefs[0].rejected_id, prefs[0].chosen) == ("r-nurse", "r-chef", "resume a")
    assert (prefs[1].chosen_id, prefs[1].rejected_id, prefs[1].chosen) == ("r-law", "r-dev", "resume b")
    assert prefs[0].reason == "fits"


def test_every_bad_record_is_reported_with_its_line(tmp_path):
    bad_missing = _rec()
    del bad_missing["passage2"]
    lines = [
        json.dumps(_rec()),
        json.dumps(bad_missing),
        json.dumps(_rec(q="j-nope")),
        json.dumps(_rec(pref="C")),
        "{not json",
        json.dumps(_rec(a="r-nurse", b="r-nurse")),
    ]
    p = tmp_path / "p.jsonl"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as e:
        load_preferences(p, toy_corpus())
    text = str(e.value)
    for needle in (
        ":2 [passage2]: missing field",
        ":3 [query_id]: unknown job id 'j-nope'",
        ":4 [preferred]: must be 'A' or 'B'",
        ":5: invalid JSON",
        ":6 [passage2_id]",
    ):
        assert needle in text, text
    skipped = load_preferences(p, toy_corpus(), on_error="skip")
    assert len(skipped.preferences) == 1
    assert len(skipped.problems) == 5  # counted and reported, not silently dropped


def test_unknown_ids_only_checked_with_a_corpus(tmp_path):
    p = write_preferences(tmp_path / "p.jsonl", [_rec(q="j-elsewhere")])
    assert len(load_preferences(p)) == 1
    with pytest.raises(DataError, match="unknown job id"):
        load_preferences(p, toy_corpus())


def test_missing_or_empty_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_preferences(tmp_path / "none.jsonl")
    (tmp_path / "e.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no record"):
        load_preferences(tmp_path / "e.jsonl")


def test_write_refuses_bad_records(tmp_path):
    with pytest.raises(DataError):
        write_preferences(tmp_path / "p.jsonl", [_rec(pref="tie")])


def test_split_by_query_never_shares_a_query(tmp_path):
    recs = [
        _rec(q=q, a=a, b=b)
        for q in ("j-nurse", "j-chef", "j-dev", "j-acct", "j-pilot")
        for a, b in [("r-nurse", "r-chef")]
    ]
    p = write_preferences(tmp_path / "p.jsonl", recs)
    train, held = split_preferences(load_preferences(p).preferences, held_out=0.4, seed=1)
    assert len(held) == 2 and len(train) == 3
    assert not {x.query_id for x in train} & {x.query_id for x in held}
