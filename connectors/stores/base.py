"""The VectorStore protocol and the capabilities a store declares."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.embedding import EmbedderInfo
from mmingest.schemas.points import Point, StoredPoint
from mmingest.schemas.query import FusionMethod, Hit, HybridQuery


class StoreCapabilities(BaseModel):
    """What a store can do, declared as data so callers fail clearly instead of degrading."""

    model_config = ConfigDict(frozen=True)

    named_vectors: bool = True
    keywords: bool = True
    native_fusion: frozenset[FusionMethod] = frozenset()
    """Fusion methods the engine runs itself for queries it can express exactly (others are
    fused client-side with the same formulas, see :mod:`mmingest.connectors.stores.fusion`)."""
    aliases: bool = True
    tenants: bool = True
    server_side_vectors: bool = False
    """The store computes vectors itself (e.g. a Weaviate multi2vec module): points carry
    ``image_data`` and text instead of vectors, queries use ``HybridQuery.vectorize`` probes,
    and the pipeline skips client-side embedding."""
    vectorizer: EmbedderInfo | None = None
    """With server-side vectors: the identity and dimension of the store's vectorizer (callers
    build the collection spec from it instead of from a client-side embedder)."""
    product_filters: bool = True
    """Queries can filter on product columns (``fields.<name>``); see
    :mod:`mmingest.schemas.filters`."""
    max_batch: int = 256
    """Points per ``upsert`` call the caller should send; stores split further by bytes."""
    embedded: bool = False
    """The engine runs inside this process on a local path (Qdrant Edge, Milvus Lite, qdrant-client
    local mode): only one process may open it, so a run cannot write from several processes."""


@runtime_checkable
class VectorStore(Protocol):
    """A vector database holding collections of points with named vectors.

    Every method is idempotent where it can be: ``ensure_collection`` twice is one collection,
    ``upsert`` of the same ids twice is the same points, deleting missing ids is a no-op.
    Every method that takes a collection name also takes an alias and acts on the collection
    the alias points to. SDK errors are translated at this boundary (``StoreUnavailable`` when
    a retry may help).

    Tenants: a ``tenant`` argument restricts an operation to that tenant's points; ``None``
    means no restriction (every tenant), except for writes, where a point's tenant is the
    ``tenant`` field of its payload.
    """

    @property
    def capabilities(self) -> StoreCapabilities:
        """What this store supports."""
        ...

    # --- collections and aliases -----------------------------------------------------------

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the collection, or check that the existing one matches ``spec``.

        ``spec.name`` may be an alias: its target is checked, never replaced. Raises
        :class:`mmingest.schemas.errors.SchemaMismatch` when the recorded embedder, dimensions or
        layout differ, or when a collection of that name was not created by mmingest.
        """
        ...

    def collection_spec(self, collection: str) -> CollectionSpec | None:
        """The recorded spec of ``collection`` (or of an alias's target), or None if absent."""
        ...

    def list_collections(self) -> list[str]:
        """Names of the mmingest collections in this store (aliases not included)."""
        ...

    def drop_collection(self, collection: str) -> None:
        """Delete a collection and its points; a missing collection is a no-op.

        Refuses (``ConfigError``) an alias name and a collection an alias still points to, so
        a blue/green swap can never drop the live version.
        """
        ...

    def list_aliases(self) -> dict[str, str]:
        """Every alias of this store and the collection it points to."""
        ...

    def resolve(self, name: str) -> str:
        """The collection ``name`` stands for: an alias's target, else ``name`` itself.

        A writer can pin the concrete collection at the start of a run, so an alias swapped
        mid-run never receives half of its points.
        """
        ...

    def set_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection``, creating it or swapping it atomically.

        Readers see the old or the new target, never neither. ``collection`` must exist and
        must not itself be an alias; ``alias`` must not be a collection name (``ConfigError``).
        """
        ...

    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` (the collection stays); a missing alias is a no-op."""
        ...

    # --- points ------------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace ``points`` (by id), split into requests the store accepts."""
        ...

    def delete(self, collection: str, ids: Sequence[str], *, tenant: str | None = None) -> None:
        """Delete points by id (of one tenant); unknown ids are ignored."""
        ...

    def delete_by_source(
        self, collection: str, source_uris: Sequence[str], *, tenant: str | None = None
    ) -> None:
        """Delete every point whose ``source_uri`` is one of ``source_uris`` (of one tenant):
        all pages of a vanished PDF, all records of a removed catalog file."""
        ...

    def fetch_hashes(
        self, collection: str, ids: Sequence[str], *, tenant: str | None = None
    ) -> dict[str, str]:
        """``content_hash`` of those ``ids`` that exist (in one tenant)."""
        ...

    def scan(self, collection: str, *, tenant: str | None = None) -> Iterator[StoredPoint]:
        """Every point's id, content hash, source URI and kind (of one tenant), streamed."""
        ...

    def count(self, collection: str, *, tenant: str | None = None) -> int:
        """Number of points (of one tenant)."""
        ...

    def query(self, collection: str, query: HybridQuery) -> list[Hit]:
        """Run a dense, keyword or hybrid query; hits best first.

        Dense scores are the metric's similarity (cosine: 1 is identical); keyword scores are
        BM25 and only comparable within one store; fused scores follow
        :mod:`mmingest.connectors.stores.fusion` exactly, whether the engine or the client fused
        them.
        """
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...
