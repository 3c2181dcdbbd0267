"""Cohere Embed (``kind = "cohere"``): embed-v4.0 and the v3 embed models."""

from mmingest.connectors.embedders.cohere.embedder import CohereEmbedder

__all__ = ["CohereEmbedder"]
