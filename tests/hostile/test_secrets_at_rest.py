"""Secrets and personal data at rest: the vLLM key never on a command line, private folders
and files for everything that may hold resume text or a key, and no umask flipping."""

from __future__ import annotations

import json
import os
import stat
import textwrap
import threading
from pathlib import Path

import pytest

# A stand-in ``vllm`` entry point: records what it was given, then answers /health so that
# ManagedServer.start() completes and writes its record.
FAKE_API_SERVER = """
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port = int(sys.argv[sys.argv.index("--port") + 1])
with open(os.environ["FAKE_VLLM_SEEN"], "w") as f:
    json.dump({"argv": sys.argv, "key": os.environ.get("VLLM_API_KEY")}, f)

class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def fake_vllm(tmp_path, monkeypatch) -> Path:
    pkg = tmp_path / "fake" / "vllm" / "entrypoints" / "openai"
    pkg.mkdir(parents=True)
    for folder in (pkg, pkg.parent, pkg.parent.parent):
        (folder / "__init__.py").write_text("")
    (pkg / "api_server.py").write_text(textwrap.dedent(FAKE_API_SERVER))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "fake"))
    seen = tmp_path / "seen.json"
    monkeypatch.setenv("FAKE_VLLM_SEEN", str(seen))
    return seen


def test_the_server_key_travels_in_the_environment_and_its_record_is_private(tmp_path, fake_vllm):
    from agentic_match.config import Settings
    from agentic_match.llm import ManagedServer

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "llama"}')
    cache = tmp_path / "cache"
    server = ManagedServer(str(model), Settings(cache_dir=cache), reuse=False)
    info = server.start()
    try:
        seen = json.loads(fake_vllm.read_text())
        assert seen["key"] == info.api_key and len(info.api_key) >= 32
        assert not any(info.api_key in arg for arg in seen["argv"]), "the API key is on the command line"
        assert "--api-key" not in seen["argv"]
        records = list((cache / "servers").glob("*.json"))
        assert len(records) == 1 and info.api_key in records[0].read_text()
        assert _mode(cache / "servers") == 0o700 and _mode(records[0]) == 0o600
        log = Path(info.log_path)
        assert _mode(log.parent) == 0o700 and _mode(log) == 0o600
        assert "127.0.0.1" in info.base_url
    finally:
        server.stop()


def test_generation_cache_and_feedback_store_are_owner_only(tmp_path):
    from agentic_match.feedback import FeedbackStore
    from agentic_match.llm.cache import GenerationCache

    cache = GenerationCache(tmp_path / "gen" / "generations.sqlite")
    cache.put("k", "m", {"messages": []}, "a resume's hypothetical text", {"prompt_tokens": 1})
    assert _mode(tmp_path / "gen") == 0o700
    assert all(_mode(p) == 0o600 for p in (tmp_path / "gen").iterdir())
    FeedbackStore(tmp_path / "fb" / "feedback.sqlite")
    assert _mode(tmp_path / "fb" / "feedback.sqlite") == 0o600


def test_private_writes_never_flip_the_umask(tmp_path, monkeypatch):
    """Reading the umask by setting it races every other thread's file creation."""
    from agentic_match import files

    calls: list[int] = []
    real = os.umask
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real(mask))
    threads = [
        threading.Thread(target=files.write_json, args=(tmp_path / f"{i}.json", {"i": i}), kwargs={"private": i % 2})
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [], "a writer changed the process umask"
    assert _mode(tmp_path / "1.json") == 0o600
    assert _mode(tmp_path / "0.json") == 0o666 & ~files.current_umask()
