"""Qdrant server store (``kind = "qdrant"``) through qdrant-client, also in its local mode."""

from mmingest.connectors.stores.qdrant.store import QdrantStore

__all__ = ["QdrantStore"]
