"""What the CLI and the Prefect flows both run: one job over one source, from Settings."""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmingest.connectors.sources import open_source, scheme_of
from mmingest.connectors.sources.base import Source
from mmingest.flows.runtime import Runtime
from mmingest.pipelines.deadletters import DeadLetterSink, JsonlDeadLetters, object_uri
from mmingest.pipelines.ingest import DEFAULT_KINDS, Ingestion, Kind, ProgressCallback
from mmingest.pipelines.reconcile import Deletions
from mmingest.pipelines.sync import SyncReport, sync
from mmingest.schemas.settings import Settings
from mmingest.schemas.summary import Failure


@dataclass(frozen=True)
class Job:
    """A source and what to take from it."""

    source: str
    kinds: tuple[Kind, ...] = tuple(sorted(DEFAULT_KINDS))
    prefix: str = ""

    def open(self, settings: Settings) -> tuple[Source, str]:
        """The source and the key prefix (a single local file becomes folder + name)."""
        root, prefix = self.source, self.prefix
        if scheme_of(root) == "file":
            path = Path(root.removeprefix("file://")).expanduser()
            if path.is_file():
                root, prefix = str(path.parent), path.name + prefix
        return open_source(root, settings.source), prefix


@dataclass
class JobOptions:
    """How a job runs: write or only report, delete vanished points or not."""

    dry_run: bool = False
    delete: bool = False
    force: bool = False
    only: Container[str] | None = None
    on_progress: ProgressCallback | None = None
    dead_letters: DeadLetterSink | None = None


def extraction_options(settings: Settings) -> dict[str, Any]:
    """The ``Ingestion`` options every job takes from Settings: extractor configs, the
    source's credentials (for catalog image references) and the HTTP fetcher's policy."""
    return {
        "pdf": settings.pdf,
        "catalog": settings.catalog,
        "source_config": settings.source,
        "http": settings.http,
    }


def run_job(settings: Settings, runtime: Runtime, job: Job, options: JobOptions) -> SyncReport:
    """Ingest (and, with ``delete``, reconcile) one job; a dry run writes nothing."""
    source, prefix = job.open(settings)
    common: dict[str, Any] = {
        **extraction_options(settings),
        "on_progress": options.on_progress,
        "dead_letters": None if options.dry_run else options.dead_letters,
    }
    try:
        if options.delete or options.dry_run:
            return sync(
                source,
                runtime.embedder,
                runtime.store,
                collection=settings.collection,
                config=settings.ingest,
                kinds=job.kinds,
                prefix=prefix,
                delete=options.delete,
                force=options.force,
                max_delete_fraction=settings.sync.max_delete_fraction,
                dry_run=options.dry_run,
                tenant=settings.tenant,
                **common,
            )
        summary = Ingestion(
            source,
            runtime.embedder,
            runtime.store,
            collection=settings.collection,
            config=settings.ingest,
            kinds=frozenset(job.kinds),
            tenant=settings.tenant,
            **common,
        ).run(prefix, only=options.only)
        return SyncReport(summary, Deletions())
    finally:
        source.close()


def failed_objects(letters: JsonlDeadLetters, job: Job, settings: Settings) -> set[str]:
    """URIs of the job's source objects with a failure recorded for the settings' tenant."""
    source, _ = job.open(settings)
    try:
        base = source.uri_of("x")[:-1]
    finally:
        source.close()
    return {
        object_uri(f.uri)
        for f in letters.read()
        if f.uri.startswith(base) and f.tenant == settings.tenant
    }


def settle_dead_letters(
    letters: JsonlDeadLetters,
    retried: Iterable[str],
    new_failures: Iterable[Failure],
    *,
    tenant: str | None = None,
) -> int:
    """Keep the failures of objects not retried (and every other tenant's), plus this run's;
    returns how many remain."""
    retried = set(retried)
    kept = [f for f in letters.read() if f.tenant != tenant or object_uri(f.uri) not in retried]
    kept += list(new_failures)
    letters.replace(kept)
    return len(kept)
