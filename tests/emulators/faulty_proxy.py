"""An HTTP reverse proxy that injects faults between a client and a real server.

Put it in front of an object storage test server (S3 via moto, Azure Blob via azurite, GCS
via fake-gcs-server) to make it misbehave on purpose: 5xx answers, dropped connections, slow
answers, and listings cut in the middle. Faults apply to requests matching a predicate, in
order, one per request. It also records every request and can force small listing pages, so
a test can prove a client follows continuation tokens without uploading thousands of keys.
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
from urllib.parse import parse_qsl, urlencode, urlsplit

Match = Callable[[str, str], bool]
"""(method, path with query) -> whether a fault applies."""


PAGE_SIZE_PARAMETERS = ("max-keys", "maxresults", "maxResults")
"""How S3 (and GCS's XML API), Azure Blob and GCS's JSON API name a listing's page size."""


def _query(path: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))


def listings(method: str, path: str) -> bool:
    """Listing requests: S3/GCS XML ``list-type=2``, Azure ``comp=list``, GCS JSON ``/o``."""
    if method != "GET":
        return False
    query = _query(path)
    if "list-type" in query or query.get("comp") == "list":
        return True
    parts = urlsplit(path).path.rstrip("/").split("/")
    return len(parts) == 6 and parts[1:4] == ["storage", "v1", "b"] and parts[5] == "o"


def object_reads(method: str, path: str) -> bool:
    """GETs of objects (not listings)."""
    return method == "GET" and not listings(method, path)


def with_page_size(path: str, size: int) -> str:
    """``path`` with the listing page size forced to ``size`` (the parameter each API uses)."""
    parts = urlsplit(path)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if "list-type" in dict(query):
        name = "max-keys"
    elif dict(query).get("comp") == "list":
        name = "maxresults"
    else:
        name = "maxResults"
    query = [(key, value) for key, value in query if key not in PAGE_SIZE_PARAMETERS]
    query.append((name, str(size)))
    return f"{parts.path}?{urlencode(query, safe='/')}"


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
        self.requests: list[tuple[str, str]] = []
        """Every (method, path) received, in order."""
        self.page_size: int | None = None
        """When set, listing requests are forwarded asking for pages of this many keys."""
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
                proxy.requests.append((self.command, self.path))
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
                path = self.path
                if proxy.page_size is not None and listings(self.command, path):
                    path = with_page_size(path, proxy.page_size)
                upstream.request(self.command, path, body=body, headers=headers)
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
