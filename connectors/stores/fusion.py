"""Client-side fusion with the canonical formulas, for stores (or weights) without native fusion.

RRF: ``score(d) = sum_i w_i / (k + rank_i(d))`` with 1-based ranks over the channels that
returned ``d`` (Cormack et al., 2009). DBSF: each channel's scores are mapped linearly so that
mean - 3 std -> 0 and mean + 3 std -> 1 (sample std; a channel with one result or no spread
scores 0.5), then weighted and summed. Like Qdrant, which defined DBSF and runs it natively,
outliers beyond 3 std are not clamped (they score above 1 or below 0). Weighted (relative
score fusion, as Weaviate's ``relativeScoreFusion``): each channel's scores are mapped linearly
so that its lowest -> 0 and its highest -> 1 (a channel with one result or no spread scores 1),
then weighted and summed. Ties break on id so results are deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from mmingest.schemas.query import FusionMethod, Hit


def _ranked(scores: dict[str, float], payloads: dict[str, Hit], limit: int) -> list[Hit]:
    order = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [Hit(id=id_, score=score, payload=payloads[id_].payload) for id_, score in order]


def rrf(
    channels: Sequence[Sequence[Hit]], weights: Sequence[float], *, k: int, limit: int
) -> list[Hit]:
    """Weighted reciprocal rank fusion of ranked hit lists."""
    scores: dict[str, float] = {}
    first_seen: dict[str, Hit] = {}
    for hits, weight in zip(channels, weights, strict=True):
        for rank, hit in enumerate(hits, start=1):
            scores[hit.id] = scores.get(hit.id, 0.0) + weight / (k + rank)
            first_seen.setdefault(hit.id, hit)
    return _ranked(scores, first_seen, limit)


def _normalised(hits: Sequence[Hit]) -> list[float]:
    values = [hit.score for hit in hits]
    if len(values) < 2:
        return [0.5 for _ in values]
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    if std == 0:
        return [0.5 for _ in values]
    low, high = mean - 3 * std, mean + 3 * std
    return [(v - low) / (high - low) for v in values]


def _normalised_sum(
    channels: Sequence[Sequence[Hit]],
    weights: Sequence[float],
    normalise: Callable[[Sequence[Hit]], list[float]],
    limit: int,
) -> list[Hit]:
    scores: dict[str, float] = {}
    first_seen: dict[str, Hit] = {}
    for hits, weight in zip(channels, weights, strict=True):
        for hit, value in zip(hits, normalise(hits), strict=True):
            scores[hit.id] = scores.get(hit.id, 0.0) + weight * value
            first_seen.setdefault(hit.id, hit)
    return _ranked(scores, first_seen, limit)


def dbsf(channels: Sequence[Sequence[Hit]], weights: Sequence[float], *, limit: int) -> list[Hit]:
    """Distribution-based score fusion of scored hit lists."""
    return _normalised_sum(channels, weights, _normalised, limit)


def _min_max(hits: Sequence[Hit]) -> list[float]:
    values = [hit.score for hit in hits]
    if not values:
        return []
    low, high = min(values), max(values)
    if high == low:
        return [1.0 for _ in values]
    return [(v - low) / (high - low) for v in values]


def relative(
    channels: Sequence[Sequence[Hit]], weights: Sequence[float], *, limit: int
) -> list[Hit]:
    """Relative score fusion (min-max normalised, weighted sum) of scored hit lists."""
    return _normalised_sum(channels, weights, _min_max, limit)


TIE_MARGIN = 10
"""Extra results to ask an engine for, so ties at the cut-off can be settled on id."""


def settle_ties(hits: Sequence[Hit], limit: int) -> list[Hit]:
    """Order engine-fused hits like client-side fusion (score, then id) and cut to ``limit``.

    Engines leave equal fused scores in arbitrary order (hash maps); fetch
    ``limit + TIE_MARGIN`` hits from them and settle the order here.
    """
    return sorted(hits, key=lambda hit: (-hit.score, hit.id))[:limit]


def fuse(
    channels: Sequence[Sequence[Hit]],
    weights: Sequence[float],
    *,
    method: FusionMethod,
    rrf_k: int,
    limit: int,
) -> list[Hit]:
    """Fuse per-channel results with ``method``."""
    if method is FusionMethod.RRF:
        return rrf(channels, weights, k=rrf_k, limit=limit)
    if method is FusionMethod.WEIGHTED:
        return relative(channels, weights, limit=limit)
    return dbsf(channels, weights, limit=limit)
