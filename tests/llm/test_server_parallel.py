"""vLLM's multi-GPU options reach the managed server's command line (``server.tensor_parallel_size`` ...)."""

from __future__ import annotations

import pytest

from agentic_match.config import ServerSettings, load_settings
from agentic_match.errors import ConfigError
from agentic_match.llm.server import parallel_args


def test_one_gpu_passes_no_parallel_flag() -> None:
    assert parallel_args(ServerSettings()) == []


def test_tensor_and_pipeline_parallel_and_executor_are_passed() -> None:
    s = load_settings(
        overrides=[
            "server.tensor_parallel_size=4",
            "server.pipeline_parallel_size=2",
            "server.distributed_executor_backend=ray",
        ]
    )
    assert parallel_args(s.server) == [
        "--tensor-parallel-size",
        "4",
        "--pipeline-parallel-size",
        "2",
        "--distributed-executor-backend",
        "ray",
    ]


def test_invalid_parallel_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match="tensor_parallel_size"):
        load_settings(overrides=["server.tensor_parallel_size=0"])
    with pytest.raises(ConfigError, match="distributed_executor_backend"):
        load_settings(overrides=["server.distributed_executor_backend=slurm"])
