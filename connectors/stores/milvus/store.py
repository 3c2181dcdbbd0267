"""Milvus through pymilvus's MilvusClient: a server (URI and token) or Milvus Lite (a file)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pymilvus import AnnSearchRequest, MilvusClient, RRFRanker

from mmingest.connectors.stores import fusion, records
from mmingest.connectors.stores.base import StoreCapabilities
from mmingest.connectors.stores.batching import estimated_bytes, request_batches, send_all
from mmingest.connectors.stores.milvus import convert, filters, schema
from mmingest.connectors.stores.milvus.collections import MilvusCollections
from mmingest.connectors.stores.milvus.errors import translate
from mmingest.connectors.stores.records import SCAN_FIELDS, stored_point
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.config import MilvusStoreConfig
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.points import KEYWORDS, Point, StoredPoint
from mmingest.schemas.query import FusionMethod, Hit, HybridQuery

log = logging.getLogger(__name__)

_REQUEST_ROWS = 1000
_REQUEST_BYTES = 32 * 1024 * 1024  # servers accept 64 MiB per insert by default
_EXPRESSION_VALUES = 1000  # ids or URIs per filter expression
_SCAN_PAGE = 1000
_SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")


class _LiteIteratorNoise(logging.Filter):
    """Milvus Lite has no MVCC timestamps, so every query iterator warns that it falls back
    to a client-side one (harmless there); drop that one message."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "failed to get mvccTs" not in record.getMessage()


@dataclass(frozen=True)
class _Channel:
    data: Any
    field: str
    condition: filters.Expression
    metric: str
    weight: float
    score: Callable[[float], float]


