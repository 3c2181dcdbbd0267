"""Azure AI Vision multimodal embeddings 4.0 (``kind = "azure-vision"``)."""

from mmingest.connectors.embedders.azure_vision.embedder import AzureVisionEmbedder

__all__ = ["AzureVisionEmbedder"]
