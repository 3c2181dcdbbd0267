"""Objects, tenants and hits for Weaviate."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from typing import Any

from weaviate.classes.data import DataObject

from mmingest.connectors.stores.weaviate.schema import (
    IMAGE_DATA,
    PAYLOAD,
    SCALARS,
    TENANT_NAME,
    TEXT,
)
from mmingest.schemas.embedding import Distance
from mmingest.schemas.errors import InvalidInput
from mmingest.schemas.points import Point
from mmingest.schemas.query import Hit


def tenant_of(tenant: str | None, shared: str) -> str:
    """The Weaviate tenant holding points of ``tenant`` (``shared`` for none)."""
    if tenant is None:
        return shared
    if not TENANT_NAME.match(tenant):
        raise InvalidInput(
            f"tenant {tenant!r} is not a valid Weaviate tenant name (letters, digits, '_' and "
            "'-', at most 64 characters): choose another MMINGEST_TENANT"
        )
    return tenant


def by_tenant(points: Sequence[Point], shared: str) -> dict[str, list[Point]]:
    """Points grouped by the Weaviate tenant they belong to."""
    groups: dict[str, list[Point]] = {}
    for point in points:
        groups.setdefault(tenant_of(point.payload.get("tenant"), shared), []).append(point)
    return groups


def to_object(point: Point, *, with_image: bool) -> DataObject[Any, Any]:
    """A Weaviate object: scalar payload fields as properties, the rest as JSON.

    Without vectors (server-side vectorizer mode) Weaviate computes them from ``text`` and
    ``image_data``; vectors a point does carry are stored as given.
    """
    payload = point.payload
    properties: dict[str, Any] = {
        field: payload[field] for field in SCALARS if payload.get(field) is not None
    }
    properties[PAYLOAD] = json.dumps(
        {k: v for k, v in payload.items() if k not in SCALARS}, default=str
    )
    if point.keyword_text:
        properties[TEXT] = point.keyword_text
    if with_image and point.image_data is not None:
        properties[IMAGE_DATA] = base64.b64encode(point.image_data).decode("ascii")
    vectors: Any = dict(point.vectors) or None  # numpy arrays: the client packs them
    return DataObject(properties=properties, uuid=point.id, vector=vectors)


def payload_of(properties: dict[str, Any]) -> dict[str, Any]:
    """The point payload from an object's returned properties."""
    payload: dict[str, Any] = json.loads(properties.get(PAYLOAD) or "{}")
    for field in SCALARS:
        payload[field] = properties.get(field)
    return payload


def dense_score(distance: float, metric: Distance) -> float:
    """Weaviate's distance as the similarity Qdrant reports (cosine, dot) or L2 distance."""
    if metric is Distance.COSINE:
        return 1.0 - distance
    if metric is Distance.DOT:
        return -distance
    return math.sqrt(max(distance, 0.0))  # Weaviate's l2-squared


def to_hits(objects: Sequence[Any], score: Any) -> list[Hit]:
    """Hits from returned objects; ``score(metadata)`` extracts our score."""
    return [
        Hit(id=str(o.uuid), score=float(score(o.metadata)), payload=payload_of(o.properties))
        for o in objects
    ]
