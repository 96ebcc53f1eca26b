"""Learning from the API's feedback: enough picks start an update; a switch moves the matcher.

The update is a fake where the test is about the service; the last test runs the real
RankPO update (MiniLM, toy corpus) behind the real FastAPI app.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from agentic_match.align.trainer import RankPOConfig
from agentic_match.feedback import FeedbackConfig, ModelRegistry
from agentic_match.feedback.learner import FeedbackLearner, learner_for
from agentic_match.feedback.store import FeedbackStore
from agentic_match.matching import MatchConfig, Matcher
from agentic_match.retrieval.encoder import BiEncoder
from agentic_match.service import create_app
from tests._match_fakes import FakeLLM, small_corpus
from tests._retrieval_toy import toy_corpus, toy_rank_resume_task

KEY = "test-key-0123"
H = {"X-API-Key": KEY}


@pytest.fixture(scope="module")
def encoder():
    return BiEncoder.load("all-minilm-l6-v2")


def _fake_update(calls, *, switched=True, fail=False):
    def update(store, registry, corpus, config, *, tasks=None):
        calls.append(store.count_new(config.consumer))
        if fail:
            raise RuntimeError("training crashed")
        upto = store.pairs()[-1]["seq"]
        record = {"pairs": calls[-1], "switched": switched, "model": f"updated-{len(calls)}"}
        registry.record(record, record["model"] if switched else None)
        store.mark_consumed(config.consumer, upto=upto)
        return {**record, "current": registry.current()}

    return update


def _pick(client, job="demo-j-02", k=4, pick=0):
    shown = client.post("/match", json={"kind": "job", "query_id": job, "k": k}, headers=H).json()
    ids = [c["id"] for c in shown["candidates"]]
    body = {"query_id": job, "shown_ids": ids, "picked_ids": [ids[pick]]}
    r = client.post("/feedback", json=body, headers=H)
    assert r.status_code == 200, r.text
    return r.json()


def test_enough_picks_start_an_update_that_switches_the_encoder(tmp_path, encoder):
    matcher = Matcher(encoder, small_corpus(), llm=FakeLLM(), config=MatchConfig()).prepare()
    store = FeedbackStore(tmp_path / "feedback.sqlite", corpus=matcher.corpus)
    calls: list[int] = []
    new_encoder = BiEncoder.load("all-minilm-l6-v2")
    learner = FeedbackLearner(
        matcher,
        store,
        ModelRegistry(tmp_path / "fb", "all-minilm-l6-v2"),
        FeedbackConfig(threshold=5),
        tasks=[],
        update=_fake_update(calls),
        load_encoder=lambda model: new_encoder,
    )
    client = TestClient(create_app(matcher, store, KEY, learner=learner))

    assert _pick(client)["update"] is None  # 3 pairs: below the threshold
    assert _pick(client, job="demo-j-03")["update"] == "started"  # 6 pairs
    learner.wait(timeout=60)
    assert calls == [6] and matcher.encoder is new_encoder
    learning = client.get("/feedback/stats", headers=H).json()["learning"]
    assert learning["running"] is False and learning["updates"] == 1 and learning["current_model"] == "updated-1"
    assert learning["last_update"]["switched"] is True and learning["last_error"] is None
    # Queries go on with the new encoder and its freshly built index.
    r = client.post("/match", json={"kind": "job", "query_id": "demo-j-01", "k": 3}, headers=H)
    assert r.status_code == 200 and len(r.json()["candidates"]) == 3
    assert client.get("/feedback/stats", headers=H).json()["new_pairs"] == 0
    learner.close()


def test_a_failed_update_is_reported_and_the_service_keeps_answering(tmp_path, encoder):
    matcher = Matcher(encoder, small_corpus(), llm=FakeLLM(), config=MatchConfig()).prepare()
    store = FeedbackStore(tmp_path / "feedback.sqlite", corpus=matcher.corpus)
    calls: list[int] = []
    registry = ModelRegistry(tmp_path / "fb", "all-minilm-l6-v2")
    learner = FeedbackLearner(
        matcher, store, registry, FeedbackConfig(threshold=3), tasks=[], update=_fake_update(calls, fail=True)
    )
    client = TestClient(create_app(matcher, store, KEY, learner=learner))
    assert _pick(client)["update"] == "started"
    learner.wait(timeout=60)
    learning = client.get("/feedback/stats", headers=H).json()["learning"]
    assert "training crashed" in learning["last_error"] and learning["current_model"] == "all-minilm-l6-v2"
    assert matcher.encoder is encoder and store.count_new("rankpo") == 3  # the pairs wait for the next try
    assert client.post("/match", json={"kind": "job", "query_id": "demo-j-01", "k": 2}, headers=H).status_code == 200
    learner.close()


def test_learning_needs_dev_qrels_to_judge_updates(tmp_path, encoder):
    matcher = Matcher(encoder, small_corpus(), config=MatchConfig())
    store = FeedbackStore(tmp_path / "feedback.sqlite", corpus=matcher.corpus)
    with pytest.raises(Exception, match="no 'dev' qrels to judge a feedback update"):
        learner_for(matcher, store, tmp_path / "fb", "all-minilm-l6-v2", FeedbackConfig(threshold=3))


@pytest.mark.e2e
def test_real_rankpo_update_from_api_picks(tmp_path):
    """Toy corpus behind the real app: picks -> a real RankPO run -> the matcher serves the new model."""
    corpus = toy_corpus()
    tasks = [toy_rank_resume_task(corpus)]
    matcher = Matcher(BiEncoder.load("all-minilm-l6-v2"), corpus, config=MatchConfig()).prepare()
    base_fingerprint = matcher.encoder.fingerprint()
    store = FeedbackStore(tmp_path / "feedback.sqlite", corpus=corpus)
    config = FeedbackConfig(
        threshold=6, tolerance=100.0, rankpo=RankPOConfig(batch_size=4, max_seq_length=32, learning_rate=5e-5)
    )
    learner = FeedbackLearner(matcher, store, ModelRegistry(tmp_path / "fb", "all-minilm-l6-v2"), config, tasks=tasks)
    client = TestClient(create_app(matcher, store, KEY, learner=learner))
    answers = [_pick(client, job=f"j-{key}", k=4, pick=-1) for key in ("nurse", "chef")]
    assert [a["update"] for a in answers] == [None, "started"]
    update = learner.wait(timeout=600)
    assert update is not None and update["pairs"] == 6 and update["switched"] is True
    assert learner.registry.current() == update["model"] and matcher.encoder.fingerprint() != base_fingerprint
    assert (tmp_path / "fb" / "updates" / "0-6" / "model").is_dir()
    # A restarted service starts from the model the update switched to.
    again = Matcher(BiEncoder.load("all-minilm-l6-v2"), corpus, config=MatchConfig())
    learner_for(again, store, tmp_path / "fb", "all-minilm-l6-v2", config, tasks=tasks).close()
    assert again.encoder.fingerprint() == matcher.encoder.fingerprint()
    r = client.post("/match", json={"kind": "job", "query_id": "j-nurse", "k": 2}, headers=H)
    assert r.status_code == 200 and len(r.json()["candidates"]) == 2
    learner.close()
