"""Ingest a folder or bucket of images: list, read, decode, caption, embed, upsert.

Three stages overlap: worker threads read (async, bounded concurrency) and decode upcoming
batches, the calling thread embeds the current batch, and a writer thread upserts the previous
one. Every listed object ends up written, skipped (unchanged or not an image) or failed with
its reason; a re-run skips what is already stored with the same content hash.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from PIL import Image

from connectors.embedders.base import Embedder
from connectors.sources.base import Source
from connectors.stores.base import VectorStore
from pipelines.captions import SidecarError, caption_from_sidecar, clean_caption
from pipelines.deadletters import DeadLetterSink
from pipelines.embed import embed_images_and_captions
from pipelines.images import decode_image
from pipelines.listing import Ignored, ImageCandidate, pair_sidecars
from pipelines.points import build_point
from pipelines.retry import DEFAULT_RETRY, RetryPolicy, acall_with_retry, call_with_retry
from pipelines.stages import AsyncRunner, chunked, prefetch_map
from schemas.assets import Asset, AssetKind
from schemas.collection import CollectionSpec
from schemas.config import IngestConfig
from schemas.errors import InvalidInput, ObjectTooLarge, TransientError
from schemas.objects import ObjectInfo
from schemas.points import Point
from schemas.summary import Failure, RunSummary, Stage

log = logging.getLogger(__name__)

ProgressCallback = Callable[[RunSummary], None]
_IGNORED_EXAMPLES = 20
_WRITES_IN_FLIGHT = 2


@dataclass
class PreparedImage:
    """A decoded image and the asset it will become."""

    asset: Asset
    pixels: Image.Image


@dataclass
class PreparedBatch:
    """The outcome of reading and decoding one batch of candidates."""

    items: list[PreparedImage] = field(default_factory=list)
    unchanged: int = 0
    failures: list[Failure] = field(default_factory=list)


@dataclass
class WriteResult:
    """The outcome of upserting one batch of points."""

    written: int = 0
    failures: list[Failure] = field(default_factory=list)


class ImageIngestion:
    """One run of the image pipeline into one collection."""

    def __init__(
        self,
        source: Source,
        embedder: Embedder,
        store: VectorStore,
        *,
        collection: str,
        config: IngestConfig,
        tenant: str | None = None,
        dead_letters: DeadLetterSink | None = None,
        on_progress: ProgressCallback | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.source = source
        self.embedder = embedder
        self.store = store
        self.collection = collection
        self.config = config
        self.tenant = tenant
        self.dead_letters = dead_letters
        self.on_progress = on_progress
        self.retry = retry
        self.summary = RunSummary(collection=collection)

    # --- orchestration -------------------------------------------------------------------------

    def run(self, prefix: str = "") -> RunSummary:
        """Ingest every image under ``prefix`` and return the run's summary."""
        started = time.monotonic()
        usage_before = self.embedder.usage()
        self.source.precheck()
        self.store.ensure_collection(
            CollectionSpec.for_embedder(
                self.collection, self.embedder.info, keywords=self.store.capabilities.keywords
            )
        )
        writes: deque[Future[WriteResult]] = deque()
        with AsyncRunner() as runner, ThreadPoolExecutor(1, "mmingest-write") as writer:
            batches = chunked(self._candidates(prefix), self.config.batch_size)
            try:
                for prepared in prefetch_map(
                    lambda batch: self._prepare(batch, runner),
                    batches,
                    workers=self.config.decode_workers,
                    depth=self.config.prefetch_batches,
                ):
                    self.summary.unchanged += prepared.unchanged
                    self._fail(prepared.failures)
                    points = self._embed(prepared.items)
                    if points:
                        writes.append(writer.submit(self._write, points))
                    while len(writes) > _WRITES_IN_FLIGHT:
                        self._account(writes.popleft().result())
                    self._progress(started)
            finally:
                # Whatever stopped the run, points already embedded still land.
                while writes:
                    self._account(writes.popleft().result())
        self.summary.add_usage(self.embedder.usage().since(usage_before))
        self._progress(started)
        return self.summary

    def _candidates(self, prefix: str) -> Iterator[ImageCandidate]:
        for item in pair_sidecars(self.source.list(prefix)):
            self.summary.seen += 1
            if isinstance(item, Ignored):
                self.summary.ignored += 1
                if len(self.summary.ignored_examples) < _IGNORED_EXAMPLES:
                    self.summary.ignored_examples.append(f"{item.obj.key}: {item.reason}")
                continue
            yield item

    def _progress(self, started: float) -> None:
        self.summary.elapsed_s = time.monotonic() - started
        if self.on_progress is not None:
            self.on_progress(self.summary)

    def _fail(self, failures: Iterable[Failure]) -> None:
        for failure in failures:
            self.summary.failed += 1
            self.summary.failures.append(failure)
            if self.dead_letters is not None:
                self.dead_letters.record(failure)

    def _account(self, result: WriteResult) -> None:
        self.summary.written += result.written
        self._fail(result.failures)

    # --- read and decode (worker threads) ------------------------------------------------------

    def _prepare(self, batch: list[ImageCandidate], runner: AsyncRunner) -> PreparedBatch:
        prepared = PreparedBatch()
        stored = call_with_retry(
            lambda: self.store.fetch_hashes(self.collection, [c.image_id for c in batch]),
            what="checking stored content hashes",
            policy=self.retry,
        )
        todo = [c for c in batch if stored.get(c.image_id) != c.content_hash]
        prepared.unchanged = len(batch) - len(todo)
        contents = runner.run(self._read_all(todo))
        for candidate in todo:
            uri = candidate.image.uri
            try:
                data = contents[candidate.image.key]
                if isinstance(data, BaseException):
                    raise data
            except (InvalidInput, TransientError) as error:
                prepared.failures.append(Failure.of(uri, Stage.READ, error))
                continue
            try:
                caption = self._sidecar_caption(candidate, contents)
                decoded = decode_image(
                    data,
                    max_pixels=self.config.max_image_pixels,
                    limits=self.embedder.info.limits,
                )
            except (InvalidInput, TransientError) as error:
                prepared.failures.append(Failure.of(uri, Stage.DECODE, error))
                continue
            asset = Asset(
                kind=AssetKind.IMAGE,
                source_uri=uri,
                content_hash=candidate.content_hash,
                caption=clean_caption(
                    caption or decoded.description, max_chars=self.config.max_caption_chars
                ),
                fields={
                    "width": decoded.width,
                    "height": decoded.height,
                    "format": decoded.format.lower(),
                },
            )
            prepared.items.append(PreparedImage(asset, decoded.pixels))
        return prepared

    async def _read_all(self, candidates: list[ImageCandidate]) -> dict[str, bytes | BaseException]:
        limit = asyncio.Semaphore(self.config.read_concurrency)

        async def read(obj: ObjectInfo, max_bytes: int) -> bytes:
            if obj.size > max_bytes:
                raise ObjectTooLarge(
                    f"{obj.key} is {obj.size:,} bytes, over the limit of {max_bytes:,}"
                )
            async with limit:
                return await acall_with_retry(
                    lambda: self.source.read(obj), what=f"reading {obj.uri}", policy=self.retry
                )

        objects: list[tuple[ObjectInfo, int]] = []
        for candidate in candidates:
            objects.append((candidate.image, self.config.max_object_bytes))
            objects += [(s, self.config.max_sidecar_bytes) for s in candidate.sidecars]
        results = await asyncio.gather(
            *(read(obj, max_bytes) for obj, max_bytes in objects), return_exceptions=True
        )
        return {obj.key: result for (obj, _), result in zip(objects, results, strict=True)}

    @staticmethod
    def _sidecar_caption(
        candidate: ImageCandidate, contents: dict[str, bytes | BaseException]
    ) -> str | None:
        # .json before .txt: a structured caption wins over a plain one.
        for sidecar in sorted(candidate.sidecars, key=lambda s: s.suffix != ".json"):
            data = contents[sidecar.key]
            if isinstance(data, ObjectTooLarge):
                raise SidecarError(f"caption sidecar {sidecar.key}: {data}")
            if isinstance(data, BaseException):
                raise data
            caption = caption_from_sidecar(sidecar.name, data)
            if caption and caption.strip():
                return caption
        return None

    # --- embed (calling thread) and write (writer thread) -----------------------------------

    def _embed(self, items: list[PreparedImage]) -> list[Point]:
        if not items:
            return []
        named, errors = embed_images_and_captions(
            self.embedder,
            [item.pixels for item in items],
            [item.asset.caption for item in items],
            policy=self.retry,
        )
        self._fail(Failure.of(items[i].asset.source_uri, Stage.EMBED, e) for i, e in errors.items())
        now = datetime.now(UTC)
        return [
            build_point(
                item.asset,
                vectors,
                embedder=self.embedder.info,
                tenant=self.tenant,
                ingested_at=now,
            )
            for index, (item, vectors) in enumerate(zip(items, named, strict=True))
            if index not in errors
        ]

    def _write(self, points: list[Point]) -> WriteResult:
        result = WriteResult()
        for chunk in chunked(points, self.store.capabilities.max_batch):
            try:
                call_with_retry(
                    partial(self.store.upsert, self.collection, chunk),
                    what=f"upserting {len(chunk)} points",
                    policy=self.retry,
                )
            except (TransientError, InvalidInput) as error:
                result.failures += [
                    Failure.of(point.payload["source_uri"], Stage.WRITE, error) for point in chunk
                ]
            else:
                result.written += len(chunk)
        return result


def ingest_images(
    source: Source,
    embedder: Embedder,
    store: VectorStore,
    *,
    collection: str,
    config: IngestConfig | None = None,
    tenant: str | None = None,
    prefix: str = "",
    dead_letters: DeadLetterSink | None = None,
    on_progress: ProgressCallback | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> RunSummary:
    """Ingest every image of ``source`` (under ``prefix``) into ``collection``.

    Returns the run's summary; failed objects are also recorded in ``dead_letters``.
    """
    return ImageIngestion(
        source,
        embedder,
        store,
        collection=collection,
        config=config or IngestConfig(),
        tenant=tenant,
        dead_letters=dead_letters,
        on_progress=on_progress,
        retry=retry,
    ).run(prefix)
