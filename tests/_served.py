"""A real managed vLLM server for end-to-end tests (the packaged SmolLM2-135M)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def managed_server(tmp_path_factory: Any, concurrency: int) -> Iterator[tuple[Any, Any, Any]]:
    """Start a server with a fresh generation cache; yield ``(settings, server, info)``; stop it."""
    from agentic_match.config import load_settings
    from agentic_match.llm import ManagedServer

    cache = tmp_path_factory.mktemp("am-cache")
    settings = load_settings(overrides={"cache_dir": str(cache), "llm": {"max_concurrency": concurrency}})
    server = ManagedServer(settings=settings)
    info = server.start()
    try:
        yield settings, server, info
    finally:
        server.stop()
