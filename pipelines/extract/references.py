"""Read the image references found in catalogs, under the one reference policy.

What a reference may name, and how it resolves, is decided by
:class:`~mmingest.pipelines.reference_policy.ReferencePolicy` (shared with display); this
module reads the accepted URIs: from the catalog's own source, other buckets, allowed local
folders or the web, retrying transient failures.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from mmingest.connectors.sources import scheme_of
from mmingest.connectors.sources.base import Blob, Source
from mmingest.connectors.sources.http import HttpFetcher
from mmingest.connectors.sources.local import path_from_uri
from mmingest.pipelines.reference_policy import ReferencePolicy, UnsafeReference
from mmingest.pipelines.retry import RetryPolicy, acall_with_retry
from mmingest.schemas.config import HttpConfig, SourceConfig

__all__ = ["ReferenceReader", "UnsafeReference"]


class ReferenceReader:
    """Resolves catalog references (once, at ingest) and reads the accepted URIs.

    The folder of a local ``source`` is an allowed local root, besides
    ``source.allowed_local_roots``.
    """

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
        local_roots = [path_from_uri(source.uri)] if scheme_of(source.uri) == "file" else []
        self.policy = ReferencePolicy(source_config, local_roots=local_roots)
        self._http = HttpFetcher(http)
        self._http_limit = asyncio.Semaphore(http.concurrency)
        self._http_pool = ThreadPoolExecutor(http.concurrency, thread_name_prefix="mmingest-http")

    def resolve(self, reference: str, catalog_uri: str) -> str:
        """The accepted absolute URI of ``reference`` (see :meth:`ReferencePolicy.resolve`)."""
        return self.policy.resolve(reference, catalog_uri)

    async def read(self, uri: str, max_bytes: int) -> Blob:
        """The bytes of an accepted URI, retrying transient failures."""
        source, key = self.policy.locate(uri)
        if source is None:
            return await acall_with_retry(
                lambda: self._fetch(key), what=f"fetching {key}", policy=self.retry
            )
        return await acall_with_retry(
            lambda: source.read(key, max_bytes=max_bytes),
            what=f"reading {uri}",
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
        self.policy.close()
