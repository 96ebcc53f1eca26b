"""How a document's HyRe text reaches the encoder: its *view*, one or more weighted texts.

HyRe (ConFit v2, Yu et al.) adds an LLM-written hypothetical reference resume to each job
post. The paper concatenates the two, post first; with an encoder that reads 256 tokens and
posts that already fill them, the generated text is cut off before the encoder sees it.
The modes below decide what the encoder reads (the same in training and serving, since the
mode is saved with the model and covered by its fingerprint):

==========  ===============================================================================
mode        what the encoder reads
==========  ===============================================================================
``append``  post, separator, generated text; the window cuts what does not fit (the paper)
``budget``  the post cut (by tokens of the encoder's own tokenizer) to leave ``share`` of the
            window to the generated text, then the separator and the generated text
``first``   the generated text, the separator, then the post
``fusion``  two texts, the post and the generated text, whose unit vectors are averaged with
            weight ``weight`` on the generated one and re-normalised (as HyDE averages its
            hypothetical documents' vectors with the query's)
``alone``   the generated text only
==========  ===============================================================================

A document without HyRe text has one view, its rendered text, whatever the mode.

Example::

    from agentic_match.retrieval.hyre_view import HyReView, views

    views(job, HyReView(mode="fusion", weight=0.25), tokenizer, window=256)
    # [("<the rendered post>", 0.75), ("<the generated resume>", 0.25)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from agentic_match.config import setting
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Document
from agentic_match.errors import ConfigError

HyReMode = Literal["append", "budget", "first", "fusion", "alone"]
MODES: tuple[str, ...] = ("append", "budget", "first", "fusion", "alone")

#: Weighted texts the encoder reads for one document (weights sum to 1).
View = list[tuple[str, float]]


@dataclass(frozen=True)
class HyReView:
    """What the encoder reads of a document that carries HyRe text (see the module table)."""

    # fusion at weight 0.25 is the view chosen on dev (benchmarks/hyre.py, stage "modes"): the only
    # one above the plain post on both tasks; the token-sharing views cut the post that carries the
    # relevance signal.
    mode: HyReMode = setting(
        "fusion", help="How the generated text reaches the encoder: " + ", ".join(MODES) + ".", choices=MODES
    )
    share: float = setting(
        0.5, help="budget mode: share of the window kept for the generated text (the post gets the rest)."
    )
    weight: float = setting(0.25, help="fusion mode: weight of the generated text's vector (the post's is 1 - weight).")

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"HyReView.mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if not 0.0 < self.share < 1.0:
            raise ConfigError(f"HyReView.share must be in (0, 1), got {self.share}")
        if not 0.0 < self.weight < 1.0:
            raise ConfigError(f"HyReView.weight must be in (0, 1), got {self.weight}")

    @classmethod
    def of(cls, value: HyReView | dict | None) -> HyReView:
        """A view from a saved settings dict (or the default)."""
        if isinstance(value, HyReView):
            return value
        return cls(**(value or {}))


def hyre_parts(doc: Document) -> tuple[str | None, str, str] | None:
    """``(post, separator, generated)`` of a HyRe-augmented document, else ``None``.

    An augmented document's text is ``post + separator + generated`` (``concat``) or the
    generated text alone (``replace``: ``post`` is ``None``); the generated part and the
    separator are kept in ``metadata["hyre"]``, so the post is recovered exactly.
    """
    meta = doc.metadata.get("hyre") if isinstance(doc.metadata, dict) else None
    if not isinstance(meta, dict) or not str(meta.get("generated") or "").strip():
        return None
    generated = str(meta["generated"])
    text = doc.text or ""
    if not doc.fields and text == generated:
        return None, "", generated
    separators = [meta["separator"]] if meta.get("separator") else _default_separators()
    for sep in separators:
        if not doc.fields and text.endswith(sep + generated):
            return text[: len(text) - len(sep) - len(generated)], sep, generated
    return None


def _default_separators() -> list[str]:
    from agentic_match.augment.hyre import HyReConfig, reverse_separator

    cfg = HyReConfig()
    return [cfg.separator, reverse_separator(cfg)]


def views(
    doc: Document | str,
    view: HyReView,
    tokenizer: Any,
    window: int,
    render_config: RenderConfig | None = None,
) -> View:
    """The weighted texts the encoder reads for ``doc`` (see the module table).

    Args:
        doc: A document (HyRe text in its metadata, or none) or an already rendered text.
        view: The mode and its parameters.
        tokenizer: The encoder's own (fast) tokenizer: budgets are counted in its tokens.
        window: Tokens the encoder reads per text (special tokens included).
        render_config: How a document without HyRe text becomes text.
    """
    if isinstance(doc, str):
        return [(doc, 1.0)]
    parts = hyre_parts(doc)
    if parts is None:
        return [(render(doc, render_config or RenderConfig()), 1.0)]
    post, sep, generated = parts
    if post is not None and view.mode == "fusion":
        return [(post, 1.0 - view.weight), (generated, view.weight)]
    text, _, _ = _compose(post, sep, generated, view, tokenizer, window)
    return [(text, 1.0)]


def _compose(
    post: str | None, sep: str, generated: str, view: HyReView, tokenizer: Any, window: int
) -> tuple[str, int, int]:
    """The one text of a single-text mode and the character span of its generated part."""
    if post is None or view.mode in ("alone", "fusion"):
        return generated, 0, len(generated)
    if view.mode == "first":
        return generated + sep + post, 0, len(generated)
    if view.mode == "append":
        return post + sep + generated, len(post) + len(sep), len(post) + len(sep) + len(generated)
    head, tail = budgeted(post, sep, generated, view.share, tokenizer, window)
    return head + sep + tail, len(head) + len(sep), len(head) + len(sep) + len(tail)


def budgeted(post: str, sep: str, generated: str, share: float, tokenizer: Any, window: int) -> tuple[str, str]:
    """The post and the generated text cut by tokens so that ``post + sep + generated``
    fits ``window``: the generated text keeps up to ``share`` of the window, the post the
    rest (and whatever the generated text leaves unused, and the other way round)."""
    room = max(1, window - tokenizer.num_special_tokens_to_add(pair=False))
    n_sep = len(_ids(tokenizer, sep)) if sep.strip() else 0
    n_gen, n_post = len(_ids(tokenizer, generated)), len(_ids(tokenizer, post))
    gen_keep = min(n_gen, int(round(share * room)))
    post_keep = max(0, room - n_sep - gen_keep)
    if n_post < post_keep:  # a short post leaves its unused room to the generated text
        gen_keep = min(n_gen, max(0, room - n_sep - n_post))
    return cut(post, tokenizer, post_keep), cut(generated, tokenizer, gen_keep)


def _ids(tokenizer: Any, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"]


def _offsets(tokenizer: Any, text: str) -> list[tuple[int, int]]:
    return tokenizer(text, add_special_tokens=False, truncation=False, return_offsets_mapping=True)["offset_mapping"]


def cut(text: str, tokenizer: Any, tokens: int) -> str:
    """The prefix of ``text`` holding its first ``tokens`` tokens (cut at a token boundary
    through the fast tokenizer's character offsets, so it is a substring of ``text``)."""
    if tokens <= 0:
        return ""
    offsets = _offsets(tokenizer, text)
    if len(offsets) <= tokens:
        return text
    return text[: offsets[tokens - 1][1]]


def hyre_share_in_window(doc: Document, view: HyReView, tokenizer: Any, window: int) -> float | None:
    """Share of the tokens the encoder reads for ``doc`` that come from the generated text
    (``None`` for a document without HyRe text). For ``fusion`` it is the generated text's
    weight (its own text fills a window of its own).

    This is the check to run before trusting a HyRe ablation: a mode whose share is 0
    cannot differ from the post alone.
    """
    parts = hyre_parts(doc)
    if parts is None:
        return None
    post, sep, generated = parts
    if post is not None and view.mode == "fusion":
        return view.weight
    text, start, end = _compose(post, sep, generated, view, tokenizer, window)
    inside = _offsets(tokenizer, text)[: max(1, window - tokenizer.num_special_tokens_to_add(pair=False))]
    if not inside:
        return 0.0
    return sum(1 for a, b in inside if a >= start and b <= end) / len(inside)


__all__ = ["MODES", "HyReMode", "HyReView", "View", "budgeted", "cut", "hyre_parts", "hyre_share_in_window", "views"]
