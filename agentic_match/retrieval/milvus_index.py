"""A Milvus collection behind the same interface as :class:`~agentic_match.retrieval.index.VectorIndex`.

The second vector-store backend, for corpora that outgrow one process's FAISS index: the
same ``add`` / ``search`` / ``save`` / ``load`` with string ids and fingerprints, on a Milvus
collection reached through ``pymilvus``. The URI decides where it lives:

* a file path ending in ``.db`` - **Milvus Lite** (``milvus-lite``), an embedded file, no
  server; what tests and single machines use;
* ``http://host:19530`` (or ``https://``) - a Milvus standalone or cluster; a token, when
  the server wants one, is read from an environment variable (never argv or a file).

What differs from FAISS, on purpose:

* ``add`` **upserts** by id: re-indexing a document replaces its vector, so a rerun never
  duplicates (FAISS refuses a known id instead).
* ``search(..., filter=...)`` passes a Milvus boolean expression over the documents'
  metadata through (``'family == "software"'``, ``'seniority in ["senior", "lead"]'``);
  each document's JSON-able ``metadata`` is stored with it as dynamic fields.
* ``save(folder)`` writes only a pointer (``meta.json`` with ``backend: milvus``, the URI and
  the collection): the vectors stay in Milvus. :func:`~agentic_match.retrieval.index.open_index`
  opens either kind of folder.

The collection's properties carry the encoder and rendering fingerprints and the info dict,
so opening it with another encoder is the same :class:`IndexMismatchError` as with FAISS.

Install with ``pip install 'agentic-match[milvus]'`` (``pymilvus`` and ``milvus-lite``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from agentic_match.config import setting
from agentic_match.errors import AgenticMatchError, ConfigError
from agentic_match.retrieval.index import (
    FORMAT_VERSION,
    IndexMismatchError,
    VectorIndexError,
    check_fingerprints,
    check_vectors,
    write_pointer,
)

log = logging.getLogger(__name__)

MilvusIndexType = Literal["FLAT", "HNSW", "IVF_FLAT"]
MAX_ID_LENGTH = 512
_PROP_ENCODER = "agentic_match.encoder_fingerprint"
_PROP_RENDER = "agentic_match.render_fingerprint"
_PROP_INFO = "agentic_match.info"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


@dataclass(frozen=True)
class MilvusConfig:
    """Where a Milvus-backed index lives and how it is searched.

    Example::

        MilvusConfig(uri="runs/index.db")                       # Milvus Lite, a local file
        MilvusConfig(uri="http://milvus.internal:19530")        # a Milvus server
    """

    uri: str = setting("milvus.db", help="Milvus Lite file (*.db) or a server URI (http://host:19530).")
    index_type: MilvusIndexType = setting(
        "FLAT",
        help="Milvus index over the vectors: FLAT (exact, the reference), HNSW or IVF_FLAT.",
        choices=("FLAT", "HNSW", "IVF_FLAT"),
    )
    index_params: dict[str, Any] = setting(
        factory=dict, help="Build parameters of the Milvus index (e.g. {'M': 16, 'efConstruction': 200} for HNSW)."
    )
    search_params: dict[str, Any] = setting(
        factory=dict, help="Search parameters (e.g. {'ef': 128} for HNSW, {'nprobe': 16} for IVF_FLAT)."
    )
    token_env: str = setting(
        "MILVUS_TOKEN", help="Environment variable holding the server's token (read at connect time; may be unset)."
    )

    def __post_init__(self) -> None:
        if self.index_type not in ("FLAT", "HNSW", "IVF_FLAT"):
            raise ConfigError(f"milvus index_type must be FLAT, HNSW or IVF_FLAT, got {self.index_type!r}")
        if not self.uri:
            raise ConfigError("milvus uri must name a Milvus Lite file (*.db) or a server (http://host:19530)")

    @property
    def is_lite(self) -> bool:
        """Whether the URI is a Milvus Lite file rather than a server."""
        return not re.match(r"^[a-z]+://", self.uri)

    def resolved_uri(self) -> str:
        """The URI with a Lite file made absolute (a pointer must work from any directory)."""
        if not self.is_lite:
            return self.uri
        if not self.uri.endswith(".db"):
            raise ConfigError(f"a Milvus Lite uri must be a file ending in .db, got {self.uri!r}")
        return str(Path(self.uri).expanduser().resolve())


class _DropRpcErrorLog(logging.Filter):
    """pymilvus logs every failed RPC with its traceback before raising; the error still
    reaches the caller, as a VectorIndexError that says what was wrong, so the log is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.funcName != "_log_rpc_error"


