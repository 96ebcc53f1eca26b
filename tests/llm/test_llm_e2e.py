"""End to end on a real vLLM server with the packaged SmolLM2-135M model.

One server is started for the module (about 70-90 s on 2 cores); the last test kills it.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from pydantic import BaseModel, Field

from agentic_match.errors import LLMUnavailableError
from agentic_match.llm import ManagedServer, client_for, request_count
from agentic_match.llm.server import is_healthy
from tests._served import managed_server

pytestmark = pytest.mark.e2e


class Skills(BaseModel):
    # Bounded so a 135M model cannot loop forever inside the JSON (vLLM enforces the schema).
    skills: list[str] = Field(max_length=3, description="Skills named in the text")
    years: int = Field(ge=0, le=60)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    yield from managed_server(tmp_path_factory, concurrency=8)


def test_server_is_local_and_needs_the_key(served):
    import httpx

    _, _, info = served
    assert info.base_url.startswith("http://127.0.0.1:")
    r = httpx.get(f"{info.base_url}/models", timeout=10)
    assert r.status_code == 401
    r = httpx.get(f"{info.base_url}/models", headers={"Authorization": f"Bearer {info.api_key}"}, timeout=10)
    assert r.json()["data"][0]["id"] == "smollm2-135m"


def test_structured_call_then_cached_rerun_reaches_no_server(served):
    settings, _, info = served
    msgs = [{"role": "user", "content": "List the skills in: 'Python developer, 5 years, SQL and Docker.'"}]
    client = client_for(settings, info)
    before = request_count(info.root_url)
    first = client.structured(msgs, Skills, max_tokens=120)
    assert isinstance(first, Skills)
    mid = request_count(info.root_url)
    assert mid >= before + 1
    rerun = client_for(settings, info)  # a fresh client, as a rerun would make
    again = rerun.structured(msgs, Skills, max_tokens=120)
    assert again == first
    assert rerun.stats.requests == 0 and rerun.stats.cache_hits >= 1
    assert request_count(info.root_url) == mid


def test_second_manager_reuses_running_server(served):
    settings, _, info = served
    other = ManagedServer(settings=settings)
    again = other.start()
    assert again.pid == info.pid and not other.owned
    other.stop()  # must not stop a server it did not start
    assert is_healthy(info.root_url)


def test_concurrent_requests_complete(served):
    settings, _, info = served
    client = client_for(settings, info)
    outs = client.chat_many(
        [[{"role": "user", "content": f"Name one job title that starts with the letter {c}."}] for c in "ABCDEFGH"],
        max_tokens=16,
    )
    assert len(outs) == 8 and all(o.text.strip() for o in outs)


def test_server_dying_mid_run_is_a_clear_retryable_error(served):
    settings, server, info = served
    client = client_for(settings, info)
    client._sync = client._sync.with_options(max_retries=1, timeout=20)
    os.killpg(info.pid, signal.SIGKILL)
    time.sleep(1)
    t = time.monotonic()
    with pytest.raises(LLMUnavailableError) as e:
        client.chat([{"role": "user", "content": "a question never asked before"}], max_tokens=8)
    assert e.value.retryable and "restart" in str(e.value)
    assert time.monotonic() - t < 60
