"""Resolve and read the image references found in catalogs.

A reference is a key relative to the catalog (``images/sku-1.png``), an absolute bucket URI
(``s3://``, ``gs://``, ``az://``) or an ``http(s)://`` URL. Relative keys may not climb out of
the catalog's source, and local paths are refused: catalog data never reads the host's files.
"""

from __future__ import annotations

import asyncio
import posixpath
import threading
from concurrent.futures import ThreadPoolExecutor

from mmingest.connectors.sources import open_source, scheme_of
from mmingest.connectors.sources.base import Blob, Source
from mmingest.connectors.sources.http import HttpFetcher
from mmingest.pipelines.retry import RetryPolicy, acall_with_retry
from mmingest.schemas.config import HttpConfig, SourceConfig
from mmingest.schemas.errors import InvalidInput

_BUCKET_SCHEMES = ("s3", "gs", "az", "memory")


class UnsafeReference(InvalidInput):
    """A catalog reference that would leave the places catalogs may read from."""


class ReferenceReader:
    """Reads referenced images from the catalog's source, other buckets or the web."""

    def __init__(
        self,
        source: Source,
        *,
        source_config: SourceConfig,
        http: HttpConfig,
        retry: RetryPolicy,
    ) -> None:
        self.source = source
        self.source_config = source_config
        self.retry = retry
        self._http = HttpFetcher(http)
        self._http_limit = asyncio.Semaphore(http.concurrency)
        self._http_pool = ThreadPoolExecutor(http.concurrency, thread_name_prefix="mmingest-http")
        self._buckets: dict[str, Source] = {}
        self._lock = threading.Lock()

    def resolve(self, reference: str, catalog_key: str) -> tuple[Source | None, str]:
        """The source to read from (None for URLs) and the key or URL within it."""
        reference = reference.strip()
        scheme = scheme_of(reference)
        if scheme in ("http", "https"):
            return None, reference
        if scheme in _BUCKET_SCHEMES:
            bucket, _, key = reference.partition("://")[2].partition("/")
            root = f"{scheme}://{bucket}"
            with self._lock:
                source = self._buckets.get(root)
                if source is None:
                    source = self._buckets[root] = open_source(root, self.source_config)
            return source, key
        if scheme != "file" or "://" in reference or reference.startswith(("/", "~", "\\")):
            raise UnsafeReference(
                f"refused image reference {reference!r}: use a key relative to the catalog, a "
                "bucket URI (s3://, gs://, az://) or an http(s) URL"
            )
        key = posixpath.normpath(posixpath.join(posixpath.dirname(catalog_key), reference))
        if key == ".." or key.startswith(("../", "/")):
            raise UnsafeReference(
                f"refused image reference {reference!r}: it leaves the catalog's source"
            )
        return self.source, key

    def uri_of(self, reference: str, catalog_key: str) -> str:
        """The absolute URI a reference points to (for payloads and error reports)."""
        source, key = self.resolve(reference, catalog_key)
        return key if source is None else source.uri_of(key)

    async def read(self, reference: str, catalog_key: str, max_bytes: int) -> Blob:
        """The referenced object's bytes, retrying transient failures."""
        source, key = self.resolve(reference, catalog_key)
        if source is None:
            return await acall_with_retry(
                lambda: self._fetch(key), what=f"fetching {key}", policy=self.retry
            )
        return await acall_with_retry(
            lambda: source.read(key, max_bytes=max_bytes),
            what=f"reading {source.uri_of(key)}",
            policy=self.retry,
        )

    async def _fetch(self, url: str) -> Blob:
        async with self._http_limit:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._http_pool, self._http.fetch, url)

    def close(self) -> None:
        """Release HTTP connections and bucket clients."""
        self._http.close()
        self._http_pool.shutdown(wait=False, cancel_futures=True)
        for source in self._buckets.values():
            source.close()
