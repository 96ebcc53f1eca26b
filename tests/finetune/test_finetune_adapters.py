"""Adapters without training: base check, refusals, serving flags, client binding, switching."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from agentic_match.augment.completion import CompletionConfig
from agentic_match.augment.generation import BoundModel, bind_model
from agentic_match.augment.hyre import HyReConfig, pick_examples
from agentic_match.config import load_settings
from agentic_match.data import load_demo
from agentic_match.errors import AdapterError
from agentic_match.llm import GenerationCache, LLMClient, ManagedServer
from agentic_match.llm.server import check_adapters, lora_args
from agentic_match.models import ADAPTER_META_FILE, model_fingerprint
from finetune import serving
from finetune.adapters import merge_adapter, read_meta
from finetune.config import DataConfig, FinetuneConfig
from finetune.data import build_dpo, build_hyre_sft
from finetune.trainer import train_dpo, train_sft
from graphs import augment_jobs, complete_resumes
from tests.fake_llm_server import FakeLLMServer


@pytest.fixture
def base(tmp_path) -> Path:
    """A stand-in base-model folder: enough for resolving and fingerprinting, never loaded."""
    folder = tmp_path / "base"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    (folder / "model.safetensors").write_bytes(b"weights-a")
    return folder


def _adapter(folder: Path, base_fp: str | None, r: int = 8) -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"r": r, "peft_type": "LORA"}))
    (folder / "adapter_model.safetensors").write_bytes(b"lora")
    if base_fp is not None:
        meta = {"base_model": "other-model", "base_fingerprint": base_fp, "kind": "sft", "task": "hyre", "run_id": "x"}
        (folder / ADAPTER_META_FILE).write_text(json.dumps(meta))
    return folder


@pytest.fixture(scope="module")
def corpus():
    return load_demo()


def test_adapter_from_another_base_is_refused_before_serving(tmp_path, base):
    good = _adapter(tmp_path / "good", model_fingerprint(base))
    other = _adapter(tmp_path / "other", "0123456789abcdef")
    check_adapters({"good": str(good)}, base)
    with pytest.raises(AdapterError, match=r"adapter 'other': .* trained on another base model \('other-model'"):
        check_adapters({"good": str(good), "other": str(other)}, base)
    settings = load_settings(overrides={"cache_dir": str(tmp_path / "cache")})
    with pytest.raises(AdapterError, match="another base model"):
        ManagedServer(str(base), settings, adapters={"other": other}).start()  # nothing is started
    assert not (tmp_path / "cache" / "logs").exists()


def test_bad_adapter_folders_and_names(tmp_path, base):
    (tmp_path / "empty").mkdir()
    with pytest.raises(AdapterError) as e:
        check_adapters({"a": str(tmp_path / "missing"), "b": str(tmp_path / "empty"), "c d": str(base)}, base)
    msg = str(e.value)
    assert "folder not found" in msg and "no adapter_config.json" in msg and "without spaces" in msg
    with pytest.raises(AdapterError, match="not trained by agentic-match"):
        read_meta(_adapter(tmp_path / "foreign", None))
    check_adapters({"foreign": str(tmp_path / "foreign")}, base)  # PEFT-only adapters cannot be checked


def test_lora_flags_cover_the_largest_rank(tmp_path, base):
    a = _adapter(tmp_path / "a", None, r=8)
    b = _adapter(tmp_path / "b", None, r=24)
    args = lora_args({"a": str(a), "b": str(b)})
    assert args[:5] == ["--enable-lora", "--max-lora-rank", "32", "--max-loras", "2"]
    assert args[-2:] == [f"a={a}", f"b={b}"]


def test_training_never_overwrites_an_adapter(tmp_path, base, corpus):
    data = build_hyre_sft(corpus)
    cfg = FinetuneConfig(base_model=str(base), max_steps=1)
    existing = _adapter(tmp_path / "out", model_fingerprint(base))
    before = {p.name: p.read_bytes() for p in existing.iterdir()}
    with pytest.raises(AdapterError, match="already exists; pass force=True"):
        train_sft(data, cfg, existing)
    assert {p.name: p.read_bytes() for p in existing.iterdir()} == before
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.txt").write_text("mine")
    with pytest.raises(AdapterError, match="not an adapter folder"):
        train_sft(data, cfg, tmp_path / "notes")


def test_an_unfinished_other_run_is_not_mixed_in(tmp_path, base, corpus):
    work = tmp_path / ".out.partial"
    work.mkdir()
    (work / "run.json").write_text(json.dumps({"run_id": "someone-else"}))
    with pytest.raises(AdapterError, match="unfinished run with other data or settings"):
        train_sft(build_hyre_sft(corpus), FinetuneConfig(base_model=str(base), max_steps=1), tmp_path / "out")
    assert json.loads((work / "run.json").read_text())["run_id"] == "someone-else"


def test_dpo_from_an_adapter_of_another_base_is_refused(tmp_path, base, corpus):
    sft = _adapter(tmp_path / "sft", "0123456789abcdef")
    with pytest.raises(AdapterError, match="another base model"):
        train_dpo(build_dpo(corpus), FinetuneConfig(base_model=str(base)), tmp_path / "dpo", init_adapter=sft)
    assert not (tmp_path / "dpo").exists()


def test_merge_refuses_to_overwrite(tmp_path, base):
    adapter = _adapter(tmp_path / "a", model_fingerprint(base))
    out = tmp_path / "merged"
    out.mkdir()
    (out / "config.json").write_text("{}")
    with pytest.raises(AdapterError, match="already exists"):
        merge_adapter(adapter, out)
    with pytest.raises(AdapterError, match="over its adapter"):
        merge_adapter(adapter, adapter, force=True)


def test_client_binding_sends_the_adapter_name_and_caches_apart(tmp_path):
    msgs = [{"role": "user", "content": "Write a resume."}]
    with FakeLLMServer() as server:
        cache = GenerationCache(tmp_path / "c.sqlite")
        client = LLMClient(server.base_url, "k", "base", cache=cache, model_namespaces={"hyre": "hyre@fp1"})
        client.chat(msgs)
        bound = bind_model(client, "hyre")
        assert isinstance(bound, BoundModel) and bind_model(client, None) is client
        bound.chat(msgs)
        bound.chat(msgs)  # cached
        assert [r["model"] for r in server.requests] == ["base", "hyre"]
        # The same name backed by a retrained adapter (another fingerprint) is asked again.
        retrained = LLMClient(server.base_url, "k", "base", cache=cache, model_namespaces={"hyre": "hyre@fp2"})
        bind_model(retrained, "hyre").chat(msgs)
        assert len(server.requests) == 3


class _RecordingChat:
    def __init__(self):
        self.models = []
        self.sampling = None

    def chat(self, messages, model=None, **kw):
        from agentic_match.llm.client import Completion

        self.models.append(model)
        return Completion("Registered nurse with ICU triage, IV therapy and charting experience for this job.")

    def structured(self, messages, schema, model=None, **kw):
        self.models.append(model)
        return schema(summary="ICU nurse.", skills=["triage", "IV"])


def test_generating_graphs_take_the_adapter(corpus):
    jobs = list(corpus.jobs.values())[:3]
    examples = pick_examples(corpus, corpus.label_splits["train"], HyReConfig())
    llm = _RecordingChat()
    final = augment_jobs.build_graph(llm, adapter="hyre-1234abcd").invoke(augment_jobs.inputs_for(jobs, examples))
    assert len(final["results"]) == 3 and llm.models == ["hyre-1234abcd"] * 3
    llm = _RecordingChat()
    resumes = list(corpus.resumes.values())[:2]
    graph = complete_resumes.build_graph(llm, CompletionConfig(method="irc"), adapter="irc-1")
    graph.invoke(complete_resumes.inputs_for(resumes, {}))
    assert set(llm.models) == {"irc-1"}


def _trained_like(tmp_path: Path, base: Path, name: str) -> Path:
    folder = _adapter(tmp_path / name, model_fingerprint(base))
    meta = json.loads((folder / ADAPTER_META_FILE).read_text())
    (folder / ADAPTER_META_FILE).write_text(json.dumps({**meta, "metrics": {"loss": 1.0}}))
    return folder


def test_switch_records_the_active_adapter_and_loads_it(tmp_path, base, monkeypatch):
    reg = tmp_path / "reg"
    first = _trained_like(tmp_path, base, "first")
    second = _trained_like(tmp_path, base, "second")
    rec1 = serving.switch_adapter(reg, serving.versioned_name("hyre", first), first, metrics={"loss": 2.0})
    assert serving.active_adapter(reg)["path"] == str(first.resolve()) and rec1["previous"] is None

    posted = []

    class Info:
        base_url, root_url, api_key = "http://127.0.0.1:9/v1", "http://127.0.0.1:9", "key"

    def fake_get(url, **kw):
        return httpx.Response(200, json={"data": [{"id": "base", "parent": None}]}, request=httpx.Request("GET", url))

    def fake_post(url, json=None, **kw):
        posted.append((url, json))
        return httpx.Response(200, text="ok", request=httpx.Request("POST", url))

    monkeypatch.setattr(serving.httpx, "get", fake_get)
    monkeypatch.setattr(serving.httpx, "post", fake_post)
    name = serving.versioned_name("hyre", second)
    rec2 = serving.switch_adapter(reg, name, second, server=Info())
    assert posted == [("http://127.0.0.1:9/v1/load_lora_adapter", {"lora_name": name, "lora_path": str(second)})]
    assert rec2["previous"]["name"] == rec1["name"] and rec2["loaded_into_server"]

    def refuse(url, json=None, **kw):
        return httpx.Response(404, text="Not Found", request=httpx.Request("POST", url))

    monkeypatch.setattr(serving.httpx, "post", refuse)
    with pytest.raises(AdapterError, match="started without adapters"):
        serving.switch_adapter(reg, "hyre-x", first, server=Info())
    assert serving.active_adapter(reg)["name"] == name  # a failed switch changes nothing


def test_finetune_config_rejects_bad_values():
    from agentic_match.errors import ConfigError

    with pytest.raises(ConfigError, match="lora_r"):
        FinetuneConfig(lora_r=0)
    with pytest.raises(ConfigError, match="keep_top_fraction"):
        DataConfig(keep_top_fraction=0)
    assert FinetuneConfig().lr("sft") == 2e-4 and FinetuneConfig().lr("dpo") == 5e-5
