"""Keep a collection in sync with its source: ingest what is new or changed, then delete the
points of vanished objects (guarded), or just report what would happen (dry run / verify)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from mmingest.connectors.embedders.base import Embedder
from mmingest.connectors.sources import scheme_of
from mmingest.connectors.sources.base import Source
from mmingest.connectors.stores.base import VectorStore
from mmingest.pipelines.ingest import DEFAULT_KINDS, Ingestion, Kind
from mmingest.pipelines.reconcile import KIND_OF_RUN, Deletions, Evidence, Scope, plan_deletions
from mmingest.pipelines.retry import DEFAULT_RETRY, RetryPolicy, call_with_retry
from mmingest.pipelines.stages import chunked
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.errors import CollectionNotFound
from mmingest.schemas.summary import RunSummary

_DELETE_CHUNK = 1000


@dataclass
class SyncReport:
    """A sync's ingestion summary and what reconciliation found (and did)."""

    summary: RunSummary
    deletions: Deletions

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


def scope_of(source: Source, *, prefix: str, config: IngestConfig, kinds: Iterable[Kind]) -> Scope:
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


def sync(
    source: Source,
    embedder: Embedder | None,
    store: VectorStore,
    *,
    collection: str,
    config: IngestConfig,
    kinds: Iterable[Kind | str] = DEFAULT_KINDS,
    prefix: str = "",
    delete: bool = True,
    force: bool = False,
    max_delete_fraction: float = 0.5,
    dry_run: bool = False,
    tenant: str | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    **options: Any,
) -> SyncReport:
    """Bring ``collection`` in line with ``source`` (under ``prefix``).

    New and changed items are embedded, unchanged ones skipped without being read; after a
    complete run, points whose source vanished are deleted unless a guard stops it (see
    :func:`mmingest.pipelines.reconcile.plan_deletions`). ``dry_run`` writes and deletes nothing.
    """
    chosen = frozenset(Kind(kind) for kind in kinds)
    evidence = Evidence()
    ingestion = Ingestion(
        source,
        embedder,
        store,
        collection=collection,
        config=config,
        kinds=chosen,
        tenant=tenant,
        retry=retry,
        dry_run=dry_run,
        evidence=evidence,
        **options,
    )
    summary = ingestion.run(prefix)
    deletions = Deletions()
    if delete or dry_run:
        scope = scope_of(source, prefix=prefix, config=config, kinds=chosen)
        try:
            target = store.resolve(collection)
            deletions = plan_deletions(
                store,
                target,
                scope,
                evidence,
                tenant=tenant,
                max_fraction=max_delete_fraction,
                force=force,
            )
        except CollectionNotFound:
            return SyncReport(summary, deletions)  # a dry run before the first ingest
        if delete and not dry_run and deletions.guarded is None:
            for ids in chunked(deletions.vanished_ids, _DELETE_CHUNK):
                call_with_retry(
                    partial(store.delete, target, ids, tenant=tenant),
                    what=f"deleting {len(ids)} vanished points",
                    policy=retry,
                )
                deletions.deleted += len(ids)
            summary.deleted += deletions.deleted
    return SyncReport(summary, deletions)
