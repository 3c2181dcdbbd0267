"""The Embedder protocol: texts and images into one shared vector space."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from PIL import Image

from mmingest.schemas.embedding import EmbedderInfo, EmbedderUsage, InputKind
from mmingest.schemas.errors import InvalidInput

Vectors = npt.NDArray[np.float32]
"""A (n, dimension) float32 matrix, one row per input, in input order."""

MixedInput = Sequence[str | Image.Image]
"""Texts and images in reading order, embedded together into one vector."""


class DegenerateVector(InvalidInput):
    """An embedder returned a vector with no direction (NaN, infinite, overflowing or zero)."""


def vector_problem(row: npt.NDArray[np.floating]) -> str | None:
    """Why ``row`` cannot be stored or searched with, or None when its norm is finite and > 0.

    Cosine needs a direction: a NaN or infinite component, a norm that overflows (a component
    of 1e308) or an all-zero vector has none, and normalising one yields zeros or NaNs.
    """
    values = np.asarray(row, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return "has NaN or infinite components"
    with np.errstate(over="ignore"):
        norm = float(np.linalg.norm(values))
    if not np.isfinite(norm):
        return "has a norm that overflows (a component near the float limit)"
    if norm <= 0:
        return "is all zeros"
    return None


def degenerate_rows(matrix: npt.NDArray[np.floating]) -> set[int]:
    """Rows of a ``(n, d)`` matrix that :func:`vector_problem` refuses, found in one pass.

    A row's norm is finite and positive exactly when every component is finite, its norm does
    not overflow and it is not all zeros, so one vectorised norm per batch replaces a check
    per row on the hot path; only the rows it flags need :func:`vector_problem`'s reason.
    """
    values = np.asarray(matrix, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.linalg.norm(values, axis=1)
    return set(np.flatnonzero(~(np.isfinite(norms) & (norms > 0))).tolist())


def check_vector(row: npt.NDArray[np.floating], what: str) -> None:
    """Raise :class:`DegenerateVector` when ``row`` has no finite, positive norm."""
    problem = vector_problem(row)
    if problem is not None:
        raise DegenerateVector(
            f"the embedder returned a vector for {what} that {problem}: refused (its norm must "
            "be finite and positive); check the embedder or provider"
        )


@runtime_checkable
class Embedder(Protocol):
    """A provider or local model that embeds texts and images into the same space.

    Callers respect ``info.limits`` (batch size, concurrency, image and text limits) before
    calling; implementations raise :class:`mmingest.schemas.errors.InvalidInput` for an input they
    reject, a :class:`mmingest.schemas.errors.TransientError` when a retry may help, and other
    terminal
    errors (authentication, configuration) when the whole run must stop. Implementations do
    not retry by themselves: the pipeline does (:mod:`mmingest.pipelines.retry`). They are safe to
    call
    from ``info.limits.max_concurrency`` threads at once.
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

    def usage(self) -> EmbedderUsage:
        """Cumulative requests, inputs, billed units and cache hits since creation.

        A run's share is ``after.since(before)`` of two snapshots.
        """
        ...

    def close(self) -> None:
        """Release the model or the HTTP client."""
        ...


@runtime_checkable
class MixedEmbedder(Embedder, Protocol):
    """An embedder that fuses texts and images into one vector (``info.mixed_inputs``).

    Cohere embed-v4.0 (``inputs``) and Voyage multimodal models (interleaved content) do.
    Check ``info.mixed_inputs`` rather than ``isinstance``: wrappers such as the embedding
    cache have the method whether or not the embedder they wrap can fuse.
    """

    def embed_mixed(
        self, items: Sequence[MixedInput], *, kind: InputKind = InputKind.DOCUMENT
    ) -> Vectors:
        """One vector per item, from all of its texts and images together."""
        ...
