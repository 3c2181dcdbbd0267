"""Rerankers: reorder a retriever's candidates with a stronger (cross-encoder) model."""

from connectors.rerankers.base import Reranker
from connectors.rerankers.cohere import CohereReranker

__all__ = ["CohereReranker", "Reranker"]
