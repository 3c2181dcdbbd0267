"""An HTTP reverse proxy that injects faults between a client and a real server.

Put it in front of the S3-API test server to make object storage misbehave on purpose:
5xx answers, dropped connections, slow answers, and listings cut in the middle. Faults apply
to requests matching a predicate, in order, one per request.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

Match = Callable[[str, str], bool]
"""(method, path with query) -> whether a fault applies."""


def object_reads(method: str, path: str) -> bool:
    """GETs of objects (not listings)."""
    return method == "GET" and "list-type=" not in path


def listings(method: str, path: str) -> bool:
    """ListObjectsV2 requests."""
    return method == "GET" and "list-type=" in path


@dataclass
class Fault:
    """One injected misbehaviour."""

    kind: str  # "status", "drop", "delay", "truncate"
    match: Match
    status: int = 503
    seconds: float = 0.0


class FaultyProxy:
    """Forwards to ``upstream`` unless a queued fault matches the request."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.faults: deque[Fault] = deque()
        self.sticky: list[Fault] = []
        self.injected: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultyProxy:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def inject(self, count: int, kind: str, match: Match = object_reads, **options: float) -> None:
        """Queue ``count`` faults of ``kind`` for matching requests."""
        with self._lock:
            self.faults.extend(Fault(kind, match, **options) for _ in range(count))  # type: ignore[arg-type]

    def always(self, kind: str, match: Match, **options: float) -> None:
        """A fault for every matching request, until :meth:`clear`."""
        with self._lock:
            self.sticky.append(Fault(kind, match, **options))  # type: ignore[arg-type]

    def clear(self) -> None:
        """Drop every queued and sticky fault."""
        with self._lock:
            self.faults.clear()
            self.sticky.clear()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.sticky:
                if fault.match(method, path):
                    return fault
            for fault in self.faults:
                if fault.match(method, path):
                    self.faults.remove(fault)
                    return fault
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                fault = proxy._take(self.command, self.path)
                if fault is not None:
                    proxy.injected.append((fault.kind, self.command, self.path))
                    if fault.kind == "drop":
                        self.close_connection = True
                        self.connection.close()
                        return
                    if fault.kind == "status":
                        self.send_response(int(fault.status))
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    if fault.kind == "delay":
                        time.sleep(fault.seconds)
                upstream = http.client.HTTPConnection(
                    proxy.upstream_host, proxy.upstream_port, timeout=60
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = f"{proxy.upstream_host}:{proxy.upstream_port}"
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                if fault is not None and fault.kind == "truncate":
                    data = data[: len(data) // 2]
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

            def log_message(self, *args: object) -> None:
                pass

        return Handler
