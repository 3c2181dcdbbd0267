"""Voyage AI multimodal embeddings (``kind = "voyage"``)."""

from mmingest.connectors.embedders.voyage.embedder import VoyageEmbedder

__all__ = ["VoyageEmbedder"]
