"""The bi-encoder: one sentence-transformers model for resumes and jobs.

Documents are rendered to one text each (the data contract's :func:`render`), encoded with
mean pooling and L2-normalised; a resume-job score is their cosine divided by a temperature
(0.05, as in training). Long documents (resumes average ~1,300 tokens, MiniLM reads 256) are
either truncated or, with ``mode="chunk"``, split into windows of ``max_seq_length`` tokens
whose embeddings are averaged and re-normalised.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from agentic_match.errors import ConfigError, ModelNotFoundError
from agentic_match.files import replace_dir
from agentic_match.retrieval.hyre_view import HyReView, View

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from agentic_match.data.render import RenderConfig
    from agentic_match.data.schema import Document

log = logging.getLogger(__name__)

EncodeMode = Literal["truncate", "chunk"]
SETTINGS_FILE = "bi_encoder.json"


@dataclass(frozen=True)
class EncoderSettings:
    """How a :class:`BiEncoder` turns texts into vectors (saved as ``bi_encoder.json``).

    Attributes:
        temperature: ``τ``: scores are ``cosine / τ`` (ranking is unaffected; the scale
            matches the training loss).
        mode: ``"truncate"`` (first ``max_seq_length`` tokens) or ``"chunk"`` (mean of the
            embeddings of consecutive windows, re-normalised).
        max_seq_length: Tokens per text or window; ``None``: the model's own setting.
        max_chunks: Windows per document in chunk mode (bounds the cost of very long texts).
        batch_size: Texts per forward pass.
        hyre: What the encoder reads of a document that carries HyRe text
            (:class:`~agentic_match.retrieval.hyre_view.HyReView`); saved with the model,
            so a model serves HyRe the way it was trained on it.
    """

    temperature: float = 0.05
    mode: EncodeMode = "truncate"
    max_seq_length: int | None = None
    max_chunks: int = 8
    batch_size: int = 32
    hyre: HyReView = field(default_factory=HyReView)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hyre", HyReView.of(self.hyre))  # a dict when read from JSON
        if self.mode not in ("truncate", "chunk"):
            raise ConfigError(f"encoder mode must be 'truncate' or 'chunk', got {self.mode!r}")
        if self.temperature <= 0:
            raise ConfigError(f"temperature must be > 0, got {self.temperature}")
        if self.max_chunks < 1 or self.batch_size < 1:
            raise ConfigError("max_chunks and batch_size must be >= 1")
        if self.max_seq_length is not None and self.max_seq_length < 8:
            raise ConfigError(f"max_seq_length must be >= 8, got {self.max_seq_length}")


def load_sentence_transformer(folder: Path, device: str | None = None) -> SentenceTransformer:
    """A ``SentenceTransformer`` from a local folder (never a model hub)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device=device, local_files_only=True)


_WORD = re.compile(r"\w+")


def clip_to_window(text: str, tokens: int, margin: int = 16) -> str:
    """The prefix of ``text`` that still holds its first ``tokens`` tokens, for truncation.

    A tokenizer that truncates still tokenizes the whole text (a resume is about four
    windows long), which costs a few percent of encoding time. Every run of word characters
    is at least one token for the tokenizers sentence-transformers uses (WordPiece, BPE,
    Unigram), so the text up to the end of run ``tokens + margin`` holds more tokens than the
    window; and the cut falls where a run of word characters ends, which every pre-tokenizer
    treats as a boundary, so the tokens before it are the ones the whole text would give.
    """
    for i, m in enumerate(_WORD.finditer(text), 1):
        if i == tokens + margin:
            return text[: m.end()]
    return text


