"""Fetch images referenced by http(s) URLs without letting catalog data reach internal hosts.

Every hop (the URL and each redirect) is checked: scheme, host allowlist, and every address
the host resolves to must be public (not loopback, private, link-local, multicast, reserved).
The connection then goes to an address that was checked, so a DNS answer that changes between
the check and the connection cannot redirect the request (no DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from fnmatch import fnmatch
from typing import Any
from urllib.parse import urljoin, urlsplit

from mmingest.connectors.sources.base import Blob
from mmingest.schemas.config import HttpConfig
from mmingest.schemas.errors import (
    InvalidInput,
    ObjectTooLarge,
    ObjectVanished,
    RateLimited,
    SourceUnavailable,
)

_REDIRECTS = {301, 302, 303, 307, 308}
_USER_AGENT = "mmingest/0.1 (+image fetcher)"
_CHUNK = 64 * 1024


class UnsafeUrl(InvalidInput):
    """A URL that points (or redirects) somewhere the fetcher refuses to go."""


def _address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for flag, label in (
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_private", "a private"),
        ("is_multicast", "a multicast"),
        ("is_reserved", "a reserved"),
        ("is_unspecified", "an unspecified"),
    ):
        if getattr(ip, flag):
            return f"{address} is {label} address"
    return None


def _pinned_connection(base: type[Any]) -> type[Any]:
    class Pinned(base):  # type: ignore[misc]
        """Connects to pre-checked addresses instead of resolving the host again."""

        def __init__(self, *args: Any, addresses: list[str], **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._addresses = addresses

        def _new_conn(self) -> socket.socket:
            last: OSError | None = None
            for address in self._addresses:
                try:
                    return socket.create_connection((address, self.port), timeout=self.timeout)
                except OSError as error:
                    last = error
            raise last or OSError("no address to connect to")

    return Pinned


class HttpFetcher:
    """Downloads URLs with timeouts, a size cap, a host allowlist and SSRF protection."""

    def __init__(self, config: HttpConfig) -> None:
        import urllib3
        from urllib3.connection import HTTPConnection, HTTPSConnection

        self.config = config
        self._urllib3 = urllib3
        self._http = _pinned_connection(HTTPConnection)
        self._https = _pinned_connection(HTTPSConnection)
        self._pools: dict[tuple[str, str, int], Any] = {}
        self._lock = threading.Lock()

    def _check_host(self, url: str) -> tuple[str, str, int]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise UnsafeUrl(f"refused {url}: only http and https URLs are fetched")
        host = (parts.hostname or "").lower()
        if not host:
            raise UnsafeUrl(f"refused {url}: no host")
        if parts.username or parts.password:
            raise UnsafeUrl(f"refused {url}: URLs with credentials are not fetched")
        port = parts.port or (443 if scheme == "https" else 80)
        if not any(fnmatch(host, pattern.lower()) for pattern in self.config.allowed_hosts):
            raise UnsafeUrl(f"refused {url}: host {host} is not in http.allowed_hosts")
        return scheme, host, port

    def _resolve(self, url: str, host: str, port: int) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise UnsafeUrl(f"refused {url}: host {host} does not resolve ({error})") from error
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if f"{host}:{port}" in self.config.allow_private_hosts:
            return addresses
        for address in addresses:
            problem = _address_problem(address)
            if problem:
                raise UnsafeUrl(
                    f"refused {url}: {host} resolves to {problem}; catalog URLs may only reach "
                    "public hosts (list trusted internal hosts in http.allow_private_hosts)"
                )
        return addresses

    def _pool(self, scheme: str, host: str, port: int, url: str) -> Any:
        key = (scheme, host, port)
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                return pool
        addresses = self._resolve(url, host, port)
        timeout = self._urllib3.Timeout(connect=self.config.timeout_s, read=self.config.timeout_s)
        if scheme == "https":
            pool = self._urllib3.HTTPSConnectionPool(
                host,
                port,
                timeout=timeout,
                retries=False,
                maxsize=self.config.concurrency,
                addresses=addresses,
            )
            pool.ConnectionCls = self._https
        else:
            pool = self._urllib3.HTTPConnectionPool(
                host,
                port,
                timeout=timeout,
                retries=False,
                maxsize=self.config.concurrency,
                addresses=addresses,
            )
            pool.ConnectionCls = self._http
        with self._lock:
            return self._pools.setdefault(key, pool)

    def fetch(self, url: str) -> Blob:
        """The body of ``url`` (following checked redirects); metadata holds the content type."""
        current = url
        for _ in range(self.config.max_redirects + 1):
            scheme, host, port = self._check_host(current)
            pool = self._pool(scheme, host, port, current)
            parts = urlsplit(current)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                response = pool.urlopen(
                    "GET",
                    path,
                    redirect=False,
                    preload_content=False,
                    retries=False,
                    headers={"User-Agent": _USER_AGENT, "Accept": "image/*,*/*;q=0.5"},
                )
            except self._urllib3.exceptions.HTTPError as error:
                raise SourceUnavailable(f"fetching {current} failed: {error}") from error
            try:
                if response.status in _REDIRECTS and response.headers.get("Location"):
                    current = urljoin(current, response.headers["Location"])
                    continue
                return Blob(
                    self._body(current, response),
                    {"content-type": response.headers.get("Content-Type", "")},
                )
            finally:
                response.release_conn()
        raise InvalidInput(f"{url} redirected more than {self.config.max_redirects} times")

    def _body(self, url: str, response: Any) -> bytes:
        status = int(response.status)
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
            raise RateLimited(f"{url} answered 429 Too Many Requests", retry_after=seconds)
        if status >= 500:
            raise SourceUnavailable(f"{url} answered {status}")
        if status in (404, 410):
            raise ObjectVanished(f"{url} answered {status} (no such image)")
        if status >= 400:
            raise InvalidInput(f"{url} answered {status}")
        limit = self.config.max_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ObjectTooLarge(f"{url} is {int(declared):,} bytes, over http.max_bytes {limit:,}")
        body = bytearray()
        try:
            for chunk in response.stream(_CHUNK):
                body += chunk
                if len(body) > limit:
                    raise ObjectTooLarge(f"{url} is over http.max_bytes {limit:,}")
        except self._urllib3.exceptions.HTTPError as error:
            raise SourceUnavailable(f"reading {url} failed: {error}") from error
        return bytes(body)

    def close(self) -> None:
        """Close pooled connections."""
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()
