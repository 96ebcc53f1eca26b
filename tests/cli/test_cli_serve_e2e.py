"""``agentic-match serve``: starts a real vLLM server, is reused by others, and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from agentic_match.config import load_settings
from agentic_match.llm import ManagedServer
from agentic_match.llm.server import _pid_alive, running_servers

pytestmark = pytest.mark.e2e


def test_serve_is_reused_and_shuts_down_on_sigterm(tmp_path):
    env = dict(os.environ, AGENTIC_MATCH_CACHE_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from agentic_match.cli import main; main()", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 900
        seen = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                pytest.fail("serve exited early:\n" + "".join(seen))
            seen.append(line)
            if line.startswith("ready"):
                break
        settings = load_settings(overrides={"cache_dir": str(tmp_path)})
        (info,) = running_servers(settings)
        assert info.base_url.startswith("http://127.0.0.1:")
        other = ManagedServer(settings=settings)
        assert other.start().pid == info.pid and not other.owned
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 30
        while _pid_alive(info.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _pid_alive(info.pid), "vLLM outlived its serve command"
        assert running_servers(settings) == []
    finally:
        if proc.poll() is None:
            proc.kill()
