"""Queries on Weaviate: one search per channel (and tenant), fused with the canonical formulas,
or one native ``hybrid`` call when Weaviate's fusion computes exactly the same thing.

Weaviate's ``rankedFusion`` scores ``alpha / (60 + rank)`` for the vector search and
``(1 - alpha) / (60 + rank)`` for BM25 with ranks from 0, over sub-searches of
``max(100, limit)`` results. That equals the canonical RRF (ranks from 1) with ``rrf_k = 59``,
weights ``w_v : w_k = alpha : 1 - alpha`` scaled by ``w_v + w_k``, and ``candidates =
max(100, limit)``, for one vector channel plus keywords in one tenant. Such queries run natively;
everything else (the default ``rrf_k = 60``, several vector channels, DBSF, several tenants) runs
channel by channel and is fused client-side.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import partial
from typing import Any

from weaviate.classes.query import HybridFusion, HybridVector, MetadataQuery

from mmingest.connectors.stores import fusion, records
from mmingest.connectors.stores.weaviate import convert, filters
from mmingest.connectors.stores.weaviate.collections import WeaviateCollections
from mmingest.connectors.stores.weaviate.schema import RETURNED, TEXT
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.embedding import Distance
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.query import DenseProbe, FusionMethod, Hit, HybridQuery, VectorizeProbe

NATIVE_RRF_K = 59
"""Weaviate's rankedFusion constant (60 with 0-based ranks) in the canonical 1-based form."""

HYBRID_DEPTH = 100
"""Results each sub-search of a Weaviate hybrid query contributes (at least)."""

MAX_RESULTS = 10_000  # Weaviate's QUERY_MAXIMUM_RESULTS default


@dataclass(frozen=True)
class _Channel:
    probe: DenseProbe | VectorizeProbe | None  # None: the keyword channel
    weight: float


class WeaviateSearch(WeaviateCollections):
    """The query half of :class:`~mmingest.connectors.stores.weaviate.WeaviateStore`."""

    def query(self, collection: str, query: HybridQuery) -> list[Hit]:
        """Dense, vectorized (server-side), keyword or hybrid search; hits best first."""
        if query.vectorize and self._config.vectorizer == "none":
            raise records.no_vectorizer("Weaviate without a vectorizer module")
        weaviate_name = self._class_of(collection)
        spec = self._spec(weaviate_name)
        probes: list[DenseProbe | VectorizeProbe] = [*query.dense, *query.vectorize]
        channels = [_Channel(probe, probe.weight) for probe in probes]
        for channel in channels:
            if channel.probe is not None and channel.probe.vector_name not in spec.vectors:
                raise ConfigError(
                    f"collection {spec.name!r} has no vector {channel.probe.vector_name!r}"
                )
        if query.keyword_text and spec.keywords:
            channels.append(_Channel(None, query.keyword_weight))
        tenants = self._tenants_of(weaviate_name, query.tenant)
        where = filters.compile_filter(query.filter)  # unsupported fields fail before any call
        if not channels or not tenants:
            return []
        if self._native(query, channels, tenants):
            return self._hybrid(weaviate_name, tenants[0], query, channels, where)
        if len(channels) == 1:
            return self._search(weaviate_name, tenants, spec, channels[0], query, query.k, where)
        results = [
            self._search(weaviate_name, tenants, spec, c, query, query.candidate_limit, where)
            for c in channels
        ]
        weights = [channel.weight for channel in channels]
        return fusion.fuse(results, weights, method=query.fusion, rrf_k=query.rrf_k, limit=query.k)

    @staticmethod
    def _native(query: HybridQuery, channels: list[_Channel], tenants: list[str]) -> bool:
        if len(channels) != 2 or channels[1].probe is not None or len(tenants) != 1:
            return False
        vector = channels[0].probe
        if isinstance(vector, VectorizeProbe) and vector.image is not None:
            return False  # hybrid vectorizes texts only
        return (
            query.fusion is FusionMethod.RRF
            and query.rrf_k == NATIVE_RRF_K
            and query.candidate_limit == max(HYBRID_DEPTH, query.k + fusion.TIE_MARGIN)
            and channels[0].weight > 0
            and channels[1].weight > 0
        )

    def _hybrid(
        self,
        weaviate_name: str,
        tenant: str,
        query: HybridQuery,
        channels: list[_Channel],
        where: Any,
    ) -> list[Hit]:
        probe, total = channels[0].probe, channels[0].weight + channels[1].weight
        assert probe is not None  # checked by _native
        vector: Any = (
            convert_vector(probe.vector)
            if isinstance(probe, DenseProbe)
            else HybridVector.near_text(query=probe.text or "")
        )
        handle = self._client.collections.use(weaviate_name).with_tenant(tenant)
        response = self._call(
            "search",
            weaviate_name,
            lambda: handle.query.hybrid(
                query=query.keyword_text,
                vector=vector,
                target_vector=probe.vector_name,
                alpha=channels[0].weight / total,
                fusion_type=HybridFusion.RANKED,
                query_properties=[TEXT],
                filters=where,
                limit=query.k + fusion.TIE_MARGIN,
                return_metadata=MetadataQuery(score=True),
                return_properties=RETURNED,
            ),
        )
        hits = convert.to_hits(response.objects, lambda meta: meta.score * total)
        return fusion.settle_ties(hits, query.k)

    def _search(
        self,
        weaviate_name: str,
        tenants: list[str],
        spec: CollectionSpec,
        channel: _Channel,
        query: HybridQuery,
        limit: int,
        where: Any,
    ) -> list[Hit]:
        """One channel over one or more tenants (merged by score)."""
        limit = min(limit, MAX_RESULTS)
        collection = self._client.collections.use(weaviate_name)
        probe = channel.probe
        merged: list[Hit] = []
        for tenant in tenants:
            handle = collection.with_tenant(tenant).query
            common: dict[str, Any] = {
                "limit": limit,
                "return_properties": RETURNED,
                "filters": where,
            }
            if probe is None:
                call: Any = partial(
                    handle.bm25,
                    query.keyword_text or "",
                    query_properties=[TEXT],
                    return_metadata=MetadataQuery(score=True),
                    **common,
                )
                score: Any = lambda meta: meta.score  # noqa: E731
            else:
                metric = spec.vectors[probe.vector_name].distance
                call = self._vector_call(handle, probe, common)
                score = lambda meta, m=metric: convert.dense_score(meta.distance, m)  # noqa: E731
            response = self._call("search", weaviate_name, call)
            merged += convert.to_hits(response.objects, score)
        if len(tenants) == 1:
            return merged
        if probe is not None and spec.vectors[probe.vector_name].distance is Distance.EUCLID:
            return sorted(merged, key=lambda hit: (hit.score, hit.id))[:limit]  # a distance
        return fusion.settle_ties(merged, limit)

    @staticmethod
    def _vector_call(
        handle: Any, probe: DenseProbe | VectorizeProbe, common: dict[str, Any]
    ) -> Any:
        options = {
            "target_vector": probe.vector_name,
            "return_metadata": MetadataQuery(distance=True),
            **common,
        }
        if isinstance(probe, DenseProbe):
            return lambda: handle.near_vector(convert_vector(probe.vector), **options)
        if probe.text is not None:
            return lambda: handle.near_text(probe.text, **options)
        image = base64.b64encode(probe.image or b"").decode("ascii")
        return lambda: handle.near_image(image, **options)


def convert_vector(vector: Any) -> list[float]:
    """A query vector as the client sends it."""
    return [float(x) for x in vector]
