"""Building ``SearchReply`` messages from ranked hits."""

from __future__ import annotations

import uuid as uuid_lib

from weaviate.proto.v1 import base_pb2, properties_pb2, search_get_pb2

from .errors import no_such_prop
from .model import LEGACY_VECTOR, Collection
from .ranking import Hit
from .values import to_grpc_value
from .vectors import pack_f32


def selected_properties(collection: Collection, req: search_get_pb2.SearchRequest) -> list[str]:
    """Names of the properties a request asks to be returned.

    No ``properties`` message, or ``return_all_nonref_properties``, means every non-reference,
    non-blob property, as in Weaviate; otherwise only the listed ones (unknown names fail).
    """
    everything = [
        p["name"]
        for p in collection.config.get("properties", [])
        if p["dataType"][0][:1].islower() and p["dataType"][0] != "blob"
    ]
    if not req.HasField("properties") or req.properties.return_all_nonref_properties:
        return everything
    names = list(req.properties.non_ref_properties)
    names += [o.prop_name for o in req.properties.object_properties]
    for name in names:
        if name not in collection.props:
            raise no_such_prop(name, collection.name)
    return names


def _vectors(collection: Collection, hit: Hit, meta: search_get_pb2.MetadataRequest) -> dict:
    out: dict = {}
    if not collection.named_vectors:
        if meta.vector and hit.obj.vectors.get(LEGACY_VECTOR):
            out["vector_bytes"] = pack_f32(hit.obj.vectors[LEGACY_VECTOR])  # type: ignore[arg-type]
        return out
    wanted = list(collection.vector_spaces) if meta.vector else list(meta.vectors)
    vecs = [
        base_pb2.Vectors(
            name=name,
            vector_bytes=pack_f32(hit.obj.vectors[name]),  # type: ignore[arg-type]
            type=base_pb2.Vectors.VECTOR_TYPE_SINGLE_FP32,
        )
        for name in wanted
        if hit.obj.vectors.get(name)
    ]
    if vecs:
        out["vectors"] = vecs
    return out


def metadata(
    collection: Collection, hit: Hit, meta: search_get_pb2.MetadataRequest | None
) -> search_get_pb2.MetadataResult:
    """The ``MetadataResult`` for one hit, honouring what was requested."""
    result = search_get_pb2.MetadataResult()
    if meta is None:
        return result
    if meta.uuid:
        result.id = hit.obj.uuid
        result.id_as_bytes = uuid_lib.UUID(hit.obj.uuid).bytes
    if meta.creation_time_unix:
        result.creation_time_unix = hit.obj.created_ms
        result.creation_time_unix_present = True
    if meta.last_update_time_unix:
        result.last_update_time_unix = hit.obj.updated_ms
        result.last_update_time_unix_present = True
    if meta.distance and hit.distance is not None:
        result.distance = hit.distance
        result.distance_present = True
    if meta.certainty and hit.certainty is not None:
        result.certainty = hit.certainty
        result.certainty_present = True
    if meta.score and hit.score is not None:
        result.score = hit.score
        result.score_present = True
    if meta.explain_score and hit.explain is not None:
        result.explain_score = hit.explain
        result.explain_score_present = True
    for key, value in _vectors(collection, hit, meta).items():
        if key == "vectors":
            result.vectors.extend(value)
        else:
            setattr(result, key, value)
    return result


def search_reply(
    collection: Collection, hits: list[Hit], req: search_get_pb2.SearchRequest, took: float
) -> search_get_pb2.SearchReply:
    """Assemble the reply for ``hits`` (already paginated)."""
    names = selected_properties(collection, req)
    meta = req.metadata if req.HasField("metadata") else None
    results = []
    for hit in hits:
        fields = {
            name: to_grpc_value(collection.data_type(name), hit.obj.properties[name])
            for name in names
            if name in hit.obj.properties
        }
        props = search_get_pb2.PropertiesResult(
            target_collection=collection.name,
            non_ref_props=properties_pb2.Properties(fields=fields),
        )
        results.append(
            search_get_pb2.SearchResult(properties=props, metadata=metadata(collection, hit, meta))
        )
    return search_get_pb2.SearchReply(took=took, results=results)
