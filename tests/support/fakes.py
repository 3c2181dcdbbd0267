"""Test doubles at the seams: a cheap deterministic embedder with failure injection.

The hash embedder is a test tool, never a product default: vectors are derived from a hash of
the input, so identical inputs give identical vectors and different inputs are unrelated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from mmingest.connectors.embedders.base import Vectors
from mmingest.schemas.embedding import EmbedderInfo, EmbedderLimits, EmbedderUsage, InputKind


def hash_vector(data: bytes, dimension: int) -> np.ndarray:
    """A unit vector determined by ``data``."""
    seed = int.from_bytes(hashlib.sha256(data).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
    return vector / np.linalg.norm(vector)


class HashEmbedder:
    """Embeds texts and images by hashing them; optionally fails on chosen calls or inputs."""

    def __init__(
        self,
        dimension: int = 16,
        *,
        max_batch: int = 8,
        fail: Callable[[str, Sequence[object]], None] | None = None,
    ) -> None:
        self._info = EmbedderInfo(
            provider="hash",
            model="sha256",
            dimension=dimension,
            limits=EmbedderLimits(max_batch=max_batch),
        )
        self.fail = fail
        self.calls: list[tuple[str, int]] = []

    @property
    def info(self) -> EmbedderInfo:
        return self._info

    def embed_texts(self, texts: Sequence[str], *, kind: InputKind = InputKind.DOCUMENT) -> Vectors:
        self.calls.append(("texts", len(texts)))
        if self.fail:
            self.fail("texts", texts)
        return np.stack([hash_vector(t.encode(), self._info.dimension) for t in texts])

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        self.calls.append(("images", len(images)))
        if self.fail:
            self.fail("images", images)
        return np.stack([hash_vector(i.tobytes(), self._info.dimension) for i in images])

    def usage(self) -> EmbedderUsage:
        inputs = sum(count for _, count in self.calls)
        return EmbedderUsage(requests=len(self.calls), inputs=inputs)

    def close(self) -> None:
        pass


class CountingStore:
    """A store that keeps nothing but a count: isolates the pipeline's own memory and speed.

    Every point is new to it (``fetch_hashes`` finds nothing), as on a first run.
    """

    def __init__(self, max_batch: int = 1024) -> None:
        from mmingest.connectors.stores.base import StoreCapabilities

        self._capabilities = StoreCapabilities(max_batch=max_batch)
        self.points = 0

    @property
    def capabilities(self):  # type: ignore[no-untyped-def]
        return self._capabilities

    def ensure_collection(self, spec: object) -> None:
        pass

    def resolve(self, name: str) -> str:
        return name

    def fetch_hashes(
        self, collection: str, ids: Sequence[object], *, tenant: str | None = None
    ) -> dict[str, str]:
        return {}

    def upsert(self, collection: str, points: Sequence[object]) -> None:
        self.points += len(points)

    def count(self, collection: str, *, tenant: str | None = None) -> int:
        return self.points

    def delete(self, collection: str, ids: Sequence[object], *, tenant: str | None = None) -> None:
        pass

    def close(self) -> None:
        pass
