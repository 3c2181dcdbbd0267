"""Ingest a folder or bucket: list, extract (images, PDF pages, products), embed, upsert.

Three stages overlap: a planner thread walks the listing, worker threads read and decode
units of work (a batch of images, one PDF, one catalog) into prepared batches, the calling
thread embeds them, and a writer thread upserts the previous batch. Every listed object ends
up written, skipped (unchanged or not an input) or failed with its reason; a re-run skips what
is already stored with the same content hash. Planning (:mod:`mmingest.pipelines.planning`)
and loading (:mod:`mmingest.pipelines.loading`) live in their own modules; this one runs them.
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
from functools import partial
from typing import Any

from mmingest.connectors.embedders.base import Embedder
from mmingest.connectors.sources.base import Source
from mmingest.connectors.stores.base import VectorStore
from mmingest.pipelines.collector import paced_collector
from mmingest.pipelines.deadletters import DeadLetterSink
from mmingest.pipelines.embed import embed_images_and_captions
from mmingest.pipelines.extract.base import ExtractContext, Prepared, PreparedBatch
from mmingest.pipelines.extract.images import prepare_images
from mmingest.pipelines.extract.isolation import isolation_failure, stops_run
from mmingest.pipelines.extract.pdfs import extract_pdf
from mmingest.pipelines.extract.products import extract_catalog
from mmingest.pipelines.extract.references import ReferenceReader
from mmingest.pipelines.loading import BatchWriter, IncompleteDocument, WriteResult, where
from mmingest.pipelines.planning import (
    DEFAULT_KINDS,
    CatalogTask,
    DocumentTask,
    IgnoredTask,
    ImageChunk,
    Kind,
    Task,
    objects_of,
    plan,
    task_uri,
)
from mmingest.pipelines.points import build_point, build_points
from mmingest.pipelines.reconcile import Evidence
from mmingest.pipelines.retry import DEFAULT_RETRY, RetryPolicy, call_with_retry
from mmingest.pipelines.stages import AsyncRunner, parallel_batches
from mmingest.schemas.collection import CollectionSpec
from mmingest.schemas.config import CatalogConfig, HttpConfig, IngestConfig, PdfConfig, SourceConfig
from mmingest.schemas.embedding import EmbedderInfo, EmbedderLimits
from mmingest.schemas.errors import CollectionNotFound, ConfigError
from mmingest.schemas.objects import ObjectInfo
from mmingest.schemas.points import Point
from mmingest.schemas.summary import IGNORED_EXAMPLES, Failure, RunSummary, Stage

__all__ = [
    "DEFAULT_KINDS",
    "CatalogTask",
    "DocumentTask",
    "IgnoredTask",
    "ImageChunk",
    "IncompleteDocument",
    "Ingestion",
    "IngestionConfig",
    "Kind",
    "ProgressCallback",
    "Task",
    "WriteResult",
    "ingest",
    "ingest_images",
    "ingest_pdfs",
    "ingest_products",
    "plan",
]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[RunSummary], None]
_WRITES_IN_FLIGHT = 2


@dataclass(frozen=True)
class IngestionConfig:
    """Everything an :class:`Ingestion` is told: where it writes, what it takes and how."""

    collection: str
    ingest: IngestConfig = field(default_factory=IngestConfig)
    kinds: frozenset[Kind] = DEFAULT_KINDS
    pdf: PdfConfig = field(default_factory=PdfConfig)
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    source_config: SourceConfig = field(default_factory=SourceConfig)
    """Credentials for catalog image references on the source's own storage."""
    http: HttpConfig = field(default_factory=HttpConfig)
    tenant: str | None = None
    retry: RetryPolicy = DEFAULT_RETRY
    dry_run: bool = False


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
        config: IngestionConfig,
        *,
        dead_letters: DeadLetterSink | None = None,
        on_progress: ProgressCallback | None = None,
        evidence: Evidence | None = None,
    ) -> None:
        self.source = source
        self.embedder = embedder
        self.store = store
        self.collection = config.collection
        self.config = config.ingest
        self.kinds = config.kinds
        self.pdf = config.pdf
        self.catalog = config.catalog
        self.source_config = config.source_config
        self.http = config.http
        self.tenant = config.tenant
        self.dead_letters = dead_letters
        self.on_progress = on_progress
        self.retry = config.retry
        self.dry_run = config.dry_run
        self.evidence = evidence
        self.server_side = store.capabilities.server_side_vectors
        # A dry run only plans and counts: it needs no model (the CLI does not load one for it).
        planning_only = self.dry_run and embedder is None and not self.server_side
        self._space = None if planning_only else self._vector_space()
        self.summary = RunSummary(collection=self.collection, dry_run=self.dry_run)
        self._task_ids = itertools.count()
        self._writer = BatchWriter(store, tenant=self.tenant, retry=self.retry)

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
            listing = self.evidence.witness(listing)
        return self.run_tasks(plan(listing, kinds=self.kinds, config=self.config, only=only))

    def _counted(self, listing: Iterable[ObjectInfo]) -> Iterator[ObjectInfo]:
        """The listing, counted: once it is complete the summary knows the total (progress)."""
        listed = 0
        for obj in listing:
            listed += 1
            yield obj
        self.summary.listed = listed

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
        with (
            paced_collector(),
            AsyncRunner() as runner,
            ThreadPoolExecutor(1, "mmingest-write") as writer,
        ):
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
                starts_empty=self._starts_empty(target),
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
                    points, sources = self._points(prepared.items)
                    if points or prepared.stale_ids:
                        write = partial(self._writer.write, target, points, sources, prepared)
                        writes.append(writer.submit(write))
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

    def _starts_empty(self, target: str) -> bool:
        """Whether the collection holds no point of this run's tenant yet (a first load).

        Then nothing the run reads can be stored already: point ids are per object (and page
        or record) and tenant, and a run reads each object once. Its extractors skip the
        stored-hash lookups, which cost a first load of a large catalog ~2 us a record.
        """
        try:
            stored = call_with_retry(
                lambda: self.store.count(target, tenant=self.tenant),
                what="counting stored points",
                policy=self.retry,
            )
        except CollectionNotFound:
            return True  # a dry run before the first ingest
        return stored == 0

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
            held.objects = objects_of(task)
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
        uri = task_uri(task)
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
        room = IGNORED_EXAMPLES - len(summary.ignored_examples)
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
            log.info("%s failed at %s: %s", failure.uri, failure.stage, failure.message)
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

    def _points(self, items: list[Prepared]) -> tuple[list[Point], list[Prepared]]:
        """The points of the embedded items, and the item each came from (for failures)."""
        if not items:
            return [], []
        now = datetime.now(UTC)
        stamp = now.isoformat()  # one timestamp per batch, formatted once
        if self.server_side:
            return [self._server_side_point(item, now) for item in items], items
        assert self.embedder is not None
        named, errors = embed_images_and_captions(
            self.embedder,
            [item.images for item in items],
            [item.asset.caption for item in items],
            policy=self.retry,
        )
        self._fail(Failure.of(where(items[i]), Stage.EMBED, e) for i, e in errors.items())
        kept, vectors = items, named
        if errors:
            indexes = [index for index in range(len(items)) if index not in errors]
            kept, vectors = [items[i] for i in indexes], [named[i] for i in indexes]
        points = build_points(
            [item.asset for item in kept],
            vectors,
            embedder=self.info,
            tenant=self.tenant,
            ingested_at=stamp,
        )
        return points, kept

    def _server_side_point(self, item: Prepared, now: datetime) -> Point:
        point = build_point(item.asset, {}, embedder=self.info, tenant=self.tenant, ingested_at=now)
        if not item.images:
            return point
        buffer = io.BytesIO()
        item.images[0].save(buffer, format="JPEG", quality=90)
        return point.model_copy(update={"image_data": buffer.getvalue()})


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
    dead_letters = options.pop("dead_letters", None)
    on_progress = options.pop("on_progress", None)
    evidence = options.pop("evidence", None)
    return Ingestion(
        source,
        embedder,
        store,
        IngestionConfig(
            collection=collection,
            ingest=config or IngestConfig(),
            kinds=frozenset(Kind(kind) for kind in kinds),
            **options,
        ),
        dead_letters=dead_letters,
        on_progress=on_progress,
        evidence=evidence,
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
