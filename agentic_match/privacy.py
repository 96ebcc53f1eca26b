"""Keeping personal data out of model inputs, prompts, caches and logs.

Two separate tools:

* :func:`protected_render_config` - sensitive *fields* (name, gender, age, ...) are dropped
  before encoding and before any prompt, through the data contract's
  ``RenderConfig.exclude_fields`` (the one renderer), and :func:`prompt_text` renders and
  redacts in one call;
* :func:`redact` - e-mail addresses, phone numbers, URLs and listed names inside free text
  become placeholders (``[EMAIL]``, ``[PHONE]``, ``[URL]``, ``[NAME]``);
  :class:`RedactingFilter` applies it to every log record.

The patterns aim at the usual resume formats and err towards keeping text: a phone number
needs a leading ``+`` or a 3-3-4 digit layout, so years (``2010 - 2014``), salaries and ZIP
codes stay. Redaction is a safeguard, not a guarantee - keep raw resumes out of logs anyway.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Document

DEFAULT_SENSITIVE_FIELDS: tuple[str, ...] = (
    "name",
    "full_name",
    "first_name",
    "last_name",
    "gender",
    "sex",
    "age",
    "birth_date",
    "date_of_birth",
    "dob",
    "nationality",
    "citizenship",
    "ethnicity",
    "race",
    "religion",
    "marital_status",
    "disability",
    "photo",
    "email",
    "phone",
    "address",
)
"""Field names never rendered into model inputs by :func:`protected_render_config`."""

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
URL_RE = re.compile(
    r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>\"')\]]+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|me|dev|co|edu|gov|ly|ai)/[^\s<>\"')\]]*"
)
PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}"  # +44 20 7946 0958
    r"|(?:1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}"  # (555) 123-4567, 555.123.4567
    r")(?![\w])"
)


@dataclass(frozen=True)
class RedactConfig:
    """What :func:`redact` replaces, and with what.

    Attributes:
        emails: Replace e-mail addresses.
        phones: Replace phone numbers.
        urls: Replace URLs (``http(s)://``, ``www.``, ``domain.tld/path``).
        names: Extra names to replace wherever they occur as whole words (any case).
        split_names: Also replace each part of a listed multi-word name (``"Jane Doe"``
            also hides ``Jane`` and ``Doe``); parts shorter than 3 letters are kept.
        placeholders: Replacement text per kind.
    """

    emails: bool = True
    phones: bool = True
    urls: bool = True
    names: tuple[str, ...] = ()
    split_names: bool = True
    placeholders: dict[str, str] = field(
        default_factory=lambda: {"email": "[EMAIL]", "phone": "[PHONE]", "url": "[URL]", "name": "[NAME]"}
    )


def _names_regex(names: Iterable[str], split: bool) -> re.Pattern[str] | None:
    terms = set()
    for n in names:
        n = " ".join(str(n).split())
        if not n:
            continue
        terms.add(n)
        if split:
            terms.update(p for p in n.split(" ") if len(p) >= 3)
    if not terms:
        return None
    alt = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    # Spaces inside a listed name match any run of whitespace (line-wrapped headers).
    alt = alt.replace(r"\ ", r"\s+")
    return re.compile(rf"(?i)(?<![\w])(?:{alt})(?![\w])")


def redact(text: str, names: Sequence[str] = (), config: RedactConfig = RedactConfig()) -> str:
    """``text`` with e-mails, URLs, phone numbers and the given ``names`` replaced.

    E-mails go first (so the domain is not taken for a URL), then URLs (so digits in a path
    are not taken for a phone number), then phones, then names.
    """
    ph = config.placeholders
    if config.emails:
        text = EMAIL_RE.sub(ph["email"], text)
    if config.urls:
        text = URL_RE.sub(ph["url"], text)
    if config.phones:
        text = PHONE_RE.sub(ph["phone"], text)
    rx = _names_regex([*config.names, *names], config.split_names)
    if rx is not None:
        text = rx.sub(ph["name"], text)
    return text


def document_names(
    doc: Document, fields: Sequence[str] = ("name", "full_name", "first_name", "last_name")
) -> list[str]:
    """Names a document itself declares (in those fields or metadata keys), to redact."""
    out = []
    for key in fields:
        for source in (doc.fields, doc.metadata):
            value = source.get(key)
            if isinstance(value, str) and value.strip():
                out.append(value.strip())
    return out


def protected_render_config(
    base: RenderConfig | None = None, sensitive_fields: Sequence[str] = DEFAULT_SENSITIVE_FIELDS
) -> RenderConfig:
    """``base`` (default rendering when ``None``) with ``sensitive_fields`` also excluded."""
    base = base or RenderConfig()
    merged = tuple(dict.fromkeys([*base.exclude_fields, *sensitive_fields]))
    return replace(base, exclude_fields=merged)


def prompt_text(
    doc: Document,
    *,
    render_config: RenderConfig | None = None,
    sensitive_fields: Sequence[str] = DEFAULT_SENSITIVE_FIELDS,
    names: Sequence[str] = (),
    config: RedactConfig = RedactConfig(),
) -> str:
    """The text of ``doc`` safe for a prompt: sensitive fields dropped, then redacted.

    Names declared by the document (``name`` fields or metadata) are redacted too, so a
    name repeated in the free text does not leak.
    """
    text = render(doc, protected_render_config(render_config, sensitive_fields))
    return redact(text, [*names, *document_names(doc)], config)


class RedactingFilter(logging.Filter):
    """A ``logging.Filter`` that redacts each record's message (never drops a record).

    The formatted message (``msg % args``) is redacted and stored back with ``args``
    cleared, so handlers print the redacted text; exception text is redacted too.

    A filter on a *logger* does not see records propagated from child loggers; attach it to
    the handlers (:func:`install_log_redaction` does).
    """

    def __init__(self, names: Sequence[str] = (), config: RedactConfig = RedactConfig()) -> None:
        super().__init__()
        self.names = list(names)
        self.config = config

    def add_names(self, names: Iterable[str]) -> None:
        """Also redact these names from now on."""
        self.names.extend(names)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error path
            return True
        record.msg = redact(message, self.names, self.config)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.names, self.config)
        return True


def install_log_redaction(
    logger: logging.Logger | None = None, names: Sequence[str] = (), config: RedactConfig = RedactConfig()
) -> RedactingFilter:
    """Attach one :class:`RedactingFilter` to every handler of ``logger`` (root by default).

    Handlers added later are not covered; call again after configuring logging.
    """
    logger = logger or logging.getLogger()
    filt = RedactingFilter(names, config)
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(filt)
    return filt


__all__ = [
    "DEFAULT_SENSITIVE_FIELDS",
    "EMAIL_RE",
    "PHONE_RE",
    "URL_RE",
    "RedactConfig",
    "RedactingFilter",
    "document_names",
    "install_log_redaction",
    "prompt_text",
    "protected_render_config",
    "redact",
]
