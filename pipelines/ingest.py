"""Ingest a folder or bucket: list, extract (images, PDF pages, products), embed, upsert.

Three stages overlap: a planner thread walks the listing, worker threads read and decode
units of work (a batch of images, one PDF, one catalog) into prepared batches, the calling
thread embeds them, and a writer thread upserts the previous batch. Every listed object ends
up written, skipped (unchanged or not an input) or failed with its reason; a re-run skips what
is already stored with the same content hash.
"""

from __future__ import annotations

import io
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import Any

from mmingest.connectors.embedders.base import Embedder
from mmingest.connectors.sources.base import Source
from mmingest.connectors.stores.base import VectorStore
from mmingest.pipelines.deadletters import DeadLetterSink
from mmingest.pipelines.embed import embed_images_and_captions
from mmingest.pipelines.extract.base import ExtractContext, Prepared, PreparedBatch
from mmingest.pipelines.extract.catalogs import catalog_format
from mmingest.pipelines.extract.images import prepare_images
from mmingest.pipelines.extract.isolation import isolation_failure, stops_run
from mmingest.pipelines.extract.pdfs import extract_pdf
from mmingest.pipelines.extract.products import extract_catalog
from mmingest.pipelines.extract.references import ReferenceReader
from mmingest.pipelines.globs import selected
from mmingest.pipelines.listing import Ignored, ImageCandidate, pair_sidecars
from mmingest.pipelines.points import build_point
from mmingest.pipelines.reconcile import Evidence
from mmingest.pipelines.retry import DEFAULT_RETRY, RetryPolicy, call_with_retry
from mmingest.pipelines.stages import AsyncRunner, parallel_batches
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.config import CatalogConfig, HttpConfig, IngestConfig, PdfConfig, SourceConfig
from mmingest.schemas.embedding import EmbedderInfo, EmbedderLimits
from mmingest.schemas.errors import CollectionNotFound, ConfigError, InvalidInput, TransientError
from mmingest.schemas.objects import ObjectInfo
from mmingest.schemas.points import Point
from mmingest.schemas.summary import Failure, RunSummary, Stage

log = logging.getLogger(__name__)

ProgressCallback = Callable[[RunSummary], None]
_IGNORED_EXAMPLES = 20
_WRITES_IN_FLIGHT = 2


class Kind(StrEnum):
    """What a run ingests."""

    IMAGES = "images"
    PDFS = "pdfs"
    PRODUCTS = "products"


DEFAULT_KINDS = frozenset({Kind.IMAGES, Kind.PDFS})


@dataclass(frozen=True)
class ImageChunk:
    """A batch of images to read and decode together."""

    candidates: list[ImageCandidate]


@dataclass(frozen=True)
class DocumentTask:
    """One PDF document."""

    obj: ObjectInfo


@dataclass(frozen=True)
class CatalogTask:
    """One product catalog."""

    obj: ObjectInfo


@dataclass(frozen=True)
class IgnoredTask:
    """Objects this run does not take, with the reason."""

    items: list[tuple[str, str]]


Task = ImageChunk | DocumentTask | CatalogTask | IgnoredTask


def _objects_of(task: Task) -> int:
    """How many listed objects a task covers (an image with its sidecars, a document...)."""
    if isinstance(task, ImageChunk):
        return sum(1 + len(candidate.sidecars) for candidate in task.candidates)
    if isinstance(task, IgnoredTask):
        return len(task.items)
    return 1


@dataclass
class WriteResult:
    """The outcome of upserting one batch of points."""

    written: int = 0
    deleted: int = 0
    failures: list[Failure] = field(default_factory=list)


