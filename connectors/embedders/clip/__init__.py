"""Local CLIP-family embedder (``kind = "clip"``)."""

from mmingest.connectors.embedders.clip.embedder import ClipEmbedder

__all__ = ["ClipEmbedder"]
