"""Building a graph's dependencies from the settings (for ``langgraph.json`` factories)."""

from __future__ import annotations

from agentic_match.config import load_settings
from agentic_match.llm import LLMClient, ManagedServer, client_for

_SERVERS: list[ManagedServer] = []


def settings_client() -> LLMClient:
    """A client for ``llm.base_url``, else for the managed vLLM server (started or reused).

    A server started here lives as long as the process (the LangGraph server), which is
    what a graph factory needs; ``agentic-match serve`` can share it across processes.
    """
    settings = load_settings()
    if settings.llm.base_url:
        return client_for(settings)
    server = ManagedServer(settings=settings)
    info = server.start()
    _SERVERS.append(server)
    return client_for(settings, info)
