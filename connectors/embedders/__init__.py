"""Embedders: local models and provider APIs behind one protocol, chosen by config ``kind``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mmingest.connectors.embedders.base import Embedder, MixedEmbedder, MixedInput, Vectors
from mmingest.connectors.registry import build


def _clip(config: Any) -> Embedder:
    from mmingest.connectors.embedders.clip import ClipEmbedder

    return ClipEmbedder(config)


def _cohere(config: Any) -> Embedder:
    from mmingest.connectors.embedders.cohere import CohereEmbedder

    return CohereEmbedder(config)


def _voyage(config: Any) -> Embedder:
    from mmingest.connectors.embedders.voyage import VoyageEmbedder

    return VoyageEmbedder(config)


def _vertex(config: Any) -> Embedder:
    from mmingest.connectors.embedders.vertex import VertexEmbedder

    return VertexEmbedder(config)


def _azure_vision(config: Any) -> Embedder:
    from mmingest.connectors.embedders.azure_vision import AzureVisionEmbedder

    return AzureVisionEmbedder(config)


def _dashscope(config: Any) -> Embedder:
    from mmingest.connectors.embedders.dashscope import DashScopeEmbedder

    return DashScopeEmbedder(config)


EMBEDDERS: dict[str, Callable[[Any], Embedder]] = {
    "clip": _clip,
    "cohere": _cohere,
    "voyage": _voyage,
    "vertex": _vertex,
    "azure-vision": _azure_vision,
    "dashscope": _dashscope,
}
"""Embedder factories by config ``kind``. Tests and plugins may register more."""


def build_embedder(config: Any) -> Embedder:
    """The embedder described by ``config`` (a member of
    :data:`mmingest.schemas.config.EmbedderConfig`)."""
    return build(EMBEDDERS, config, "embedder")


__all__ = ["EMBEDDERS", "Embedder", "MixedEmbedder", "MixedInput", "Vectors", "build_embedder"]
