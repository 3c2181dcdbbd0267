"""The gRPC ``Search`` call: fetch, cursor, sort, near_vector/near_object, bm25 and hybrid."""

from __future__ import annotations

import time
from typing import Any

from weaviate.proto.v1 import base_search_pb2, search_get_pb2

from .errors import EmulatorError, Invalid, NotFound, NoVectorizer
from .filters import compile_filter, stopwords
from .model import Collection, Shard, StoredObject
from .query_vectors import VectorQuery, decode_near_vector, near_vector_query, resolve_targets
from .ranking import Hit, fuse_ranked, fuse_relative, vector_hits
from .registry import Registry
from .reply import search_reply
from .text import Bm25Params, SearchProp, bm25
from .vectors import unpack_f32

MAX_RESULTS = 10000
HYBRID_SUBSEARCH_LIMIT = 100
_MODULE_SEARCHES = (
    "near_text",
    "near_image",
    "near_audio",
    "near_video",
    "near_depth",
    "near_thermal",
    "near_imu",
)
_OP = base_search_pb2.SearchOperatorOptions


def _search_kind(req: search_get_pb2.SearchRequest) -> str | None:
    for kind in ("near_vector", "near_object", "bm25_search", "hybrid_search", *_MODULE_SEARCHES):
        if req.HasField(kind):  # type: ignore[arg-type]
            return kind
    return None


def _reject_unsupported(req: search_get_pb2.SearchRequest, kind: str | None) -> None:
    if req.HasField("group_by"):
        raise Invalid("weaviate emulator: group_by is not emulated")
    if req.HasField("generative") or req.HasField("rerank"):
        raise NoVectorizer("generative search / rerank")
    if req.HasField("boost") and len(req.boost.conditions):
        raise Invalid("weaviate emulator: boost is not emulated")
    if req.autocut:
        raise Invalid("weaviate emulator: autocut is not emulated")
    if req.sort_by and kind is not None:
        raise Invalid("sorting cannot be combined with search")
    if req.after:
        problem = None
        if req.HasField("filters"):
            problem = "where"
        elif req.offset:
            problem = "offset"
        elif kind is not None or req.sort_by:
            problem = "other params"
        if problem:
            raise Invalid(
                f"cursor api: invalid 'after' parameter: {problem} cannot be set with after "
                "and limit parameters"
            )


def _sorted(objs: list[StoredObject], sort_by: Any) -> list[StoredObject]:
    out = list(objs)
    for sort in reversed(sort_by):
        path = sort.path[0]

        def key(o: StoredObject, path: str = path) -> tuple[int, Any]:
            value = {
                "_id": o.uuid,
                "_creationTimeUnix": o.created_ms,
                "_lastUpdateTimeUnix": o.updated_ms,
            }.get(path, o.properties.get(path))
            return (0, "") if value is None else (1, value)

        out.sort(key=key, reverse=not sort.ascending)
    return out


def _fetch(req: search_get_pb2.SearchRequest, allowed: list[StoredObject]) -> list[Hit]:
    if req.after:
        after = req.after.lower()
        objs = sorted((o for o in allowed if o.uuid > after), key=lambda o: o.uuid)
    elif req.sort_by:
        objs = _sorted(allowed, req.sort_by)
    elif req.HasField("filters"):
        objs = sorted(allowed, key=lambda o: o.doc_id)
    else:
        # Unfiltered listing walks the objects bucket, which is keyed (and ordered) by UUID.
        objs = sorted(allowed, key=lambda o: o.uuid)
    return [Hit(obj=o) for o in objs]


def keyword_hits(
    collection: Collection,
    shard: Shard,
    allowed: list[StoredObject],
    query: str,
    prop_names: list[str],
    operator: Any,
) -> list[Hit]:
    """BM25 over ``prop_names`` (or every searchable text property), best first."""
    props = []
    for raw in prop_names or [p["name"] for p in collection.text_props()]:
        name, _, boost = raw.partition("^")
        prop = collection.props.get(name)
        if prop is None or prop not in collection.text_props():
            raise Invalid(
                f"Searching by property '{name}' requires inverted index. Is `indexSearchable` "
                f"option of property '{name}' enabled? Set it to `true` or leave empty"
            )
        props.append(SearchProp(name, prop["tokenization"], float(boost or 1)))
    bm25_cfg = collection.config["invertedIndexConfig"]["bm25"]
    params = Bm25Params(
        query=query,
        props=props,
        k1=float(bm25_cfg.get("k1", 1.2)),
        b=float(bm25_cfg.get("b", 0.75)),
        stopwords=stopwords(collection),
        operator_and=operator is not None and operator.operator != _OP.OPERATOR_OR,
        minimum_match=(
            operator.minimum_or_tokens_match
            if operator is not None and operator.HasField("minimum_or_tokens_match")
            else 0
        ),
    )
    docs = {o.uuid: o.properties for o in shard.objects.values()}
    scored = bm25(docs, [o.uuid for o in allowed], params)
    by_id = {o.uuid: o for o in allowed}
    hits = [Hit(obj=by_id[u], score=s, explain=e) for u, (s, e) in scored.items()]
    hits.sort(key=lambda h: (-(h.score or 0.0), h.obj.doc_id))
    return hits


