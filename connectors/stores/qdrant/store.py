"""Qdrant through qdrant-client: a server (REST or gRPC), or the client's local mode."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from functools import partial
from typing import Any, TypeVar

from qdrant_client import QdrantClient, models

from mmingest.connectors.stores import fusion, records
from mmingest.connectors.stores.base import StoreCapabilities
from mmingest.connectors.stores.batching import estimated_bytes, request_batches, send_all
from mmingest.connectors.stores.qdrant import convert
from mmingest.connectors.stores.qdrant.collections import QdrantCollections
from mmingest.connectors.stores.qdrant.errors import translate
from mmingest.connectors.stores.records import SCAN_FIELDS, stored_point
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.config import QdrantStoreConfig
from mmingest.schemas.points import Point, StoredPoint
from mmingest.schemas.query import FusionMethod, Hit, HybridQuery

log = logging.getLogger(__name__)

T = TypeVar("T")

_SCROLL_PAGE = 1024
_REQUEST_POINTS = 512
_REQUEST_BYTES = 16 * 1024 * 1024  # the server refuses requests above 32 MiB by default


class QdrantStore(QdrantCollections):
    """Collections on a Qdrant server (or in qdrant-client's local mode), Edge's layout.

    Named dense vectors ``image`` and ``caption``, a ``keywords`` sparse vector with the IDF
    modifier fed by the same local BM25 encoder as Qdrant Edge, payload indexes for tenant
    (``is_tenant``), kind, source and page. Hybrid queries are fused by the engine
    (``RrfQuery`` with ``k + 1``, or DBSF) unless channels are weighted, which is fused here.
    Collections and aliases: see :class:`QdrantCollections`.
    """

    def __init__(self, config: QdrantStoreConfig) -> None:
        self._local = config.path is not None or config.url == ":memory:"
        if config.path is not None:
            self._where = str(config.path)
            client = self._connect(lambda: QdrantClient(path=str(config.path)))
        elif config.url == ":memory:":
            self._where = ":memory:"
            client = QdrantClient(location=":memory:")
        else:
            self._where = config.url
            api_key = config.api_key.get_secret_value() if config.api_key else None
            client = self._connect(
                lambda: QdrantClient(
                    url=config.url,
                    api_key=api_key,
                    prefer_grpc=config.prefer_grpc,
                    grpc_port=config.grpc_port,
                    timeout=int(config.timeout_s),
                )
            )
        self._client = client
        self._bm25 = convert.bm25_model()
        self._specs: dict[str, CollectionSpec] = {}
        # Local mode keeps plain NumPy arrays and dicts: the pipeline reads hashes from worker
        # threads while its writer upserts, so calls are serialised. Server clients are safe.
        self._guard = threading.Lock() if self._local else nullcontext()
        self._capabilities = StoreCapabilities(
            native_fusion=frozenset({FusionMethod.RRF, FusionMethod.DBSF}),
            aliases=True,
            max_batch=1024,
            embedded=self._local,
        )

    def _connect(self, connect: Callable[[], QdrantClient]) -> QdrantClient:
        try:
            return connect()
        except Exception as error:
            raise translate(error, "connect", "", self._where) from error

    @property
    def capabilities(self) -> StoreCapabilities:
        """What Qdrant supports."""
        return self._capabilities

    # --- points --------------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace points by id, in requests below the server's size limit."""
        if not points:
            return
        bm25 = self._bm25 if self._spec(collection).keywords else None

        def send(batch: list[Point]) -> None:
            structs = convert.to_points(batch, bm25)
            self._call(
                f"upsert {len(batch)} points",
                collection,
                lambda: self._client.upsert(collection, points=structs, wait=True),
            )

        batches = request_batches(
            points, max_points=_REQUEST_POINTS, max_bytes=_REQUEST_BYTES, size=estimated_bytes
        )
        send_all(batches, send, what=f"upserting into {collection!r}")

    def _delete(self, collection: str, selector: Any, action: str) -> None:
        self._call(
            action,
            collection,
            lambda: self._client.delete(collection, points_selector=selector, wait=True),
        )

    def delete(self, collection: str, ids: Sequence[str], *, tenant: str | None = None) -> None:
        """Delete points by id (of one tenant); unknown ids are ignored."""
        if not ids:
            return
        selector: Any = (
            models.PointIdsList(points=list(ids))
            if tenant is None
            else models.FilterSelector(filter=convert.ids_filter(ids, tenant))
        )
        self._delete(collection, selector, f"delete {len(ids)} points")

    def delete_by_source(
        self, collection: str, source_uris: Sequence[str], *, tenant: str | None = None
    ) -> None:
        """Delete every point of the given source objects (of one tenant)."""
        if source_uris:
            selector = models.FilterSelector(filter=convert.sources_filter(source_uris, tenant))
            self._delete(collection, selector, "delete points by source")

    def fetch_hashes(
        self, collection: str, ids: Sequence[str], *, tenant: str | None = None
    ) -> dict[str, str]:
        """``content_hash`` of the given ids that exist (in one tenant)."""
        if not ids:
            return {}
        found = self._call(
            "retrieve points",
            collection,
            lambda: self._client.retrieve(
                collection, ids=list(ids), with_payload=["content_hash", "tenant"]
            ),
        )
        return {
            str(record.id): str((record.payload or {}).get("content_hash", ""))
            for record in found
            if tenant is None or (record.payload or {}).get("tenant") == tenant
        }

    def scan(self, collection: str, *, tenant: str | None = None) -> Iterator[StoredPoint]:
        """Every point's id, content hash, source and kind, a page at a time."""
        offset: Any = None
        while True:
            page, offset = self._call(
                "scroll",
                collection,
                partial(
                    self._client.scroll,
                    collection,
                    scroll_filter=convert.tenant_filter(tenant),
                    limit=_SCROLL_PAGE,
                    offset=offset,
                    with_payload=list(SCAN_FIELDS),
                    with_vectors=False,
                ),
            )
            for record in page:
                yield stored_point(str(record.id), record.payload or {})
            if offset is None:
                return

    def count(self, collection: str, *, tenant: str | None = None) -> int:
        """Exact number of points (of one tenant)."""
        result = self._call(
            "count",
            collection,
            lambda: self._client.count(
                collection, count_filter=convert.tenant_filter(tenant), exact=True
            ),
        )
        return int(result.count)

    def query(self, collection: str, query: HybridQuery) -> list[Hit]:
        """Dense, keyword or hybrid search; weighted fusion runs here on a batch of channels."""
        if query.vectorize:
            raise records.no_vectorizer("Qdrant")
        bm25 = self._bm25 if self._spec(collection).keywords else None
        found = convert.channels(query, bm25)
        if not found:
            return []
        weights = [weight for _, _, weight in found]
        if len(found) == 1:
            request = convert.single_request(found[0], query, limit=query.k)
            return convert.to_hits(self._query_batch(collection, [request])[0])
        if query.fusion in self._capabilities.native_fusion and all(
            weight == 1.0 for weight in weights
        ):
            request = convert.fused_request(found, query)
            hits = convert.to_hits(self._query_batch(collection, [request])[0])
            return fusion.settle_ties(hits, query.k)
        requests = [
            convert.single_request(channel, query, limit=query.candidate_limit) for channel in found
        ]
        results = [convert.to_hits(points) for points in self._query_batch(collection, requests)]
        return fusion.fuse(results, weights, method=query.fusion, rrf_k=query.rrf_k, limit=query.k)

    def _query_batch(
        self, collection: str, requests: list[models.QueryRequest]
    ) -> list[list[models.ScoredPoint]]:
        responses = self._call(
            "query",
            collection,
            lambda: self._client.query_batch_points(collection, requests=requests),
        )
        return [response.points for response in responses]

    def close(self) -> None:
        """Close the client (local mode releases its directory)."""
        with self._guard:
            try:
                self._client.close()
            except Exception:
                log.exception("closing the Qdrant client failed")
