"""Vector stores behind one protocol, chosen by config ``kind``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mmingest.connectors.registry import build
from mmingest.connectors.stores.base import StoreCapabilities, VectorStore


def _qdrant_edge(config: Any) -> VectorStore:
    from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore

    return QdrantEdgeStore(config)


def _qdrant(config: Any) -> VectorStore:
    from mmingest.connectors.stores.qdrant import QdrantStore

    return QdrantStore(config)


def _milvus(config: Any) -> VectorStore:
    from mmingest.connectors.stores.milvus import MilvusStore

    return MilvusStore(config)


def _weaviate(config: Any) -> VectorStore:
    from mmingest.connectors.stores.weaviate import WeaviateStore

    return WeaviateStore(config)


STORES: dict[str, Callable[[Any], VectorStore]] = {
    "qdrant-edge": _qdrant_edge,
    "qdrant": _qdrant,
    "milvus": _milvus,
    "weaviate": _weaviate,
}
"""Store factories by config ``kind``."""


def build_store(config: Any) -> VectorStore:
    """The store described by ``config`` (a member of
    :data:`mmingest.schemas.config.StoreConfig`)."""
    return build(STORES, config, "store")


__all__ = ["STORES", "StoreCapabilities", "VectorStore", "build_store"]
