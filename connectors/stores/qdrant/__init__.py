"""Qdrant server store (``kind = "qdrant"``) through qdrant-client, also in its local mode."""

from connectors.stores.qdrant.store import QdrantStore

__all__ = ["QdrantStore"]
