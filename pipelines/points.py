"""Build store points from embedded assets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mmingest.schemas.assets import Asset
from mmingest.schemas.embedding import EmbedderInfo
from mmingest.schemas.points import Point, Vector, scoped_id


def build_payload(
    asset: Asset, *, embedder: EmbedderInfo, tenant: str | None, ingested_at: datetime | str
) -> dict[str, Any]:
    """The payload every store records for a point.

    The object's URI is stored, never its bytes; ``embedder`` names the vector space.
    ``ingested_at`` may be given already formatted (once per batch on the hot path).
    """
    stamp = ingested_at if isinstance(ingested_at, str) else ingested_at.isoformat()
    return _payload(asset, _vector_space(embedder), tenant, stamp)


def _vector_space(embedder: EmbedderInfo) -> dict[str, Any]:
    return {"provider": embedder.provider, "model": embedder.model, "dimension": embedder.dimension}


def _payload(asset: Asset, space: dict[str, Any], tenant: str | None, stamp: str) -> dict[str, Any]:
    # ``space`` and the asset's ``fields`` are shared, not copied (a new dict of each per point
    # cost ~1.5 of the pipeline's own ~18 us a catalog record): assets and points are frozen,
    # and nothing writes into a payload once built (stores convert it; a contract test holds
    # this for every store).
    payload: dict[str, Any] = {
        "source_uri": asset.source_uri,
        "content_hash": asset.content_hash,
        "kind": str(asset.kind),
        "page": asset.page,
        "caption": asset.caption,
        "title": asset.title,
        "tenant": tenant,
        "embedder": space,
        "ingested_at": stamp,
    }
    if asset.fields:
        payload["fields"] = asset.fields
    return payload


def build_point(
    asset: Asset,
    vectors: Mapping[str, Vector],
    *,
    embedder: EmbedderInfo,
    tenant: str | None,
    ingested_at: datetime | str,
) -> Point:
    """The point for ``asset`` with its named vectors and keyword text."""
    return Point.of(
        scoped_id(asset.id, tenant),
        dict(vectors),
        asset.caption,
        build_payload(asset, embedder=embedder, tenant=tenant, ingested_at=ingested_at),
    )


def build_points(
    assets: Sequence[Asset],
    vectors: Sequence[Mapping[str, Vector]],
    *,
    embedder: EmbedderInfo,
    tenant: str | None,
    ingested_at: datetime | str,
) -> list[Point]:
    """:func:`build_point` for each asset and its vectors (a batch, on the ingest hot path)."""
    stamp = ingested_at if isinstance(ingested_at, str) else ingested_at.isoformat()
    space = _vector_space(embedder)  # one per batch: every point of it shares the dict
    of = Point.of
    return [
        of(
            scoped_id(asset.id, tenant),
            dict(named),
            asset.caption,
            _payload(asset, space, tenant, stamp),
        )
        for asset, named in zip(assets, vectors, strict=True)
    ]
