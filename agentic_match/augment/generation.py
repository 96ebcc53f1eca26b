"""Checked generation: an LLM answer is validated, retried, and otherwise reported.

Every augmentation (HyRe, completion, clean-up) goes through :func:`generate_text` or
:func:`generate_structured`: an empty, too short or degenerate answer is retried with another
seed and a non-zero temperature (a greedy retry would repeat the same answer, and the cache
would hand it back anyway), and after the last attempt the caller gets an
:class:`Outcome` with ``problem`` set instead of a text. Callers keep the original document
in that case: a failed generation never replaces what the user wrote.

Server failures (:class:`~agentic_match.errors.LLMUnavailableError`) are *not* swallowed here:
they propagate so that the graph's retry policy and checkpoint can resume the run later.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

import prompts
from agentic_match.config import setting
from agentic_match.errors import StructuredOutputError
from agentic_match.types import Messages

T = TypeVar("T", bound=BaseModel)

# Chat-template control tokens (ChatML ``<|im_start|>``, Llama ``<|eot_id|>``...) typed into
# a document could be tokenised as real special tokens and fake a new chat turn.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class ChatModel(Protocol):
    """What augmentation needs from a client (``agentic_match.llm.LLMClient`` or a test fake)."""

    def chat(self, messages: Messages, **sampling: Any) -> Any: ...

    def structured(self, messages: Messages, schema: type[T], **sampling: Any) -> T: ...


class BoundModel:
    """A :class:`ChatModel` whose every request names one served model.

    On a vLLM server with LoRA adapters the request's ``model`` picks the adapter, so
    binding a client to an adapter's name is all a graph needs to generate with it.
    """

    def __init__(self, llm: ChatModel, model: str):
        self.llm = llm
        self.model = model

    @property
    def sampling(self) -> Any:
        # generate_text reads the client's default seed and temperature for its retries.
        return getattr(self.llm, "sampling", None)

    def chat(self, messages: Messages, **sampling: Any) -> Any:
        return self.llm.chat(messages, model=self.model, **sampling)

    def structured(self, messages: Messages, schema: type[T], **sampling: Any) -> T:
        return self.llm.structured(messages, schema, model=self.model, **sampling)


def bind_model(llm: ChatModel, model: str | None) -> ChatModel:
    """``llm`` sending every request to served model ``model`` (a LoRA adapter's name);
    ``llm`` itself when ``model`` is None or empty."""
    return BoundModel(llm, model) if model else llm


@dataclass(frozen=True)
class GenerationPolicy:
    """How generations are checked and retried."""

    attempts: int = setting(3, help="Generations tried per document before it is reported as failed.")
    min_chars: int = setting(20, help="A shorter answer (after stripping) counts as empty.")
    min_words: int = setting(4, help="An answer with fewer words counts as garbage.")
    min_distinct_ratio: float = setting(
        0.2, help="Distinct words / words below this (on answers of 12+ words) marks a degenerate, looping answer."
    )
    retry_temperature: float = setting(0.7, help="Temperature of the retries (the first attempt uses the client's).")

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"GenerationPolicy.attempts must be >= 1, not {self.attempts}")


def text_problem(text: str, policy: GenerationPolicy = GenerationPolicy()) -> str | None:
    """Why ``text`` is not a usable generation, or None when it is."""
    t = (text or "").strip()
    if not t:
        return "empty generation"
    if len(t) < policy.min_chars:
        return f"generation too short ({len(t)} chars)"
    words = [w.lower() for w in _WORD.findall(t)]
    if len(words) < policy.min_words:
        return f"generation has too few words ({len(words)})"
    if len(words) >= 12 and len(set(words)) / len(words) < policy.min_distinct_ratio:
        return "degenerate generation (the same words repeated)"
    return None


_BULLET = re.compile(r"^[\s\-*•·>#]+")


def _norm_line(line: str) -> str:
    # A copied line comes back with a bullet or heading marker in front of it as often as not.
    return " ".join(_BULLET.sub("", line).lower().split())


def echo_problem(generated: str, source: str, max_share: float = 0.6, what: str = "the input") -> str | None:
    """A problem when most lines of ``generated`` are copied verbatim from ``source``.

    Lines are compared without leading bullets or heading marks, case and spacing. Small
    models often answer by repeating the document they were shown (``what`` names it in the
    message); such an answer adds nothing and would only duplicate that text.
    """
    src = {n for ln in source.splitlines() if len(n := _norm_line(ln)) > 3}
    lines = [n for ln in generated.splitlines() if len(n := _norm_line(ln)) > 3]
    if not lines or not src:
        return None
    share = sum(ln in src for ln in lines) / len(lines)
    if share >= max_share:
        return f"generation repeats {what} ({share:.0%} of its lines copied)"
    return None


def loop_problem(generated: str, max_repeats: int = 2) -> str | None:
    """A problem when a line comes back more than ``max_repeats`` times: a model stuck in a
    loop until its token budget runs out (the answer's words may still look varied)."""
    counts: dict[str, int] = {}
    for ln in generated.splitlines():
        if len(n := _norm_line(ln)) > 3:
            counts[n] = counts.get(n, 0) + 1
    worst = max(counts.values(), default=0)
    if worst > max_repeats:
        return f"generation loops (a line repeated {worst} times)"
    return None


_LAYOUT_LINE = re.compile(r"^\s*-?\s*([A-Za-z][\w ]{0,30}):\s*(\S.*)$")


def placeholder_problem(generated: str, layout: str, min_overlap: float = 0.6) -> str | None:
    """A problem when the answer fills a layout line with the layout's own description.

    ``layout`` holds lines such as ``Summary: two sentences on experience and strengths``;
    an answer line under the same label whose words cover at least ``min_overlap`` of that
    description's words (``Summary: 2 sentences on experience and strengths``) repeats the
    instruction instead of following it.
    """
    wanted = {}
    for ln in layout.splitlines():
        if m := _LAYOUT_LINE.match(ln):
            wanted[m.group(1).strip().lower()] = {w.lower() for w in _WORD.findall(m.group(2))}
    for ln in generated.splitlines():
        m = _LAYOUT_LINE.match(ln)
        if not m or (desc := wanted.get(m.group(1).strip().lower())) is None or not desc:
            continue
        words = {w.lower() for w in _WORD.findall(m.group(2))}
        if len(words & desc) / len(desc) >= min_overlap:
            return f"generation repeats the layout's placeholder for {m.group(1).strip()!r}"
    return None


@dataclass
class Outcome(Generic[T]):
    """The result of a checked generation.

    Attributes:
        text: The accepted text (``None`` when every attempt failed).
        value: The parsed object for structured generations.
        attempts: Attempts made.
        problem: Why the last attempt was rejected (``None`` on success).
    """

    text: str | None = None
    value: T | None = None
    attempts: int = 0
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _retry_sampling(llm: Any, attempt: int, policy: GenerationPolicy) -> dict[str, Any]:
    if attempt == 0:
        return {}
    sampling = getattr(llm, "sampling", None)
    base_seed = getattr(sampling, "seed", None) or 0
    base_temp = getattr(sampling, "temperature", 0.0) or 0.0
    return {"seed": base_seed + attempt, "temperature": max(base_temp, policy.retry_temperature)}


def generate_text(
    llm: ChatModel,
    messages: Messages,
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    check: Callable[[str], str | None] | None = None,
    **sampling: Any,
) -> Outcome:
    """A checked free-text generation (see the module docstring).

    Args:
        llm: The client.
        messages: The chat messages.
        policy: Attempts and checks.
        check: Extra check of a text; returns a problem or None.
        **sampling: Sampling overrides of every attempt (``max_tokens``...).
    """
    problem = None
    for attempt in range(policy.attempts):
        c = llm.chat(messages, **{**sampling, **_retry_sampling(llm, attempt, policy)})
        text = prompts.unfence(c.text if hasattr(c, "text") else str(c))
        problem = text_problem(text, policy) or (check(text) if check else None)
        if problem is None:
            return Outcome(text=text.strip(), attempts=attempt + 1)
    return Outcome(attempts=policy.attempts, problem=problem)


def generate_structured(
    llm: ChatModel,
    messages: Messages,
    schema: type[T],
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    check: Callable[[T], str | None] | None = None,
    **sampling: Any,
) -> Outcome[T]:
    """A checked structured generation: schema errors and ``check`` failures are retried."""
    problem = None
    for attempt in range(policy.attempts):
        try:
            value = llm.structured(messages, schema, **{**sampling, **_retry_sampling(llm, attempt, policy)})
        except StructuredOutputError as e:
            problem = f"invalid {schema.__name__}: {e}"[:300]
            continue
        problem = check(value) if check else None
        if problem is None:
            return Outcome(text=value.model_dump_json(), value=value, attempts=attempt + 1)
    return Outcome(attempts=policy.attempts, problem=problem)
