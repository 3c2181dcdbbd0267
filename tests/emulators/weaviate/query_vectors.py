"""Target-vector resolution and query-vector decoding for near_vector and hybrid."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from weaviate.proto.v1 import base_pb2, base_search_pb2

from .errors import EmulatorError, Invalid
from .model import LEGACY_VECTOR, Collection
from .vectors import unpack_f32

_COMBINATIONS = {
    base_search_pb2.COMBINATION_METHOD_UNSPECIFIED: "min",
    base_search_pb2.COMBINATION_METHOD_TYPE_MIN: "min",
    base_search_pb2.COMBINATION_METHOD_TYPE_SUM: "sum",
    base_search_pb2.COMBINATION_METHOD_TYPE_AVERAGE: "average",
    base_search_pb2.COMBINATION_METHOD_TYPE_MANUAL: "manual",
    base_search_pb2.COMBINATION_METHOD_TYPE_RELATIVE_SCORE: "relative",
}


@dataclass
class VectorQuery:
    """Resolved vector search: (target, query vector) pairs and how to combine them."""

    pairs: list[tuple[str, list[float]]] = field(default_factory=list)
    combination: str = "min"
    weights: dict[str, float] = field(default_factory=dict)
    distance: float | None = None
    certainty: float | None = None


def resolve_targets(
    collection: Collection, target_vectors: Any, targets: base_search_pb2.Targets | None
) -> tuple[list[str], str, dict[str, float]]:
    """Target names, combination method and weights, validated like Weaviate does."""
    names = list(targets.target_vectors) if targets is not None else list(target_vectors)
    combination = _COMBINATIONS.get(targets.combination, "min") if targets is not None else "min"
    weights: dict[str, float] = {}
    if targets is not None:
        for wt in targets.weights_for_targets:
            weights[wt.target] = weights.get(wt.target, 0.0) + wt.weight
    if combination == "manual" and len(weights) != len(set(names)):
        raise Invalid(
            f"number of weights ({len(weights)}) does not match number of targets ({len(names)})"
        )
    spaces = collection.vector_spaces
    if not names:
        if not collection.named_vectors:
            return [LEGACY_VECTOR], combination, weights
        if len(spaces) > 1:
            raise EmulatorError(
                f"extract target vectors: class {collection.name} has multiple vectors, but no "
                "target vectors were provided"
            )
        return list(spaces), combination, weights
    for name in names:
        if not collection.named_vectors or name not in spaces:
            available = " ".join(f"{n}:{{...}}" for n in spaces) if collection.named_vectors else ""
            raise EmulatorError(
                f"extract target vectors: class {collection.name} does not have named vector "
                f"{name} configured. Available named vectors map[{available}]"
            )
    return names, combination, weights


def _decode(vectors: Any) -> list[list[float]]:
    out = []
    for vec in vectors:
        if vec.type == base_pb2.Vectors.VECTOR_TYPE_MULTI_FP32:
            raise Invalid("weaviate emulator: multi-vector (ColBERT-style) search is not emulated")
        out.append(unpack_f32(vec.vector_bytes))
    return out


def decode_near_vector(nv: base_search_pb2.NearVector, names: list[str]) -> list[tuple[str, Any]]:
    """(target, vector) pairs from any of the NearVector encodings the client uses."""
    pairs: list[tuple[str, list[float]]] = []
    if nv.vector_for_targets:
        for vft in nv.vector_for_targets:
            vecs = _decode(vft.vectors) if vft.vectors else [unpack_f32(vft.vector_bytes)]
            pairs.extend((vft.name, v) for v in vecs)
        return pairs
    if nv.vector_per_target:
        return [(name, unpack_f32(raw)) for name, raw in nv.vector_per_target.items()]
    if nv.vectors:
        single = _decode(nv.vectors)
    elif nv.vector_bytes:
        single = [unpack_f32(nv.vector_bytes)]
    elif nv.vector:
        single = [list(nv.vector)]
    else:
        raise Invalid("near_vector: no vector given")
    return [(name, vec) for name in names for vec in single]


def near_vector_query(collection: Collection, nv: base_search_pb2.NearVector) -> VectorQuery:
    """Resolve a ``NearVector`` message into a :class:`VectorQuery`."""
    names, combination, weights = resolve_targets(
        collection, nv.target_vectors, nv.targets if nv.HasField("targets") else None
    )
    if nv.HasField("distance") and nv.HasField("certainty"):
        raise Invalid("near_vector: cannot provide distance and certainty")
    pairs = decode_near_vector(nv, names)
    return VectorQuery(
        pairs=pairs,
        combination=combination,
        weights=weights,
        distance=nv.distance if nv.HasField("distance") else None,
        certainty=nv.certainty if nv.HasField("certainty") else None,
    )
