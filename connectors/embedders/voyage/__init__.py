"""Voyage AI multimodal embeddings (``kind = "voyage"``)."""

from connectors.embedders.voyage.embedder import VoyageEmbedder

__all__ = ["VoyageEmbedder"]