def plan(
    objects: Iterable[ObjectInfo],
    *,
    kinds: frozenset[Kind],
    config: IngestConfig,
    only: Container[str] | None = None,
) -> Iterator[Task]:
    """Units of work from a listing, in listing order.

    With ``only`` (object URIs), everything else is left out without being counted: a run
    that retries dead letters covers just those objects (images keep their sidecars).
    """
    ignored: list[tuple[str, str]] = []
    images: list[ImageCandidate] = []

    def chosen() -> Iterator[ObjectInfo]:
        for obj in objects:
            if selected(obj.key, config.include, config.exclude):
                yield obj
            else:
                ignored.append((obj.key, "excluded by ingest.include/exclude"))

    for item in pair_sidecars(chosen()):
        if only is not None and _uri_of(item) not in only:
            continue
        if isinstance(item, ImageCandidate):
            if Kind.IMAGES in kinds:
                images.append(item)
            else:
                ignored.append(
                    (item.image.key, "an image (this run ingests " + ", ".join(sorted(kinds)) + ")")
                )
                ignored += [(s.key, "sidecar of an image not ingested") for s in item.sidecars]
        elif item.obj.suffix == ".pdf" and Kind.PDFS in kinds:
            yield DocumentTask(item.obj)
        elif catalog_format(item.obj.key) and Kind.PRODUCTS in kinds:
            yield CatalogTask(item.obj)
        elif catalog_format(item.obj.key) in ("parquet", "csv", "jsonl"):
            ignored.append((item.obj.key, "a catalog: ingest it with --kind products"))
        else:
            ignored.append((item.obj.key, item.reason))
        if len(images) >= config.batch_size:
            yield ImageChunk(images)
            images = []
        if len(ignored) >= config.batch_size:
            yield IgnoredTask(ignored)
            ignored = []
    if images:
        yield ImageChunk(images)
    if ignored:
        yield IgnoredTask(ignored)


class IncompleteDocument(TransientError):
    """A document's last batch was held back because an earlier batch of it failed to write."""


def _uri_of(item: ImageCandidate | Ignored) -> str:
    return item.image.uri if isinstance(item, ImageCandidate) else item.obj.uri


