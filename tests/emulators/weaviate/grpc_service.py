"""gRPC side: ``weaviate.v1.Weaviate`` servicer and ``grpc.health.v1.Health/Check``."""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from weaviate.proto.v1 import health_weaviate_pb2, tenants_pb2, weaviate_pb2_grpc

from .aggregate import run_aggregate
from .errors import EmulatorError, Invalid
from .recorder import RequestLog
from .registry import Registry
from .search import run_search
from .writes import batch_delete, batch_objects

log = logging.getLogger(__name__)
_STATUS = {
    "ACTIVE": tenants_pb2.TENANT_ACTIVITY_STATUS_ACTIVE,
    "INACTIVE": tenants_pb2.TENANT_ACTIVITY_STATUS_INACTIVE,
    "OFFLOADED": tenants_pb2.TENANT_ACTIVITY_STATUS_OFFLOADED,
}


def _handler(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Record the call, then map emulator errors onto gRPC status codes."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(self: WeaviateServicer, request: Any, context: grpc.ServicerContext) -> Any:
            body = MessageToDict(request, preserving_proto_field_name=True)
            self.log.add("grpc", f"weaviate.v1.Weaviate/{name}", body)
            try:
                return fn(self, request, context)
            except EmulatorError as exc:
                context.abort(exc.grpc_code, exc.message)
            except Exception as exc:
                log.error("weaviate emulator crashed in %s:\n%s", name, traceback.format_exc())
                context.abort(grpc.StatusCode.INTERNAL, f"weaviate emulator internal error: {exc}")

        return inner

    return wrap


class WeaviateServicer(weaviate_pb2_grpc.WeaviateServicer):
    """Implements the RPCs the Python client v4 uses."""

    def __init__(self, registry: Registry, log_: RequestLog, default_limit: int) -> None:
        self.registry = registry
        self.log = log_
        self.default_limit = default_limit

    @_handler("Search")
    def Search(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Queries: fetch, near_vector, near_object, bm25, hybrid."""
        return run_search(self.registry, request, self.default_limit)

    @_handler("BatchObjects")
    def BatchObjects(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Batch inserts (``insert_many`` and the batch context managers)."""
        return batch_objects(self.registry, request)

    @_handler("BatchDelete")
    def BatchDelete(self, request: Any, context: grpc.ServicerContext) -> Any:
        """``delete_many``."""
        return batch_delete(self.registry, request)

    @_handler("Aggregate")
    def Aggregate(self, request: Any, context: grpc.ServicerContext) -> Any:
        """``aggregate.over_all``."""
        return run_aggregate(self.registry, request)

    @_handler("TenantsGet")
    def TenantsGet(self, request: Any, context: grpc.ServicerContext) -> Any:
        """``tenants.get`` / ``get_by_names``."""
        tenants = self.registry.tenants(request.collection)
        if request.HasField("names"):
            wanted = set(request.names.values)
            tenants = [t for t in tenants if t["name"] in wanted]
        return tenants_pb2.TenantsGetReply(
            tenants=[
                tenants_pb2.Tenant(name=t["name"], activity_status=_STATUS[t["activityStatus"]])
                for t in tenants
            ]
        )

    @_handler("BatchReferences")
    def BatchReferences(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Cross-references are not emulated."""
        raise Invalid("weaviate emulator: cross-references are not emulated")

    def BatchStream(self, request_iterator: Any, context: grpc.ServicerContext) -> Any:
        """Server-side batching (Weaviate >= 1.36) is not emulated."""
        self.log.add("grpc", "weaviate.v1.Weaviate/BatchStream", None)
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "weaviate emulator: BatchStream not emulated")


def health_handler(log_: RequestLog) -> grpc.GenericRpcHandler:
    """``grpc.health.v1.Health/Check`` answering SERVING, as the client's connect expects."""

    def check(request: Any, context: grpc.ServicerContext) -> Any:
        log_.add("grpc", "grpc.health.v1.Health/Check", MessageToDict(request))
        return health_weaviate_pb2.WeaviateHealthCheckResponse(
            status=health_weaviate_pb2.WeaviateHealthCheckResponse.SERVING
        )

    response = health_weaviate_pb2.WeaviateHealthCheckResponse
    return grpc.method_handlers_generic_handler(
        "grpc.health.v1.Health",
        {
            "Check": grpc.unary_unary_rpc_method_handler(
                check,
                request_deserializer=health_weaviate_pb2.WeaviateHealthCheckRequest.FromString,
                response_serializer=response.SerializeToString,
            )
        },
    )
