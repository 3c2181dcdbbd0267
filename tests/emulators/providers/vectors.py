"""Deterministic fake embeddings and the quantized encodings providers return.

A vector is a pure function of (namespace, content parts): the same text or image bytes always
give the same vector and different content gives a different one. Vectors are generated at the
model's full width and truncated, so a lower ``output_dimension`` is a renormalized prefix of the
full vector, as Matryoshka-trained models (Cohere embed-v4, Voyage 3.5) behave.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

import numpy as np

FLOAT_TYPES = ("float",)
QUANTIZED_TYPES = ("int8", "uint8", "binary", "ubinary")


def derive_vector(
    namespace: str, parts: Sequence[bytes], dim: int, full_dim: int | None = None
) -> np.ndarray:
    """Return a unit-norm float32 vector of length ``dim`` derived from the content parts.

    ``parts`` is the ordered content of one input (e.g. ``[b"text:...", b"image:<bytes>"]``);
    mixed inputs hash all their parts, so text+image yields one vector depending on both.
    """
    full = max(dim, full_dim or dim)
    digest = hashlib.sha256(namespace.encode())
    for part in parts:
        # Length-prefixing keeps ("ab", "c") and ("a", "bc") apart.
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    seed = int.from_bytes(digest.digest(), "big")
    raw = np.random.Generator(np.random.PCG64(seed)).standard_normal(full)[:dim]
    return (raw / np.linalg.norm(raw)).astype(np.float32)


def to_uint8(vector: np.ndarray) -> np.ndarray:
    """Scalar-quantize to 0..255 by linear scaling over the vector's own value range."""
    low, high = float(vector.min()), float(vector.max())
    span = high - low or 1.0
    return np.round((vector - low) / span * 255.0).astype(np.uint8)


def to_int8(vector: np.ndarray) -> np.ndarray:
    """Signed scalar quantization: the uint8 levels shifted down by 128 (range -128..127)."""
    return (to_uint8(vector).astype(np.int16) - 128).astype(np.int8)


def to_ubinary(vector: np.ndarray) -> np.ndarray:
    """One bit per dimension (1 where the value is positive), packed MSB-first into uint8."""
    return np.packbits(vector > 0).astype(np.uint8)


def to_binary(vector: np.ndarray) -> np.ndarray:
    """Packed bits in offset-binary form: the ubinary byte minus 128 (range -128..127).

    Cohere and Voyage both document signed binary this way.
    """
    return (to_ubinary(vector).astype(np.int16) - 128).astype(np.int8)


_ENCODERS = {
    "float": lambda v: v.astype(np.float32),
    "int8": to_int8,
    "uint8": to_uint8,
    "binary": to_binary,
    "ubinary": to_ubinary,
}


def encode(vector: np.ndarray, dtype: str) -> np.ndarray:
    """Encode a float vector as one of float/int8/uint8/binary/ubinary."""
    try:
        return _ENCODERS[dtype](vector)
    except KeyError:
        raise ValueError(f"unknown embedding type {dtype!r}") from None


def as_json_list(array: np.ndarray) -> list[float] | list[int]:
    """Plain Python numbers for a JSON body (floats for float32, ints otherwise)."""
    if array.dtype == np.float32:
        return [float(x) for x in array]
    return [int(x) for x in array]


def as_base64(array: np.ndarray) -> str:
    """Base64 of the array's raw little-endian bytes, as numpy ``frombuffer`` reads them back."""
    return base64.b64encode(array.astype(array.dtype.newbyteorder("<")).tobytes()).decode()


def text_part(text: str) -> bytes:
    """Hash input for a text segment (tagged, so a text never collides with image bytes)."""
    return b"text\x00" + text.encode("utf-8")


def image_part(data: bytes) -> bytes:
    """Hash input for an image: its encoded bytes, so re-encoding gives a different vector."""
    return b"image\x00" + data


def video_part(data: bytes, start: float = 0.0, end: float = 0.0) -> bytes:
    """Hash input for one video segment: the video bytes plus the segment bounds."""
    return b"video\x00" + f"{start}:{end}\x00".encode() + data
