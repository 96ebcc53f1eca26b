"""Which vector store holds an index: FAISS in process (the default) or a Milvus collection.

The ``index`` settings section (``[index]`` in the TOML file, ``AGENTIC_MATCH_INDEX__BACKEND``,
``--set index.backend=milvus``) chooses it for every command and the service::

    [index]
    backend = "milvus"
    uri = "runs/vectors.db"                 # Milvus Lite; or "http://milvus:19530"

Everything above the store (encoders, fingerprints, the matcher, the service) is the same
for both; :func:`index_documents` is the one place that picks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agentic_match.config import setting
from agentic_match.errors import ConfigError
from agentic_match.retrieval.index import IndexConfig, SearchIndex, build_document_index
from agentic_match.retrieval.milvus_index import MilvusConfig, collection_name

if TYPE_CHECKING:
    from agentic_match.data.render import RenderConfig
    from agentic_match.data.schema import Document

IndexBackend = Literal["faiss", "milvus"]


@dataclass(frozen=True)
class IndexStoreConfig(MilvusConfig):
    """The ``index`` section: the backend, and (for Milvus) where and how the collections live.

    The Milvus settings (``uri``, ``index_type``, ...) are :class:`MilvusConfig`'s and only
    read with ``backend = "milvus"``.
    """

    backend: IndexBackend = setting(
        "faiss",
        help="Vector store: 'faiss' (in process, saved as a folder) or 'milvus' (Milvus Lite file or server).",
        choices=("faiss", "milvus"),
    )
    collection_prefix: str = setting(
        "agentic_match", help="Prefix of the Milvus collections this toolkit creates (one per kind and encoder)."
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.backend not in ("faiss", "milvus"):
            raise ConfigError(f"index.backend must be faiss or milvus, got {self.backend!r}")


def index_documents(
    docs: Sequence[Document],
    encoder: Any,
    store: IndexStoreConfig | None = None,
    *,
    collection: str,
    render_config: RenderConfig | None = None,
    faiss: IndexConfig | None = None,
    info: dict[str, Any] | None = None,
    replace: bool = False,
    progress: bool | None = None,
) -> SearchIndex:
    """Encode and index ``docs`` in the configured store.

    Args:
        store: The ``index`` section (``None``: FAISS).
        collection: Name of the Milvus collection (made valid with :func:`collection_name`;
            ignored for FAISS).
        faiss: FAISS index settings (default: exact; ignored for Milvus).
        replace: Milvus only: drop the collection first instead of upserting into it.
    """
    if store is None or store.backend == "faiss":
        return build_document_index(
            docs, encoder, render_config=render_config, config=faiss or IndexConfig(), info=info, progress=progress
        )
    return build_document_index(
        docs,
        encoder,
        render_config=render_config,
        info=info,
        progress=progress,
        milvus=store,
        collection=collection_name(store.collection_prefix, collection),
        replace=replace,
    )


__all__ = ["IndexBackend", "IndexStoreConfig", "index_documents"]