class Ingestion:
    """One ingestion run into one collection.

    ``dry_run`` classifies every item (new, changed, unchanged) and estimates the embedding
    work without embedding or writing anything. ``evidence`` collects what the run saw of
    its source, for :mod:`mmingest.pipelines.reconcile` to find vanished points afterwards.
    """

    def __init__(
        self,
        source: Source,
        embedder: Embedder | None,
        store: VectorStore,
        *,
        collection: str,
        config: IngestConfig,
        kinds: frozenset[Kind] = DEFAULT_KINDS,
        pdf: PdfConfig | None = None,
        catalog: CatalogConfig | None = None,
        source_config: SourceConfig | None = None,
        http: HttpConfig | None = None,
        tenant: str | None = None,
        dead_letters: DeadLetterSink | None = None,
        on_progress: ProgressCallback | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        dry_run: bool = False,
        evidence: Evidence | None = None,
    ) -> None:
        self.source = source
        self.embedder = embedder
        self.store = store
        self.collection = collection
        self.config = config
        self.kinds = kinds
        self.pdf = pdf or PdfConfig()
        self.catalog = catalog or CatalogConfig()
        self.source_config = source_config or SourceConfig()
        self.http = http or HttpConfig()
        self.tenant = tenant
        self.dead_letters = dead_letters
        self.on_progress = on_progress
        self.retry = retry
        self.dry_run = dry_run
        self.evidence = evidence
        self.server_side = store.capabilities.server_side_vectors
        # A dry run only plans and counts: it needs no model (the CLI does not load one for it).
        planning_only = dry_run and embedder is None and not self.server_side
        self._space = None if planning_only else self._vector_space()
        self.summary = RunSummary(collection=collection, dry_run=dry_run)
        self._task_ids = itertools.count()
        self._failed_tasks: set[int] = set()  # touched by the writer thread only

    @property
    def info(self) -> EmbedderInfo:
        """The vector space the points are written in (the embedder's or the store's)."""
        if self._space is None:
            raise ConfigError("a dry run without an embedder has no vector space to write in")
        return self._space

    def _vector_space(self) -> EmbedderInfo:
        if self.server_side:
            vectorizer = self.store.capabilities.vectorizer
            if vectorizer is None:
                raise ConfigError("the store computes vectors but does not name its vectorizer")
            return vectorizer
        if self.embedder is None:
            raise ConfigError("an embedder is needed: the store does not compute vectors itself")
        return self.embedder.info

    # --- orchestration -------------------------------------------------------------------------

    def run(self, prefix: str = "", *, only: Container[str] | None = None) -> RunSummary:
        """Ingest every object under ``prefix`` (or just the ``only`` URIs) and summarise."""
        self.source.precheck()
        listing = self._counted(self.source.list(prefix))
        if self.evidence is not None:
            listing = self._witnessed(listing, self.evidence)
        return self.run_tasks(plan(listing, kinds=self.kinds, config=self.config, only=only))

    def _counted(self, listing: Iterable[ObjectInfo]) -> Iterator[ObjectInfo]:
        """The listing, counted: once it is complete the summary knows the total (progress)."""
        listed = 0
        for obj in listing:
            listed += 1
            yield obj
        self.summary.listed = listed

    @staticmethod
    def _witnessed(listing: Iterable[ObjectInfo], evidence: Evidence) -> Iterator[ObjectInfo]:
        for obj in listing:
            evidence.saw_object(obj.uri)
            yield obj

    def run_tasks(self, tasks: Iterable[Task]) -> RunSummary:
        """Extract, embed and write planned units of work (see :func:`plan`)."""
        started = time.monotonic()
        usage_before = self.embedder.usage() if self.embedder is not None else None
        if not self.dry_run:
            self.store.ensure_collection(
                CollectionSpec.for_embedder(
                    self.collection, self.info, keywords=self.store.capabilities.keywords
                )
            )
        # An alias swapped mid-run must not split the run's points between two collections.
        target = self._target()
        writes: deque[Future[WriteResult]] = deque()
        space = self._space
        limits = space.limits if space is not None and not self.server_side else EmbedderLimits()
        with AsyncRunner() as runner, ThreadPoolExecutor(1, "mmingest-write") as writer:
            context = ExtractContext(
                self.source,
                self.store,
                target,
                self.config,
                limits,
                runner,
                self.retry,
                tenant=self.tenant,
                dry_run=self.dry_run,
            )
            references = ReferenceReader(
                self.source, source_config=self.source_config, http=self.http, retry=self.retry
            )
            try:
                for prepared in parallel_batches(
                    tasks,
                    partial(self._extract, context=context, references=references),
                    workers=self.config.decode_workers,
                    depth=self.config.prefetch_batches,
                ):
                    self._account_prepared(prepared)
                    if self.dry_run:
                        continue
                    points, places = self._points(prepared.items)
                    if points or prepared.stale_ids:
                        writes.append(writer.submit(self._write, target, points, places, prepared))
                    while len(writes) > _WRITES_IN_FLIGHT:
                        self._account(writes.popleft().result())
                    self._progress(started)
            finally:
                # Whatever stopped the run, points already embedded still land.
                while writes:
                    self._account(writes.popleft().result())
                references.close()
        if self.embedder is not None and usage_before is not None:
            self.summary.add_usage(self.embedder.usage().since(usage_before))
        if self.evidence is not None:
            self.evidence.complete = True
        self._progress(started)
        return self.summary

    def _target(self) -> str:
        try:
            return self.store.resolve(self.collection)
        except CollectionNotFound:
            if self.dry_run:
                return self.collection  # nothing stored yet: everything is new
            raise

    def _extract(
        self, task: Task, *, context: ExtractContext, references: ReferenceReader
    ) -> Iterator[PreparedBatch]:
        task_id = next(self._task_ids)
        # The task's last batch carries its object count (progress): hold each batch until
        # the next one shows it was not the last.
        held: PreparedBatch | None = None
        for batch in self._isolated(task, context, references):
            batch.task = task_id
            if held is not None:
                yield held
            held = batch
        if held is not None:
            held.objects = _objects_of(task)
            yield held

    def _isolated(
        self, task: Task, context: ExtractContext, references: ReferenceReader
    ) -> Iterator[PreparedBatch]:
        """The batches of ``task``; whatever one object raises fails that object only.

        A chunk of images that raised before yielding anything is redone one image at a time,
        so the image that raised is the only one dead-lettered. A document or catalog that
        raised part-way keeps what it already yielded (a document's page 1, its completion
        marker, goes last, so the next run redoes it) and counts as one more failed item.
        """
        raised: Exception | None = None
        yielded = False
        try:
            for batch in self._batches(task, context, references):
                yielded = True
                yield batch
        except Exception as error:
            if stops_run(error):
                raise
            raised = error
        if raised is None:
            return
        if isinstance(task, ImageChunk) and len(task.candidates) > 1 and not yielded:
            for candidate in task.candidates:
                yield from self._isolated(ImageChunk([candidate]), context, references)
            return
        uri = _task_uri(task)
        yield PreparedBatch(
            seen=1, failures=[isolation_failure(uri, raised)], shielded_sources=[uri]
        )

    def _batches(
        self, task: Task, context: ExtractContext, references: ReferenceReader
    ) -> Iterable[PreparedBatch]:
        if isinstance(task, ImageChunk):
            return [prepare_images(task.candidates, context)]
        if isinstance(task, DocumentTask):
            return extract_pdf(task.obj, context, self.pdf)
        if isinstance(task, CatalogTask):
            return extract_catalog(task.obj, context, self.catalog, references)
        return [PreparedBatch(seen=len(task.items), ignored=task.items)]

    def _account_prepared(self, prepared: PreparedBatch) -> None:
        summary = self.summary
        summary.seen += prepared.seen
        summary.objects_done += prepared.objects
        summary.new += prepared.new
        summary.changed += prepared.changed
        summary.unchanged += prepared.unchanged
        summary.ignored += len(prepared.ignored)
        room = _IGNORED_EXAMPLES - len(summary.ignored_examples)
        summary.ignored_examples += [f"{key}: {why}" for key, why in prepared.ignored[:room]]
        summary.warnings += prepared.warnings
        for key, value in prepared.estimate.items():
            summary.estimate[key] = summary.estimate.get(key, 0) + value
        for reason, count in prepared.images_lost.items():
            summary.images_lost[reason] = summary.images_lost.get(reason, 0) + count
        if self.evidence is not None:
            self.evidence.saw_records(prepared.record_ids)
            self.evidence.shield(prepared.shielded_sources)
        self._fail(prepared.failures)

    def _progress(self, started: float) -> None:
        self.summary.elapsed_s = time.monotonic() - started
        if self.on_progress is not None:
            self.on_progress(self.summary)

    def _fail(self, failures: Iterable[Failure]) -> None:
        for failure in failures:
            if self.tenant is not None:
                failure = failure.model_copy(update={"tenant": self.tenant})
            self.summary.failed += 1
            self.summary.failures.append(failure)
            if self.dead_letters is not None:
                self.dead_letters.record(failure)

    def _account(self, result: WriteResult) -> None:
        self.summary.written += result.written
        self.summary.deleted += result.deleted
        self._fail(result.failures)

    # --- embed (calling thread) and write (writer thread) -----------------------------------

    def _points(self, items: list[Prepared]) -> tuple[list[Point], list[str]]:
        """The points of the embedded items, and where each came from (for failures)."""
        if not items:
            return [], []
        now = datetime.now(UTC)
        stamp = now.isoformat()  # one timestamp per batch, formatted once
        if self.server_side:
            return [self._server_side_point(item, now) for item in items], [
                _where(item) for item in items
            ]
        assert self.embedder is not None
        named, errors = embed_images_and_captions(
            self.embedder,
            [item.images for item in items],
            [item.asset.caption for item in items],
            policy=self.retry,
        )
        self._fail(Failure.of(_where(items[i]), Stage.EMBED, e) for i, e in errors.items())
        kept = [index for index in range(len(items)) if index not in errors]
        points = [
            build_point(
                items[index].asset,
                named[index],
                embedder=self.info,
                tenant=self.tenant,
                ingested_at=stamp,
            )
            for index in kept
        ]
        return points, [_where(items[index]) for index in kept]

    def _server_side_point(self, item: Prepared, now: datetime) -> Point:
        point = build_point(item.asset, {}, embedder=self.info, tenant=self.tenant, ingested_at=now)
        if not item.images:
            return point
        buffer = io.BytesIO()
        item.images[0].save(buffer, format="JPEG", quality=90)
        return point.model_copy(update={"image_data": buffer.getvalue()})

    def _write(
        self, target: str, points: list[Point], places: list[str], prepared: PreparedBatch
    ) -> WriteResult:
        result = WriteResult()
        if prepared.commit and prepared.task in self._failed_tasks:
            error = IncompleteDocument(
                "held back: another batch of this document failed to write, so the document "
                "is not marked complete and the next run redoes it"
            )
            result.failures = [Failure.of(place, Stage.WRITE, error) for place in places]
            return result
        size = self.store.capabilities.max_batch
        for start in range(0, len(points), size):
            chunk = points[start : start + size]
            try:
                call_with_retry(
                    partial(self.store.upsert, target, chunk),
                    what=f"upserting {len(chunk)} points",
                    policy=self.retry,
                )
            except (TransientError, InvalidInput) as error:
                self._failed_tasks.add(prepared.task)
                result.failures += [
                    Failure.of(place, Stage.WRITE, error) for place in places[start : start + size]
                ]
            else:
                result.written += len(chunk)
        if prepared.stale_ids:
            call_with_retry(
                partial(self.store.delete, target, prepared.stale_ids, tenant=self.tenant),
                what=f"deleting {len(prepared.stale_ids)} stale points",
                policy=self.retry,
            )
            result.deleted += len(prepared.stale_ids)
        return result


