"""Google Vertex AI multimodal embeddings (``kind = "vertex"``)."""

from mmingest.connectors.embedders.vertex.embedder import VertexEmbedder, VideoSegment

__all__ = ["VertexEmbedder", "VideoSegment"]
