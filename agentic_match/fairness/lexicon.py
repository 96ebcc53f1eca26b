"""An editable swap lexicon and the counterfactual rewrite of a text.

The lexicon (JSON, see ``lexicon_default.json`` next to this module) lists, per dimension
(``gender``, ``age``, ``nationality``), two named sides and pairs ``[side0, side1]`` of terms;
names are pairs too. :func:`swap_text` replaces every term by its partner in one pass, so
``he`` → ``she`` and ``she`` → ``he`` never undo each other.

Matching rules:

* whole words only (``he`` is not touched inside ``the`` or ``hedge``; ``man`` not inside
  ``manager``), so possessive ``'s`` stays attached: ``man's`` → ``woman's``;
* case is preserved: ``he`` → ``she``, ``He`` → ``She``, ``HE`` → ``SHE``; terms listed as
  ``case_sensitive`` (honorifics, names) only match in Title or UPPER case as written in the
  lexicon, so ``MS Office`` and the verb ``will`` are never swapped (``Ms`` / ``Mr`` are);
* ``keep`` phrases (``Burger King``, ``American Express``) are matched first and left alone;
* when a term is in several pairs, its first pair decides (``Mrs`` → ``Mr``, ``Mr`` → ``Ms``).

The ``her`` ambiguity: ``her`` is the female form of both ``his`` (possessive: *her team*)
and ``him`` (object: *thanked her*). It becomes ``his`` when the next word can start a noun
phrase, and ``him`` when it is followed by punctuation, the end of the text, or a function
word (preposition, conjunction, article, auxiliary: *gave her a task* → *gave him a task*).
``his`` becomes ``hers`` when it stands alone (*the choice was his.*) and ``her`` otherwise.
The rule is a heuristic: *told her team* is read as possessive, which is almost always right
in resumes; a wrong guess changes grammar, not the gender being swapped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from agentic_match.errors import ConfigError

DEFAULT_LEXICON_FILE = "lexicon_default.json"

# Words after which "her" is an object pronoun, not a possessive determiner.
_OBJECT_FOLLOWERS = frozenset(
    """a an the this that these those to for with from of in on at by as into onto about after
    before during through over under and or but nor so yet if when while because than then
    is was are were be been being has have had will would can could should may might must
    up out off down back again how what who why where which whom whose""".split()
)
_NEXT_WORD = re.compile(r"\s*([A-Za-z]+)?")


@dataclass(frozen=True)
class Dimension:
    """One swappable attribute: two sides and the term pairs that mark them.

    Attributes:
        name: ``"gender"``, ``"age"``, ``"nationality"``, ...
        sides: Names of the two sides, e.g. ``("male", "female")``.
        pairs: ``(side0_term, side1_term)`` pairs, swapped both ways.
        names: First-name pairs, swapped like terms (always case-sensitive).
        case_sensitive: Terms that only match as written (Title / UPPER case).
        keep: Phrases left unchanged even though they contain a term.
    """

    name: str
    sides: tuple[str, str]
    pairs: tuple[tuple[str, str], ...]
    names: tuple[tuple[str, str], ...] = ()
    case_sensitive: frozenset[str] = frozenset()
    keep: tuple[str, ...] = ()


@dataclass(frozen=True)
class Swap:
    """One replacement made in a text."""

    start: int
    source: str
    target: str


@dataclass
class SwapResult:
    """The rewritten text and what changed.

    Attributes:
        text: The counterfactual text.
        swaps: Every replacement, in text order.
        side_counts: ``{side: number of matched terms of that side}`` in the *original*.
    """

    text: str
    swaps: list[Swap] = field(default_factory=list)
    side_counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.swaps)


class Lexicon:
    """A set of :class:`Dimension` s and the compiled matchers that rewrite texts.

    Build with :meth:`load` (default packaged file or any JSON path) or directly from
    dimensions (tests, code).
    """

    def __init__(self, dimensions: Sequence[Dimension], source: str = "<memory>") -> None:
        self.dimensions = {d.name: d for d in dimensions}
        self.source = source
        self._compiled: dict[tuple[str, ...], _Matcher] = {}

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path | None = None) -> Lexicon:
        """The lexicon in ``path`` (JSON), or the packaged default when ``None``.

        Raises:
            ConfigError: unreadable file or malformed content (every problem named).
        """
        if path is None:
            text = resources.files("agentic_match.fairness").joinpath(DEFAULT_LEXICON_FILE).read_text("utf-8")
            source = f"<packaged {DEFAULT_LEXICON_FILE}>"
        else:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as e:
                raise ConfigError(f"cannot read lexicon {path}: {e}") from None
            source = str(path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{source}: not valid JSON ({e})") from None
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data: Mapping, source: str = "<memory>") -> Lexicon:
        """Build from the JSON structure (see ``lexicon_default.json``)."""
        problems: list[str] = []
        dims = []
        raw = data.get("dimensions") if isinstance(data, Mapping) else None
        if not isinstance(raw, Mapping) or not raw:
            raise ConfigError(f"{source}: expected a non-empty 'dimensions' object")
        for name, spec in raw.items():
            try:
                sides = tuple(spec.get("sides", ("side0", "side1")))
                if len(sides) != 2:
                    raise ValueError("'sides' must name exactly two sides")
                pairs = tuple(_pair(p) for p in spec.get("pairs", []))
                names = tuple(_pair(p) for p in spec.get("names", []))
                if not pairs and not names:
                    raise ValueError("no 'pairs' and no 'names'")
                dims.append(
                    Dimension(
                        name=str(name),
                        sides=(str(sides[0]), str(sides[1])),
                        pairs=pairs,
                        names=names,
                        case_sensitive=frozenset(str(t) for t in spec.get("case_sensitive", [])),
                        keep=tuple(str(k) for k in spec.get("keep", [])),
                    )
                )
            except (ValueError, TypeError, AttributeError) as e:
                problems.append(f"dimension {name!r}: {e}")
        if problems:
            raise ConfigError(f"{source}: invalid lexicon: " + "; ".join(problems))
        return cls(dims, source)

    def dimension(self, name: str) -> Dimension:
        try:
            return self.dimensions[name]
        except KeyError:
            have = ", ".join(sorted(self.dimensions))
            raise ConfigError(f"lexicon {self.source} has no dimension {name!r} (has: {have})") from None

    # ------------------------------------------------------------------ rewriting
    def swap(self, text: str, dimensions: Iterable[str] = ("gender",)) -> SwapResult:
        """``text`` with every term of ``dimensions`` replaced by its partner (one pass)."""
        return self._matcher(tuple(dimensions)).swap(text)

    def infer_side(self, text: str, dimension: str = "gender", min_margin: int = 1) -> str | None:
        """The side whose terms occur more often in ``text`` (``None``: tie or too few).

        A crude proxy for a sensitive attribute when no label exists; ``min_margin`` is how
        many more matches one side needs than the other.
        """
        counts = self.swap(text, (dimension,)).side_counts
        dim = self.dimension(dimension)
        a, b = counts.get(dim.sides[0], 0), counts.get(dim.sides[1], 0)
        if abs(a - b) < min_margin:
            return None
        return dim.sides[0] if a > b else dim.sides[1]

    def _matcher(self, dims: tuple[str, ...]) -> _Matcher:
        if dims not in self._compiled:
            self._compiled[dims] = _Matcher([self.dimension(d) for d in dims])
        return self._compiled[dims]


def _pair(p: object) -> tuple[str, str]:
    if not isinstance(p, (list, tuple)) or len(p) != 2 or not all(isinstance(x, str) and x.strip() for x in p):
        raise ValueError(f"a pair is two non-empty strings, got {p!r}")
    return (p[0].strip(), p[1].strip())


def match_case(source: str, target: str) -> str:
    """``target`` written in the case pattern of ``source`` (lower, Title or UPPER)."""
    letters = [c for c in source if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return target.upper()
    if source[:1].isupper():
        return target[:1].upper() + target[1:]
    if source.islower():
        return target.lower()
    return target


class _Matcher:
    """One compiled regex for a set of dimensions and the swap table behind it."""

    def __init__(self, dims: Sequence[Dimension]) -> None:
        self.fold: dict[str, tuple[str, str]] = {}  # lower(term) -> (target, side)
        self.exact: dict[str, tuple[str, str]] = {}  # term as written (and UPPER) -> (target, side)
        keeps: list[str] = []
        for dim in dims:
            cs = dim.case_sensitive
            entries = [(a, b, dim.sides[0]) for a, b in [*dim.pairs, *dim.names]]
            entries += [(b, a, dim.sides[1]) for a, b in [*dim.pairs, *dim.names]]
            name_terms = {t for p in dim.names for t in p}
            for src, dst, side in entries:
                if src in name_terms:
                    # Names also match in UPPER case (resume headers); honorifics do not,
                    # because "MS" is usually Microsoft or a Master of Science.
                    for form in (src, src.upper()):
                        self.exact.setdefault(form, (dst, side))
                elif src in cs:
                    self.exact.setdefault(src, (dst, side))
                else:
                    self.fold.setdefault(src.lower(), (dst, side))
            keeps += dim.keep
        # Longest first so that multi-word terms and keep phrases win over their parts.
        fold_alt = "|".join(re.escape(t) for t in sorted(self.fold, key=len, reverse=True))
        exact_alt = "|".join(re.escape(t) for t in sorted(self.exact, key=len, reverse=True))
        keep_alt = "|".join(re.escape(k) for k in sorted(set(keeps), key=len, reverse=True))
        parts = []
        if keep_alt:
            parts.append(rf"(?P<keep>(?i:{keep_alt}))")
        if exact_alt:
            parts.append(rf"(?P<exact>{exact_alt})")
        if fold_alt:
            parts.append(rf"(?P<fold>(?i:{fold_alt}))")
        # Word boundaries by hand: \b fails next to terms ending in "." or ")".
        self.regex = re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])")
        self.sides = [d.sides for d in dims]

    def swap(self, text: str) -> SwapResult:
        swaps: list[Swap] = []
        counts: dict[str, int] = {s: 0 for pair in self.sides for s in pair}

        def repl(m: re.Match[str]) -> str:
            kind = m.lastgroup
            src = m.group(0)
            if kind == "keep":
                return src
            if kind == "exact":
                target, side = self.exact[src]
                out = target.upper() if src.isupper() and len(src) > 1 and not target.isupper() else target
            else:
                target, side = self.fold[src.lower()]
                target = _disambiguate(src.lower(), target, text, m.end())
                out = match_case(src, target)
            counts[side] = counts.get(side, 0) + 1
            swaps.append(Swap(m.start(), src, out))
            return out

        new = self.regex.sub(repl, text)
        return SwapResult(new, swaps, counts)


def _disambiguate(source: str, target: str, text: str, end: int) -> str:
    """Resolve ``her`` → ``his`` / ``him`` and ``his`` → ``her`` / ``hers`` from the next word."""
    if source not in ("her", "his"):
        return target
    nxt = _NEXT_WORD.match(text, end)
    word = (nxt.group(1) or "").lower() if nxt else ""
    if source == "her":
        return "him" if not word or word in _OBJECT_FOLLOWERS else "his"
    return "hers" if not word or word in _OBJECT_FOLLOWERS else "her"


__all__ = ["DEFAULT_LEXICON_FILE", "Dimension", "Lexicon", "Swap", "SwapResult", "match_case"]
