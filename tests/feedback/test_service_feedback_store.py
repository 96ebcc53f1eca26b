"""FeedbackStore: picks become preference pairs, atomically, with named watermarks."""

from __future__ import annotations

import threading

import pytest

from agentic_match.align.preferences import load_preferences, record_problems
from agentic_match.data import Corpus, Document
from agentic_match.errors import DataError
from agentic_match.feedback.store import FeedbackStore


@pytest.fixture
def corpus() -> Corpus:
    resumes = {f"r{i}": Document(f"r{i}", "resume", text=f"resume {i} python") for i in range(5)}
    jobs = {"j1": Document("j1", "job", text="python developer"), "j2": Document("j2", "job", text="nurse")}
    return Corpus(resumes=resumes, jobs=jobs)


def test_picks_become_pairs_in_preference_format(tmp_path, corpus):
    store = FeedbackStore(tmp_path / "fb.sqlite", corpus=corpus)
    added = store.add_picks("j1", ["r0", "r1", "r2", "r3"], ["r1", "r3"], recruiter="ana")
    assert added == 4  # 2 picked x 2 not picked
    recs = store.pairs()
    assert [r["seq"] for r in recs] == [1, 2, 3, 4]
    assert {(r["passage1_id"], r["passage2_id"]) for r in recs} == {
        ("r1", "r0"),
        ("r1", "r2"),
        ("r3", "r0"),
        ("r3", "r2"),
    }
    for r in recs:
        assert record_problems(r, "x", None, corpus) == []
        assert r["preferred"] == "A" and r["source"] == "recruiter" and r["recruiter"] == "ana"
        assert r["query"] == "python developer"
    # A retried request stores nothing twice.
    assert store.add_picks("j1", ["r0", "r1", "r2", "r3"], ["r1", "r3"], recruiter="ana") == 0
    assert len(store) == 4
    out = store.export_jsonl(tmp_path / "prefs.jsonl")
    assert len(load_preferences(out, corpus)) == 4


def test_watermarks_and_count_new(tmp_path, corpus):
    store = FeedbackStore(tmp_path / "fb.sqlite", corpus=corpus)
    store.add_picks("j1", ["r0", "r1"], ["r0"])
    assert store.count_new("rankpo") == 1 and store.count_new(0) == 1
    assert store.mark_consumed("rankpo") == 1
    assert store.count_new("rankpo") == 0
    store.add_picks("j2", ["r0", "r1", "r2"], ["r2"], query_kind="job")
    assert store.count_new("rankpo") == 2 and store.count_new("report") == 3
    assert [r["seq"] for r in store.pairs(since=store.watermark("rankpo"))] == [2, 3]
    assert store.mark_consumed("rankpo", upto=1) == 1  # never backwards
    # A second store object on the same file (another process) sees the same state.
    assert FeedbackStore(tmp_path / "fb.sqlite").watermark("rankpo") == 1


def test_bad_picks_store_nothing(tmp_path, corpus):
    store = FeedbackStore(tmp_path / "fb.sqlite", corpus=corpus)
    with pytest.raises(DataError, match="picked_ids"):
        store.add_picks("j1", ["r0", "r1"], ["r4"])
    with pytest.raises(DataError, match="no text for resume id 'zz'"):
        store.add_picks("j1", ["r0", "zz"], ["r0"])
    with pytest.raises(DataError, match="no text for job id 'nope'"):
        store.add_picks("nope", ["r0", "r1"], ["r0"])
    assert len(store) == 0
    assert store.add_picks("j1", ["r0", "r1"], []) == 0
    assert store.add_picks("j1", ["r0", "r1"], ["r0", "r1"]) == 0
    with pytest.raises(DataError, match="no feedback pair"):
        store.export_jsonl(tmp_path / "p.jsonl")


def test_texts_override_and_reverse_direction(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    texts = {"r1": "my resume", "j1": "job one", "j2": "job two"}
    assert store.add_picks("r1", ["j1", "j2"], ["j2"], query_kind="resume", texts=texts) == 1
    (rec,) = store.pairs()
    assert (rec["query_kind"], rec["query"], rec["passage1"], rec["passage2"]) == (
        "resume",
        "my resume",
        "job two",
        "job one",
    )


def test_concurrent_writers(tmp_path, corpus):
    store = FeedbackStore(tmp_path / "fb.sqlite", corpus=corpus)

    def work(who: str) -> None:
        for _ in range(5):
            store.add_picks("j1", ["r0", "r1", "r2"], ["r0"], recruiter=who)

    threads = [threading.Thread(target=work, args=(f"u{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 8  # 2 pairs per recruiter, duplicates ignored
