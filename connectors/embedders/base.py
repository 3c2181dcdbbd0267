"""The Embedder protocol: texts and images into one shared vector space."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from PIL import Image

from schemas.embedding import EmbedderInfo, InputKind

Vectors = npt.NDArray[np.float32]
"""A (n, dimension) float32 matrix, one row per input, in input order."""


@runtime_checkable
class Embedder(Protocol):
    """A provider or local model that embeds texts and images into the same space.

    Callers respect ``info.limits`` (batch size, image and text limits) before calling;
    implementations raise :class:`schemas.errors.InvalidInput` for an input they reject,
    a :class:`schemas.errors.TransientError` when a retry may help, and other terminal errors
    (authentication, configuration) when the whole run must stop.
    """

    @property
    def info(self) -> EmbedderInfo:
        """Provider, model, dimension and input limits."""
        ...

    def embed_texts(self, texts: Sequence[str], *, kind: InputKind = InputKind.DOCUMENT) -> Vectors:
        """Embed texts as documents (for storage) or as a search query."""
        ...

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        """Embed RGB images."""
        ...

    def close(self) -> None:
        """Release the model or the HTTP client."""
        ...
