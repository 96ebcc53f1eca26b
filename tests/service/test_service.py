"""The HTTP API: key required, 4xx with a reason, OpenAPI, matches, feedback stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from agentic_match.data import render
from agentic_match.matching import MatchConfig, Matcher
from agentic_match.retrieval.encoder import BiEncoder
from agentic_match.service import create_app
from tests._match_fakes import FakeLLM, small_corpus

KEY = "test-key-0123"
H = {"X-API-Key": KEY}


@pytest.fixture
def client(matcher, store):
    return TestClient(create_app(matcher, store, KEY))


def test_key_is_required(client, matcher):
    body = {"kind": "job", "query_id": "demo-j-01"}
    r = client.post("/match", json=body)
    assert r.status_code == 401 and "API key" in r.json()["detail"]
    assert client.post("/match", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.post("/match", json=body, headers={"Authorization": f"Basic {KEY}"}).status_code == 401
    assert client.get("/feedback/stats").status_code == 401
    assert client.post("/feedback", json={}).status_code == 401  # the key is checked before the body
    assert client.post("/match", json=body, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert client.get("/health").json()["status"] == "ok"  # liveness needs no key
    with pytest.raises(ValueError):
        create_app(matcher, None, "")  # never without a key


def test_match_by_id_and_ad_hoc(client, matcher):
    r = client.post("/match", json={"kind": "job", "query_id": "demo-j-01", "k": 3, "explain": True}, headers=H)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["query_id"] == "demo-j-01" and data["candidate_kind"] == "resume"
    assert [c["rank"] for c in data["candidates"]] == [1, 2, 3]
    assert data["augmentation"]["applied"] is True
    for c in data["candidates"]:  # evidence explanations: every quote is a span of the resume
        e = c["explanation"]
        assert e["method"] == "evidence" and e["met"] + e["missing"] and e["dropped_quotes"] == 0
        text = render(matcher.corpus.resumes[c["id"]])
        assert all(text[m["start"] : m["end"]] == m["quote"] for m in e["met"])
    # Same answer as the library path.
    direct = matcher.match("demo-j-01", kind="job", k=3)
    assert [c["id"] for c in data["candidates"]] == [c.id for c in direct.candidates]
    r = client.post(
        "/match",
        json={"kind": "resume", "query": {"fields": {"title": "Line cook", "skills": "grill, prep"}}, "k": 2},
        headers=H,
    )
    assert r.status_code == 200, r.text
    assert r.json()["query_id"] == "query" and r.json()["candidate_kind"] == "job"


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"kind": "job"}, 422, "exactly one of 'query_id'"),
        ({"kind": "job", "query_id": "demo-j-01", "query": {"text": "x"}}, 422, "exactly one"),
        ({"kind": "team", "query_id": "demo-j-01"}, 422, "'job' or 'resume'"),
        ({"kind": "job", "query_id": "demo-j-01", "k": 0}, 422, "greater than or equal to 1"),
        ({"kind": "job", "query_id": "demo-j-01", "k": 1000}, 422, "less than or equal to 100"),
        ({"kind": "job", "query": {"text": "   "}}, 422, "non-empty 'text'"),
        ({"kind": "job", "query_id": "demo-j-01", "colour": "red"}, 422, "Extra inputs"),
        ({"kind": "job", "query_id": "demo-j-99"}, 404, "no job with id 'demo-j-99'"),
        ({"kind": "job", "query_id": "demo-j-01", "rerank": True}, 400, "no reranker"),
    ],
)
def test_bad_requests_get_4xx_with_a_reason(client, body, status, reason):
    r = client.post("/match", json=body, headers=H)
    assert r.status_code == status, r.text
    assert reason in str(r.json()["detail"])


def test_malformed_json(client):
    r = client.post("/match", content=b"{not json", headers={**H, "Content-Type": "application/json"})
    assert r.status_code == 422 and "JSON" in str(r.json()["detail"])


def test_feedback_is_stored_as_preference_pairs(client, store):
    shown = client.post("/match", json={"kind": "job", "query_id": "demo-j-02", "k": 4}, headers=H).json()
    ids = [c["id"] for c in shown["candidates"]]
    body = {"query_id": "demo-j-02", "shown_ids": ids, "picked_ids": [ids[2]], "recruiter": "ana"}
    r = client.post("/feedback", json=body, headers=H)
    assert r.status_code == 200, r.text
    assert r.json() == {"pairs_added": 3, "pairs_total": 3, "new_pairs": 3, "update": None}
    assert client.post("/feedback", json=body, headers=H).json()["pairs_added"] == 0  # a retry adds nothing
    pairs = store.pairs()
    assert {(p["passage1_id"], p["passage2_id"]) for p in pairs} == {(ids[2], x) for x in ids if x != ids[2]}
    assert all(p["query_id"] == "demo-j-02" and p["preferred"] == "A" and p["recruiter"] == "ana" for p in pairs)
    stats = client.get("/feedback/stats", headers=H).json()
    assert stats == {"pairs_total": 3, "new_pairs": 3, "watermark": 0, "learning": None}
    store.mark_consumed()
    assert client.get("/feedback/stats", headers=H).json()["new_pairs"] == 0
    # Bad feedback: reasons, nothing stored.
    bad = {**body, "picked_ids": ["demo-r-999"]}
    r = client.post("/feedback", json=bad, headers=H)
    assert r.status_code == 400 and "not among shown_ids" in r.json()["detail"]
    r = client.post("/feedback", json={**body, "query_id": "adhoc-1"}, headers=H)
    assert r.status_code == 404 and "query_text" in r.json()["detail"]
    r = client.post("/feedback", json={**body, "query_id": "adhoc-1", "query_text": "Line cook"}, headers=H)
    assert r.status_code == 200 and r.json()["pairs_added"] == 3
    assert len(store) == 6


def test_openapi_documents_endpoints_and_security(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert {"/match", "/feedback", "/feedback/stats", "/health"} <= set(spec["paths"])
    assert set(spec["components"]["securitySchemes"]) == {"APIKeyHeader", "HTTPBearer"}
    assert "401" in spec["paths"]["/match"]["post"]["responses"]
    assert "MatchRequest" in spec["components"]["schemas"] and "Explanation" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 404  # the docs page would load scripts from a CDN


def test_feedback_without_store(matcher):
    c = TestClient(create_app(matcher, None, KEY))
    r = c.post("/feedback", json={"query_id": "demo-j-01", "shown_ids": ["a"], "picked_ids": []}, headers=H)
    assert r.status_code == 400 and "without a feedback store" in r.json()["detail"]


def test_dead_llm_gives_503(tmp_path):
    llm = FakeLLM()
    llm.fail_on = "<document"  # every explanation fails: the server is down
    config = MatchConfig(explain_method="llm_quotes")
    m = Matcher(BiEncoder.load("all-minilm-l6-v2"), small_corpus(), llm=llm, config=config)
    c = TestClient(create_app(m, None, KEY))
    r = c.post("/match", json={"kind": "job", "query_id": "demo-j-01", "k": 2, "explain": True}, headers=H)
    assert r.status_code == 503 and "down" in r.json()["detail"]


def test_worker_threads_are_set_at_startup(matcher):
    import anyio.to_thread

    with TestClient(create_app(matcher, None, KEY, threads=3)) as c:
        seen = c.get("/health")  # inside the lifespan: the limiter is the app's
        assert seen.status_code == 200
        # The TestClient's portal runs the app's event loop; ask it for the limiter there.
        tokens = c.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
        assert tokens == 3
        r = c.post("/match", json={"kind": "job", "query_id": "demo-j-01", "k": 2}, headers=H)
        assert r.status_code == 200
    with pytest.raises(ValueError, match="threads"):
        create_app(matcher, None, KEY, threads=0)