def _pymilvus() -> Any:
    try:
        import pymilvus
    except ImportError as e:
        raise AgenticMatchError(
            "the Milvus backend needs pymilvus and milvus-lite: pip install 'agentic-match[milvus]'"
        ) from e
    quiet = logging.getLogger("pymilvus.decorators")  # the logger of _log_rpc_error
    if not any(isinstance(f, _DropRpcErrorLog) for f in quiet.filters):
        quiet.addFilter(_DropRpcErrorLog())
    return pymilvus


_CLIENTS: dict[str, Any] = {}


def _client(config: MilvusConfig) -> Any:
    """One client per URI and process (Milvus Lite allows one opener of a file)."""
    uri = config.resolved_uri()
    if uri not in _CLIENTS:
        pymilvus = _pymilvus()
        if config.is_lite:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        token = os.environ.get(config.token_env, "") if config.token_env else ""
        try:
            _CLIENTS[uri] = pymilvus.MilvusClient(uri=uri, token=token)
        except Exception as e:  # noqa: BLE001 - connection errors come in many types
            raise VectorIndexError(f"cannot open Milvus at {uri}: {e}") from e
    return _CLIENTS[uri]


def collection_name(prefix: str, *parts: str) -> str:
    """A valid Milvus collection name from free parts (letters, digits, underscores; hashed when long)."""
    raw = "_".join([prefix, *parts])
    clean = re.sub(r"[^A-Za-z0-9_]", "_", raw)
    if not clean or not (clean[0].isalpha() or clean[0] == "_"):
        clean = f"c_{clean}"
    if len(clean) > 200:
        clean = f"{clean[:180]}_{hashlib.sha256(raw.encode()).hexdigest()[:16]}"
    return clean


def _milvus_error(what: str, e: Exception) -> VectorIndexError:
    msg = getattr(e, "message", None) or str(e)
    return VectorIndexError(f"Milvus {what} failed: {msg}")


def _scalar_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-able part of a document's metadata (what a filter can test)."""
    out = {}
    for k, v in meta.items():
        if k in ("id", "vector") or not isinstance(k, str):
            continue
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            continue
        out[k] = v
    return out


