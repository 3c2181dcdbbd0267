"""Milvus store (``kind = "milvus"``): a Milvus server, or Milvus Lite on a local file."""

from mmingest.connectors.stores.milvus.store import MilvusStore

__all__ = ["MilvusStore"]
