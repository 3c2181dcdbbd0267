"""Object writes shared by gRPC ``BatchObjects`` and REST ``/v1/objects``, plus BatchDelete."""

from __future__ import annotations

import re
import time
import uuid as uuid_lib
from typing import Any

from weaviate.proto.v1 import batch_delete_pb2, batch_pb2

from .errors import EmulatorError, Invalid
from .filters import compile_filter
from .model import LEGACY_VECTOR, Collection, Shard, StoredObject, now_ms
from .registry import Registry
from .values import grpc_properties, validate_properties
from .vectors import unpack_f32, unpack_multi_f32

_HEX = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
MAX_DELETE = 10000


def parse_uuid(value: str) -> str:
    """Canonical lower-case UUID, or Go ``uuid.Parse``'s error text."""
    raw = value.strip("{}").removeprefix("urn:uuid:")
    if len(raw) not in (32, 36):
        raise Invalid(f"invalid UUID length: {len(value)}")
    if not _HEX.match(raw):
        raise Invalid("invalid UUID format")
    return str(uuid_lib.UUID(raw))


def check_vectors(
    collection: Collection, named: dict[str, Any], single: list[float] | None = None
) -> dict[str, Any]:
    """Map incoming vectors onto the collection's vector spaces, as Weaviate's validator does.

    A legacy (unnamed) vector goes to the only named vector if there is exactly one; the
    named vector ``default`` feeds a legacy single-vector class; empty vectors are ignored.
    """
    named = dict(named)
    spaces = collection.vector_spaces
    if not collection.named_vectors:
        if LEGACY_VECTOR in named:
            single = named.pop(LEGACY_VECTOR)
        if named:
            raise Invalid(
                f"collection {collection.name} is configured without multiple named vectors, "
                f"but received named vectors: [{' '.join(named)}]"
            )
        return {LEGACY_VECTOR: single} if single else {}
    if single:
        if len(spaces) != 1:
            raise Invalid(
                f"collection {collection.name} configuration does not have single vector index"
            )
        named = {next(iter(spaces)): single}
    for name in named:
        if name not in spaces:
            raise Invalid(
                f"collection {collection.name} does not have configuration for vector {name}"
            )
    return {k: v for k, v in named.items() if len(v)}


def store(
    collection: Collection,
    shard: Shard,
    uid: str,
    props: dict[str, Any],
    vectors: dict[str, Any],
    single: list[float] | None = None,
) -> StoredObject:
    """Validate and upsert one object into ``shard``."""
    clean = validate_properties(collection, props)
    vecs = check_vectors(collection, vectors, single)
    shard.check_dims(vecs)
    ts = now_ms()
    obj = StoredObject(uid, clean, vecs, created_ms=ts, updated_ms=ts, doc_id=0)
    shard.put(obj)
    return obj


def _grpc_vectors(obj: batch_pb2.BatchObject) -> tuple[dict[str, Any], list[float]]:
    single = unpack_f32(obj.vector_bytes) if obj.vector_bytes else list(obj.vector)
    named: dict[str, Any] = {}
    for vec in obj.vectors:
        if vec.type == vec.VECTOR_TYPE_MULTI_FP32:
            named[vec.name or LEGACY_VECTOR] = unpack_multi_f32(vec.vector_bytes)
        else:
            named[vec.name or LEGACY_VECTOR] = unpack_f32(vec.vector_bytes)
    return named, single


def batch_objects(
    registry: Registry, req: batch_pb2.BatchObjectsRequest
) -> batch_pb2.BatchObjectsReply:
    """gRPC ``BatchObjects``: per-object errors, never a whole-request failure."""
    started = time.perf_counter()
    errors = []
    with registry.lock:
        for index, obj in enumerate(req.objects):
            try:
                collection = registry.resolve(obj.collection)
                shard = collection.shard(obj.tenant)
                uid = parse_uuid(obj.uuid)
                props = grpc_properties(obj.properties) if obj.HasField("properties") else {}
                store(collection, shard, uid, props, *_grpc_vectors(obj))
            except EmulatorError as exc:
                errors.append(
                    batch_pb2.BatchObjectsReply.BatchError(index=index, error=exc.message)
                )
    return batch_pb2.BatchObjectsReply(took=time.perf_counter() - started, errors=errors)


def batch_delete(
    registry: Registry, req: batch_delete_pb2.BatchDeleteRequest
) -> batch_delete_pb2.BatchDeleteReply:
    """gRPC ``BatchDelete``: filter-matched deletion with dry-run and verbose output."""
    started = time.perf_counter()
    with registry.lock:
        collection = registry.resolve(req.collection)
        shard = collection.shard(req.tenant if req.HasField("tenant") else None)
        if not req.HasField("filters"):
            raise Invalid("batch delete: filters are required")
        predicate = compile_filter(collection, req.filters)
        matched = [
            o for o in sorted(shard.objects.values(), key=lambda o: o.doc_id) if predicate(o)
        ]
        matched = matched[:MAX_DELETE]
        if not req.dry_run:
            for obj in matched:
                shard.delete(obj.uuid)
        objects = (
            [
                batch_delete_pb2.BatchDeleteObject(
                    uuid=uuid_lib.UUID(o.uuid).bytes, successful=True
                )
                for o in matched
            ]
            if req.verbose
            else []
        )
        return batch_delete_pb2.BatchDeleteReply(
            took=time.perf_counter() - started,
            failed=0,
            matches=len(matched),
            successful=len(matched),
            objects=objects,
        )
