"""The VectorStore protocol and the capabilities a store declares."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from schemas.collection import CollectionSpec
from schemas.embedding import EmbedderInfo
from schemas.points import Point
from schemas.query import FusionMethod, Hit, HybridQuery


class StoreCapabilities(BaseModel):
    """What a store can do, declared as data so callers fail clearly instead of degrading."""

    model_config = ConfigDict(frozen=True)

    named_vectors: bool = True
    keywords: bool = True
    native_fusion: frozenset[FusionMethod] = frozenset()
    aliases: bool = False
    tenants: bool = True
    server_side_vectors: bool = False
    """The store computes vectors itself (e.g. a Weaviate multi2vec module): points carry
    ``image_data`` and text instead of vectors, and the pipeline skips client-side embedding."""
    vectorizer: EmbedderInfo | None = None
    """With server-side vectors: the identity and dimension of the store's vectorizer."""
    max_batch: int = 256


@runtime_checkable
class VectorStore(Protocol):
    """A vector database holding collections of points with named vectors.

    Every method is idempotent where it can be: ``ensure_collection`` twice is one collection,
    ``upsert`` of the same ids twice is the same points, ``delete`` of missing ids is a no-op.
    SDK errors are translated at this boundary (``StoreUnavailable`` when a retry may help).
    """

    @property
    def capabilities(self) -> StoreCapabilities:
        """What this store supports."""
        ...

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the collection, or check that the existing one matches ``spec``.

        Raises :class:`schemas.errors.SchemaMismatch` when the recorded embedder, dimensions
        or layout differ.
        """
        ...

    def collection_spec(self, collection: str) -> CollectionSpec | None:
        """The recorded spec of ``collection``, or None if it does not exist."""
        ...

    def list_collections(self) -> list[str]:
        """Names of the collections in this store."""
        ...

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace ``points`` (by id)."""
        ...

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        """Delete points by id; unknown ids are ignored."""
        ...

    def fetch_hashes(self, collection: str, ids: Sequence[str]) -> dict[str, str]:
        """``content_hash`` of those ``ids`` that exist."""
        ...

    def scan(self, collection: str, *, tenant: str | None = None) -> Iterator[tuple[str, str]]:
        """Every ``(id, content_hash)`` of the collection (or of one tenant), streamed."""
        ...

    def count(self, collection: str, *, tenant: str | None = None) -> int:
        """Number of points (of one tenant)."""
        ...

    def query(self, collection: str, query: HybridQuery) -> list[Hit]:
        """Run a dense, keyword or hybrid query; hits best first."""
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...
