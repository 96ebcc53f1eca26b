"""Rendering a document into the text a model sees, the way ConFit v2 does.

Each non-blank field becomes a ``## <field>`` heading followed by its text, in a fixed
order (the kind's default order first, any other field after in alphabetical order), so
the same document always renders to the same string. A document without fields renders
its free text as-is; free text next to fields comes last under ``## text``. Metadata is
never rendered, and excluded fields (sensitive attributes) never appear.

Indexes and caches store :meth:`RenderConfig.fingerprint` so that a query rendered with
other settings than the index is detected instead of silently mismatching.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from agentic_match.config import setting
from agentic_match.data.schema import Document

RENDER_FORMAT_VERSION = 1
"""Bumped whenever the output of :func:`render` changes for the same settings."""

DEFAULT_JOB_FIELDS: tuple[str, ...] = (
    "title",
    "location",
    "responsibilities",
    "minimum_qualifications",
    "preferred_qualifications",
)
DEFAULT_RESUME_FIELDS: tuple[str, ...] = (
    "title",
    "summary",
    "experience",
    "education",
    "skills",
    "certifications",
)
TEXT_FIELD = "text"


@dataclass(frozen=True)
class RenderConfig:
    """How documents are turned into model input text."""

    job_field_order: tuple[str, ...] = setting(DEFAULT_JOB_FIELDS, help="Fields of jobs rendered first, in this order.")
    resume_field_order: tuple[str, ...] = setting(
        DEFAULT_RESUME_FIELDS, help="Fields of resumes rendered first, in this order."
    )
    exclude_fields: tuple[str, ...] = setting(
        (),
        help=(
            'Fields never rendered (case-insensitive), e.g. sensitive attributes such as ``("gender", "age")``; '
            '``"text"`` excludes the free text.'
        ),
    )
    max_field_chars: int | None = setting(
        None, help="Cut each field's text to this many characters (``None``: no cut)."
    )
    max_total_chars: int | None = setting(
        None, help="Cut the whole rendering to this many characters (``None``: no cut)."
    )
    heading: str = setting("## ", help="Prefix of a field heading; the field name follows it.")

    def __post_init__(self) -> None:
        for name in ("max_field_chars", "max_total_chars"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, not {value!r}")
        # Lists from a config file would make the frozen dataclass unhashable.
        for name in ("job_field_order", "resume_field_order", "exclude_fields"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def field_order(self, kind: str) -> tuple[str, ...]:
        """The leading field order of ``kind`` documents."""
        return self.job_field_order if kind == "job" else self.resume_field_order

    def fingerprint(self) -> str:
        """A short stable hash of every setting (and the format version)."""
        payload = {"version": RENDER_FORMAT_VERSION, **asdict(self)}
        payload["exclude_fields"] = sorted(f.lower() for f in self.exclude_fields)
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def ordered_fields(doc: Document, config: RenderConfig = RenderConfig()) -> list[tuple[str, str]]:
    """``(name, text)`` of the fields that will be rendered, in rendering order.

    Blank and excluded fields are left out; text is stripped and cut to
    ``max_field_chars``.
    """
    excluded = {f.lower() for f in config.exclude_fields}
    leading = [f for f in config.field_order(doc.kind) if f in doc.fields]
    rest = sorted(f for f in doc.fields if f not in set(leading))
    out = []
    for name in [*leading, *rest]:
        if name.lower() in excluded:
            continue
        text = _cut((doc.fields[name] or "").strip(), config.max_field_chars)
        if text:
            out.append((name, text))
    return out


def _cut(text: str, limit: int | None) -> str:
    # Hard cut (no ellipsis): predictable lengths for token budgets; trailing space dropped.
    if limit is None or len(text) <= limit:
        return text
    return text[:limit].rstrip()


def render(doc: Document, config: RenderConfig = RenderConfig()) -> str:
    """The model input text of ``doc`` (see the module docstring for the format)."""
    excluded = {f.lower() for f in config.exclude_fields}
    text = None if TEXT_FIELD in excluded else (doc.text or "").strip()
    parts = [f"{config.heading}{name}\n{value}" for name, value in ordered_fields(doc, config)]
    if text:
        text = _cut(text, config.max_field_chars)
        parts.append(f"{config.heading}{TEXT_FIELD}\n{text}" if parts else text)
    return _cut("\n\n".join(parts), config.max_total_chars)


def render_all(docs: Iterable[Document], config: RenderConfig = RenderConfig()) -> list[str]:
    """:func:`render` of each document, in order."""
    return [render(d, config) for d in docs]
