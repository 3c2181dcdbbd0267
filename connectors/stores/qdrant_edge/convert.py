"""Translate between mmingest's models and Qdrant Edge's request types."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import qdrant_edge as edge

from mmingest.connectors.stores.fusion import TIE_MARGIN
from mmingest.connectors.stores.qdrant_edge import filters
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.embedding import Distance
from mmingest.schemas.points import KEYWORDS, Point
from mmingest.schemas.query import FusionMethod, Hit, HybridQuery

_DISTANCES = {
    Distance.COSINE: edge.Distance.Cosine,
    Distance.DOT: edge.Distance.Dot,
    Distance.EUCLID: edge.Distance.Euclid,
}

KEYWORD_MODEL: dict[str, Any] = {"kind": "bm25", "language": "english", "k": 1.2, "b": 0.75}
"""The BM25 term weighting of the keyword channel; IDF is applied by the engine at query time."""

# Payload fields filtered on by the pipeline and the query module.
KEYWORD_INDEXES = ("tenant", "kind", "source_uri")
INTEGER_INDEXES = ("page",)


def bm25_model() -> edge.Bm25:
    """The local BM25 encoder for documents and queries (no model download)."""
    return edge.Bm25(
        edge.Bm25Config(
            k=KEYWORD_MODEL["k"], b=KEYWORD_MODEL["b"], language=KEYWORD_MODEL["language"]
        )
    )


def shard_config(spec: CollectionSpec) -> edge.EdgeConfig:
    """The EdgeConfig for a collection spec: named dense vectors plus an IDF sparse vector."""
    vectors = {
        name: edge.EdgeVectorParams(size=vector.dimension, distance=_DISTANCES[vector.distance])
        for name, vector in spec.vectors.items()
    }
    sparse = {KEYWORDS: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)}
    return edge.EdgeConfig(vectors=vectors, sparse_vectors=sparse if spec.keywords else None)


def index_operations() -> list[edge.UpdateOperation]:
    """Payload indexes for the filterable fields (tenant first: it partitions every query)."""
    operations = [
        edge.UpdateOperation.create_field_index("tenant", edge.KeywordIndexParams(is_tenant=True))
    ]
    operations += [
        edge.UpdateOperation.create_field_index(field, edge.PayloadSchemaType.Keyword)
        for field in KEYWORD_INDEXES
        if field != "tenant"
    ]
    operations += [
        edge.UpdateOperation.create_field_index(field, edge.PayloadSchemaType.Integer)
        for field in INTEGER_INDEXES
    ]
    return operations


def to_edge_points(points: Sequence[Point], bm25: edge.Bm25 | None) -> list[edge.Point]:
    """Edge points with dense vectors as lists and the keyword text as a BM25 sparse vector."""
    converted = []
    for point in points:
        vectors: dict[str, Any] = {name: vector.tolist() for name, vector in point.vectors.items()}
        if bm25 is not None and point.keyword_text:
            sparse = bm25.embed_document(point.keyword_text)
            if sparse.indices:
                vectors[KEYWORDS] = sparse
        converted.append(edge.Point(point.id, vectors, point.payload))
    return converted


def tenant_filter(tenant: str | None) -> edge.Filter | None:
    """Restrict to one tenant's points (None: no restriction)."""
    if tenant is None:
        return None
    return edge.Filter(must=[edge.FieldCondition("tenant", match=edge.MatchValue(tenant))])


def ids_filter(ids: Sequence[str], tenant: str | None) -> edge.Filter:
    """The points with these ids (of one tenant)."""
    must: list[Any] = [edge.HasIdCondition(set(ids))]
    if tenant is not None:
        must.append(edge.FieldCondition("tenant", match=edge.MatchValue(tenant)))
    return edge.Filter(must=must)


def sources_filter(source_uris: Sequence[str], tenant: str | None) -> edge.Filter:
    """The points of these source objects (of one tenant)."""
    must: list[Any] = [edge.FieldCondition("source_uri", match=edge.MatchAny(list(source_uris)))]
    if tenant is not None:
        must.append(edge.FieldCondition("tenant", match=edge.MatchValue(tenant)))
    return edge.Filter(must=must)


def channel_queries(query: HybridQuery, bm25: edge.Bm25 | None) -> list[tuple[edge.Query, float]]:
    """One engine query per channel (dense probes, then keywords), with its fusion weight.

    A keyword text made only of stopwords contributes no channel: it can match nothing.
    """
    channels: list[tuple[edge.Query, float]] = [
        (edge.Query.Nearest(probe.vector.tolist(), using=probe.vector_name), probe.weight)
        for probe in query.dense
    ]
    if query.keyword_text and bm25 is not None:
        sparse = bm25.embed_query(query.keyword_text)
        if sparse.indices:
            channels.append((edge.Query.Nearest(sparse, using=KEYWORDS), query.keyword_weight))
    return channels


def single_request(channel: edge.Query, query: HybridQuery, *, limit: int) -> edge.QueryRequest:
    """One channel queried directly (raw similarity or BM25 scores)."""
    return edge.QueryRequest(
        limit=limit,
        query=channel,
        filter=filters.restrict(query.tenant, query.filter),
        with_payload=True,
    )


def fused_request(channels: list[edge.Query], query: HybridQuery) -> edge.QueryRequest:
    """All channels as prefetches, fused by the engine without weights.

    The engine's RRF is ``1 / (k + rank)`` with 0-based ranks; passing ``k + 1`` yields the
    canonical ``1 / (k + rank)`` with 1-based ranks, so scores match client-side fusion.
    """
    restrict = filters.restrict(query.tenant, query.filter)
    prefetches = [
        edge.Prefetch(limit=query.candidate_limit, query=channel, filter=restrict)
        for channel in channels
    ]
    fusion: Any = (
        edge.Fusion.Rrf(k=query.rrf_k + 1)
        if query.fusion is FusionMethod.RRF
        else edge.Fusion.Dbsf()
    )
    return edge.QueryRequest(
        limit=query.k + TIE_MARGIN,
        prefetches=prefetches,
        query=fusion,
        filter=restrict,
        with_payload=True,
    )


def to_hits(points: Sequence[edge.ScoredPoint]) -> list[Hit]:
    """Hits from scored edge points."""
    return [
        Hit(id=str(point.id), score=float(point.score), payload=point.payload or {})
        for point in points
    ]
