"""Provider embeddings of any type as the unit-length float32 rows every store takes.

- ``float``: as returned, normalised.
- ``int8``: the integer levels as floats; ``uint8`` is shifted by -128 onto the same levels.
  Cosine over these ranks like the provider's int8 dot product.
- ``binary`` / ``ubinary``: packed bits unpacked to one ±1 value per dimension, so the
  vector keeps the configured dimension and cosine is ``1 - 2 * hamming / dimension``:
  the store ranks exactly by Hamming distance.

Everything is L2-normalised, so cosine equals the dot product in every store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mmingest.connectors.embedders.base import Vectors
from mmingest.schemas.errors import ProviderUnavailable

PACKED_TYPES = ("binary", "ubinary")


def _normalised(matrix: np.ndarray) -> Vectors:
    # A row without a finite, positive norm has no direction: dividing would turn a 1e308
    # component into an all-zero vector. Such rows are passed on as NaN, for the pipeline to
    # refuse that one input (see ``check_vector``) while the rest of the reply is used.
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    usable = np.isfinite(norms) & (norms > 0)
    result: Vectors = np.where(usable, matrix / np.where(usable, norms, 1.0), np.nan).astype(
        np.float32
    )
    return result


def to_vectors(
    rows: Sequence[Sequence[Any]] | None,
    *,
    count: int,
    dimension: int,
    embedding_type: str,
    provider: str,
) -> Vectors:
    """``count`` rows of ``embedding_type`` as a (count, dimension) unit float32 matrix.

    A reply of the wrong shape is a malformed reply (:class:`ProviderUnavailable`): the
    same request may well succeed when sent again. A row without a finite, positive norm
    comes back as NaN, for the caller to refuse that input alone.
    """
    width = dimension // 8 if embedding_type in PACKED_TYPES else dimension
    try:
        matrix = np.asarray(rows if rows is not None else [], dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        raise ProviderUnavailable(f"{provider} returned unreadable embeddings: {error}") from None
    if matrix.shape != (count, width):
        raise ProviderUnavailable(
            f"{provider} returned embeddings of shape {matrix.shape} for {count} inputs of "
            f"{width} values ({embedding_type}, {dimension}-d)"
        )
    if embedding_type == "uint8":
        matrix = matrix - 128.0
    elif embedding_type in PACKED_TYPES:
        offset = 128 if embedding_type == "binary" else 0
        packed = (matrix + offset).astype(np.uint8)
        matrix = np.unpackbits(packed, axis=1).astype(np.float64) * 2.0 - 1.0
    return _normalised(matrix)
