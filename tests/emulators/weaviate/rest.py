"""REST side: a small router on ``http.server`` for the endpoints the client v4 uses."""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import rest_objects
from .errors import EmulatorError, Invalid, NotFound
from .recorder import RequestLog
from .registry import Registry

log = logging.getLogger(__name__)
Response = tuple[int, Any]
Handler = Callable[..., Response]


class RestApi:
    """Maps (method, path) to handlers working on the shared :class:`Registry`."""

    def __init__(self, registry: Registry, version: str, grpc_port: Callable[[], int]) -> None:
        self.registry = registry
        self.version = version
        self.grpc_port = grpc_port
        c, t, o, a = r"(?P<c>[^/]+)", r"(?P<t>[^/]+)", r"(?P<o>[^/]+)", r"(?P<a>[^/]+)"
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/v1/meta"), self.meta),
            ("GET", re.compile(r"/v1/\.well-known/(ready|live)"), lambda **_: (200, None)),
            ("GET", re.compile(r"/v1/\.well-known/openid-configuration"), self.no_oidc),
            ("GET", re.compile(r"/v1/nodes"), self.nodes),
            ("GET", re.compile(r"/v1/schema"), lambda **_: (200, registry.schema_dump())),
            ("POST", re.compile(r"/v1/schema"), self.create_class),
            ("GET", re.compile(rf"/v1/schema/{c}"), self.get_class),
            ("PUT", re.compile(rf"/v1/schema/{c}"), self.update_class),
            ("DELETE", re.compile(rf"/v1/schema/{c}"), self.delete_class),
            ("POST", re.compile(rf"/v1/schema/{c}/properties"), self.add_property),
            ("GET", re.compile(rf"/v1/schema/{c}/shards"), self.shards),
            ("GET", re.compile(rf"/v1/schema/{c}/tenants"), self.get_tenants),
            ("POST", re.compile(rf"/v1/schema/{c}/tenants"), self.add_tenants),
            ("PUT", re.compile(rf"/v1/schema/{c}/tenants"), self.update_tenants),
            ("DELETE", re.compile(rf"/v1/schema/{c}/tenants"), self.delete_tenants),
            ("GET", re.compile(rf"/v1/schema/{c}/tenants/{t}"), self.get_tenant),
            ("HEAD", re.compile(rf"/v1/schema/{c}/tenants/{t}"), self.get_tenant),
            ("POST", re.compile(r"/v1/objects"), self.create_object),
            ("GET", re.compile(rf"/v1/objects/{c}/{o}"), self.get_object),
            ("HEAD", re.compile(rf"/v1/objects/{c}/{o}"), self.head_object),
            ("PUT", re.compile(rf"/v1/objects/{c}/{o}"), self.replace_object),
            ("PATCH", re.compile(rf"/v1/objects/{c}/{o}"), self.update_object),
            ("DELETE", re.compile(rf"/v1/objects/{c}/{o}"), self.delete_object),
            ("GET", re.compile(r"/v1/aliases"), self.list_aliases),
            ("POST", re.compile(r"/v1/aliases"), self.create_alias),
            ("GET", re.compile(rf"/v1/aliases/{a}"), self.get_alias),
            ("PUT", re.compile(rf"/v1/aliases/{a}"), self.update_alias),
            ("DELETE", re.compile(rf"/v1/aliases/{a}"), self.delete_alias),
            ("POST", re.compile(r"/v1/graphql"), self.graphql),
        ]

    def dispatch(self, method: str, path: str, params: dict[str, str], body: Any) -> Response:
        """Route one request; emulator errors become Weaviate's JSON error payloads."""
        for verb, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if verb == method and match:
                args = {k: unquote(v) for k, v in match.groupdict().items()}
                try:
                    return handler(params=params, body=body, **args)
                except EmulatorError as exc:
                    return exc.status, exc.rest_body()
        return 404, {"code": 404, "message": f"path {path} was not found"}

    # -- meta --------------------------------------------------------------------------
    def meta(self, **_: Any) -> Response:
        return 200, {
            "hostname": "http://[::]:8080",
            "modules": {},
            "version": self.version,
            "grpcMaxMessageSize": 104858000,
        }

    def no_oidc(self, **_: Any) -> Response:
        return 404, None

    def nodes(self, **_: Any) -> Response:
        with self.registry.lock:
            shards = [s for c in self.registry.collections.values() for s in c.all_shards()]
            count = sum(len(s.objects) for s in shards)
        node = {
            "name": "weaviate-emulator",
            "status": "HEALTHY",
            "version": self.version,
            "gitHash": "emulator",
            "stats": {"objectCount": count, "shardCount": len(shards)},
            "batchStats": {"queueLength": 0, "ratePerSecond": 0},
            "shards": None,
        }
        return 200, {"nodes": [node]}

    # -- schema ------------------------------------------------------------------------
    def create_class(self, body: Any, **_: Any) -> Response:
        if not isinstance(body, dict):
            raise Invalid("request body must be a class definition object")
        return 200, self.registry.create(body).config

    def get_class(self, c: str, **_: Any) -> Response:
        return 200, self.registry.resolve(c).config

    def update_class(self, c: str, body: Any, **_: Any) -> Response:
        return 200, self.registry.update(c, body).config

    def delete_class(self, c: str, **_: Any) -> Response:
        self.registry.delete(c)
        return 200, None

    def add_property(self, c: str, body: Any, **_: Any) -> Response:
        return 200, self.registry.add_property(c, body)

    def shards(self, c: str, params: dict[str, str], **_: Any) -> Response:
        with self.registry.lock:
            collection = self.registry.resolve(c)
            tenant = params.get("tenant")
            shards = [collection.shard(tenant)] if tenant else collection.all_shards()
            return 200, [{"name": s.name, "status": "READY", "vectorQueueSize": 0} for s in shards]

    # -- tenants -----------------------------------------------------------------------
    def get_tenants(self, c: str, **_: Any) -> Response:
        return 200, self.registry.tenants(c)

    def add_tenants(self, c: str, body: Any, **_: Any) -> Response:
        return 200, self.registry.add_tenants(c, list(body or []))

    def update_tenants(self, c: str, body: Any, **_: Any) -> Response:
        return 200, self.registry.update_tenants(c, list(body or []))

    def delete_tenants(self, c: str, body: Any, **_: Any) -> Response:
        self.registry.delete_tenants(c, list(body or []))
        return 200, None

    def get_tenant(self, c: str, t: str, **_: Any) -> Response:
        for tenant in self.registry.tenants(c):
            if tenant["name"] == t:
                return 200, tenant
        return 404, None

    # -- objects -----------------------------------------------------------------------
    def create_object(self, body: Any, **_: Any) -> Response:
        return rest_objects.create(self.registry, body or {})

    def get_object(self, c: str, o: str, params: dict[str, str], **_: Any) -> Response:
        return rest_objects.get(self.registry, c, o, params)

    def head_object(self, c: str, o: str, params: dict[str, str], **_: Any) -> Response:
        status, _body = rest_objects.get(self.registry, c, o, params)
        return (204 if status == 200 else status), None

    def replace_object(self, c: str, o: str, body: Any, **_: Any) -> Response:
        return rest_objects.replace(self.registry, c, o, body or {})

    def update_object(self, c: str, o: str, body: Any, **_: Any) -> Response:
        return rest_objects.update(self.registry, c, o, body or {})

    def delete_object(self, c: str, o: str, params: dict[str, str], **_: Any) -> Response:
        return rest_objects.delete(self.registry, c, o, params)

    # -- aliases -----------------------------------------------------------------------
    def list_aliases(self, params: dict[str, str], **_: Any) -> Response:
        return 200, {"aliases": self.registry.list_aliases(params.get("class"))}

    def create_alias(self, body: Any, **_: Any) -> Response:
        body = body or {}
        return 200, self.registry.create_alias(str(body.get("alias")), str(body.get("class")))

    def get_alias(self, a: str, **_: Any) -> Response:
        return 200, self.registry.get_alias(a)

    def update_alias(self, a: str, body: Any, **_: Any) -> Response:
        try:
            return 200, self.registry.replace_alias(a, str((body or {}).get("class")))
        except NotFound:
            return 404, None

    def delete_alias(self, a: str, **_: Any) -> Response:
        self.registry.delete_alias(a)
        return 204, None

    def graphql(self, **_: Any) -> Response:
        message = "weaviate emulator: GraphQL is not emulated (the v4 client uses gRPC)"
        return 200, {"errors": [{"message": message}]}


def make_http_server(api: RestApi, log_: RequestLog, host: str, port: int) -> ThreadingHTTPServer:
    """A threading HTTP server bound to ``host:port`` (port 0 picks a free one)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
        # stalls every keep-alive response by ~40 ms.
        disable_nagle_algorithm = True

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = raw.decode(errors="replace")
            method = f"{self.command} {parts.path}" + (f"?{parts.query}" if parts.query else "")
            log_.add("http", method, body)
            try:
                status, payload = api.dispatch(
                    self.command, parts.path, dict(parse_qsl(parts.query)), body
                )
            except Exception as exc:
                log.error("weaviate emulator crashed on %s:\n%s", method, traceback.format_exc())
                status, payload = 500, {"error": [{"message": f"emulator internal error: {exc}"}]}
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(data)))
            self.end_headers()
            if self.command != "HEAD" and data:
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http: " + format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