@dataclass
class MilvusIndex:
    """Inner-product search on a Milvus collection, with string ids and fingerprints.

    Build with :meth:`create` (or :func:`~agentic_match.retrieval.index.build_document_index`
    with a ``milvus`` config), reopen with :meth:`open` or from a pointer folder with
    :meth:`load`.

    Example::

        index = MilvusIndex.create(MilvusConfig(uri="runs/vectors.db"), "resumes", dim=384)
        index.add(["r1", "r2"], vectors, metadata=[{"family": "software"}, {"family": "sales"}])
        ids, scores = index.search(query_vectors, k=10, filter='family == "software"')
    """

    config: MilvusConfig
    collection: str
    dim: int
    encoder_fingerprint: str | None = None
    render_fingerprint: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def create(
        cls,
        config: MilvusConfig,
        collection: str,
        dim: int,
        *,
        encoder_fingerprint: str | None = None,
        render_fingerprint: str | None = None,
        info: dict[str, Any] | None = None,
        replace: bool = False,
    ) -> MilvusIndex:
        """Create the collection, or reuse one built with the same encoder and rendering.

        Args:
            replace: Drop an existing collection first (a rebuild from scratch).

        Raises:
            IndexMismatchError: the collection exists with other fingerprints or dimension
                (and ``replace`` is false).
        """
        if dim < 1:
            raise VectorIndexError(f"vector dimension must be >= 1, got {dim}")
        if not _NAME.match(collection):
            raise VectorIndexError(
                f"invalid Milvus collection name {collection!r}: letters, digits and underscores, "
                "starting with a letter or underscore"
            )
        client = _client(config)
        if client.has_collection(collection):
            if replace:
                client.drop_collection(collection)
            else:
                found = cls.open(
                    config, collection, expect_fingerprint=encoder_fingerprint, expect_render=render_fingerprint
                )
                if found.dim != dim:
                    raise IndexMismatchError(
                        f"Milvus collection {collection!r} holds {found.dim}-dimensional vectors, not {dim}; "
                        "rebuild it (replace=True, or index build --replace)"
                    )
                return found
        pymilvus = _pymilvus()
        schema = client.create_schema(auto_id=False, enable_dynamic_field=True)
        schema.add_field("id", pymilvus.DataType.VARCHAR, is_primary=True, max_length=MAX_ID_LENGTH)
        schema.add_field("vector", pymilvus.DataType.FLOAT_VECTOR, dim=int(dim))
        params = client.prepare_index_params()
        params.add_index(
            field_name="vector", index_type=config.index_type, metric_type="IP", params=dict(config.index_params)
        )
        properties = {
            _PROP_ENCODER: encoder_fingerprint or "",
            _PROP_RENDER: render_fingerprint or "",
            _PROP_INFO: json.dumps(info or {}),
        }
        try:
            client.create_collection(collection, schema=schema, index_params=params, properties=properties)
        except Exception as e:  # noqa: BLE001
            raise _milvus_error(f"creating collection {collection!r}", e) from e
        return cls(config, collection, int(dim), encoder_fingerprint, render_fingerprint, dict(info or {}))

    @classmethod
    def open(
        cls,
        config: MilvusConfig,
        collection: str,
        *,
        expect_fingerprint: str | None = None,
        expect_render: str | None = None,
    ) -> MilvusIndex:
        """Open an existing collection, checking that it matches the current encoder and rendering.

        Raises:
            VectorIndexError: no such collection.
            IndexMismatchError: other fingerprints than expected.
        """
        client = _client(config)
        if not client.has_collection(collection):
            raise VectorIndexError(f"no Milvus collection {collection!r} at {config.resolved_uri()}")
        desc = client.describe_collection(collection)
        props = desc.get("properties") or {}
        dims = [f["params"]["dim"] for f in desc["fields"] if f.get("name") == "vector"]
        if not dims:
            raise VectorIndexError(f"Milvus collection {collection!r} has no 'vector' field: not built by this toolkit")
        stored_enc, stored_render = props.get(_PROP_ENCODER) or None, props.get(_PROP_RENDER) or None
        check_fingerprints(
            f"Milvus collection {collection!r}", stored_enc, stored_render, expect_fingerprint, expect_render
        )
        try:
            info = json.loads(props.get(_PROP_INFO) or "{}")
        except json.JSONDecodeError:
            info = {}
        self = cls(config, collection, int(dims[0]), stored_enc, stored_render, info)
        self._load()
        return self

    def _load(self) -> None:
        # A reopened collection is "released" until loaded; searching it would fail.
        client = _client(self.config)
        state = str(client.get_load_state(self.collection).get("state", ""))
        if "Loaded" not in state:
            client.load_collection(self.collection)

    def drop(self) -> None:
        """Delete the collection and its vectors."""
        _client(self.config).drop_collection(self.collection)

    # ------------------------------------------------------------------ contents
    def __len__(self) -> int:
        stats = _client(self.config).get_collection_stats(self.collection)
        return int(stats.get("row_count", 0))

    def __contains__(self, doc_id: object) -> bool:
        if not isinstance(doc_id, str):
            return False
        return bool(_client(self.config).get(self.collection, ids=[doc_id], output_fields=["id"]))

    @property
    def ids(self) -> list[str]:
        """Every id in the collection (order as Milvus returns it)."""
        client = _client(self.config)
        if self.config.is_lite:
            # Milvus Lite has no query limit but no timestamp service for iterators either.
            n = len(self)
            rows = client.query(self.collection, filter='id != ""', output_fields=["id"], limit=n) if n else []
            return [str(row["id"]) for row in rows]
        it = client.query_iterator(self.collection, batch_size=4096, output_fields=["id"])
        out: list[str] = []
        try:
            while batch := it.next():
                out.extend(str(row["id"]) for row in batch)
        finally:
            it.close()
        return out

    def _check_vectors(self, vectors: np.ndarray, what: str) -> np.ndarray:
        return check_vectors(vectors, self.dim, what)

    def add(
        self,
        ids: Sequence[str],
        vectors: np.ndarray,
        *,
        metadata: Sequence[Mapping[str, Any]] | None = None,
        batch_size: int = 1000,
    ) -> None:
        """Insert or replace (upsert) vectors by id, with optional per-document metadata.

        Raises:
            VectorIndexError: length or shape mismatch, non-finite values, ids repeated within
                ``ids`` or longer than 512 characters.
        """
        ids = [str(i) for i in ids]
        x = self._check_vectors(vectors, "vectors")
        if len(ids) != x.shape[0]:
            raise VectorIndexError(f"{len(ids)} ids for {x.shape[0]} vectors")
        if metadata is not None and len(metadata) != len(ids):
            raise VectorIndexError(f"{len(metadata)} metadata rows for {len(ids)} ids")
        seen: set[str] = set()
        dup = [i for i in ids if i in seen or seen.add(i)]
        if dup:
            raise VectorIndexError(f"{len(dup)} id(s) repeated in one add: {', '.join(map(repr, dup[:5]))}")
        long = [i for i in ids if len(i) > MAX_ID_LENGTH]
        if long:
            raise VectorIndexError(
                f"{len(long)} id(s) longer than {MAX_ID_LENGTH} characters, e.g. {long[0][:40]!r}..."
            )
        client = _client(self.config)
        for a in range(0, len(ids), batch_size):
            rows = []
            for j in range(a, min(a + batch_size, len(ids))):
                extra = _scalar_metadata(metadata[j]) if metadata is not None else {}
                rows.append({**extra, "id": ids[j], "vector": x[j].tolist()})
            try:
                client.upsert(self.collection, rows)
            except Exception as e:  # noqa: BLE001
                raise _milvus_error(f"upsert into {self.collection!r}", e) from e

    def delete(self, ids: Sequence[str]) -> None:
        """Remove documents by id (unknown ids are ignored)."""
        if ids:
            _client(self.config).delete(self.collection, ids=[str(i) for i in ids])

    # ------------------------------------------------------------------ search
    def search(
        self, vectors: np.ndarray, k: int = 10, *, filter: str | None = None
    ) -> tuple[list[list[str]], np.ndarray]:
        """Top-``k`` ids and inner-product scores per query vector, like ``VectorIndex.search``.

        Args:
            filter: A Milvus boolean expression over the documents' metadata, or ``None``.

        Returns:
            ``(ids, scores)``: ``scores`` has shape ``(n_queries, min(k, len(self)))`` and holds
            ``-inf`` where fewer than ``k`` documents were found (a filter, an approximate index).
        """
        if k < 1:
            raise VectorIndexError(f"k must be >= 1, got {k}")
        q = self._check_vectors(vectors, "query vectors")
        n = len(self)
        k_eff = min(k, n)
        if k_eff == 0 or q.shape[0] == 0:
            return [[] for _ in range(q.shape[0])], np.zeros((q.shape[0], 0), dtype=np.float32)
        kwargs: dict[str, Any] = {}
        if self.config.search_params:
            kwargs["search_params"] = {"metric_type": "IP", "params": dict(self.config.search_params)}
        try:
            hits = _client(self.config).search(
                self.collection, data=q.tolist(), limit=k_eff, output_fields=["id"], filter=filter or "", **kwargs
            )
        except Exception as e:  # noqa: BLE001
            where = f" with filter {filter!r}" if filter else ""
            raise _milvus_error(f"search of {self.collection!r}{where}", e) from e
        ids = [[str(h["id"]) for h in row] for row in hits]
        scores = np.full((q.shape[0], k_eff), -np.inf, dtype=np.float32)
        for i, row in enumerate(hits):
            for j, h in enumerate(row[:k_eff]):
                scores[i, j] = float(h["distance"])
        return ids, scores

    # ------------------------------------------------------------------ persistence
    def meta(self) -> dict[str, Any]:
        """What the pointer's ``meta.json`` holds (the vectors stay in Milvus)."""
        return {
            "format_version": FORMAT_VERSION,
            "backend": "milvus",
            "uri": self.config.resolved_uri(),
            "collection": self.collection,
            "milvus": {
                "index_type": self.config.index_type,
                "index_params": self.config.index_params,
                "search_params": self.config.search_params,
                "token_env": self.config.token_env,
            },
            "dim": self.dim,
            "count": len(self),
            "encoder_fingerprint": self.encoder_fingerprint,
            "render_fingerprint": self.render_fingerprint,
            "info": self.info,
        }

    def save(self, folder: str | Path) -> Path:
        """Write a pointer folder (``meta.json``) that :func:`open_index` reopens."""
        return write_pointer(folder, self.meta() | {"saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})

    @classmethod
    def load(
        cls,
        folder: str | Path,
        *,
        meta: dict[str, Any],
        expect_fingerprint: str | None = None,
        expect_render: str | None = None,
    ) -> MilvusIndex:
        """Open the collection a pointer folder names (``meta`` is its ``meta.json``)."""
        settings = meta.get("milvus") or {}
        if not isinstance(meta.get("uri"), str) or not isinstance(meta.get("collection"), str):
            raise VectorIndexError(f"Milvus pointer at {folder} lacks its uri or collection; rebuild it (index build)")
        try:
            config = MilvusConfig(uri=meta["uri"], **settings)
        except (TypeError, ConfigError) as e:
            raise VectorIndexError(f"Milvus pointer at {folder} has invalid settings ({e}); rebuild it") from e
        return cls.open(config, meta["collection"], expect_fingerprint=expect_fingerprint, expect_render=expect_render)


__all__ = ["MilvusConfig", "MilvusIndex", "MilvusIndexType", "collection_name"]