def _near_object(collection: Collection, shard: Shard, no: Any) -> VectorQuery:
    names, combination, weights = resolve_targets(
        collection, no.target_vectors, no.targets if no.HasField("targets") else None
    )
    source = shard.objects.get(no.id.lower())
    if source is None:
        raise NotFound(f"nearObject: could not find object with id {no.id}")
    pairs = []
    for name in names:
        if not source.vectors.get(name):
            raise Invalid(f"nearObject: object {no.id} has no vector '{name}'")
        pairs.append((name, source.vectors[name]))
    return VectorQuery(
        pairs=pairs,  # type: ignore[arg-type]
        combination=combination,
        weights=weights,
        distance=no.distance if no.HasField("distance") else None,
        certainty=no.certainty if no.HasField("certainty") else None,
    )


def _hybrid_vector(collection: Collection, hs: Any) -> VectorQuery:
    names, combination, weights = resolve_targets(
        collection, hs.target_vectors, hs.targets if hs.HasField("targets") else None
    )
    query = VectorQuery(combination=combination, weights=weights)
    if hs.HasField("near_text"):
        raise NoVectorizer("hybrid search with near_text")
    if hs.HasField("near_vector"):
        query.pairs = decode_near_vector(hs.near_vector, names)
        nv = hs.near_vector
        query.distance = nv.distance if nv.HasField("distance") else None
        query.certainty = nv.certainty if nv.HasField("certainty") else None
        return query
    if hs.vector_bytes:
        vec = unpack_f32(hs.vector_bytes)
    elif hs.vector:
        vec = list(hs.vector)
    elif hs.vectors:
        pairs = decode_near_vector(base_search_pb2.NearVector(vectors=hs.vectors), names)
        query.pairs = pairs
        return query
    else:
        raise NoVectorizer("hybrid search without a supplied vector (alpha > 0)")
    query.pairs = [(name, vec) for name in names]
    return query


def hybrid_hits(
    collection: Collection, shard: Shard, allowed: list[StoredObject], hs: Any, depth: int
) -> list[Hit]:
    """Weaviate's hybrid search: keyword set (weight 1-alpha) fused with vector set (alpha)."""
    if hs.use_alpha_param:
        alpha = hs.alpha_param if hs.HasField("alpha_param") else 0.7
    else:
        alpha = hs.alpha
    sub_limit = max(HYBRID_SUBSEARCH_LIMIT, depth)
    sets: list[tuple[str, float, list[Hit], list[float]]] = []
    keyword: list[Hit] = []
    if alpha < 1 and hs.query:
        operator = hs.bm25_search_operator if hs.HasField("bm25_search_operator") else None
        keyword = keyword_hits(collection, shard, allowed, hs.query, list(hs.properties), operator)[
            :sub_limit
        ]
        sets.append(("keyword", 1 - alpha, keyword, [h.score or 0.0 for h in keyword]))
    if alpha > 0:
        dense = vector_hits(collection, shard, allowed, _hybrid_vector(collection, hs))[:sub_limit]
        if hs.HasField("vector_distance"):
            too_far = {h.obj.uuid for h in dense if (h.distance or 0.0) > hs.vector_distance}
            dense = [h for h in dense if h.obj.uuid not in too_far]
            if sets:
                kept = [h for h in keyword if h.obj.uuid not in too_far]
                sets[0] = ("keyword", 1 - alpha, kept, [h.score or 0.0 for h in kept])
        sets.append(("vector", alpha, dense, [1 - (h.distance or 0.0) for h in dense]))
    ranked = hs.fusion_type == base_search_pb2.Hybrid.FUSION_TYPE_RANKED
    fused = fuse_ranked(sets) if ranked else fuse_relative(sets)
    for hit in fused:
        hit.distance = hit.certainty = None
    return fused


def run_search(
    registry: Registry, req: search_get_pb2.SearchRequest, default_limit: int
) -> search_get_pb2.SearchReply:
    """Execute a ``SearchRequest`` against the registry and build the reply."""
    started = time.perf_counter()
    with registry.lock:
        try:
            collection = registry.resolve(req.collection)
        except NotFound:
            raise EmulatorError(f"could not find class {req.collection} in schema") from None
        prefix = f"explorer: list class: search: object search at index {collection.name.lower()}: "
        shard = collection.shard(req.tenant, wrap=prefix)
        kind = _search_kind(req)
        _reject_unsupported(req, kind)
        allowed = sorted(shard.objects.values(), key=lambda o: o.doc_id)
        if req.HasField("filters"):
            predicate = compile_filter(collection, req.filters)
            allowed = [o for o in allowed if predicate(o)]
        limit = req.limit or default_limit
        offset = req.offset
        if offset + limit > MAX_RESULTS:
            raise Invalid(
                f"query maximum results exceeded: the total limit calculated from the provided "
                f"offset '{offset}' and limit '{limit}' exceeds {MAX_RESULTS}"
            )
        if kind is None:
            hits = _fetch(req, allowed)
        elif kind == "near_vector":
            hits = vector_hits(
                collection, shard, allowed, near_vector_query(collection, req.near_vector)
            )
        elif kind == "near_object":
            hits = vector_hits(
                collection, shard, allowed, _near_object(collection, shard, req.near_object)
            )
        elif kind == "bm25_search":
            operator = (
                req.bm25_search.search_operator
                if req.bm25_search.HasField("search_operator")
                else None
            )
            hits = keyword_hits(
                collection,
                shard,
                allowed,
                req.bm25_search.query,
                list(req.bm25_search.properties),
                operator,
            )
        elif kind == "hybrid_search":
            hits = hybrid_hits(collection, shard, allowed, req.hybrid_search, offset + limit)
        else:
            raise NoVectorizer(kind)
        page = hits[offset : offset + limit]
        return search_reply(collection, page, req, time.perf_counter() - started)