class MilvusStore(MilvusCollections):
    """Collections on a Milvus server or in a Milvus Lite file (one process per file).

    One FLOAT_VECTOR field per named vector, the keyword text in an analyzed VARCHAR feeding
    a BM25 function into a SPARSE_FLOAT_VECTOR, scalar fields for the filterable payload, the
    rest in a JSON field, tenant as the partition key (see :mod:`.schema`). Equal-weight RRF
    runs as ``hybrid_search`` with ``RRFRanker`` (Milvus ranks from 1, like the canonical
    formula); weighted RRF and DBSF are fused here, since Milvus's WeightedRanker normalises
    scores differently.
    """

    def __init__(self, config: MilvusStoreConfig) -> None:
        if not config.uri:
            raise ConfigError("the milvus store needs a uri (MMINGEST_STORE__URI)")
        self._where = config.uri
        self._lite = not config.uri.startswith(_SERVER_SCHEMES)
        self._timeout = config.timeout_s
        self._consistency = config.consistency_level
        self._index_type = "FLAT" if self._lite else config.index_type
        self._specs: dict[str, CollectionSpec] = {}
        arguments: dict[str, Any] = {"uri": config.uri, "timeout": config.timeout_s}
        if config.token is not None:
            arguments["token"] = config.token.get_secret_value()
        if config.db_name:
            arguments["db_name"] = config.db_name
        if self._lite:
            Path(config.uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
            logging.getLogger("pymilvus").addFilter(_LiteIteratorNoise())
        try:
            self._client = MilvusClient(**arguments)
        except Exception as error:
            raise translate(error, "connect", "", self._where) from error
        self._capabilities = StoreCapabilities(
            native_fusion=frozenset({FusionMethod.RRF}),
            aliases=True,
            max_batch=1000,
            embedded=self._lite,
        )

    @property
    def capabilities(self) -> StoreCapabilities:
        """What Milvus supports."""
        return self._capabilities

    # --- points --------------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace points by id, in requests below the server's size limit."""
        if not points:
            return
        spec = self._spec(collection)

        def send(batch: list[Point]) -> None:
            rows = convert.to_rows(batch, spec)
            self._call(
                f"upsert {len(batch)} points",
                collection,
                lambda: self._client.upsert(collection, rows, timeout=self._timeout),
            )

        batches = request_batches(
            points, max_points=_REQUEST_ROWS, max_bytes=_REQUEST_BYTES, size=estimated_bytes
        )
        # pymilvus retries unavailable servers inside each call already: no second layer.
        send_all(batches, send, what=f"upserting into {collection!r}", attempts=1)

    def _delete_where(self, collection: str, expression: str, action: str) -> None:
        self._call(
            action,
            collection,
            lambda: self._client.delete(collection, filter=expression, timeout=self._timeout),
        )

    def delete(self, collection: str, ids: Sequence[str], *, tenant: str | None = None) -> None:
        """Delete points by id (of one tenant); unknown ids are ignored."""
        for start in range(0, len(ids), _EXPRESSION_VALUES):
            chunk = ids[start : start + _EXPRESSION_VALUES]
            condition = convert.restrict(
                convert.in_list("id", chunk), convert.tenant_condition(tenant)
            )
            self._delete_where(collection, condition, f"delete {len(chunk)} points")

    def delete_by_source(
        self, collection: str, source_uris: Sequence[str], *, tenant: str | None = None
    ) -> None:
        """Delete every point of the given source objects (of one tenant)."""
        for start in range(0, len(source_uris), _EXPRESSION_VALUES):
            chunk = source_uris[start : start + _EXPRESSION_VALUES]
            condition = convert.restrict(
                convert.in_list("source_uri", chunk), convert.tenant_condition(tenant)
            )
            self._delete_where(collection, condition, "delete points by source")

    def fetch_hashes(
        self, collection: str, ids: Sequence[str], *, tenant: str | None = None
    ) -> dict[str, str]:
        """``content_hash`` of the given ids that exist (in one tenant)."""
        found: dict[str, str] = {}
        for start in range(0, len(ids), _EXPRESSION_VALUES):
            chunk = list(ids[start : start + _EXPRESSION_VALUES])
            rows = self._call(
                "retrieve points",
                collection,
                partial(
                    self._client.get,
                    collection,
                    ids=chunk,
                    output_fields=["content_hash", "tenant"],
                    timeout=self._timeout,
                ),
            )
            for row in rows:
                if tenant is None or row.get("tenant") == tenant:
                    found[str(row["id"])] = str(row.get("content_hash") or "")
        return found

    def scan(self, collection: str, *, tenant: str | None = None) -> Iterator[StoredPoint]:
        """Every point's id, content hash, source and kind, through a query iterator."""
        iterator = self._call(
            "scan",
            collection,
            lambda: self._client.query_iterator(
                collection,
                batch_size=_SCAN_PAGE,
                filter=convert.tenant_condition(tenant) or "",
                output_fields=list(SCAN_FIELDS),
                timeout=self._timeout,
            ),
        )
        try:
            while page := self._call("scan", collection, iterator.next):
                for row in page:
                    yield stored_point(str(row["id"]), row)
        finally:
            iterator.close()

    def count(self, collection: str, *, tenant: str | None = None) -> int:
        """Exact number of points (of one tenant)."""
        rows = self._call(
            "count",
            collection,
            lambda: self._client.query(
                collection,
                filter=convert.tenant_condition(tenant) or "",
                output_fields=["count(*)"],
                timeout=self._timeout,
            ),
        )
        return int(rows[0]["count(*)"])

    # --- search --------------------------------------------------------------------------------

    def _condition(self, query: HybridQuery, *required: str) -> filters.Expression:
        """The channel's own conditions, the tenant and the user's filter, all required (a
        filter narrows a tenant's points, never widens them)."""
        expression = filters.Expression()
        parts = list(required)
        if query.tenant is not None:
            parts.append(f"tenant == {expression.param(query.tenant)}")
        if query.filter is not None:
            parts.append(filters.compile_filter(query.filter, expression).template)
        expression.template = convert.restrict(*parts)
        return expression

    def _filter_args(self, expression: filters.Expression, *, key: str) -> dict[str, Any]:
        """``{key: template, key_params: values}`` for a server; Milvus Lite has no templates,
        so there the values are written in as escaped literals."""
        if not expression.template:
            return {}
        if self._lite:
            return {key: filters.inline(expression)}
        return {key: expression.template, f"{key}_params": expression.params}

    def _channels(self, query: HybridQuery, spec: CollectionSpec) -> list[_Channel]:
        channels = []
        for probe in query.dense:
            vector = spec.vectors.get(probe.vector_name)
            if vector is None:
                raise ConfigError(
                    f"collection {spec.name!r} has no vector {probe.vector_name!r} (it has "
                    f"{', '.join(sorted(spec.vectors))})"
                )
            channels.append(
                _Channel(
                    data=convert.as_list(probe.vector),
                    field=probe.vector_name,
                    condition=self._condition(query, convert.presence_condition(probe.vector_name)),
                    metric=schema.metric(vector.distance),
                    weight=probe.weight,
                    score=partial(convert.dense_score, metric=vector.distance),
                )
            )
        if query.keyword_text and spec.keywords:
            channels.append(
                _Channel(
                    data=query.keyword_text,
                    field=KEYWORDS,
                    condition=self._condition(query),
                    metric="BM25",
                    weight=query.keyword_weight,
                    score=convert.bm25_score,
                )
            )
        return channels

    def _search(self, collection: str, channel: _Channel, limit: int) -> list[Hit]:
        results = self._call(
            "search",
            collection,
            lambda: self._client.search(
                collection,
                data=[channel.data],
                anns_field=channel.field,
                limit=min(limit, schema.MAX_RESULTS),
                output_fields=convert.OUTPUT_FIELDS,
                search_params={"metric_type": channel.metric},
                timeout=self._timeout,
                **self._filter_args(channel.condition, key="filter"),
            ),
        )
        return convert.hits(results[0], channel.score)

    def query(self, collection: str, query: HybridQuery) -> list[Hit]:
        """Dense, keyword or hybrid search."""
        if query.vectorize:
            raise records.no_vectorizer("Milvus")
        channels = self._channels(query, self._spec(collection))
        if not channels:
            return []
        if len(channels) == 1:
            return self._search(collection, channels[0], query.k)
        weights = [channel.weight for channel in channels]
        if query.fusion is FusionMethod.RRF and all(weight == 1.0 for weight in weights):
            return self._native_rrf(collection, channels, query)
        results = [self._search(collection, c, query.candidate_limit) for c in channels]
        return fusion.fuse(results, weights, method=query.fusion, rrf_k=query.rrf_k, limit=query.k)

    def _native_rrf(
        self, collection: str, channels: list[_Channel], query: HybridQuery
    ) -> list[Hit]:
        requests = [
            AnnSearchRequest(
                data=[channel.data],
                anns_field=channel.field,
                param={"metric_type": channel.metric},
                limit=min(query.candidate_limit, schema.MAX_RESULTS),
                **self._filter_args(channel.condition, key="expr"),
            )
            for channel in channels
        ]
        results = self._call(
            "search",
            collection,
            lambda: self._client.hybrid_search(
                collection,
                requests,
                RRFRanker(query.rrf_k),
                limit=min(query.k + fusion.TIE_MARGIN, schema.MAX_RESULTS),
                output_fields=convert.OUTPUT_FIELDS,
                timeout=self._timeout,
            ),
        )
        return fusion.settle_ties(convert.hits(results[0], float), query.k)

    def close(self) -> None:
        """Close the client (Milvus Lite releases its file)."""
        try:
            self._client.close()
        except Exception:
            log.exception("closing the Milvus client failed")
