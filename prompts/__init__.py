"""Prompt templates, one file per prompt (``<name>.txt``), and the one way to fill them.

Templates use ``string.Template`` placeholders (``$job``, ``${resume}``) so that braces in
documents never break formatting. Untrusted document text is always passed through
:func:`fence`, which marks it as data and neutralises anything that imitates the fence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from importlib import resources
from string import Template

# Characters that render as nothing: a tag split by them (``</\u200bdocument>``) still reads
# as a tag to a model. Zero-width spaces and joiners, word joiner, BOM, soft hyphen, and the
# bidirectional controls.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Role and fence tags, however spaced (``< /document >``), and the tags other model families
# use for turns and tools.
_ROLE_TAG = re.compile(
    r"<\s*/?\s*(document|system|assistant|user|tool|tool_call|tool_response|think|start_of_turn|end_of_turn"
    r"|im_start|im_end|s|bos|eos)\b[^<>]*>",
    re.IGNORECASE,
)
# Chat-template control tokens that could open a fake turn inside the data: ChatML / Llama 3 /
# Phi / DeepSeek (``<|...|>``, also with fullwidth bars before NFKC), Llama 2 / Mistral.
_CHAT_TOKEN = re.compile(r"<\s*\|[^<>]{0,60}?\|\s*>|\[\s*/?\s*INST\s*\]|<\s*<\s*/?\s*SYS\s*>\s*>", re.IGNORECASE)


def _defuse(match: re.Match[str]) -> str:
    return match.group(0).replace("<", "‹").replace(">", "›").replace("[", "⟦").replace("]", "⟧")


def normalise(text: str) -> str:
    """NFKC (fullwidth ``＜`` becomes ``<``) and no invisible characters: what a tag pattern
    must see so that look-alike tags cannot slip past it."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def token_defuser(tokens: Iterable[str]) -> Callable[[str], str]:
    """A function that defuses every occurrence of ``tokens`` (a served model's special and
    added tokens, e.g. SmolLM2's ``<|im_start|>`` or ``<repo_name>``) in a text.

    Applied by the LLM client to every message, so no document can put a control token of
    the model that actually reads it into a prompt, whatever its family.
    """
    toks = sorted({t for t in tokens if t and len(t) > 1 and not t.isalnum()}, key=len, reverse=True)
    if not toks:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(t) for t in toks))

    def one(match: re.Match[str]) -> str:
        safe = _defuse(match)
        # A token without brackets or bars: a word joiner inside stops it matching as a token.
        return safe if safe != match.group(0) else match.group(0)[0] + "\u2060" + match.group(0)[1:]

    def defuse(text: str) -> str:
        return pattern.sub(one, text)

    return defuse


def load(name: str) -> Template:
    """The template ``prompts/<name>.txt``."""
    try:
        text = resources.files(__name__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
    except FileNotFoundError:
        from agentic_match.errors import AgenticMatchError

        raise AgenticMatchError(f"no prompt template named {name!r} in the prompts package") from None
    return Template(text)


def fence(text: str, label: str = "document") -> str:
    """Wrap untrusted text as inert data between ``<document>`` tags.

    The text is normalised first (:func:`normalise`: NFKC, no invisible characters); then
    tags that could close the fence or fake a chat role (however spaced) and chat-template
    control tokens of the common model families (``<|im_start|>``, ``<start_of_turn>``,
    ``[INST]``, ``<tool_call>``) are defused, so the model always sees exactly one data
    block whose content it is told never to obey. The served model's own special tokens are
    defused by the client as well (:func:`token_defuser`).
    """
    safe = _CHAT_TOKEN.sub(_defuse, _ROLE_TAG.sub(_defuse, normalise(text)))
    return f'<document type="{label}">\n{safe}\n</document>'


_WRAPPER = re.compile(r'^\s*<document(?: type="[^"]*")?>\s*\n?(.*?)\s*(?:</document>\s*)?$', re.DOTALL)


def unfence(text: str) -> str:
    """``text`` without a ``<document>`` wrapper a model copied from fenced examples."""
    m = _WRAPPER.match(text)
    return m.group(1) if m else text


def render(name: str, **values: str) -> str:
    """Fill template ``name``; every placeholder must be given (a missing one is an error)."""
    return load(name).substitute(**values)
