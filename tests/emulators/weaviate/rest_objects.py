"""REST ``/v1/objects`` handlers (single-object insert/get/exists/replace/update/delete)."""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any

from .errors import Invalid, NotFound
from .model import LEGACY_VECTOR, Collection, StoredObject, now_ms
from .registry import Registry
from .values import validate_properties
from .writes import check_vectors, parse_uuid, store

Response = tuple[int, Any]


def object_json(
    collection: Collection, obj: StoredObject, tenant: str | None, with_vector: bool
) -> dict[str, Any]:
    """An object in Weaviate's REST representation."""
    out: dict[str, Any] = {
        "class": collection.name,
        "id": obj.uuid,
        "properties": dict(obj.properties),
        "creationTimeUnix": obj.created_ms,
        "lastUpdateTimeUnix": obj.updated_ms,
    }
    if tenant:
        out["tenant"] = tenant
    if with_vector:
        if collection.named_vectors:
            out["vectors"] = dict(obj.vectors)
        elif obj.vectors.get(LEGACY_VECTOR):
            out["vector"] = obj.vectors[LEGACY_VECTOR]
    return out


def _body_vectors(body: dict[str, Any]) -> tuple[dict[str, Any], list[float] | None]:
    return dict(body.get("vectors") or {}), body.get("vector") or None


def create(registry: Registry, body: dict[str, Any]) -> Response:
    """``POST /v1/objects``."""
    with registry.lock:
        collection = registry.resolve(str(body.get("class", "")))
        tenant = body.get("tenant")
        shard = collection.shard(tenant)
        uid = parse_uuid(str(body["id"])) if body.get("id") else str(uuid_lib.uuid4())
        if uid in shard.objects:
            raise Invalid(f"id '{uid}' already exists")
        obj = store(collection, shard, uid, body.get("properties") or {}, *_body_vectors(body))
        return 200, object_json(collection, obj, tenant, with_vector=True)


def _locate(
    registry: Registry, class_name: str, raw_id: str, tenant: str | None
) -> tuple[Collection, Any, str]:
    collection = registry.resolve(class_name)
    shard = collection.shard(tenant)
    try:
        uid = parse_uuid(raw_id)
    except Invalid:
        raise NotFound(f"object {raw_id} not found") from None
    return collection, shard, uid


def get(registry: Registry, class_name: str, raw_id: str, params: dict[str, str]) -> Response:
    """``GET`` and ``HEAD /v1/objects/{class}/{id}``."""
    with registry.lock:
        collection, shard, uid = _locate(registry, class_name, raw_id, params.get("tenant"))
        obj = shard.objects.get(uid)
        if obj is None:
            return 404, None
        with_vector = "vector" in params.get("include", "")
        return 200, object_json(collection, obj, params.get("tenant"), with_vector)


def delete(registry: Registry, class_name: str, raw_id: str, params: dict[str, str]) -> Response:
    """``DELETE /v1/objects/{class}/{id}``: 204, or 404 when absent."""
    with registry.lock:
        _collection, shard, uid = _locate(registry, class_name, raw_id, params.get("tenant"))
        return (204, None) if shard.delete(uid) else (404, None)


def replace(registry: Registry, class_name: str, raw_id: str, body: dict[str, Any]) -> Response:
    """``PUT /v1/objects/{class}/{id}``: full replacement of properties and vectors."""
    with registry.lock:
        collection, shard, uid = _locate(registry, class_name, raw_id, body.get("tenant"))
        if uid not in shard.objects:
            raise NotFound(f"object {uid} not found")
        obj = store(collection, shard, uid, body.get("properties") or {}, *_body_vectors(body))
        return 200, object_json(collection, obj, body.get("tenant"), with_vector=True)


def update(registry: Registry, class_name: str, raw_id: str, body: dict[str, Any]) -> Response:
    """``PATCH /v1/objects/{class}/{id}``: merge properties and vectors into the object."""
    with registry.lock:
        collection, shard, uid = _locate(registry, class_name, raw_id, body.get("tenant"))
        current = shard.objects.get(uid)
        if current is None:
            raise NotFound(f"object {uid} not found")
        props = {
            **current.properties,
            **validate_properties(collection, body.get("properties") or {}),
        }
        vectors = {**current.vectors, **check_vectors(collection, *_body_vectors(body))}
        shard.check_dims(vectors)
        current.properties, current.vectors, current.updated_ms = props, vectors, now_ms()
        return 204, None
