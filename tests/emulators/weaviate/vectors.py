"""Vector decoding and exact (brute-force) distances as Weaviate reports them."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from .errors import Invalid

DISTANCES = ("cosine", "dot", "l2-squared", "manhattan", "hamming")


def unpack_f32(data: bytes) -> list[float]:
    """Decode a little-endian float32 vector as the client packs it."""
    if len(data) % 4:
        raise Invalid(f"vector byte length {len(data)} is not a multiple of 4")
    return list(struct.unpack(f"<{len(data) // 4}f", data))


def unpack_multi_f32(data: bytes) -> list[list[float]]:
    """Decode a multi-vector: uint16 dimension followed by float32 rows."""
    (dim,) = struct.unpack("<H", data[:2])
    flat = unpack_f32(data[2:])
    return [flat[i : i + dim] for i in range(0, len(flat), dim)]


def pack_f32(vector: Sequence[float]) -> bytes:
    """Encode a vector as little-endian float32 bytes."""
    return struct.pack(f"<{len(vector)}f", *vector)


def _f32(value: float) -> float:
    # Weaviate computes and reports distances as float32.
    return struct.unpack("<f", struct.pack("<f", value))[0]


def distance(metric: str, a: Sequence[float], b: Sequence[float]) -> float:
    """Distance between two equal-length vectors under ``metric``.

    cosine = 1 - cos(a, b); dot = -a.b; l2-squared = sum((a-b)^2); manhattan = sum|a-b|;
    hamming = number of differing positions. All are "smaller is closer", as in Weaviate.
    """
    if len(a) != len(b):
        raise Invalid(f"vector lengths don't match: {len(a)} vs {len(b)}")
    if metric == "cosine":
        na = math.sqrt(sum(x * x for x in a))
        nb = math.sqrt(sum(x * x for x in b))
        if na == 0 or nb == 0:
            return 1.0
        return _f32(1.0 - sum(x * y for x, y in zip(a, b, strict=True)) / (na * nb))
    if metric == "dot":
        return _f32(-sum(x * y for x, y in zip(a, b, strict=True)))
    if metric == "l2-squared":
        return _f32(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))
    if metric == "manhattan":
        return _f32(sum(abs(x - y) for x, y in zip(a, b, strict=True)))
    if metric == "hamming":
        return float(sum(1 for x, y in zip(a, b, strict=True) if x != y))
    raise Invalid(f"unsupported distance metric '{metric}'")


def certainty(metric: str, dist: float) -> float | None:
    """Weaviate's certainty, defined only for cosine: 1 - distance / 2."""
    if metric != "cosine":
        return None
    return _f32(1.0 - dist / 2.0)
