"""What every extractor produces, and the I/O context it works in."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

from PIL import Image

from mmingest.connectors.sources.base import Blob, Source
from mmingest.connectors.stores.base import VectorStore
from mmingest.pipelines.retry import RetryPolicy, acall_with_retry, call_with_retry
from mmingest.pipelines.stages import AsyncRunner
from mmingest.schemas.assets import Asset
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.embedding import EmbedderLimits
from mmingest.schemas.errors import CollectionNotFound, InvalidInput, TransientError
from mmingest.schemas.points import scoped_id
from mmingest.schemas.summary import Failure

ReadFunction = Callable[[str, int], Awaitable[Blob]]
"""Reads one key (or reference) with a size limit."""


@dataclass
class Prepared:
    """An asset ready to embed: its images (none, one, or several views of a product)."""

    asset: Asset
    images: tuple[Image.Image, ...] = ()


@dataclass
class PreparedBatch:
    """One step of extraction, with the accounting of every item it touched.

    An *item* is an image, a PDF page or a product record; a document or catalog that cannot
    be opened counts as one failed item, and an unchanged document as one unchanged item.
    """

    items: list[Prepared] = field(default_factory=list)
    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    ignored: list[tuple[str, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)
    stale_ids: list[str] = field(default_factory=list)
    """Store ids (see ``ExtractContext.store_id``) of points to delete."""
    commit: bool = False
    """This batch completes a document: write it only if the document's earlier batches were
    all written. (Completeness itself is checked page by page on the next run: every page
    records the document's page count, see ``extract.pdfs.document_hash``.)"""
    record_ids: list[str] = field(default_factory=list)
    """Store ids of catalog records read (changed or not), so a sync can find removed ones."""
    shielded_sources: list[str] = field(default_factory=list)
    """Sources that could not be read this time: a sync must not delete their points."""
    estimate: dict[str, int] = field(default_factory=dict)
    """Dry runs: what embedding the new and changed items would take (images, texts, chars)."""
    images_lost: dict[str, int] = field(default_factory=dict)
    """Records that landed without an image although they referenced one, per reason."""
    task: int = -1
    objects: int = 0
    """Listed objects this batch finishes (on a task's last batch), for progress."""


@dataclass
class ExtractContext:
    """Shared I/O for extractors: the source, the store (to skip unchanged content), limits."""

    source: Source
    store: VectorStore
    collection: str
    config: IngestConfig
    limits: EmbedderLimits
    runner: AsyncRunner
    retry: RetryPolicy
    tenant: str | None = None
    dry_run: bool = False
    """Classify only: read no more than needed to count what would be embedded."""
    starts_empty: bool = False
    """The collection held no point of this tenant when the run began: nothing is stored yet."""

    def store_id(self, point_id: str) -> str:
        """The id ``point_id`` has in the store (tenant points have their own)."""
        return scoped_id(point_id, self.tenant)

    def stored_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """Content hashes of the given point ids (as assets know them) already in the store."""
        if not ids or self.starts_empty:
            return {}
        asked = {self.store_id(point_id): point_id for point_id in ids}
        try:
            found = call_with_retry(
                lambda: self.store.fetch_hashes(self.collection, list(asked), tenant=self.tenant),
                what="checking stored content hashes",
                policy=self.retry,
            )
        except CollectionNotFound:
            if self.dry_run:
                return {}  # a dry run before the first ingest: everything is new
            raise
        return {asked[stored]: content_hash for stored, content_hash in found.items()}

    def read_many(self, requests: Sequence[tuple[str, int]]) -> dict[str, Blob | Exception]:
        """Read ``(key, max_bytes)`` pairs concurrently (retrying transient errors)."""
        return dict(self.read_stream(requests, self.read_one))

    def read_stream(
        self, requests: Sequence[tuple[str, int]], read: ReadFunction | None = None
    ) -> Iterator[tuple[str, Blob | Exception]]:
        """``(key, content or per-object error)`` pairs as reads complete.

        At most ``read_concurrency`` reads are in flight; the caller can decode one object
        while the others are still downloading. A terminal error other than a per-object one
        (credentials, configuration) stops the reads and is raised.
        """
        read = read or self.read_one
        limit = asyncio.Semaphore(self.config.read_concurrency)
        done: queue.Queue[tuple[str, Blob | BaseException]] = queue.Queue()

        async def one(key: str, max_bytes: int) -> None:
            try:
                async with limit:
                    result: Blob | BaseException = await read(key, max_bytes)
            except Exception as error:  # delivered to the consumer, which decides
                result = error
            done.put((key, result))

        async def all_reads() -> None:
            await asyncio.gather(*(one(key, size) for key, size in requests))

        if not requests:
            return
        pending = self.runner.submit(all_reads())
        finished = False
        try:
            for _ in requests:
                key, result = done.get()
                if isinstance(result, InvalidInput | TransientError) or not isinstance(
                    result, BaseException
                ):
                    yield key, result
                else:
                    raise result
            finished = True
        finally:
            if finished:
                pending.result()
            else:
                pending.cancel()  # the consumer stopped early: abandon the other reads

    async def read_one(self, key: str, max_bytes: int) -> Blob:
        """Read one key of the source, retrying transient errors."""
        return await acall_with_retry(
            lambda: self.source.read(key, max_bytes=max_bytes),
            what=f"reading {self.source.uri_of(key)}",
            policy=self.retry,
        )


def classify(batch: PreparedBatch, ids: Sequence[str], stored: dict[str, str]) -> None:
    """Count ``ids`` (to be written) as new or changed against what is stored."""
    new = sum(1 for point in ids if point not in stored)
    batch.new += new
    batch.changed += len(ids) - new


def add_estimate(batch: PreparedBatch, *, images: int = 0, texts: int = 0, chars: int = 0) -> None:
    """Add to a dry run's estimate of embedding work."""
    for key, value in (("images", images), ("texts", texts), ("text_chars", chars)):
        batch.estimate[key] = batch.estimate.get(key, 0) + value
