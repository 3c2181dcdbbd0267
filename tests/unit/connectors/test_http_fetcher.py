"""The catalog image fetcher: limits, redirects and SSRF refusals against local servers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mmingest.connectors.sources.http import HttpFetcher, UnsafeUrl
from mmingest.schemas.config import HttpConfig
from mmingest.schemas.errors import ObjectTooLarge, ObjectVanished, RateLimited, SourceUnavailable

ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {}
HITS: list[str] = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        HITS.append(f"{self.server.server_address[1]}{self.path}")
        status, headers, body = ROUTES.get(self.path, (404, {}, b"missing"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[int, int]]:
    started = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
    yield started[0].server_address[1], started[1].server_address[1]
    for server in started:
        server.shutdown()


@pytest.fixture(autouse=True)
def _reset() -> None:
    ROUTES.clear()
    HITS.clear()


def fetcher(*trusted: int, **options: object) -> HttpFetcher:
    return HttpFetcher(
        HttpConfig(allow_private_hosts=[f"127.0.0.1:{p}" for p in trusted], **options)
    )


def test_a_trusted_internal_host_is_fetched(servers):
    first, _ = servers
    ROUTES["/cat.png"] = (200, {"Content-Type": "image/png"}, b"PNGDATA")
    blob = fetcher(first).fetch(f"http://127.0.0.1:{first}/cat.png")
    assert blob.data == b"PNGDATA"
    assert blob.metadata["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/x.png", "127.0.0.1 is a loopback address"),
        ("http://localhost/x.png", "is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "is a link-local address"),
        ("http://10.0.0.5/x.png", "is a private address"),
        ("http://[::1]/x.png", "is a loopback address"),
        ("http://[::ffff:127.0.0.1]/x.png", "is a loopback address"),
        ("http://0.0.0.0/x.png", "address"),
        ("ftp://example.com/x.png", "only http and https"),
        ("http://user:pw@example.com/x.png", "credentials"),
    ],
)
def test_internal_and_odd_urls_are_refused_without_a_request(url, reason):
    with pytest.raises(UnsafeUrl, match=reason):
        fetcher().fetch(url)
    assert HITS == []


def test_redirects_are_checked_hop_by_hop(servers):
    first, second = servers
    ROUTES["/go-private"] = (302, {"Location": f"http://127.0.0.1:{second}/cat.png"}, b"")
    ROUTES["/go-name"] = (301, {"Location": f"http://localhost:{second}/cat.png"}, b"")
    ROUTES["/go-metadata"] = (307, {"Location": "http://169.254.169.254/latest/"}, b"")
    ROUTES["/cat.png"] = (200, {}, b"cat")
    for path in ("/go-private", "/go-name", "/go-metadata"):
        with pytest.raises(UnsafeUrl, match="refused"):
            fetcher(first).fetch(f"http://127.0.0.1:{first}{path}")
    assert not any(hit.startswith(str(second)) for hit in HITS)
    assert fetcher(first, second).fetch(f"http://127.0.0.1:{first}/go-private").data == b"cat"


def test_redirect_loops_stop(servers):
    first, _ = servers
    ROUTES["/loop"] = (302, {"Location": "/loop"}, b"")
    with pytest.raises(Exception, match="redirected more than 3 times"):
        fetcher(first).fetch(f"http://127.0.0.1:{first}/loop")


def test_host_allowlist(servers):
    with pytest.raises(UnsafeUrl, match=r"not in http\.allowed_hosts"):
        fetcher(allowed_hosts=["*.example.com"]).fetch("http://images.other.org/x.png")


def test_size_cap_and_statuses(servers):
    first, _ = servers
    ROUTES["/big"] = (200, {}, b"x" * 5000)
    ROUTES["/slow-down"] = (429, {"Retry-After": "7"}, b"")
    ROUTES["/broken"] = (503, {}, b"")
    client = fetcher(first, max_bytes=1000)
    with pytest.raises(ObjectTooLarge, match="5,000 bytes"):
        client.fetch(f"http://127.0.0.1:{first}/big")
    with pytest.raises(ObjectVanished, match="404"):
        client.fetch(f"http://127.0.0.1:{first}/missing.png")
    with pytest.raises(RateLimited) as limited:
        client.fetch(f"http://127.0.0.1:{first}/slow-down")
    assert limited.value.retry_after == 7
    with pytest.raises(SourceUnavailable, match="503"):
        client.fetch(f"http://127.0.0.1:{first}/broken")


def test_unreachable_trusted_host_is_transient():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceUnavailable):
        fetcher(port, timeout_s=2).fetch(f"http://127.0.0.1:{port}/x.png")
