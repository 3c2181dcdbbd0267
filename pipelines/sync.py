"""Keep a collection in sync with its source: ingest what is new or changed, then delete the
points of vanished objects (guarded), or just report what would happen (dry run / verify).

The library entry point over :mod:`mmingest.pipelines.run` for callers holding open backends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mmingest.connectors.embedders.base import Embedder
from mmingest.connectors.sources.base import Source
from mmingest.connectors.stores.base import VectorStore
from mmingest.pipelines.ingest import DEFAULT_KINDS, Kind
from mmingest.pipelines.retry import DEFAULT_RETRY, RetryPolicy
from mmingest.pipelines.run import Backends, RunOptions, RunSpec, SyncReport, execute, scope_of
from mmingest.schemas.config import IngestConfig, SourceConfig

__all__ = ["SyncReport", "scope_of", "sync"]

_SPEC_OPTIONS = ("pdf", "catalog", "http")


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
    ``options``: ``pdf``, ``catalog``, ``http`` (extractor configs), ``source_config``,
    ``dead_letters``, ``on_progress``.
    """
    spec = RunSpec(
        source=source.uri,
        prefix=prefix,
        kinds=tuple(sorted(Kind(kind) for kind in kinds)),
        collection=collection,
        tenant=tenant,
        options=RunOptions(
            dry_run=dry_run, delete=delete, force=force, max_delete_fraction=max_delete_fraction
        ),
        ingest=config,
        **{name: options.pop(name) for name in _SPEC_OPTIONS if name in options},
    )
    backends = Backends(
        store,
        embedder,
        source_config=options.pop("source_config", None) or SourceConfig(),
        retry=retry,
        **options,
    )
    return execute(spec, backends, source)
