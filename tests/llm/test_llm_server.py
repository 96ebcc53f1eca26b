"""ManagedServer life cycle without a real model: a stand-in ``vllm`` module that never
becomes healthy lets us stop the parent in the middle of start-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

FAKE_API_SERVER = """
import os, sys, time
open(os.environ["FAKE_VLLM_PID_FILE"], "w").write(str(os.getpid()))
time.sleep(600)
"""

PARENT = """
import sys
from agentic_match.config import Settings
from agentic_match.llm import ManagedServer

settings = Settings(cache_dir=sys.argv[2])
print("starting", flush=True)
ManagedServer(sys.argv[1], settings, reuse=False).start()
"""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purpose.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_sigterm_during_startup_stops_the_server(tmp_path):
    fake = tmp_path / "fake" / "vllm" / "entrypoints" / "openai"
    fake.mkdir(parents=True)
    for folder in (fake, fake.parent, fake.parent.parent):
        (folder / "__init__.py").write_text("")
    (fake / "api_server.py").write_text(textwrap.dedent(FAKE_API_SERVER))
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "llama"}')
    pid_file = tmp_path / "server.pid"
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "fake"), FAKE_VLLM_PID_FILE=str(pid_file))

    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(model), str(tmp_path / "cache")], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pid_file.exists(), "the stand-in server never started"
        time.sleep(0.5)  # the file is written before the pid is flushed on slow machines
        server_pid = int(pid_file.read_text())
        assert _pid_alive(server_pid)

        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 128 + signal.SIGTERM

        deadline = time.monotonic() + 30
        while _pid_alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _pid_alive(server_pid), "SIGTERM to the parent left the vLLM server running"
        assert not list((tmp_path / "cache" / "servers").glob("*.json")), "no state file for a stopped server"
    finally:
        if parent.poll() is None:
            parent.kill()
        if pid_file.exists() and pid_file.read_text():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
