"""The points every contract test writes: six captioned images (one without a caption), and
multi-page documents sharing a source, in any number of tenants."""

from __future__ import annotations

import numpy as np

from mmingest.schemas import CollectionSpec, EmbedderInfo, Point, point_id
from mmingest.schemas.points import CAPTION, IMAGE

DIM = 8
INFO = EmbedderInfo(provider="test", model="contract", dimension=DIM)
SPEC = CollectionSpec.for_embedder("contract", INFO)

CAPTIONS = [
    "a red circle on a white background",
    "a blue square on a black background",
    "a green triangle next to a red square",
    "quarterly sales report for yellow umbrellas",
    "an orange cross",
    "",
]


def unit(seed: int, dim: int = DIM) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def payload(uri: str, index: int, caption: str, tenant: str | None, page: int | None) -> dict:
    return {
        "source_uri": uri,
        "content_hash": f"h{index}",
        "kind": "image" if page is None else "pdf_page",
        "caption": caption or None,
        "title": None,
        "tenant": tenant,
        "page": page,
        "embedder": {"provider": "test", "model": "contract", "dimension": DIM},
        "ingested_at": "2026-01-02T03:04:05+00:00",
        "fields": {"width": 640 + index, "format": "jpeg", "tags": ["a", "b"]},
    }


def make_points(
    tenant: str | None = None, *, offset: int = 0, dim: int = DIM, hash_prefix: str = "h"
) -> list[Point]:
    points = []
    for index, caption in enumerate(CAPTIONS):
        uri = f"memory://contract/{tenant or 'shared'}/{index}.jpg"
        vectors = {IMAGE: unit(offset + 2 * index, dim)}
        if caption:
            vectors[CAPTION] = unit(offset + 2 * index + 1, dim)
        data = payload(uri, index, caption, tenant, None)
        data["content_hash"] = f"{hash_prefix}{index}"
        points.append(
            Point(id=point_id(uri), vectors=vectors, keyword_text=caption or None, payload=data)
        )
    return points


def make_pages(uri: str, pages: int, tenant: str | None = None) -> list[Point]:
    """The pages of one PDF: one source, several points."""
    points = []
    for page in range(1, pages + 1):
        text = f"page {page} of the annual umbrella inventory"
        points.append(
            Point(
                id=point_id(uri, str(page)),
                vectors={IMAGE: unit(1000 + page), CAPTION: unit(2000 + page)},
                keyword_text=text,
                payload=payload(uri, 100 + page, text, tenant, page),
            )
        )
    return points


def in_tenant(points: list[Point], tenant: str) -> list[Point]:
    """The same objects (same ids and sources) written by ``tenant``, with other hashes."""
    return [
        point.model_copy(
            update={
                "payload": {
                    **point.payload,
                    "tenant": tenant,
                    "content_hash": f"{tenant}-{point.payload['content_hash']}",
                }
            }
        )
        for point in points
    ]


def make_outlier_points() -> tuple[np.ndarray, list[Point]]:
    """A query vector and 15 points: one identical to it, 14 nearly orthogonal to it, so its
    dense score lies beyond mean + 3 std (DBSF's cut-off). The 14 are spaced 0.02 apart in
    score so every engine ranks them alike (near-ties would make RRF ranks arbitrary)."""
    query = unit(1)
    away = unit(5) - float(unit(5) @ query) * query
    away /= np.linalg.norm(away)
    points = []
    for index in range(15):
        vector = query if index == 0 else away + 0.02 * index * query
        vector = vector / np.linalg.norm(vector)
        uri = f"memory://outliers/{index}.jpg"
        text = "red" if index < 3 else "blue"
        points.append(
            Point(
                id=point_id(uri),
                vectors={IMAGE: vector, CAPTION: vector},
                keyword_text=text,
                payload=payload(uri, index, text, None, None),
            )
        )
    return query, points


def hashes(entries):
    """id -> content hash of a scan."""
    return {entry.id: entry.content_hash for entry in entries}
