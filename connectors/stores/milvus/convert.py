"""Rows, filter expressions and hits for Milvus.

Filters are built as expression strings: Milvus Lite does not support filter templates, and
string literals are JSON-quoted (double quotes, backslash escapes), which Milvus parses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mmingest.connectors.stores.milvus.schema import (
    MAX_VARCHAR,
    PAYLOAD,
    SCALARS,
    TEXT,
    presence_field,
)
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.embedding import Distance
from mmingest.schemas.points import Point
from mmingest.schemas.query import Hit

OUTPUT_FIELDS = [*SCALARS, PAYLOAD]


def literal(value: str) -> str:
    """A Milvus string literal."""
    return json.dumps(value, ensure_ascii=False)


def in_list(field: str, values: Sequence[str]) -> str:
    """``field in [...]``."""
    return f"{field} in [{', '.join(literal(v) for v in values)}]"


def restrict(*conditions: str | None) -> str:
    """The conjunction of the given conditions ("" when there are none)."""
    return " and ".join(f"({c})" for c in conditions if c)


def tenant_condition(tenant: str | None) -> str | None:
    """Restrict to one tenant (None: no restriction)."""
    return None if tenant is None else f"tenant == {literal(tenant)}"


def presence_condition(vector_name: str) -> str:
    """Only points that have a real ``vector_name`` vector."""
    return f"{presence_field(vector_name)} == true"


def _placeholder(dimension: int) -> list[float]:
    # A unit vector is valid under every metric (cosine rejects zero vectors on servers);
    # it is never searched, since searches filter on has_<name>.
    vector = [0.0] * dimension
    vector[0] = 1.0
    return vector


def _clip_utf8(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")


def to_rows(points: Sequence[Point], spec: CollectionSpec) -> list[dict[str, Any]]:
    """One row per point; ``payload`` keeps every field that has no scalar field."""
    placeholders = {name: _placeholder(v.dimension) for name, v in spec.vectors.items()}
    rows = []
    for point in points:
        payload = point.payload
        row: dict[str, Any] = {"id": point.id}
        for name, placeholder in placeholders.items():
            vector = point.vectors.get(name)
            row[name] = placeholder if vector is None else vector
            row[presence_field(name)] = vector is not None
        if spec.keywords:
            row[TEXT] = _clip_utf8(point.keyword_text or "", MAX_VARCHAR)
        row["tenant"] = payload.get("tenant") or ""
        for field in ("source_uri", "content_hash", "kind", "page"):
            row[field] = payload.get(field)
        row[PAYLOAD] = {k: v for k, v in payload.items() if k not in SCALARS}
        rows.append(row)
    return rows


def payload_of(entity: dict[str, Any]) -> dict[str, Any]:
    """The point payload from a returned entity (scalar fields merged back)."""
    payload = dict(entity.get(PAYLOAD) or {})
    for field in SCALARS:
        payload[field] = entity.get(field)
    payload["tenant"] = payload["tenant"] or None
    return payload


def dense_score(distance: float, metric: Distance) -> float:
    """Milvus's score as Qdrant reports it: cosine / dot similarity, Euclidean distance."""
    if metric is Distance.EUCLID:
        return math.sqrt(max(distance, 0.0))  # Milvus's L2 is squared
    return float(distance)


def hits(results: Any, score: Any) -> list[Hit]:
    """Hits from one query's search results; ``score`` maps Milvus's distance to ours."""
    return [
        Hit(
            id=str(hit["id"]),
            score=score(float(hit["distance"])),
            payload=payload_of(hit["entity"]),
        )
        for hit in results
    ]


def bm25_score(distance: float) -> float:
    """BM25 is never negative; Milvus Lite reports it negated (and sorts accordingly)."""
    return abs(distance)


def as_list(vector: np.ndarray) -> list[float]:
    """A query vector in the form pymilvus sends."""
    return [float(x) for x in vector]