def _task_uri(task: Task) -> str:
    if isinstance(task, ImageChunk):
        return task.candidates[0].image.uri
    if isinstance(task, DocumentTask | CatalogTask):
        return task.obj.uri
    return ""  # pragma: no cover - an ignored task reads nothing and cannot raise


def _where(item: Prepared) -> str:
    asset = item.asset
    if asset.page is not None:
        return f"{asset.source_uri}#page={asset.page}"
    return f"{asset.source_uri}#{asset.part}" if asset.part else asset.source_uri


def ingest(
    source: Source,
    embedder: Embedder | None,
    store: VectorStore,
    *,
    collection: str,
    config: IngestConfig | None = None,
    kinds: Iterable[Kind | str] = DEFAULT_KINDS,
    prefix: str = "",
    **options: Any,
) -> RunSummary:
    """Ingest ``source`` (under ``prefix``) into ``collection``; see :class:`Ingestion`.

    ``kinds`` picks what is ingested: images and PDFs by default, or product catalogs.
    """
    return Ingestion(
        source,
        embedder,
        store,
        collection=collection,
        config=config or IngestConfig(),
        kinds=frozenset(Kind(kind) for kind in kinds),
        **options,
    ).run(prefix)


def ingest_images(
    source: Source,
    embedder: Embedder | None,
    store: VectorStore,
    *,
    collection: str,
    **options: Any,
) -> RunSummary:
    """Ingest only the images of ``source``."""
    return ingest(source, embedder, store, collection=collection, kinds=[Kind.IMAGES], **options)


def ingest_pdfs(
    source: Source,
    embedder: Embedder | None,
    store: VectorStore,
    *,
    collection: str,
    **options: Any,
) -> RunSummary:
    """Ingest only the PDFs of ``source``, one point per page."""
    return ingest(source, embedder, store, collection=collection, kinds=[Kind.PDFS], **options)


def ingest_products(
    source: Source,
    embedder: Embedder | None,
    store: VectorStore,
    *,
    collection: str,
    **options: Any,
) -> RunSummary:
    """Ingest the product catalogs of ``source``, one point per record."""
    return ingest(source, embedder, store, collection=collection, kinds=[Kind.PRODUCTS], **options)
