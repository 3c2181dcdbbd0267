"""Weaviate store (``kind = "weaviate"``): bring-your-own vectors or a multi2vec module."""

from mmingest.connectors.stores.weaviate.store import WeaviateStore

__all__ = ["WeaviateStore"]
