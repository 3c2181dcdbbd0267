"""Embedders: local models and provider APIs behind one protocol, chosen by config ``kind``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.embedders.base import Embedder, Vectors
from connectors.registry import build


def _clip(config: Any) -> Embedder:
    from connectors.embedders.clip import ClipEmbedder

    return ClipEmbedder(config)


EMBEDDERS: dict[str, Callable[[Any], Embedder]] = {
    "clip": _clip,
}
"""Embedder factories by config ``kind``. Tests and plugins may register more."""


def build_embedder(config: Any) -> Embedder:
    """The embedder described by ``config`` (a member of :data:`schemas.config.EmbedderConfig`)."""
    return build(EMBEDDERS, config, "embedder")


__all__ = ["EMBEDDERS", "Embedder", "Vectors", "build_embedder"]
