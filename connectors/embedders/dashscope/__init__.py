"""Alibaba Cloud DashScope multimodal embeddings (``kind = "dashscope"``)."""

from mmingest.connectors.embedders.dashscope.embedder import DashScopeEmbedder

__all__ = ["DashScopeEmbedder"]
