"""Qdrant Edge: the embedded default store, Qdrant's Rust engine in-process on a local path."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import qdrant_edge as edge

from connectors.stores import fusion
from connectors.stores.base import StoreCapabilities
from connectors.stores.qdrant_edge import convert
from connectors.stores.qdrant_edge.layout import StoreDirectory
from schemas.collection import CollectionSpec
from schemas.config import QdrantEdgeStoreConfig
from schemas.errors import (
    CollectionNotFound,
    ConfigError,
    InvalidInput,
    MmingestError,
    SchemaMismatch,
    StoreLocked,
    StoreUnavailable,
)
from schemas.points import Point
from schemas.query import FusionMethod, Hit, HybridQuery

log = logging.getLogger(__name__)

_SCROLL_PAGE = 1024


def _translate(error: Exception, action: str, collection: str) -> Exception:
    """An mmingest error for an exception raised by the engine (it raises plain Exception)."""
    if isinstance(error, MmingestError):
        return error
    text = str(error)
    if "WouldBlock" in text or "Can't init WAL" in text:
        return StoreLocked(
            f"collection {collection!r} is open in another process: Qdrant Edge allows one "
            "process per store directory"
        )
    if "dimension error" in text or "Not existing vector name" in text or "parse" in text:
        return InvalidInput(f"Qdrant Edge rejected {action} on {collection!r}: {text}")
    return StoreUnavailable(f"Qdrant Edge failed to {action} on {collection!r}: {text}")


class QdrantEdgeStore:
    """Collections as Edge shards under one directory, held by this process while open.

    Named dense vectors ``image`` and ``caption``, a ``keywords`` sparse vector with the IDF
    modifier fed by a local BM25 encoder, payload indexes for tenant, kind, source and page.
    Hybrid queries are fused by the engine (RRF with per-channel weights, or DBSF).
    """

    def __init__(self, config: QdrantEdgeStoreConfig) -> None:
        if config.path is None:
            raise ConfigError("qdrant-edge store needs a path (MMINGEST_STORE__PATH)")
        self._dir = StoreDirectory(Path(config.path))
        self._dir.lock()
        self._shards: dict[str, edge.EdgeShard] = {}
        self._specs: dict[str, CollectionSpec] = {}
        self._open_lock = threading.Lock()
        self._bm25 = convert.bm25_model()
        self._capabilities = StoreCapabilities(
            named_vectors=True,
            keywords=True,
            native_fusion=frozenset({FusionMethod.RRF, FusionMethod.DBSF}),
            aliases=False,
            tenants=True,
            max_batch=1024,
        )

    @property
    def path(self) -> Path:
        """The store directory."""
        return self._dir.path

    @property
    def capabilities(self) -> StoreCapabilities:
        """What Qdrant Edge supports."""
        return self._capabilities

    # --- collections ---------------------------------------------------------------------------

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the collection's shard, or check the existing one records the same spec."""
        with self._open_lock:
            existing = self._dir.read_spec(spec.name)
            if existing is not None:
                problems = existing.differences(spec)
                if problems:
                    raise SchemaMismatch(
                        f"collection {spec.name!r} in {self.path} was created for a different "
                        f"vector space ({'; '.join(problems)}): write to a new collection "
                        "(MMINGEST_COLLECTION) or re-embed it with the new model"
                    )
                self._specs[spec.name] = existing
                return
            shard_dir = self._dir.shard_dir(spec.name)
            try:
                shard = edge.EdgeShard.create(str(shard_dir), convert.shard_config(spec))
                for operation in convert.index_operations():
                    shard.update(operation)
            except Exception as error:
                raise _translate(error, "create the collection", spec.name) from error
            self._dir.write_meta(spec.name, spec, convert.KEYWORD_MODEL)
            self._shards[spec.name] = shard
            self._specs[spec.name] = spec
            log.info("created collection %s in %s", spec.name, self.path)

    def collection_spec(self, collection: str) -> CollectionSpec | None:
        """The recorded spec of ``collection``, or None."""
        return self._dir.read_spec(collection)

    def list_collections(self) -> list[str]:
        """Collections in this store directory."""
        return self._dir.collection_names()

    def _shard(self, collection: str) -> edge.EdgeShard:
        shard = self._shards.get(collection)
        if shard is not None:
            return shard
        with self._open_lock:
            shard = self._shards.get(collection)
            if shard is not None:
                return shard
            if self._dir.read_spec(collection) is None:
                raise CollectionNotFound(
                    f"collection {collection!r} does not exist in {self.path}: ingest into it "
                    "first, or check MMINGEST_COLLECTION and MMINGEST_STORE__PATH"
                )
            try:
                shard = edge.EdgeShard.load(str(self._dir.shard_dir(collection)))
            except Exception as error:
                raise _translate(error, "open the collection", collection) from error
            self._shards[collection] = shard
            return shard

    # --- points --------------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace points by id."""
        if not points:
            return
        shard = self._shard(collection)
        spec = self._specs.get(collection) or self._dir.read_spec(collection)
        bm25 = self._bm25 if spec is not None and spec.keywords else None
        edge_points = convert.to_edge_points(points, bm25)
        try:
            shard.update(edge.UpdateOperation.upsert_points(edge_points))
        except Exception as error:
            raise _translate(error, f"upsert {len(points)} points", collection) from error

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        """Delete points by id (unknown ids are ignored)."""
        if not ids:
            return
        try:
            self._shard(collection).update(edge.UpdateOperation.delete_points(list(ids)))
        except Exception as error:
            raise _translate(error, f"delete {len(ids)} points", collection) from error

    def fetch_hashes(self, collection: str, ids: Sequence[str]) -> dict[str, str]:
        """``content_hash`` of the given ids that exist."""
        if not ids:
            return {}
        try:
            records = self._shard(collection).retrieve(list(ids), ["content_hash"], False)
        except Exception as error:
            raise _translate(error, "retrieve points", collection) from error
        return {
            str(record.id): str((record.payload or {}).get("content_hash", ""))
            for record in records
        }

    def scan(self, collection: str, *, tenant: str | None = None) -> Iterator[tuple[str, str]]:
        """Every ``(id, content_hash)``, a page at a time."""
        shard = self._shard(collection)
        offset: edge.PointId | None = None
        while True:
            request = edge.ScrollRequest(
                offset=offset,
                limit=_SCROLL_PAGE,
                filter=convert.tenant_filter(tenant),
                with_payload=["content_hash"],
                with_vector=False,
            )
            try:
                records, offset = shard.scroll(request)
            except Exception as error:
                raise _translate(error, "scroll", collection) from error
            for record in records:
                yield str(record.id), str((record.payload or {}).get("content_hash", ""))
            if offset is None:
                return

    def count(self, collection: str, *, tenant: str | None = None) -> int:
        """Exact number of points (of one tenant)."""
        request = edge.CountRequest(filter=convert.tenant_filter(tenant), exact=True)
        try:
            return int(self._shard(collection).count(request))
        except Exception as error:
            raise _translate(error, "count", collection) from error

    def query(self, collection: str, query: HybridQuery) -> list[Hit]:
        """Dense, keyword or hybrid search.

        Equal channel weights are fused by the engine in one request; weighted fusion runs the
        channels as one batch and fuses them here with the same formulas.
        """
        shard = self._shard(collection)
        spec = self._specs.get(collection) or self._dir.read_spec(collection)
        channels = convert.channel_queries(query, self._bm25 if spec and spec.keywords else None)
        if not channels:
            return []
        weights = [weight for _, weight in channels]
        try:
            if len(channels) == 1:
                request = convert.single_request(channels[0][0], query, limit=query.k)
                return convert.to_hits(shard.query(request))
            if all(weight == 1.0 for weight in weights):
                request = convert.fused_request([channel for channel, _ in channels], query)
                return convert.to_hits(shard.query(request))
            batch = edge.QueryBatchRequest(
                [
                    convert.single_request(channel, query, limit=query.candidate_limit)
                    for channel, _ in channels
                ]
            )
            results = [convert.to_hits(points) for points in shard.query_batch(batch)]
        except Exception as error:
            raise _translate(error, "query", collection) from error
        return fusion.fuse(results, weights, method=query.fusion, rrf_k=query.rrf_k, limit=query.k)

    def optimize(self, collection: str) -> bool:
        """Merge segments and build indexes (blocking; run it after large ingests)."""
        try:
            return bool(self._shard(collection).optimize())
        except Exception as error:
            raise _translate(error, "optimize", collection) from error

    def close(self) -> None:
        """Flush and close every open shard, then release the directory."""
        with self._open_lock:
            for name, shard in self._shards.items():
                try:
                    shard.flush()
                    shard.close()
                except Exception:
                    log.exception("closing collection %s failed", name)
            self._shards.clear()
            self._dir.unlock()