class BiEncoder:
    """A sentence-transformers encoder shared by resumes and jobs; also a ``Ranker``.

    Args:
        model: A loaded ``SentenceTransformer`` (mean pooling + normalisation expected; the
            vectors are normalised here again, so any pooling model works).
        settings: Temperature, truncate / chunk mode and batch size.
        render_config: How documents become text (default rendering when ``None``).
        folder: Where the weights were loaded from (for a cheap fingerprint); ``None`` for an
            in-memory (e.g. being trained) model, fingerprinted from its weights.
        memoize: Remember the vector of every text encoded (by content hash) so that a
            document encoded twice - as a query and as a candidate - costs once. Call
            :meth:`clear_memo` after changing the weights.
    """

    def __init__(
        self,
        model: SentenceTransformer,
        settings: EncoderSettings = EncoderSettings(),
        *,
        render_config: RenderConfig | None = None,
        folder: Path | None = None,
        memoize: bool = True,
    ) -> None:
        from agentic_match.data.render import RenderConfig

        self.model = model
        self.settings = settings
        self.render_config = render_config or RenderConfig()
        self.folder = Path(folder) if folder is not None else None
        self.memoize = memoize
        self._memo: dict[str, np.ndarray] = {}
        self._fingerprint: str | None = None

    # ------------------------------------------------------------------ loading / saving
    @classmethod
    def load(
        cls,
        spec_or_folder: str | os.PathLike[str],
        *,
        device: str | None = None,
        render_config: RenderConfig | None = None,
        **overrides: object,
    ) -> BiEncoder:
        """Load a packaged encoder name, an offline model name or a local folder.

        Settings saved by :meth:`save` are read back; keyword ``overrides`` (``mode="chunk"``,
        ``temperature=...``, ...) replace them.

        Raises:
            ModelNotFoundError: the spec resolves to nothing local, or not to an encoder.
        """
        from agentic_match.models import resolve_encoder

        spec = str(spec_or_folder)
        folder = resolve_encoder(spec)
        if not (folder / "modules.json").exists() and not (folder / "config.json").exists():
            raise ModelNotFoundError(f"{folder} is not a sentence-transformers folder")
        saved: dict = {}
        if (folder / SETTINGS_FILE).is_file():
            saved = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
        known = set(EncoderSettings.__dataclass_fields__)
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"unknown encoder setting(s): {', '.join(sorted(unknown))}")
        settings = EncoderSettings(**{**{k: v for k, v in saved.items() if k in known}, **overrides})
        return cls(load_sentence_transformer(folder, device), settings, render_config=render_config, folder=folder)

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Save weights, tokenizer and settings to ``folder`` atomically (replacing it)."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.parent / f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            self.model.save(str(tmp))
            (tmp / SETTINGS_FILE).write_text(json.dumps(asdict(self.settings), indent=2), encoding="utf-8")
            replace_dir(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return folder

    # ------------------------------------------------------------------ identity
    @property
    def dim(self) -> int:
        """Vector dimension."""
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_seq_length(self) -> int:
        """Tokens per text (truncate) or per window (chunk)."""
        return int(self.settings.max_seq_length or self.model.max_seq_length)

    def fingerprint(self) -> str:
        """Fingerprint of the weights and of every setting that changes the vectors."""
        if self._fingerprint is None:
            if self.folder is not None:
                from agentic_match.models import model_fingerprint

                weights = model_fingerprint(self.folder)
            else:
                weights = weights_digest(self.model)
            s = self.settings
            blob = json.dumps(
                [weights, s.mode, self.max_seq_length, s.max_chunks if s.mode == "chunk" else None, asdict(s.hyre)],
                separators=(",", ":"),
            )
            self._fingerprint = hashlib.sha256(blob.encode()).hexdigest()[:16]
        return self._fingerprint

    def clear_memo(self) -> None:
        """Forget remembered vectors and the fingerprint (after the weights changed)."""
        self._memo.clear()
        self._fingerprint = None

    # ------------------------------------------------------------------ encoding
    def views(self, items: Sequence[str | Document], render_config: RenderConfig | None = None) -> list[View]:
        """What the encoder reads of each item: weighted texts (one, unless a HyRe document is
        read in ``fusion`` mode); documents are rendered with ``render_config`` (default:
        the encoder's), see :mod:`~agentic_match.retrieval.hyre_view`."""
        from agentic_match.retrieval.hyre_view import views

        rc = render_config or self.render_config
        tok, window, view = self.model.tokenizer, self.max_seq_length, self.settings.hyre
        return [views(x, view, tok, window, rc) for x in items]

    def texts(self, items: Sequence[str | Document]) -> list[str]:
        """The model input text of each item (its first view; documents are rendered)."""
        return [v[0][0] for v in self.views(items)]

    def encode(
        self,
        items: Sequence[str | Document],
        batch_size: int | None = None,
        *,
        show_progress: bool | None = None,
        render_config: RenderConfig | None = None,
    ) -> np.ndarray:
        """Unit-length ``float32`` vectors, one row per text or document.

        A document read through several texts (HyRe ``fusion``) gets the re-normalised
        weighted mean of their vectors. ``show_progress`` defaults to the command's
        progress switch (:mod:`agentic_match.progress`); ``render_config`` to the encoder's.
        """
        from agentic_match import progress

        if show_progress is None:  # a bar for a handful of texts (a query) is only noise
            show_progress = progress.enabled() and len(items) > 256
        item_views = self.views(items, render_config)
        flat = [t for v in item_views for t, _ in v]
        vecs = self._encode_remembered(flat, batch_size or self.settings.batch_size, show_progress)
        if len(flat) == len(item_views):
            return vecs
        owner = np.asarray([i for i, v in enumerate(item_views) for _ in v], dtype=np.int64)
        weight = np.asarray([w for v in item_views for _, w in v], dtype=np.float32)
        out = np.zeros((len(item_views), vecs.shape[1]), dtype=np.float32)
        np.add.at(out, owner, vecs * weight[:, None])
        return _normalise(out)

    def _encode_remembered(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts] if self.memoize else []
        todo = [i for i in range(len(texts)) if not self.memoize or keys[i] not in self._memo]
        if todo:
            vecs = self._encode_texts([texts[i] for i in todo], batch_size, show_progress)
            out[todo] = vecs
            if self.memoize:
                for i, v in zip(todo, vecs):
                    self._memo[keys[i]] = v
        if self.memoize:
            for i in set(range(len(texts))) - set(todo):
                out[i] = self._memo[keys[i]]
        return out

    def _encode_texts(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        saved_len = self.model.max_seq_length
        self.model.max_seq_length = self.max_seq_length
        try:
            if self.settings.mode == "truncate":
                window = self.max_seq_length
                return self._st_encode([clip_to_window(t, window) for t in texts], batch_size, show_progress)
            windows, owner = [], []
            for i, t in enumerate(texts):
                parts = self.chunks(t)
                windows.extend(parts)
                owner.extend([i] * len(parts))
            vecs = self._st_encode(windows, batch_size, show_progress)
            out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            np.add.at(out, np.asarray(owner, dtype=np.int64), vecs)
            return _normalise(out)
        finally:
            self.model.max_seq_length = saved_len

    def _st_encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def chunks(self, text: str) -> list[str]:
        """``text`` cut into consecutive windows of at most ``max_seq_length`` tokens.

        Cuts fall on token boundaries found through the fast tokenizer's character offsets,
        so each window is a substring of the original text (no decode round trip).
        """
        tok = self.model.tokenizer
        window = max(1, self.max_seq_length - tok.num_special_tokens_to_add(pair=False))
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False)
        offsets = enc["offset_mapping"]
        if len(offsets) <= window:
            return [text]
        out = []
        for start in range(0, len(offsets), window)[: self.settings.max_chunks]:
            end = min(start + window, len(offsets)) - 1
            out.append(text[offsets[start][0] : offsets[end][1]])
        return out

    # ------------------------------------------------------------------ scoring / ranking
    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``cos / τ`` between every row of ``a`` and every row of ``b``."""
        return (np.asarray(a, dtype=np.float32) @ np.asarray(b, dtype=np.float32).T) / self.settings.temperature

    def rank(
        self,
        queries: Sequence[Document],
        candidates: Sequence[Document],
        k: int = 100,
    ) -> dict[str, dict[str, float]]:
        """The ``Ranker`` protocol: top-``k`` candidates per query by exact (flat) FAISS search."""
        from agentic_match.retrieval.index import IndexConfig, VectorIndex

        if not queries or not candidates:
            return {q.id: {} for q in queries}
        index = VectorIndex(
            self.dim,
            IndexConfig(kind="flat", use_gpu=False),
            encoder_fingerprint=self.fingerprint(),
            render_fingerprint=self.render_config.fingerprint(),
        )
        index.add([c.id for c in candidates], self.encode(candidates))
        ids, scores = index.search(self.encode(queries), k=k)
        tau = self.settings.temperature
        return {
            q.id: {d: float(s) / tau for d, s in zip(row_ids, row_scores)}
            for q, row_ids, row_scores in zip(queries, ids, scores)
        }


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def weights_digest(model: object) -> str:
    """Content hash of a torch module's parameters and buffers (for in-memory models)."""
    h = hashlib.sha256()
    for name, tensor in model.state_dict().items():  # type: ignore[attr-defined]
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


__all__ = ["BiEncoder", "EncodeMode", "EncoderSettings", "load_sentence_transformer", "weights_digest"]
