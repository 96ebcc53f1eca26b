"""The augmentation graphs with fake LLMs: fan-out, failures, checkpoints, resume, CLI."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from langgraph.types import RetryPolicy

from agentic_match.augment.batch import failures_path
from agentic_match.augment.clean import CleanCV
from agentic_match.augment.completion import CompletionConfig, interacted_jobs
from agentic_match.augment.hyre import HyReConfig, pick_examples
from agentic_match.data import (
    load_demo,
    load_documents,
    write_documents,
    write_interactions,
    write_labels,
)
from agentic_match.errors import AgenticMatchError, LLMUnavailableError
from agentic_match.llm import GenerationCache, LLMClient
from agentic_match.llm.client import Completion, SamplingParams
from graphs import augment_jobs, clean_resumes, complete_resumes
from graphs.batching import checkpointer_at, output_path_for, run_graph
from tests.fake_llm_server import FakeLLMServer

FAST_RETRY = RetryPolicy(max_attempts=2, initial_interval=0.01, jitter=False, retry_on=LLMUnavailableError)
GEN = "Experienced engineer with Python, SQL, Kubernetes and on-call experience for this role."


class FakeChat:
    """Thread-safe client fake: ``reply(doc)`` decides each answer; requests are counted per doc.

    ``memo`` plays the generation cache (shared between "processes" when passed in): a
    repeated request is answered from it and not counted.
    """

    def __init__(self, reply=lambda doc_id: GEN, fail_after: int | None = None, memo: dict | None = None):
        self.reply = reply
        self.memo = {} if memo is None else memo
        self.fail_after = fail_after
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.sampling = SamplingParams()

    def _doc_id(self, messages):
        # The target document is the last fenced block (ids are not in the text): key on it.
        content = messages[-1]["content"]
        return content.rsplit('<document type="', 1)[1].split("</document>")[0]

    def chat(self, messages, **kw):
        key = self._doc_id(messages)
        with self.lock:
            if (key, repr(sorted(kw.items()))) in self.memo:
                return Completion(self.memo[key, repr(sorted(kw.items()))])
            if self.fail_after is not None and sum(self.calls.values()) >= self.fail_after:
                raise LLMUnavailableError("server died")
            self.calls[key] += 1
            self.memo[key, repr(sorted(kw.items()))] = text = self.reply(key)
        return Completion(text)

    def structured(self, messages, schema, **kw):
        return schema.model_validate_json(self.chat(messages, **kw).text)


@pytest.fixture(scope="module")
def corpus():
    return load_demo()


@pytest.fixture
def examples(corpus):
    return pick_examples(corpus, corpus.label_splits["train"], HyReConfig())


def _rows(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_augment_jobs_writes_every_job_once(tmp_path, corpus, examples):
    jobs = list(corpus.jobs.values())[:7]
    llm = FakeChat()
    events = []
    with checkpointer_at(tmp_path / "ck.sqlite") as saver:
        g = augment_jobs.build_graph(llm, checkpointer=saver)
        out = tmp_path / "jobs.hyre.jsonl"
        final = run_graph(
            g,
            augment_jobs.inputs_for(jobs, examples, output_path=str(out), batch_size=3),
            "r1",
            on_event=lambda m, p: events.append((m, p)),
        )
    assert len(final["results"]) == 7 and not final["failures"]
    rows = _rows(out)
    assert [r["id"] for r in rows] == [j.id for j in jobs]
    assert all(r["text"].count(HyReConfig().separator) == 1 and r["text"].endswith(GEN) for r in rows)
    assert max(llm.calls.values()) == 1 and len(llm.calls) == 7
    custom = [p for m, p in events if m == "custom"]
    assert custom[0]["event"] == "start" and sum(p["event"] == "batch" for p in custom) == 3
    assert any(m == "updates" for m, _ in events)
    assert not failures_path(out).exists()


def test_garbage_generation_is_retried_then_reported_never_replacing(tmp_path, corpus, examples):
    jobs = list(corpus.jobs.values())[:4]
    bad_title = jobs[1].fields["title"]
    llm = FakeChat(reply=lambda key: "" if bad_title in key else GEN)
    out = tmp_path / "jobs.hyre.jsonl"
    final = augment_jobs.build_graph(llm).invoke(augment_jobs.inputs_for(jobs, examples, output_path=str(out)))
    assert set(final["failures"]) == {jobs[1].id} and "empty" in final["failures"][jobs[1].id]
    rows = {r["id"]: r for r in _rows(out)}
    assert rows[jobs[1].id]["fields"] == jobs[1].fields and "hyre_failed" in rows[jobs[1].id]["metadata"]
    assert _rows(failures_path(out)) == [{"id": jobs[1].id, "problem": final["failures"][jobs[1].id]}]


def test_interrupted_run_resumes_with_each_job_done_once(tmp_path, corpus, examples, checkpoint_target):
    jobs = list(corpus.jobs.values())[:8]
    out = tmp_path / "jobs.hyre.jsonl"
    inputs = augment_jobs.inputs_for(jobs, examples, output_path=str(out), batch_size=2)
    memo: dict = {}
    dying = FakeChat(fail_after=3, memo=memo)
    with checkpointer_at(checkpoint_target) as saver:
        with pytest.raises(LLMUnavailableError):
            run_graph(augment_jobs.build_graph(dying, retry=FAST_RETRY, checkpointer=saver), inputs, "run-x")
        assert not out.exists()
        other = augment_jobs.inputs_for(jobs[:3], examples, output_path=str(out), batch_size=2)
        with pytest.raises(AgenticMatchError, match="stopped part-way with other input"):
            run_graph(augment_jobs.build_graph(FakeChat(), checkpointer=saver), other, "run-x")
    healthy = FakeChat(memo=memo)
    with checkpointer_at(checkpoint_target) as saver:  # a new process: new connection, new client
        final = run_graph(augment_jobs.build_graph(healthy, retry=FAST_RETRY, checkpointer=saver), inputs, "run-x")
    total = dying.calls + healthy.calls
    assert len(final["results"]) == 8 and len(total) == 8
    assert max(total.values()) == 1, f"a job was generated twice: {total}"
    assert [r["id"] for r in _rows(out)] == [j.id for j in jobs]


def test_same_run_id_with_other_input_is_refused(tmp_path, corpus, examples):
    jobs = list(corpus.jobs.values())
    with checkpointer_at(tmp_path / "ck.sqlite") as saver:
        g = augment_jobs.build_graph(FakeChat(), checkpointer=saver)
        run_graph(g, augment_jobs.inputs_for(jobs[:2], examples), "same")
        again = run_graph(g, augment_jobs.inputs_for(jobs[:2], examples), "same")  # finished: nothing to redo
        assert len(again["results"]) == 2
        with pytest.raises(AgenticMatchError, match="already used with other input"):
            run_graph(g, augment_jobs.inputs_for(jobs[2:4], examples), "same")


def test_duplicate_ids_are_a_clear_error(corpus, examples):
    job = corpus.jobs["demo-j-01"]
    with pytest.raises(AgenticMatchError, match=r"\[id\]: duplicate id 'demo-j-01'"):
        augment_jobs.build_graph(FakeChat()).invoke(augment_jobs.inputs_for([job, job], examples))


def test_complete_resumes_irc_graph(tmp_path, corpus):
    resumes = list(corpus.resumes.values())[:5]
    inter = interacted_jobs(corpus.interactions, corpus.jobs)
    reply = '{"summary": "Engineer focused on reliable services.", "skills": ["Python", "Underwater welding"]}'
    llm = FakeChat(reply=lambda key: reply)
    out = tmp_path / "resumes.irc.jsonl"
    g = complete_resumes.build_graph(llm, CompletionConfig(method="irc"))
    final = g.invoke(complete_resumes.inputs_for(resumes, inter, output_path=str(out), batch_size=2))
    assert len(final["results"]) == 5
    rows = _rows(out)
    assert all(r["text"] == resumes[i].text and "inferred" in r["fields"] for i, r in enumerate(rows))
    fab = final["fabrication"][resumes[0].id]
    assert fab["method"] == "irc" and fab["unsupported"] == ["Underwater welding"]


def test_clean_resumes_graph(tmp_path, corpus):
    resumes = list(corpus.resumes.values())[:3]
    reply = CleanCV(current_title="Engineer", skills=["Python"], sectors=["software"]).model_dump_json()
    out = tmp_path / "resumes.clean.jsonl"
    final = clean_resumes.build_graph(FakeChat(reply=lambda k: reply)).invoke(
        clean_resumes.inputs_for(resumes, output_path=str(out))
    )
    assert len(final["results"]) == 3
    assert all(r["fields"]["title"] == "Engineer" and r["fields"]["sectors"] == "software" for r in _rows(out))


def test_output_never_overwrites_input(tmp_path):
    assert output_path_for(tmp_path / "jobs.jsonl", "hyre") == tmp_path / "jobs.hyre.jsonl"
    assert output_path_for(tmp_path / "jobs.csv", "clean").name == "jobs.clean.jsonl"


# ------------------------------------------------------------------- real client, fake server


def test_server_killed_mid_run_then_restarted(tmp_path, corpus, examples):
    """Real LLMClient + cache against a scripted server that dies after 3 answers."""
    jobs = list(corpus.jobs.values())[:6]
    out = tmp_path / "jobs.hyre.jsonl"
    inputs = augment_jobs.inputs_for(jobs, examples, output_path=str(out), batch_size=2)
    cache = GenerationCache(tmp_path / "gen.sqlite")

    class KillAfter(LLMClient):
        def __init__(self, server, n, **kw):
            super().__init__(server.base_url, "k", "m", cache=cache, max_retries=0, timeout_s=5, **kw)
            self.server, self.n, self.lock = server, n, threading.Lock()

        def chat(self, messages, **kw):
            c = super().chat(messages, **kw)
            with self.lock:
                if len(self.server.requests) >= self.n and self.server.thread.is_alive():
                    self.server.httpd.shutdown()
                    self.server.httpd.server_close()
            return c

    first = FakeLLMServer()
    first.default = GEN
    first.__enter__()
    with checkpointer_at(tmp_path / "ck.sqlite") as saver, pytest.raises(LLMUnavailableError):
        run_graph(augment_jobs.build_graph(KillAfter(first, 3), retry=FAST_RETRY, checkpointer=saver), inputs, "kill")
    with FakeLLMServer() as second, checkpointer_at(tmp_path / "ck.sqlite") as saver:
        second.default = GEN
        client = LLMClient(second.base_url, "k", "m", cache=cache, max_retries=0)
        final = run_graph(augment_jobs.build_graph(client, retry=FAST_RETRY, checkpointer=saver), inputs, "kill")
    assert len(final["results"]) == 6
    assert len(first.requests) + len(second.requests) == 6  # every job generated exactly once
    assert all(r["text"].count(HyReConfig().separator) == 1 for r in _rows(out))


def test_cli_augment_clean_and_rerun_sends_nothing(tmp_path, corpus):
    from typer.testing import CliRunner

    from agentic_match.cli.app import app

    data = tmp_path / "data"
    write_documents(data / "jobs.jsonl", corpus.jobs.values())
    write_documents(data / "resumes.jsonl", corpus.resumes.values())
    write_labels(data / "labels.jsonl", corpus.labels)
    write_interactions(data / "interactions.jsonl", corpus.interactions)
    with FakeLLMServer() as server:
        server.default = GEN
        base = [
            "--set",
            f"llm.base_url={server.base_url}",
            "--set",
            f"cache_dir={tmp_path / 'cache'}",
            "--set",
            f"run_dir={tmp_path / 'runs'}",
        ]
        args = [*base, *_augment_args(data)]
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
        assert f"{len(corpus.jobs)} augmented, 0 failed" in r.output
        assert len(load_documents(data / "jobs.hyre.jsonl", "job")) == len(corpus.jobs)
        n = len(server.requests)
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0 and len(server.requests) == n, r.output
        server.default = CleanCV(current_title="Engineer", skills=["Python"]).model_dump_json()
        write_documents(data / "few.jsonl", list(corpus.resumes.values())[:2])
        r = CliRunner().invoke(app, [*base, "clean", "--resumes", str(data / "few.jsonl")])
        assert r.exit_code == 0, r.output
        assert (data / "few.clean.jsonl").exists()
        r = CliRunner().invoke(app, [*base, "complete", "--resumes", str(data / "few.jsonl"), "--method", "irc"])
        assert r.exit_code != 0 and "needs --jobs and --interactions" in str(r.exception)


def _augment_args(data):
    return ["augment", *(x for n in ("jobs", "resumes", "labels") for x in (f"--{n}", str(data / f"{n}.jsonl")))]


def test_cli_same_command_finishes_after_server_failure(tmp_path, corpus):
    """`agentic-match augment` fails clearly when the server dies; rerun on a new server finishes.

    Each job's generation reaches a server exactly once over both runs.
    """
    from typer.testing import CliRunner

    from agentic_match.cli.app import app

    data = tmp_path / "data"
    write_documents(data / "jobs.jsonl", corpus.jobs.values())
    write_documents(data / "resumes.jsonl", corpus.resumes.values())
    write_labels(data / "labels.jsonl", corpus.labels)
    cmd = [
        *_augment_args(data),
        "--run-id",
        "cli-kill",
        "--batch-size",
        "5",
    ]

    def opts(server):
        return [
            "--set",
            f"llm.base_url={server.base_url}",
            "--set",
            "llm.max_retries=0",
            "--set",
            f"cache_dir={tmp_path / 'cache'}",
            "--set",
            f"run_dir={tmp_path / 'runs'}",
        ]

    with FakeLLMServer() as dying:
        dying.replies = [GEN] * 7 + [503] * 1000  # the server "dies" after 7 answers
        r = CliRunner().invoke(app, [*opts(dying), *cmd])
    assert r.exit_code != 0 and isinstance(r.exception, LLMUnavailableError), r.output
    assert not (data / "jobs.hyre.jsonl").exists()
    answered = 7
    with FakeLLMServer() as fresh:
        fresh.default = GEN
        r = CliRunner().invoke(app, [*opts(fresh), *cmd])
        assert r.exit_code == 0, r.output
    n = len(corpus.jobs)
    assert f"{n} augmented, 0 failed" in r.output
    assert len(fresh.requests) == n - answered  # nothing answered before the failure was asked again
    rows = _rows(data / "jobs.hyre.jsonl")
    assert len(rows) == n and all(x["text"].count(HyReConfig().separator) == 1 for x in rows)


def test_langgraph_json_factories_resolve(monkeypatch, tmp_path):
    import importlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = json.loads((root / "langgraph.json").read_text())
    assert {"augment_jobs", "complete_resumes", "clean_resumes", "judge_pairs"} <= set(spec["graphs"])
    with FakeLLMServer() as server:
        monkeypatch.setenv("AGENTIC_MATCH_LLM__BASE_URL", server.base_url)
        monkeypatch.setenv("AGENTIC_MATCH_CACHE_DIR", str(tmp_path))
        for name, ref in spec["graphs"].items():
            path, func = ref.split(":")
            module = importlib.import_module(path.removeprefix("./").removesuffix(".py").replace("/", "."))
            graph = getattr(module, func)()
            assert graph.name == name and "prepare" in graph.nodes


def test_reverse_direction_augments_resumes(tmp_path, corpus, examples):
    resumes = list(corpus.resumes.values())[:3]
    out = tmp_path / "resumes.hyre.jsonl"
    final = augment_jobs.build_graph(FakeChat()).invoke(
        augment_jobs.inputs_for(resumes, examples, output_path=str(out))
    )
    rows = _rows(out)
    assert len(final["results"]) == 3 and all("## hypothetical job post" in r["text"] for r in rows)
    with pytest.raises(AgenticMatchError, match="all be jobs or all resumes"):
        augment_jobs.inputs_for([resumes[0], corpus.jobs["demo-j-01"]], examples)


def test_cli_adapter_selects_the_served_adapter(tmp_path, corpus):
    """`--adapter NAME` sends every generation to that adapter; a bad value is a clear error."""
    from typer.testing import CliRunner

    from agentic_match.cli.app import app

    data = tmp_path / "data"
    write_documents(data / "jobs.jsonl", corpus.jobs.values())
    write_documents(data / "resumes.jsonl", corpus.resumes.values())
    write_labels(data / "labels.jsonl", corpus.labels)
    with FakeLLMServer() as server:
        server.default = GEN
        base = ["--set", f"llm.base_url={server.base_url}", "--set", f"cache_dir={tmp_path / 'cache'}"]
        base += ["--set", f"run_dir={tmp_path / 'runs'}"]
        files = ["--jobs", str(data / "jobs.jsonl"), "--resumes", str(data / "resumes.jsonl")]
        files += ["--labels", str(data / "labels.jsonl")]
        r = CliRunner().invoke(app, [*base, "augment", *files, "--adapter", "hyre-sft"])
        assert r.exit_code == 0, r.output
        assert server.requests and {q["model"] for q in server.requests} == {"hyre-sft"}
        r = CliRunner().invoke(app, [*base, "augment", *files, "--adapter", "hyre-sft=", "--run-id", "x"])
        assert r.exit_code != 0 and "NAME or NAME=PATH" in str(r.exception)
    r = CliRunner().invoke(app, ["--set", f"cache_dir={tmp_path / 'cache'}", "augment", *files, "--adapter", "a"])
    assert r.exit_code != 0 and "needs the adapter's folder" in str(r.exception)
