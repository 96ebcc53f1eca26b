"""A FAISS vector index with string ids, fingerprints and atomic save / load.

One wrapper for every nearest-neighbour search in the toolkit. Scores are inner products,
so with L2-normalised vectors (what the bi-encoder produces) they are cosine similarities.

Three kinds, chosen with :class:`IndexConfig`:

* ``flat``  - exact search (``IndexFlatIP``); the default and the reference for recall.
* ``hnsw``  - graph search (``IndexHNSWFlat``, inner product); no training, fast queries,
  slow-ish build, memory of the raw vectors plus the graph.
* ``ivfpq`` - inverted lists over product-quantised codes (``IndexIVFPQ``), trained on the
  first batch added; small memory. Optionally wrapped in ``IndexRefineFlat`` so that the
  PQ candidates are re-ranked with the exact vectors (much better recall, raw-vector memory).

A saved index is a folder holding ``index.faiss``, ``ids.json`` and ``meta.json``; the meta
records the encoder fingerprint and the rendering-settings fingerprint so that an index is
never queried with vectors from a different encoder or text rendering.

The second backend, a Milvus collection with the same interface (:class:`SearchIndex`), lives
in :mod:`agentic_match.retrieval.milvus_index`; :func:`open_index` opens a saved folder of either.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from agentic_match.errors import AgenticMatchError, ConfigError

if TYPE_CHECKING:
    from agentic_match.data.render import RenderConfig
    from agentic_match.data.schema import Document
    from agentic_match.retrieval.milvus_index import MilvusConfig

log = logging.getLogger(__name__)

IndexKind = Literal["flat", "hnsw", "ivfpq"]
FORMAT_VERSION = 1
_INDEX_FILE = "index.faiss"
_IDS_FILE = "ids.json"
_META_FILE = "meta.json"


class VectorIndexError(AgenticMatchError):
    """Misuse of a vector index: wrong dimension, duplicate ids, too little data to train."""


class IndexMismatchError(VectorIndexError):
    """A saved index was built with another encoder or other rendering settings."""


@dataclass(frozen=True)
class IndexConfig:
    """Which FAISS index to build and how to search it.

    Attributes:
        kind: ``"flat"`` (exact), ``"hnsw"`` or ``"ivfpq"``.
        hnsw_m: HNSW graph degree (links per node); more is better recall, more memory.
        hnsw_ef_construction: HNSW candidate-list size while building.
        hnsw_ef_search: HNSW candidate-list size while searching (search-time knob).
        ivf_nlist: Number of inverted lists; ``None`` picks ``sqrt(n)`` of the first batch
            (bounded so every list gets about 39 training points, FAISS's minimum advice).
        ivf_nprobe: Lists visited per query (search-time knob).
        ivf_train_per_list: Training sample size per list (k-means cost grows with it).
        pq_m: Sub-quantisers per vector; must divide the dimension. ``None``: one per 8
            dimensions (48 for 384-dimensional vectors).
        pq_nbits: Bits per sub-quantiser code (8: 256 centroids each).
        refine: Re-rank IVF-PQ candidates with the exact vectors (``IndexRefineFlat``).
        refine_k_factor: With ``refine``, ``k * refine_k_factor`` PQ candidates are re-ranked.
        use_gpu: ``None``: use FAISS GPUs when the installed FAISS sees any; ``False``: CPU.
            HNSW and refined indexes always stay on the CPU (FAISS has no GPU version).
        seed: Seed of the training sample and of k-means.
    """

    kind: IndexKind = "flat"
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 128
    ivf_nlist: int | None = None
    ivf_nprobe: int = 16
    ivf_train_per_list: int = 64
    pq_m: int | None = None
    pq_nbits: int = 8
    refine: bool = False
    refine_k_factor: float = 4.0
    use_gpu: bool | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("flat", "hnsw", "ivfpq"):
            raise ConfigError(f"index kind must be flat, hnsw or ivfpq, got {self.kind!r}")
        positive = {
            "hnsw_m": self.hnsw_m,
            "hnsw_ef_construction": self.hnsw_ef_construction,
            "hnsw_ef_search": self.hnsw_ef_search,
            "ivf_nprobe": self.ivf_nprobe,
            "ivf_train_per_list": self.ivf_train_per_list,
            "pq_nbits": self.pq_nbits,
        }
        if self.ivf_nlist is not None:
            positive["ivf_nlist"] = self.ivf_nlist
        if self.pq_m is not None:
            positive["pq_m"] = self.pq_m
        bad = [f"{k}={v}" for k, v in positive.items() if v < 1]
        if bad:
            raise ConfigError(f"index settings must be >= 1: {', '.join(bad)}")
        if self.refine_k_factor < 1:
            raise ConfigError(f"refine_k_factor must be >= 1, got {self.refine_k_factor}")
        if self.refine and self.kind != "ivfpq":
            raise ConfigError("refine only applies to kind='ivfpq'")


class SearchIndex(Protocol):
    """What every vector-index backend offers (FAISS :class:`VectorIndex`, Milvus ``MilvusIndex``)."""

    dim: int
    encoder_fingerprint: str | None
    render_fingerprint: str | None
    info: dict[str, Any]

    def __len__(self) -> int: ...

    def __contains__(self, doc_id: object) -> bool: ...

    @property
    def ids(self) -> list[str]: ...

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None: ...

    def search(self, vectors: np.ndarray, k: int = 10) -> tuple[list[list[str]], np.ndarray]: ...

    def meta(self) -> dict[str, Any]: ...

    def save(self, folder: str | Path) -> Path: ...


class _Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def fingerprint(self) -> str: ...


def check_vectors(vectors: np.ndarray, dim: int, what: str) -> np.ndarray:
    """``vectors`` as a C-contiguous float32 ``(n, dim)`` array (one vector may be 1-d).

    Raises:
        VectorIndexError: another shape, or NaN / infinite values.
    """
    x = np.asarray(vectors)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != dim:
        raise VectorIndexError(f"{what} must have shape (n, {dim}), got {tuple(np.shape(vectors))}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise VectorIndexError(f"{what} contain NaN or infinite values")
    return x


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as e:  # pragma: no cover - faiss is a core extra
        raise AgenticMatchError(
            "FAISS is not installed: pip install 'agentic-match[cpu]' (faiss-cpu) "
            "or 'agentic-match[gpu]' (faiss-gpu-cu12)"
        ) from e
    return faiss


def _num_gpus(faiss: Any) -> int:
    # faiss-cpu has get_num_gpus() returning 0, but older or custom builds may lack it.
    try:
        return int(faiss.get_num_gpus())
    except Exception:  # noqa: BLE001 - any failure means no usable GPU
        return 0


def _default_pq_m(dim: int) -> int:
    for m in range(max(1, dim // 8), 0, -1):
        if dim % m == 0:
            return m
    return 1


class VectorIndex:
    """Inner-product nearest-neighbour search over vectors with string ids.

    Ids are kept in an insertion-ordered list; FAISS sees their positions as int64 labels,
    which works the same for every index kind (HNSW cannot take explicit ids).

    Args:
        dim: Vector dimension.
        config: Index kind and parameters.
        encoder_fingerprint: Fingerprint of the encoder that made the vectors (saved).
        render_fingerprint: Fingerprint of the text rendering settings (saved).
        info: Free JSON-able facts saved with the index (encoder spec, document kind,
            rendering settings) so that tools can query it without being told them again.
    """

    def __init__(
        self,
        dim: int,
        config: IndexConfig = IndexConfig(),
        *,
        encoder_fingerprint: str | None = None,
        render_fingerprint: str | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        if dim < 1:
            raise VectorIndexError(f"vector dimension must be >= 1, got {dim}")
        self.dim = int(dim)
        self.config = config
        self.encoder_fingerprint = encoder_fingerprint
        self.render_fingerprint = render_fingerprint
        self.info: dict[str, Any] = dict(info or {})
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._index: Any = None  # made lazily: IVF-PQ needs the first batch to size nlist
        self._nlist = 0
        self._on_gpu = False

    # ------------------------------------------------------------------ properties
    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._pos

    @property
    def ids(self) -> list[str]:
        """Ids in insertion order (a copy)."""
        return list(self._ids)

    @property
    def on_gpu(self) -> bool:
        """Whether the FAISS index lives on a GPU."""
        return self._on_gpu

    # ------------------------------------------------------------------ building
    def _make_index(self, n_first: int) -> Any:
        faiss = _faiss()
        c = self.config
        if c.kind == "flat":
            return faiss.IndexFlatIP(self.dim)
        if c.kind == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, c.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = c.hnsw_ef_construction
            return index
        pq_m = c.pq_m or _default_pq_m(self.dim)
        if self.dim % pq_m:
            raise VectorIndexError(f"pq_m={pq_m} must divide the vector dimension {self.dim}")
        nlist = c.ivf_nlist or max(1, min(int(math.sqrt(n_first)), n_first // 39))
        needed = max(nlist, 2**c.pq_nbits)
        if n_first < needed:
            raise VectorIndexError(
                f"IVF-PQ must be trained on its first add(): it needs at least {needed} vectors "
                f"(nlist={nlist}, 2**pq_nbits={2**c.pq_nbits}) but got {n_first}. Add more "
                "vectors at once, lower ivf_nlist / pq_nbits, or use kind='flat' or 'hnsw'."
            )
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFPQ(quantizer, self.dim, nlist, pq_m, c.pq_nbits, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = c.seed
        self._nlist = nlist
        # faiss's Python layer keeps the quantizer / base index alive with the wrapper.
        return faiss.IndexRefineFlat(index) if c.refine else index

    def _maybe_to_gpu(self) -> None:
        faiss = _faiss()
        c = self.config
        want = c.use_gpu if c.use_gpu is not None else _num_gpus(faiss) > 0
        if not want or c.kind == "hnsw" or c.refine:
            return
        if _num_gpus(faiss) == 0:
            raise VectorIndexError("use_gpu=True but FAISS sees no GPU (is faiss-gpu installed?)")
        try:
            self._index = faiss.index_cpu_to_all_gpus(self._index)
            self._on_gpu = True
        except Exception as e:  # noqa: BLE001 - some IVF-PQ shapes lack GPU support; CPU works
            log.warning("FAISS GPU transfer failed (%s); searching on the CPU", e)

    def _check_vectors(self, vectors: np.ndarray, what: str) -> np.ndarray:
        return check_vectors(vectors, self.dim, what)

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add vectors under string ids; may be called repeatedly.

        The first call of an IVF-PQ index trains it on (a seeded sample of) these vectors.

        Raises:
            VectorIndexError: length or shape mismatch, non-finite values, ids already in
                the index or repeated in ``ids``, or too few vectors to train IVF-PQ.
        """
        ids = [str(i) for i in ids]
        x = self._check_vectors(vectors, "vectors")
        if len(ids) != x.shape[0]:
            raise VectorIndexError(f"{len(ids)} ids for {x.shape[0]} vectors")
        if not ids:
            return
        seen: set[str] = set()
        dup = [i for i in ids if i in self._pos or (i in seen or seen.add(i))]
        if dup:
            shown = ", ".join(repr(d) for d in dup[:5]) + (" ..." if len(dup) > 5 else "")
            raise VectorIndexError(f"{len(dup)} duplicate id(s), already in the index or repeated: {shown}")
        if self._index is None:
            self._index = self._make_index(x.shape[0])
            self._maybe_to_gpu()
            self._apply_search_params()
        if not self._index.is_trained:
            self._train(x)
        self._index.add(x)
        for i in ids:
            self._pos[i] = len(self._ids)
            self._ids.append(i)

    def _train(self, x: np.ndarray) -> None:
        # self._nlist, not extract_index_ivf(): the latter cannot see through a GPU index.
        n_train = min(x.shape[0], max(self._nlist * self.config.ivf_train_per_list, 2**self.config.pq_nbits * 39))
        if n_train < x.shape[0]:
            rng = np.random.default_rng(self.config.seed)
            sample = x[np.sort(rng.choice(x.shape[0], n_train, replace=False))]
        else:
            sample = x
        t0 = time.perf_counter()
        self._index.train(sample)
        log.info("trained IVF-PQ (nlist=%d) on %d vectors in %.1fs", self._nlist, n_train, time.perf_counter() - t0)

    def _apply_search_params(self) -> None:
        if self._index is None:
            return
        faiss = _faiss()
        c = self.config
        index = self._index
        if c.kind == "hnsw":
            faiss.downcast_index(index).hnsw.efSearch = c.hnsw_ef_search
        elif c.kind == "ivfpq":
            if c.refine:
                faiss.downcast_index(index).k_factor = float(c.refine_k_factor)
            if self._on_gpu:
                faiss.GpuParameterSpace().set_index_parameter(index, "nprobe", c.ivf_nprobe)
            else:
                faiss.extract_index_ivf(index).nprobe = c.ivf_nprobe

    def set_search_params(
        self,
        *,
        hnsw_ef_search: int | None = None,
        ivf_nprobe: int | None = None,
        refine_k_factor: float | None = None,
    ) -> None:
        """Change search-time knobs without rebuilding (saved with the index)."""
        changes = {
            k: v
            for k, v in {
                "hnsw_ef_search": hnsw_ef_search,
                "ivf_nprobe": ivf_nprobe,
                "refine_k_factor": refine_k_factor,
            }.items()
            if v is not None
        }
        self.config = dataclasses.replace(self.config, **changes)
        self._apply_search_params()

    # ------------------------------------------------------------------ search
    def search(self, vectors: np.ndarray, k: int = 10) -> tuple[list[list[str]], np.ndarray]:
        """Top-``k`` ids and inner-product scores for each query vector (a batch).

        Returns:
            ``(ids, scores)``: ``ids[i]`` lists up to ``k`` ids, best first; ``scores`` has
            shape ``(n_queries, min(k, len(self)))`` and holds ``-inf`` where an approximate
            index found fewer than ``k`` results (``ids[i]`` is shorter then).
        """
        if k < 1:
            raise VectorIndexError(f"k must be >= 1, got {k}")
        q = self._check_vectors(vectors, "query vectors")
        k_eff = min(k, len(self._ids))
        if k_eff == 0 or q.shape[0] == 0:
            return [[] for _ in range(q.shape[0])], np.zeros((q.shape[0], 0), dtype=np.float32)
        scores, labels = self._index.search(q, k_eff)
        scores = np.where(labels >= 0, scores, -np.inf).astype(np.float32)
        ids = [[self._ids[j] for j in row if j >= 0] for row in labels]
        return ids, scores

    # ------------------------------------------------------------------ persistence
    def _cpu_index(self) -> Any:
        return _faiss().index_gpu_to_cpu(self._index) if self._on_gpu else self._index

    def size_bytes(self) -> int:
        """Size of the serialised FAISS index (0 when empty)."""
        if self._index is None:
            return 0
        return int(_faiss().serialize_index(self._cpu_index()).nbytes)

    def meta(self) -> dict[str, Any]:
        """What ``meta.json`` holds."""
        return {
            "format_version": FORMAT_VERSION,
            "backend": "faiss",
            "dim": self.dim,
            "count": len(self._ids),
            "config": dataclasses.asdict(self.config),
            "encoder_fingerprint": self.encoder_fingerprint,
            "render_fingerprint": self.render_fingerprint,
            "faiss_version": getattr(_faiss(), "__version__", "unknown"),
            "info": self.info,
        }

    def save(self, folder: str | Path) -> Path:
        """Write the index to ``folder`` atomically (a temp folder renamed into place).

        An existing index folder is replaced; any other existing, non-empty folder is refused.
        """

        def write(tmp: Path) -> None:
            if self._index is not None:
                _faiss().write_index(self._cpu_index(), str(tmp / _INDEX_FILE))
            (tmp / _IDS_FILE).write_text(json.dumps(self._ids), encoding="utf-8")
            meta = self.meta() | {"saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            (tmp / _META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")

        return _write_atomically(folder, write)

    @staticmethod
    def read_meta(folder: str | Path) -> dict[str, Any]:
        """The ``meta.json`` of a saved index, without loading the vectors.

        Raises:
            VectorIndexError: no saved index there, unreadable meta, or another format version.
        """
        folder = Path(folder)
        meta_path = folder / _META_FILE
        if not meta_path.is_file():
            raise VectorIndexError(f"no saved index at {folder} (missing {_META_FILE})")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise VectorIndexError(f"unreadable index meta at {meta_path}: {e}") from e
        if meta.get("format_version") != FORMAT_VERSION:
            raise VectorIndexError(
                f"index at {folder} has format {meta.get('format_version')}, expected {FORMAT_VERSION}; rebuild it"
            )
        return meta

    @classmethod
    def load(
        cls,
        folder: str | Path,
        *,
        expect_fingerprint: str | None = None,
        expect_render: str | None = None,
        use_gpu: bool | None = None,
    ) -> VectorIndex:
        """Load a saved index, checking that it matches the current encoder and rendering.

        Args:
            folder: What :meth:`save` wrote.
            expect_fingerprint: The current encoder's fingerprint (``None``: not checked).
            expect_render: The current rendering settings' fingerprint (``None``: not checked).
            use_gpu: Overrides the saved ``use_gpu`` setting.

        Raises:
            VectorIndexError: missing or unreadable files.
            IndexMismatchError: the saved fingerprints differ from the expected ones.
        """
        folder = Path(folder)
        meta = cls.read_meta(folder)
        if meta.get("backend", "faiss") != "faiss":
            raise VectorIndexError(
                f"{folder} points to a {meta.get('backend')} index, not a FAISS one; open it with open_index()"
            )
        try:
            ids = json.loads((folder / _IDS_FILE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise VectorIndexError(f"unreadable index at {folder}: {e}") from e
        check_fingerprints(
            f"index at {folder}",
            meta.get("encoder_fingerprint"),
            meta.get("render_fingerprint"),
            expect_fingerprint,
            expect_render,
        )
        config, dim = _config_of(folder, meta)
        if use_gpu is not None:
            config = dataclasses.replace(config, use_gpu=use_gpu)
        self = cls(
            dim,
            config,
            encoder_fingerprint=meta.get("encoder_fingerprint"),
            render_fingerprint=meta.get("render_fingerprint"),
            info=meta.get("info") or {},
        )
        if ids:
            faiss = _faiss()
            try:
                index = faiss.read_index(str(folder / _INDEX_FILE))
            except RuntimeError as e:
                raise VectorIndexError(f"unreadable FAISS file in {folder}: {e}") from e
            if index.ntotal != len(ids):
                raise VectorIndexError(f"index at {folder} holds {index.ntotal} vectors but {len(ids)} ids")
            self._index = index
            self._ids = list(ids)
            self._pos = {i: n for n, i in enumerate(ids)}
            self._maybe_to_gpu()
            self._apply_search_params()
        return self


def _config_of(folder: Path, meta: dict[str, Any]) -> tuple[IndexConfig, int]:
    """The index settings and dimension of ``meta.json``; one written by another version
    (unknown or missing keys) is a clear "rebuild it", never a traceback."""
    saved, dim = meta.get("config"), meta.get("dim")
    known = {f.name for f in dataclasses.fields(IndexConfig)}
    problem = None
    if not isinstance(saved, dict) or not isinstance(dim, int):
        problem = "its meta.json lacks the index settings or the dimension"
    elif set(saved) - known:
        problem = f"its meta.json names settings this version does not know ({', '.join(sorted(set(saved) - known))})"
    if problem is None:
        try:
            return IndexConfig(**saved), dim  # type: ignore[arg-type]
        except (TypeError, ValueError, AgenticMatchError) as e:
            problem = f"its settings are invalid here ({e})"
    raise VectorIndexError(f"index at {folder} was saved by another version: {problem}; rebuild it (index build)")


def _write_atomically(folder: str | Path, write: Callable[[Path], None]) -> Path:
    """Fill a temp folder with ``write`` and rename it into place as ``folder``.

    An existing index folder (one with a ``meta.json``) is replaced; any other existing,
    non-empty folder is refused.
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or (any(folder.iterdir()) and not (folder / _META_FILE).exists())):
        raise VectorIndexError(f"refusing to overwrite {folder}: it exists and is not a saved index")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        write(tmp)
        if folder.exists():
            # Two renames: readers may briefly see no folder, but never a half-written one.
            old = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:8]}"
            folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def write_pointer(folder: str | Path, meta: dict[str, Any]) -> Path:
    """Save an index that lives elsewhere (a Milvus collection) as a folder holding its ``meta.json``."""
    return _write_atomically(
        folder, lambda tmp: (tmp / _META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    )


def check_fingerprints(
    where: str,
    stored_encoder: str | None,
    stored_render: str | None,
    expect_encoder: str | None,
    expect_render: str | None,
) -> None:
    """Refuse an index built with another encoder or rendering (``None`` expected: not checked).

    Raises:
        IndexMismatchError: naming what differs and how to fix it.
    """
    for what, stored, expected in (
        ("encoder", stored_encoder, expect_encoder),
        ("rendering settings", stored_render, expect_render),
    ):
        if expected is not None and stored != expected:
            raise IndexMismatchError(
                f"{where} was built with {what} fingerprint {stored!r}, but the current "
                f"{what} fingerprint is {expected!r}; rebuild the index with the current {what}"
            )


def open_index(
    folder: str | Path,
    *,
    expect_fingerprint: str | None = None,
    expect_render: str | None = None,
    use_gpu: bool | None = None,
) -> SearchIndex:
    """Open a saved index folder of either backend: a FAISS index or a Milvus pointer.

    Raises:
        VectorIndexError: no saved index there, or an unreadable one.
        IndexMismatchError: built with another encoder or rendering than expected.
    """
    meta = VectorIndex.read_meta(folder)
    if meta.get("backend", "faiss") == "milvus":
        from agentic_match.retrieval.milvus_index import MilvusIndex

        return MilvusIndex.load(folder, meta=meta, expect_fingerprint=expect_fingerprint, expect_render=expect_render)
    return VectorIndex.load(folder, expect_fingerprint=expect_fingerprint, expect_render=expect_render, use_gpu=use_gpu)


def build_document_index(
    docs: Sequence[Document],
    encoder: _Encoder,
    *,
    render_config: RenderConfig | None = None,
    config: IndexConfig = IndexConfig(),
    chunk_size: int = 8192,
    info: dict[str, Any] | None = None,
    progress: bool | None = None,
    milvus: MilvusConfig | None = None,
    collection: str | None = None,
    replace: bool = False,
) -> SearchIndex:
    """Render, encode and index documents (the one way to index documents).

    Args:
        docs: Documents to index (ids must be unique).
        encoder: Anything with ``encode(texts) -> (n, d) float32`` and ``fingerprint()``.
        render_config: How documents become text (default rendering when ``None``).
        config: Index kind and parameters.
        chunk_size: Documents encoded per call, bounding memory on large corpora. For IVF-PQ
            the first chunk trains the index, so keep it large.
        info: Extra facts to save with the index (see :class:`VectorIndex`).
        progress: Show a progress bar (documents encoded, time left) on stderr; defaults to
            the command's progress switch (:mod:`agentic_match.progress`).
        milvus: Index into a Milvus collection instead of FAISS (``config`` is then unused);
            documents are upserted by id with their metadata, so a rerun never duplicates.
        collection: The Milvus collection (required with ``milvus``).
        replace: With ``milvus``, drop an existing collection first; without it, an existing
            collection built with the same encoder and rendering is updated in place.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from agentic_match import progress as progress_switch
    from agentic_match.data.render import RenderConfig, render

    progress = progress_switch.enabled(progress)
    rc = render_config or RenderConfig()
    if not docs:
        raise VectorIndexError("no documents to index")
    if milvus is not None and not collection:
        raise VectorIndexError("a Milvus index needs a collection name")
    target = _Target(config, rc, info, milvus, collection, replace)
    index: SearchIndex | None = None
    # IVF-PQ trains on its first chunk (keep it large); other chunks are small when a bar
    # is shown, so that it moves from the start.
    step = chunk_size if not progress else min(chunk_size, 1024)
    first = chunk_size if config.kind == "ivfpq" else step
    bounds = [(0, min(first, len(docs)))]
    bounds += [(a, min(a + step, len(docs))) for a in range(bounds[0][1], len(docs), step)]
    bar = Progress(
        TextColumn("indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # stdout is for results (`--json`)
        disable=not progress,
    )
    # The bar counts documents; the encoder's own per-call bars would only stack under it.
    with bar, progress_switch.shown(False):
        task = bar.add_task("index", total=len(docs))
        for a, b in bounds:
            index = _add_chunk(index, docs[a:b], encoder, target, render)
            bar.advance(task, b - a)
    assert index is not None
    return index


@dataclass(frozen=True)
class _Target:
    """Where :func:`build_document_index` puts the vectors."""

    config: IndexConfig
    render_config: RenderConfig
    info: dict[str, Any] | None
    milvus: MilvusConfig | None
    collection: str | None
    replace: bool

    def create(self, dim: int, encoder_fingerprint: str) -> SearchIndex:
        if self.milvus is None:
            return VectorIndex(
                dim,
                self.config,
                encoder_fingerprint=encoder_fingerprint,
                render_fingerprint=self.render_config.fingerprint(),
                info=self.info,
            )
        from agentic_match.retrieval.milvus_index import MilvusIndex

        assert self.collection is not None
        return MilvusIndex.create(
            self.milvus,
            self.collection,
            dim,
            encoder_fingerprint=encoder_fingerprint,
            render_fingerprint=self.render_config.fingerprint(),
            info=self.info,
            replace=self.replace,
        )


def _add_chunk(
    index: SearchIndex | None,
    chunk: Sequence[Document],
    encoder: _Encoder,
    target: _Target,
    render: Any,
) -> SearchIndex:
    """Encode one chunk and add it (the first chunk creates, and for IVF-PQ trains, the index)."""
    rc = target.render_config
    if hasattr(encoder, "views"):  # a BiEncoder reads documents itself (HyRe views included)
        vectors = np.asarray(encoder.encode(list(chunk), render_config=rc), dtype=np.float32)
    else:
        vectors = np.asarray(encoder.encode([render(d, rc) for d in chunk]), dtype=np.float32)
    if index is None:
        index = target.create(vectors.shape[1], encoder.fingerprint())
    if target.milvus is not None:
        index.add([d.id for d in chunk], vectors, metadata=[d.metadata for d in chunk])  # type: ignore[call-arg]
    else:
        index.add([d.id for d in chunk], vectors)
    return index


__all__ = [
    "IndexConfig",
    "IndexKind",
    "IndexMismatchError",
    "SearchIndex",
    "VectorIndex",
    "VectorIndexError",
    "build_document_index",
    "check_fingerprints",
    "check_vectors",
    "open_index",
    "write_pointer",
]
