"""``WeaviateEmulator``: the HTTP and gRPC servers in background threads."""

from __future__ import annotations

import threading
from concurrent import futures
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import grpc
from weaviate.proto.v1 import weaviate_pb2_grpc

from .grpc_service import WeaviateServicer, health_handler
from .recorder import RecordedRequest, RequestLog
from .registry import Registry
from .rest import RestApi, make_http_server

DEFAULT_VERSION = "1.32.0"


class WeaviateEmulator:
    """An in-process stand-in for a Weaviate server, spoken to by the real client.

    ``start()`` binds ``host`` on the given ports (0 = ephemeral) for REST and gRPC and serves
    both from background threads; ``stop()`` shuts them down. ``version`` is what
    ``/v1/meta`` reports: the client picks request shapes from it (1.32.0 is the lowest that
    enables ``client.alias``). ``default_limit`` mirrors ``QUERY_DEFAULTS_LIMIT`` (10).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        http_port: int = 0,
        grpc_port: int = 0,
        version: str = DEFAULT_VERSION,
        default_limit: int = 10,
    ) -> None:
        self.host = host
        self.version = version
        self.registry = Registry()
        self._log = RequestLog()
        self._want_http, self._want_grpc = http_port, grpc_port
        self._http: ThreadingHTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self._grpc: grpc.Server | None = None
        self._grpc_port = 0
        self._default_limit = default_limit

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> Self:
        """Bind both ports and start serving; returns ``self``."""
        if self._http is not None:
            return self
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        servicer = WeaviateServicer(self.registry, self._log, self._default_limit)
        weaviate_pb2_grpc.add_WeaviateServicer_to_server(servicer, server)
        server.add_generic_rpc_handlers((health_handler(self._log),))
        self._grpc_port = server.add_insecure_port(f"{self.host}:{self._want_grpc}")
        if not self._grpc_port:
            raise OSError(f"could not bind gRPC port {self.host}:{self._want_grpc}")
        server.start()
        self._grpc = server
        api = RestApi(self.registry, self.version, lambda: self._grpc_port)
        self._http = make_http_server(api, self._log, self.host, self._want_http)
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, name="weaviate-emulator-http", daemon=True
        )
        self._http_thread.start()
        return self

    def stop(self) -> None:
        """Stop both servers (idempotent)."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._http_thread is not None:
            self._http_thread.join(timeout=5)
            self._http_thread = None
        if self._grpc is not None:
            self._grpc.stop(grace=None).wait(timeout=5)
            self._grpc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- introspection -----------------------------------------------------------------
    @property
    def http_port(self) -> int:
        """The bound REST port (valid after ``start()``)."""
        if self._http is None:
            raise RuntimeError("emulator not started")
        return int(self._http.server_address[1])

    @property
    def grpc_port(self) -> int:
        """The bound gRPC port (valid after ``start()``)."""
        if self._grpc is None:
            raise RuntimeError("emulator not started")
        return self._grpc_port

    @property
    def url(self) -> str:
        """Base URL of the REST API, e.g. ``http://127.0.0.1:41234``."""
        return f"http://{self.host}:{self.http_port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received, in arrival order."""
        return self._log.snapshot()

    def clear_requests(self) -> None:
        """Forget the request log but keep the data."""
        self._log.clear()

    def reset(self) -> None:
        """Drop all collections, aliases, tenants and objects, and clear the request log."""
        self.registry.reset()
        self._log.clear()

    def raw_schema(self, name: str) -> dict[str, Any]:
        """The ``POST /v1/schema`` body of a collection, exactly as the client sent it."""
        return self.registry.resolve(name).raw

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``weaviate.connect_to_custom`` pointing at this emulator."""
        return {
            "http_host": self.host,
            "http_port": self.http_port,
            "http_secure": False,
            "grpc_host": self.host,
            "grpc_port": self.grpc_port,
            "grpc_secure": False,
        }
