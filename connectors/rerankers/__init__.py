"""Rerankers: reorder a retriever's candidates with a stronger (cross-encoder) model."""

from mmingest.connectors.rerankers.base import Reranker
from mmingest.connectors.rerankers.cohere import CohereReranker

__all__ = ["CohereReranker", "Reranker"]
