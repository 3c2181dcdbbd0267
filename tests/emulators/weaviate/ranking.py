"""Exact vector ranking (single and multi-target) and hybrid fusion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from .errors import EmulatorError, Invalid
from .model import Collection, Shard, StoredObject
from .query_vectors import VectorQuery
from .vectors import certainty, distance


@dataclass
class Hit:
    """One ranked object plus the metadata the ranking produced."""

    obj: StoredObject
    distance: float | None = None
    certainty: float | None = None
    score: float | None = None
    explain: str | None = None


def vector_hits(
    collection: Collection, shard: Shard, allowed: list[StoredObject], query: VectorQuery
) -> list[Hit]:
    """Brute-force nearest neighbours of ``query`` among ``allowed``, closest first."""
    spaces = collection.vector_spaces
    for target, vec in query.pairs:
        known = shard.dims.get(target)
        if known is not None and known != len(vec):
            raise EmulatorError(
                "vector search: knn search: distance between entrypoint and query node: "
                f"vector lengths don't match: {known} vs {len(vec)}"
            )
    metrics = {t: spaces[t].distance for t, _ in query.pairs}
    if query.certainty is not None and any(m != "cosine" for m in metrics.values()):
        raise Invalid(
            "can't compute and return certainty when vector index is not configured with cosine"
        )
    per_target: dict[int, dict[str, float]] = {}
    for i, (target, vec) in enumerate(query.pairs):
        per_target[i] = {}
        for obj in allowed:
            stored = obj.vectors.get(target)
            if stored and not isinstance(stored[0], list):
                flat = cast(list[float], stored)
                per_target[i][obj.uuid] = distance(metrics[target], vec, flat)
    candidates = [o for o in allowed if all(o.uuid in d for d in per_target.values())]
    hits = []
    for obj in candidates:
        dists = [per_target[i][obj.uuid] for i in per_target]
        dist = _combine(query, dists, per_target, obj.uuid)
        metric = next(iter(metrics.values()))
        hit = Hit(obj=obj, distance=dist, certainty=certainty(metric, dist))
        if query.distance is not None and dist > query.distance:
            continue
        if query.certainty is not None and (hit.certainty or 0.0) < query.certainty:
            continue
        hits.append(hit)
    hits.sort(key=lambda h: (h.distance, h.obj.doc_id))
    return hits


def _combine(
    query: VectorQuery, dists: list[float], per_target: dict[int, dict[str, float]], uuid: str
) -> float:
    if len(dists) == 1:
        return dists[0]
    targets = [t for t, _ in query.pairs]
    if query.combination == "min":
        return min(dists)
    if query.combination == "sum":
        return sum(dists)
    if query.combination == "average":
        return sum(dists) / len(dists)
    if query.combination == "manual":
        return sum(query.weights.get(t, 1.0) * d for t, d in zip(targets, dists, strict=False))
    if query.combination == "relative":
        total = 0.0
        for i, t in enumerate(targets):
            values = per_target[i].values()
            lo, hi = min(values), max(values)
            norm = 0.0 if hi == lo else (per_target[i][uuid] - lo) / (hi - lo)
            total += query.weights.get(t, 1.0) * norm
        return total
    raise Invalid(f"unknown combination method {query.combination}")


def fuse_ranked(sets: list[tuple[str, float, list[Hit], list[float]]]) -> list[Hit]:
    """Weaviate's rankedFusion: score = sum(weight / (rank + 60)), rank starting at 0.

    Each set is (name, weight, hits in rank order, secondary sort values).
    """
    combined: dict[str, Hit] = {}
    secondary: dict[str, float] = {}
    for name, weight, hits, sort_values in sets:
        for rank, (hit, sort_value) in enumerate(zip(hits, sort_values, strict=False)):
            contribution = weight / (rank + 60)
            prev = combined.get(hit.obj.uuid)
            note = f"\nHybrid (Result Set {name}) Document {hit.obj.uuid} contributed " + (
                f"{contribution} to the score"
            )
            if prev is not None:
                hit.score = (prev.score or 0.0) + contribution
                hit.explain = (prev.explain or "") + note
                hit.distance = hit.distance if hit.distance is not None else prev.distance
            else:
                hit.score = contribution
                hit.explain = (hit.explain or "") + note
            combined[hit.obj.uuid] = hit
            secondary[hit.obj.uuid] = sort_value
    return sorted(combined.values(), key=lambda h: (-(h.score or 0.0), -secondary[h.obj.uuid]))


def fuse_relative(sets: list[tuple[str, float, list[Hit], list[float]]]) -> list[Hit]:
    """Weaviate's relativeScoreFusion: min-max normalise each set, then weighted sum.

    A set whose scores are all equal contributes its full weight to each of its members.
    """
    combined: dict[str, Hit] = {}
    secondary: dict[str, float] = {}
    for name, weight, hits, sort_values in sets:
        if not hits:
            continue
        lo, hi = min(sort_values), max(sort_values)
        for hit, value in zip(hits, sort_values, strict=False):
            score = weight if hi == lo else weight * (value - lo) / (hi - lo)
            note = (
                f"\nHybrid (Result Set {name}) Document {hit.obj.uuid}: original score {value}, "
                f"normalized score: {score}"
            )
            prev = combined.get(hit.obj.uuid)
            if prev is not None:
                score += prev.score or 0.0
                note += " - " + (prev.explain or "")
                hit.distance = hit.distance if hit.distance is not None else prev.distance
            hit.score = score
            hit.explain = note
            combined[hit.obj.uuid] = hit
            secondary[hit.obj.uuid] = value
    return sorted(combined.values(), key=lambda h: (-(h.score or 0.0), -secondary[h.obj.uuid]))
