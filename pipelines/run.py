"""One run model: a typed, serialisable :class:`RunSpec`, the units of work it splits into,
"run one unit" and "reconcile".

The CLI, the Prefect flows and the Dask task runner only build a :class:`RunSpec` from
``Settings`` and schedule its units; what a run *does* lives here and in the modules it calls.
A spec carries no credentials: each process opens its :class:`Backends` (store, embedder,
source credentials) from its own configuration, so secrets never travel with a unit.

Two ways to run a spec, with the same counts and outcomes:

- :func:`execute` runs every unit in this process through one pipelined :class:`Ingestion`
  (the CLI, the library's :func:`mmingest.pipelines.sync.sync`);
- :mod:`mmingest.pipelines.units` lists the units, runs some of them anywhere and folds the
  results in before reconciling: a scheduler spreads the units over threads, processes or
  machines (Prefect, Dask).

Retries, in one place. A transient failure (:class:`~mmingest.schemas.errors.TransientError`)
is retried by exactly these layers, innermost first:

1. *The clients' own transport retries* where a client has them and we cannot turn them off:
   the object-store client (``source.max_retries``, per HTTP request), pymilvus (unavailable
   servers, rate limits) and the Weaviate gRPC channel (``UNAVAILABLE``). Provider SDK retries
   are switched off (``max_retries=0``) so attempts are not multiplied.
2. *A store's later sub-requests* (:mod:`mmingest.connectors.stores.batching`): when an upsert is
   split by bytes, a failure after earlier sub-requests were written is retried there, because
   layer 3 would otherwise re-send what already landed.
3. *The pipeline's* :func:`~mmingest.pipelines.retry.call_with_retry` (one
   :class:`~mmingest.pipelines.retry.RetryPolicy`: 5 attempts, exponential backoff with jitter,
   ``Retry-After`` honoured) around every source read, embedding call, upsert and delete,
   including the deletion of vanished points (:mod:`mmingest.pipelines.deletes`, the one path).
   When it gives up, the *item* fails with its reason and lands in the dead letters.
4. *The scheduler's unit retries* (Prefect ``flow.task_retries``, transient errors only): a unit
   is re-run when an error escaped layer 3 for the unit as a whole (the store unreachable at
   ``ensure_collection``, a worker lost). Units are idempotent: point ids are deterministic and
   unchanged items are skipped, so a retry never duplicates.
5. *A later run*: ``mmingest retry-failed`` (or the next scheduled sync) takes the dead letters.

Nothing else retries: the copy of the vanished-points delete that ran without layer 3 is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mmingest.connectors.embedders.base import Embedder
from mmingest.connectors.sources import open_source, scheme_of
from mmingest.connectors.sources.base import Source
from mmingest.connectors.stores.base import VectorStore
from mmingest.pipelines.deadletters import DeadLetterSink
from mmingest.pipelines.deletes import delete_points
from mmingest.pipelines.ingest import (
    DEFAULT_KINDS,
    Ingestion,
    IngestionConfig,
    Kind,
    ProgressCallback,
)
from mmingest.pipelines.reconcile import KIND_OF_RUN, Deletions, Evidence, Scope, plan_deletions
from mmingest.pipelines.retry import DEFAULT_RETRY, RetryPolicy
from mmingest.schemas.config import CatalogConfig, HttpConfig, IngestConfig, PdfConfig, SourceConfig
from mmingest.schemas.errors import CollectionNotFound
from mmingest.schemas.summary import RunSummary

__all__ = [
    "DEFAULT_KINDS",
    "Backends",
    "Deletions",
    "Kind",
    "ProgressCallback",
    "RunOptions",
    "RunSpec",
    "SyncReport",
    "execute",
    "reconcile",
    "scope_of",
]


class RunOptions(BaseModel):
    """How a run treats the collection: write or only report, delete vanished points or not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dry_run: bool = Field(False, description="Classify and estimate; write and delete nothing.")
    delete: bool = Field(False, description="Delete the points of vanished objects (guarded).")
    force: bool = Field(False, description="Delete even beyond max_delete_fraction.")
    max_delete_fraction: float = Field(
        0.5, ge=0, le=1, description="Refuse to delete more than this share of the run's scope."
    )
    only: frozenset[str] | None = Field(
        None, description="Just these object URIs (a retry of dead letters); None: everything."
    )


