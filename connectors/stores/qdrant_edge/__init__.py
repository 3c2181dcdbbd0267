"""Qdrant Edge store (``kind = "qdrant-edge"``), the embedded default."""

from mmingest.connectors.stores.qdrant_edge.store import QdrantEdgeStore

__all__ = ["QdrantEdgeStore"]
