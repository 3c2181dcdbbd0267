"""Qdrant Edge: the embedded default store, Qdrant's Rust engine in-process on a local path."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import qdrant_edge as edge

from mmingest.connectors.stores import fusion, records
from mmingest.connectors.stores.base import StoreCapabilities
from mmingest.connectors.stores.qdrant_edge import convert
from mmingest.connectors.stores.qdrant_edge.errors import translate as _translate
from mmingest.connectors.stores.qdrant_edge.layout import StoreDirectory
from mmingest.connectors.stores.records import SCAN_FIELDS, stored_point
from mmingest.schemas.collection import CollectionSpec, validate_collection_name
from mmingest.schemas.config import QdrantEdgeStoreConfig
from mmingest.schemas.errors import ConfigError, StorageFault
from mmingest.schemas.points import Point, StoredPoint
from mmingest.schemas.query import FusionMethod, Hit, HybridQuery

log = logging.getLogger(__name__)

_SCROLL_PAGE = 1024
_UPDATE_POINTS = 256
"""Points per upsert (the writer splits larger batches; each upsert is one engine update, all
or nothing): 256 at a time beat 1,024 at once by 2-9% (4.5% on average) in five runs of the
bench's raw-insert exploration (``bench/overhead.py``)."""


class QdrantEdgeStore:
    """Collections as Edge shards under one directory, held by this process while open.

    Named dense vectors ``image`` and ``caption``, a ``keywords`` sparse vector with the IDF
    modifier fed by a local BM25 encoder, payload indexes for tenant, kind, source and page.
    Hybrid queries are fused by the engine (RRF with per-channel weights, or DBSF).
    Aliases live in ``aliases.json`` in the store directory, replaced atomically; this process
    holds the directory, so its in-memory copy is authoritative.
    """

    def __init__(self, config: QdrantEdgeStoreConfig) -> None:
        if config.path is None:
            raise ConfigError("qdrant-edge store needs a path (MMINGEST_STORE__PATH)")
        self._dir = StoreDirectory(Path(config.path))
        self._min_free_bytes = config.min_free_mb * 2**20
        self._dir.lock()
        self._shards: dict[str, edge.EdgeShard] = {}
        self._specs: dict[str, CollectionSpec] = {}
        self._open_lock = threading.Lock()
        self._bm25 = convert.bm25_model()
        self._aliases = self._dir.read_aliases()
        self._capabilities = StoreCapabilities(
            embedded=True,
            named_vectors=True,
            keywords=True,
            native_fusion=frozenset({FusionMethod.RRF, FusionMethod.DBSF}),
            aliases=True,
            tenants=True,
            max_batch=_UPDATE_POINTS,
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
            name = self._aliases.get(spec.name, spec.name)
            existing = self._dir.read_spec(name)
            if existing is not None or name != spec.name:
                if existing is None:
                    raise records.not_found(name, str(self.path))
                records.check_spec(existing, spec, name=name, where=str(self.path))
                self._specs[name] = existing
                return
            shard_dir = self._dir.shard_dir(spec.name)
            if shard_dir.exists():  # left over by a create or drop that did not finish
                self._dir.remove_collection(spec.name)
            self._dir.check_free_space(self._min_free_bytes, f"create collection {spec.name!r}")
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
        """The recorded spec of ``collection`` (or of an alias's target), or None."""
        return self._dir.read_spec(self.resolve(collection))

    def list_collections(self) -> list[str]:
        """Collections in this store directory."""
        return self._dir.collection_names()

    def drop_collection(self, collection: str) -> None:
        """Close and delete a collection (refused for aliases and aliased collections)."""
        with self._open_lock:
            records.check_droppable(collection, self._aliases, str(self.path))
            shard = self._shards.pop(collection, None)
            self._specs.pop(collection, None)
            if shard is not None:
                try:
                    shard.close()
                except Exception as error:
                    raise _translate(error, "close the collection", collection) from error
            self._dir.remove_collection(collection)

    # --- aliases -------------------------------------------------------------------------------

    def list_aliases(self) -> dict[str, str]:
        """Every alias and its collection."""
        return dict(self._aliases)

    def resolve(self, name: str) -> str:
        """An alias's collection, else ``name``."""
        return self._aliases.get(name, name)

    def set_alias(self, alias: str, collection: str) -> None:
        """Create or atomically repoint ``alias`` (one file replace)."""
        validate_collection_name(alias)
        with self._open_lock:
            records.check_alias_target(
                alias,
                collection,
                collections=set(self._dir.collection_names()),
                aliases=self._aliases,
                where=str(self.path),
            )
            aliases = {**self._aliases, alias: collection}
            self._dir.write_aliases(aliases)
            self._aliases = aliases

    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` if it exists."""
        with self._open_lock:
            if alias in self._aliases:
                aliases = {k: v for k, v in self._aliases.items() if k != alias}
                self._dir.write_aliases(aliases)
                self._aliases = aliases

    def _shard(self, name: str) -> edge.EdgeShard:
        collection = self._aliases.get(name, name)
        shard = self._shards.get(collection)
        if shard is not None:
            return shard
        with self._open_lock:
            shard = self._shards.get(collection)
            if shard is not None:
                return shard
            if self._dir.read_spec(collection) is None:
                raise records.not_found(name, str(self.path))
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
        bm25 = self._bm25 if self._spec(collection).keywords else None
        edge_points = convert.to_edge_points(points, bm25)
        self._dir.check_free_space(self._min_free_bytes, f"upsert into {collection!r}")
        try:
            shard.update(edge.UpdateOperation.upsert_points(edge_points))
        except Exception as error:
            raise _translate(error, f"upsert {len(points)} points", collection) from error

    def delete(self, collection: str, ids: Sequence[str], *, tenant: str | None = None) -> None:
        """Delete points by id (of one tenant); unknown ids are ignored."""
        if not ids:
            return
        if tenant is None:
            operation = edge.UpdateOperation.delete_points(list(ids))
        else:
            operation = edge.UpdateOperation.delete_points_by_filter(
                convert.ids_filter(ids, tenant)
            )
        self._dir.check_free_space(self._min_free_bytes, f"remove points of {collection!r}")
        try:
            self._shard(collection).update(operation)
        except Exception as error:
            raise _translate(error, f"delete {len(ids)} points", collection) from error

    def delete_by_source(
        self, collection: str, source_uris: Sequence[str], *, tenant: str | None = None
    ) -> None:
        """Delete every point of the given source objects (of one tenant)."""
        if not source_uris:
            return
        operation = edge.UpdateOperation.delete_points_by_filter(
            convert.sources_filter(source_uris, tenant)
        )
        self._dir.check_free_space(self._min_free_bytes, f"remove points of {collection!r}")
        try:
            self._shard(collection).update(operation)
        except Exception as error:
            raise _translate(error, "delete points by source", collection) from error

    def fetch_hashes(
        self, collection: str, ids: Sequence[str], *, tenant: str | None = None
    ) -> dict[str, str]:
        """``content_hash`` of the given ids that exist (in one tenant)."""
        if not ids:
            return {}
        try:
            found = self._shard(collection).retrieve(list(ids), ["content_hash", "tenant"], False)
        except Exception as error:
            raise _translate(error, "retrieve points", collection) from error
        return {
            str(record.id): str((record.payload or {}).get("content_hash", ""))
            for record in found
            if tenant is None or (record.payload or {}).get("tenant") == tenant
        }

    def scan(self, collection: str, *, tenant: str | None = None) -> Iterator[StoredPoint]:
        """Every point's id, content hash, source and kind, a page at a time."""
        shard = self._shard(collection)
        offset: edge.PointId | None = None
        while True:
            request = edge.ScrollRequest(
                offset=offset,
                limit=_SCROLL_PAGE,
                filter=convert.tenant_filter(tenant),
                with_payload=list(SCAN_FIELDS),
                with_vector=False,
            )
            try:
                records, offset = shard.scroll(request)
            except Exception as error:
                raise _translate(error, "scroll", collection) from error
            for record in records:
                yield stored_point(str(record.id), record.payload or {})
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
        if query.vectorize:
            raise records.no_vectorizer("Qdrant Edge")
        shard = self._shard(collection)
        spec = self._spec(collection)
        channels = convert.channel_queries(query, self._bm25 if spec.keywords else None)
        if not channels:
            return []
        weights = [weight for _, weight in channels]
        try:
            if len(channels) == 1:
                request = convert.single_request(channels[0][0], query, limit=query.k)
                return convert.to_hits(shard.query(request))
            if query.fusion in self._capabilities.native_fusion and all(
                weight == 1.0 for weight in weights
            ):
                request = convert.fused_request([channel for channel, _ in channels], query)
                return fusion.settle_ties(convert.to_hits(shard.query(request)), query.k)
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

    def _spec(self, name: str) -> CollectionSpec:
        collection = self._aliases.get(name, name)
        spec = self._specs.get(collection) or self._dir.read_spec(collection)
        if spec is None:
            raise records.not_found(name, str(self.path))
        self._specs[collection] = spec
        return spec

    def optimize(self, collection: str) -> bool:
        """Merge segments and build indexes (blocking; run it after large ingests)."""
        self._dir.check_free_space(self._min_free_bytes, f"optimize {collection!r}")
        try:
            return bool(self._shard(collection).optimize())
        except Exception as error:
            raise _translate(error, "optimize", collection) from error

    def close(self) -> None:
        """Flush and close every open shard, then release the directory.

        Raises :class:`StorageFault` when a shard cannot be flushed: its recent writes are
        not on disk, and a run that reported them as written must fail instead.
        """
        failed: list[str] = []
        with self._open_lock:
            for name, shard in self._shards.items():
                try:
                    shard.flush()
                    shard.close()
                except Exception as error:
                    log.debug("closing collection %s failed", name, exc_info=True)
                    failed.append(f"{name!r} ({str(error).splitlines()[0][:300]})")
            self._shards.clear()
            self._dir.unlock()
        if failed:
            raise StorageFault(
                f"the Qdrant Edge store {self.path} could not flush "
                + ", ".join(failed)
                + ": its recent writes are not durable; check the directory and the disk, then "
                "run again (unchanged items are skipped)"
            )