class RunSpec(BaseModel):
    """What one run does: source, scope, kinds and options. Plain data (JSON-serialisable, no
    credentials), the same whether the CLI, a Prefect flow or a Dask worker runs it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(description="Folder, file or bucket URI (./images, s3://bucket/prefix).")
    prefix: str = Field("", description="Only keys starting with this prefix.")
    kinds: tuple[Kind, ...] = Field(
        tuple(sorted(DEFAULT_KINDS)), description="What to take: images, pdfs, products."
    )
    collection: str = Field(description="Target collection (or alias).")
    tenant: str | None = Field(None, description="Tenant stamped on every point.")
    options: RunOptions = Field(default_factory=RunOptions)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    pdf: PdfConfig = Field(default_factory=PdfConfig)
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)

    def root(self) -> tuple[str, str]:
        """The source root and key prefix (a single local file becomes folder + name)."""
        root, prefix = self.source, self.prefix
        if scheme_of(root) == "file":
            path = Path(root.removeprefix("file://")).expanduser()
            if path.is_file():
                root, prefix = str(path.parent), path.name + prefix
        return root, prefix

    def open(self, config: SourceConfig) -> tuple[Source, str]:
        """The source (with this process's credentials) and the key prefix."""
        root, prefix = self.root()
        return open_source(root, config), prefix


@dataclass
class Backends:
    """What a run works with in one process, opened from that process's own settings."""

    store: VectorStore
    embedder: Embedder | None
    source_config: SourceConfig = field(default_factory=SourceConfig)
    dead_letters: DeadLetterSink | None = None
    on_progress: ProgressCallback | None = None
    retry: RetryPolicy = DEFAULT_RETRY


@dataclass
class SyncReport:
    """A run's ingestion summary and what reconciliation found (and did)."""

    summary: RunSummary
    deletions: Deletions = field(default_factory=Deletions)

    @property
    def missing(self) -> int:
        """Items in the source but not in the store."""
        return self.summary.new

    @property
    def stale(self) -> int:
        """Items stored with an older version of their content."""
        return self.summary.changed

    @property
    def orphaned(self) -> int:
        """Stored points whose source object is gone."""
        return len(self.deletions.vanished_ids)


def scope_of(source: Source, *, prefix: str, config: IngestConfig, kinds: Sequence[Kind]) -> Scope:
    """The points a run over ``source`` answers for."""
    probe = source.uri_of("x")
    return Scope(
        base=probe[:-1],
        prefix=prefix,
        include=tuple(config.include),
        exclude=tuple(config.exclude),
        kinds=frozenset(str(KIND_OF_RUN[str(kind)]) for kind in kinds),
        local=scheme_of(source.uri) == "file",
    )


def ingestion_for(
    spec: RunSpec, backends: Backends, source: Source, evidence: Evidence | None
) -> Ingestion:
    """The one place an :class:`Ingestion` is configured from a spec."""
    dry_run = spec.options.dry_run
    return Ingestion(
        source,
        backends.embedder,
        backends.store,
        IngestionConfig(
            collection=spec.collection,
            ingest=spec.ingest,
            kinds=frozenset(spec.kinds),
            pdf=spec.pdf,
            catalog=spec.catalog,
            source_config=backends.source_config,
            http=spec.http,
            tenant=spec.tenant,
            retry=backends.retry,
            dry_run=dry_run,
        ),
        dead_letters=None if dry_run else backends.dead_letters,
        on_progress=backends.on_progress,
        evidence=evidence,
    )


def execute(spec: RunSpec, backends: Backends, source: Source | None = None) -> SyncReport:
    """Run every unit of ``spec`` in this process, then reconcile (when the options ask).

    ``source`` is an already opened source for ``spec.source`` (the caller closes it);
    without one, the spec's source is opened with ``backends.source_config`` and closed.
    """
    opened, prefix = (
        (source, spec.prefix) if source is not None else spec.open(backends.source_config)
    )
    try:
        evidence = Evidence()
        ingestion = ingestion_for(spec, backends, opened, evidence)
        summary = ingestion.run(prefix, only=spec.options.only)
        report = SyncReport(summary)
        if spec.options.delete or spec.options.dry_run:
            report.deletions = reconcile(spec, backends, opened, prefix, evidence)
            summary.deleted += report.deletions.deleted
        return report
    finally:
        if source is None:
            opened.close()


def reconcile(
    spec: RunSpec, backends: Backends, source: Source, prefix: str, evidence: Evidence
) -> Deletions:
    """Find the points whose source vanished and, unless a guard or the options say no,
    delete them (the one delete path: chunked, with the run's retry policy)."""
    options = spec.options
    scope = scope_of(source, prefix=prefix, config=spec.ingest, kinds=spec.kinds)
    try:
        target = backends.store.resolve(spec.collection)
        deletions = plan_deletions(
            backends.store,
            target,
            scope,
            evidence,
            tenant=spec.tenant,
            max_fraction=options.max_delete_fraction,
            force=options.force,
        )
    except CollectionNotFound:
        return Deletions()  # a dry run before the first ingest
    if options.delete and not options.dry_run and deletions.guarded is None:
        deletions.deleted = delete_points(
            backends.store,
            target,
            deletions.vanished_ids,
            tenant=spec.tenant,
            policy=backends.retry,
            what="vanished points",
        )
    return deletions
