"""Local LLM runtime: a managed vLLM server and the one ``openai``-based client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from agentic_match.config import Settings, load_settings
from agentic_match.llm.cache import GenerationCache
from agentic_match.llm.client import Completion, LLMClient, SamplingParams
from agentic_match.llm.server import ManagedServer, ServerInfo, gpu_available, request_count, token_counts


def _redactor(settings: Settings) -> Callable[[str], str] | None:
    if not settings.privacy.redact_prompts:
        return None
    from functools import partial

    from agentic_match.privacy import redact

    return partial(redact, names=tuple(settings.privacy.redact_names))


def _defuser(settings: Settings) -> Callable[[str], str] | None:
    """Defuses the generator's special tokens, when its tokenizer is available locally."""
    import prompts
    from agentic_match.errors import AgenticMatchError
    from agentic_match.models import resolve_generator, special_tokens

    try:
        folder = resolve_generator(settings.llm.model, settings.models_dir)
    except (AgenticMatchError, OSError, ValueError):
        return None  # an external server's model: the fence's generic patterns still apply
    return prompts.token_defuser(special_tokens(folder))


def client_for(settings: Settings, info: ServerInfo | None = None, *, model: str | None = None) -> LLMClient:
    """An :class:`LLMClient` for a managed server (``info``) or the configured ``base_url``."""
    llm = settings.llm
    defuse = _defuser(settings)
    sampling = SamplingParams(max_tokens=llm.max_tokens, temperature=llm.temperature, seed=llm.seed)
    cache = GenerationCache(settings.generation_cache_path)
    redact = _redactor(settings)
    if info is not None:
        from pathlib import Path

        from agentic_match.models import model_fingerprint

        # Adapters answer differently from the base: each gets its own cache namespace.
        adapters = {
            k: f"{k}@{model_fingerprint(Path(v)) if Path(v).is_dir() else 'gone'}@{info.fingerprint}"
            for k, v in info.adapters.items()
        }
        return LLMClient(
            info.base_url,
            info.api_key,
            model or info.model,
            cache=cache,
            cache_namespace=adapters.get(model or "", f"{info.model}@{info.fingerprint}"),
            model_namespaces=adapters,
            max_concurrency=llm.max_concurrency,
            timeout_s=llm.timeout_s,
            max_retries=llm.max_retries,
            sampling=sampling,
            log_path=info.log_path,
            redact=redact,
            send_seed=llm.send_seed if llm.send_seed is not None else gpu_available(),
            defuse=defuse,
        )
    if not llm.base_url:
        raise ValueError("client_for needs a running server (info) or settings.llm.base_url")
    return LLMClient(
        llm.base_url,
        llm.api_key,
        model or llm.model,
        cache=cache,
        max_concurrency=llm.max_concurrency,
        timeout_s=llm.timeout_s,
        max_retries=llm.max_retries,
        sampling=sampling,
        redact=redact,
        send_seed=llm.send_seed if llm.send_seed is not None else True,
        defuse=defuse,
    )


@contextmanager
def open_llm(settings: Settings | None = None, *, adapters: dict[str, str] | None = None) -> Iterator[LLMClient]:
    """A ready client: the configured external server, or a managed vLLM server for the run.

    Example::

        with open_llm() as llm:
            print(llm.chat([{"role": "user", "content": "Hello"}]).text)
    """
    settings = settings or load_settings()
    if settings.llm.base_url:
        client = client_for(settings)
        try:
            yield client
        finally:
            client.close()
        return
    with ManagedServer(settings.llm.model, settings, adapters=adapters) as info:
        client = client_for(settings, info)
        try:
            yield client
        finally:
            client.close()


__all__ = [
    "Completion",
    "GenerationCache",
    "LLMClient",
    "ManagedServer",
    "SamplingParams",
    "ServerInfo",
    "client_for",
    "open_llm",
    "request_count",
    "token_counts",
]
