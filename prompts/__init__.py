"""Prompt templates, one file per prompt (``<name>.txt``), and the one way to fill them.

Templates use ``string.Template`` placeholders (``$job``, ``${resume}``) so that braces in
documents never break formatting. Untrusted document text is always passed through
:func:`fence`, which marks it as data and neutralises anything that imitates the fence.
"""

from __future__ import annotations

import re
from importlib import resources
from string import Template

_FENCE_TAG = re.compile(r"</?\s*(document|system|assistant|user)\b[^>]*>", re.IGNORECASE)
# Chat-template control tokens (ChatML, Llama) that could open a fake turn inside the data.
_CHAT_TOKEN = re.compile(r"<\|[^|<>]{0,40}\|>|\[/?INST\]|<</?SYS>>", re.IGNORECASE)


def _defuse(match: re.Match[str]) -> str:
    return match.group(0).replace("<", "‹").replace(">", "›").replace("[", "⟦").replace("]", "⟧")


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

    Tags inside the text that could close the fence or fake a chat role, and chat-template
    control tokens (``<|im_start|>``, ``[INST]``), are defused, so the model always sees
    exactly one data block whose content it is told never to obey.
    """
    safe = _CHAT_TOKEN.sub(_defuse, _FENCE_TAG.sub(_defuse, text))
    return f'<document type="{label}">\n{safe}\n</document>'


_WRAPPER = re.compile(r'^\s*<document(?: type="[^"]*")?>\s*\n?(.*?)\s*(?:</document>\s*)?$', re.DOTALL)


def unfence(text: str) -> str:
    """``text`` without a ``<document>`` wrapper a model copied from fenced examples."""
    m = _WRAPPER.match(text)
    return m.group(1) if m else text


def render(name: str, **values: str) -> str:
    """Fill template ``name``; every placeholder must be given (a missing one is an error)."""
    return load(name).substitute(**values)
