"""End to end: the augmentation graphs on the real vLLM server (packaged SmolLM2-135M).

The headline test kills the server in the middle of ``augment_jobs``, starts a new one and
reruns the same run id: every job ends up augmented exactly once and no generation is
requested twice. One server start is shared by the module's smoke tests.
"""

from __future__ import annotations

import json
import os
import signal
import threading

import numpy as np
import pytest
from langgraph.types import RetryPolicy

from agentic_match.augment.clean import CleanConfig
from agentic_match.augment.hyre import HyReConfig, pick_examples
from agentic_match.config import load_settings
from agentic_match.data import load_demo
from agentic_match.errors import LLMUnavailableError
from agentic_match.llm import (
    LLMClient,
    ManagedServer,
    client_for,
    request_count,
)
from graphs import augment_jobs, clean_resumes
from graphs.batching import checkpointer_at, run_graph

pytestmark = pytest.mark.e2e

FAST_RETRY = RetryPolicy(max_attempts=2, initial_interval=0.5, jitter=False, retry_on=LLMUnavailableError)
HYRE = HyReConfig(max_tokens=48, example_chars=600, job_chars=800)


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    cache = tmp_path_factory.mktemp("am-graphs-cache")
    return load_settings(
        overrides={"cache_dir": str(cache), "llm": {"max_concurrency": 4, "max_retries": 1, "timeout_s": 60}}
    )


@pytest.fixture(scope="module")
def live(settings):
    """The module's current server: the kill test replaces it, later tests reuse the new one."""
    holder = {"server": ManagedServer(settings=settings)}
    holder["info"] = holder["server"].start()
    yield holder
    holder["server"].stop()


def test_kill_server_mid_augment_then_resume_exactly_once(settings, live, tmp_path):
    corpus = load_demo()
    jobs = [corpus.jobs[j] for j in sorted(corpus.jobs)[:6]]
    examples = pick_examples(corpus, corpus.label_splits["train"], HYRE, exclude_jobs={j.id for j in jobs})
    out = tmp_path / "jobs.hyre.jsonl"
    inputs = augment_jobs.inputs_for(jobs, examples, output_path=str(out), batch_size=2)
    ckpt = tmp_path / "graphs.sqlite"

    first, info = live["server"], live["info"]
    killed = threading.Event()

    class KillAfterThree(LLMClient):
        def chat(self, messages, **kw):
            c = super().chat(messages, **kw)
            if self.stats.requests >= 3 and not killed.is_set():
                killed.set()
                os.killpg(info.pid, signal.SIGKILL)
            return c

    base = client_for(settings, info)
    dying = KillAfterThree(
        info.base_url,
        info.api_key,
        info.model,
        cache=base.cache,
        cache_namespace=base.cache_namespace,
        max_concurrency=4,
        timeout_s=60,
        max_retries=1,
        sampling=base.sampling,
    )
    try:
        with checkpointer_at(ckpt) as saver, pytest.raises(LLMUnavailableError):
            run_graph(augment_jobs.build_graph(dying, HYRE, retry=FAST_RETRY, checkpointer=saver), inputs, "e2e-kill")
    finally:
        first.stop()
    assert killed.is_set() and not out.exists()
    cached_before = len(base.cache)
    assert cached_before >= 3

    second = ManagedServer(settings=settings)
    live["server"], live["info"] = second, second.start()  # the fixture stops it at the end
    info2 = live["info"]
    assert info2.pid != info.pid
    client = client_for(settings, info2)
    with checkpointer_at(ckpt) as saver:
        final = run_graph(
            augment_jobs.build_graph(client, HYRE, retry=FAST_RETRY, checkpointer=saver), inputs, "e2e-kill"
        )
    sent = request_count(info2.root_url)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [j.id for j in jobs]
    ok = set(final["results"])
    assert len(ok) + len(final["failures"]) == 6
    for r in rows:  # augmented once, or (reported failure) left exactly as it was
        assert r["text"].count(HYRE.separator) == (1 if r["id"] in ok else 0) if "text" in r else r["id"] not in ok
    # Nothing generated before the kill was asked for again: the new server only saw new work.
    assert client.stats.requests == sent == len(client.cache) - cached_before
    assert dying.stats.requests + client.stats.requests == len(client.cache)


def test_clean_resumes_on_real_server(settings, live, tmp_path):
    corpus = load_demo()
    resumes = [corpus.resumes["demo-r-001"], corpus.resumes["demo-r-013"]]  # the second carries an injection
    client = client_for(settings, live["info"])
    g = clean_resumes.build_graph(client, CleanConfig(max_tokens=200, resume_chars=1200))
    final = g.invoke(clean_resumes.inputs_for(resumes, output_path=str(tmp_path / "r.clean.jsonl")))
    assert len(final["results"]) + len(final["failures"]) == 2
    rows = [json.loads(x) for x in (tmp_path / "r.clean.jsonl").read_text().splitlines()]
    for r, orig in zip(rows, resumes):
        if r["id"] in final["results"]:
            assert "clean" in r["metadata"] and orig.text.splitlines()[0] in r["text"]
        else:
            assert r["text"] == orig.text and r["metadata"]["clean_failed"]


def test_irc_completions_on_real_server_reach_the_lgir_recommender(settings, live, tmp_path):
    """IRC through ``complete_resumes`` on the real server, then the LGIR recommender trained on
    the completed users' vectors: what a completion writes reaches the model (the vectors move)."""
    from agentic_match.augment.completion import INFERRED_FIELD, CompletionConfig, interacted_jobs
    from agentic_match.augment.lgir import LGIRConfig, embed_completed_resumes, embed_documents, fit_lgir
    from agentic_match.data import document_from_row
    from agentic_match.retrieval.encoder import BiEncoder
    from graphs import complete_resumes

    corpus = load_demo()
    users = sorted({i.resume_id for i in corpus.interactions})[:4]
    out = tmp_path / "resumes.irc.jsonl"
    graph = complete_resumes.build_graph(client_for(settings, live["info"]), CompletionConfig(method="irc"))
    inputs = complete_resumes.inputs_for(
        [corpus.resumes[u] for u in users], interacted_jobs(corpus.interactions, corpus.jobs), output_path=str(out)
    )
    final = graph.invoke(inputs)
    assert len(final["results"]) + len(final["failures"]) == len(users)
    completed = [document_from_row(json.loads(x), "resume") for x in out.read_text().splitlines()]
    with_text = [d.id for d in completed if d.fields.get(INFERRED_FIELD)]
    assert with_text, f"SmolLM2 completed none of {users}: {final['failures']}"

    encoder = BiEncoder.load("all-minilm-l6-v2")
    others = [r for r in corpus.resumes.values() if r.id not in users]
    plain = embed_documents(encoder, [corpus.resumes[u] for u in users])
    uvecs = {**embed_documents(encoder, others), **embed_completed_resumes(encoder, completed)}
    assert all(float(plain[u] @ uvecs[u]) < 0.9999 for u in with_text)  # the completion is in the vector
    assert all(float(plain[u] @ uvecs[u]) > 0.9999 for u in users if u not in with_text)
    jvecs = embed_documents(encoder, corpus.jobs.values())
    model = fit_lgir(uvecs, jvecs, corpus.interactions, LGIRConfig(epochs=2))
    scores = model.score(uvecs[with_text[0]][None, :], np.stack(list(jvecs.values())), with_text[:1], list(jvecs))
    assert scores.shape == (1, len(jvecs)) and np.isfinite(scores).all()
