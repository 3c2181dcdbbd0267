"""Local CLIP-family embedder (``kind = "clip"``)."""

from connectors.embedders.clip.embedder import ClipEmbedder

__all__ = ["ClipEmbedder"]
