"""Translate between mmingest's models and qdrant-client's request types.

The layout matches the Qdrant Edge store: named dense vectors, a ``keywords`` sparse vector
with the IDF modifier fed by the same local BM25 encoder, the same payload indexes, so
collections, scores and fused rankings agree across both Qdrant flavours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qdrant_client import models

from mmingest.connectors.stores.fusion import TIE_MARGIN
from mmingest.connectors.stores.qdrant import filters
from mmingest.connectors.stores.qdrant_edge.convert import (
    INTEGER_INDEXES,
    KEYWORD_INDEXES,
    KEYWORD_MODEL,
    bm25_model,
)
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.embedding import Distance
from mmingest.schemas.points import KEYWORDS, Point
from mmingest.schemas.query import DenseProbe, FusionMethod, Hit, HybridQuery

__all__ = ["KEYWORD_MODEL", "bm25_model"]

Bm25 = Any  # qdrant_edge.Bm25: imported through the Edge converter, which owns the model

_DISTANCES = {
    Distance.COSINE: models.Distance.COSINE,
    Distance.DOT: models.Distance.DOT,
    Distance.EUCLID: models.Distance.EUCLID,
}


def vectors_config(spec: CollectionSpec) -> dict[str, models.VectorParams]:
    """Named dense vectors of a spec."""
    return {
        name: models.VectorParams(size=vector.dimension, distance=_DISTANCES[vector.distance])
        for name, vector in spec.vectors.items()
    }


def sparse_config(spec: CollectionSpec) -> dict[str, models.SparseVectorParams] | None:
    """The keyword channel: a sparse vector whose IDF the engine applies at query time."""
    if not spec.keywords:
        return None
    return {KEYWORDS: models.SparseVectorParams(modifier=models.Modifier.IDF)}


def payload_indexes() -> list[tuple[str, Any]]:
    """Payload indexes for the filterable fields (tenant first: it partitions every query)."""
    indexes: list[tuple[str, Any]] = [
        ("tenant", models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True))
    ]
    indexes += [(name, models.PayloadSchemaType.KEYWORD) for name in KEYWORD_INDEXES[1:]]
    indexes += [(name, models.PayloadSchemaType.INTEGER) for name in INTEGER_INDEXES]
    return indexes


def sparse(vector: Any) -> models.SparseVector:
    """A qdrant-client sparse vector from the BM25 encoder's output."""
    return models.SparseVector(indices=list(vector.indices), values=list(vector.values))


def to_points(points: Sequence[Point], bm25: Bm25 | None) -> list[models.PointStruct]:
    """Point structs with dense vectors as lists and the keyword text as a sparse vector."""
    converted = []
    for point in points:
        vectors: dict[str, Any] = {name: vector.tolist() for name, vector in point.vectors.items()}
        if bm25 is not None and point.keyword_text:
            encoded = bm25.embed_document(point.keyword_text)
            if encoded.indices:
                vectors[KEYWORDS] = sparse(encoded)
        converted.append(models.PointStruct(id=point.id, vector=vectors, payload=point.payload))
    return converted


def _tenant_condition(tenant: str) -> models.FieldCondition:
    return models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant))


def tenant_filter(tenant: str | None) -> models.Filter | None:
    """Restrict to one tenant's points (None: no restriction)."""
    return None if tenant is None else models.Filter(must=[_tenant_condition(tenant)])


def ids_filter(ids: Sequence[str], tenant: str) -> models.Filter:
    """The points with these ids in one tenant."""
    return models.Filter(must=[models.HasIdCondition(has_id=list(ids)), _tenant_condition(tenant)])


def sources_filter(source_uris: Sequence[str], tenant: str | None) -> models.Filter:
    """The points of these source objects (of one tenant)."""
    must: list[Any] = [
        models.FieldCondition(key="source_uri", match=models.MatchAny(any=list(source_uris)))
    ]
    if tenant is not None:
        must.append(_tenant_condition(tenant))
    return models.Filter(must=must)


Channel = tuple[Any, str, float]
"""One engine query: the query vector, the vector name it searches and its fusion weight."""


def channels(query: HybridQuery, bm25: Bm25 | None) -> list[Channel]:
    """One engine query per channel (dense probes, then keywords).

    A keyword text made only of stopwords contributes no channel: it can match nothing.
    """
    found: list[Channel] = [_dense(probe) for probe in query.dense]
    if query.keyword_text and bm25 is not None:
        encoded = bm25.embed_query(query.keyword_text)
        if encoded.indices:
            found.append((sparse(encoded), KEYWORDS, query.keyword_weight))
    return found


def _dense(probe: DenseProbe) -> Channel:
    return (probe.vector.tolist(), probe.vector_name, probe.weight)


def single_request(channel: Channel, query: HybridQuery, *, limit: int) -> models.QueryRequest:
    """One channel queried directly (raw similarity or BM25 scores)."""
    vector, using, _ = channel
    return models.QueryRequest(
        query=vector,
        using=using,
        filter=filters.restrict(query.tenant, query.filter),
        limit=limit,
        with_payload=True,
    )


def fused_request(found: list[Channel], query: HybridQuery) -> models.QueryRequest:
    """All channels as prefetches, fused by the engine without weights.

    Qdrant's RRF is ``1 / (k + rank)`` with 0-based ranks (server and local mode alike);
    passing ``k + 1`` yields the canonical 1-based formula, so scores match client-side fusion.
    """
    restrict = filters.restrict(query.tenant, query.filter)
    prefetch = [
        models.Prefetch(query=vector, using=using, filter=restrict, limit=query.candidate_limit)
        for vector, using, _ in found
    ]
    fusion: Any = (
        models.RrfQuery(rrf=models.Rrf(k=query.rrf_k + 1))
        if query.fusion is FusionMethod.RRF
        else models.FusionQuery(fusion=models.Fusion.DBSF)
    )
    return models.QueryRequest(
        prefetch=prefetch,
        query=fusion,
        filter=restrict,
        limit=query.k + TIE_MARGIN,
        with_payload=True,
    )


def to_hits(points: Sequence[models.ScoredPoint]) -> list[Hit]:
    """Hits from scored points."""
    return [Hit(id=str(p.id), score=float(p.score), payload=p.payload or {}) for p in points]
