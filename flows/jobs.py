"""What the CLI and the Prefect flows both do: build a :class:`RunSpec` from Settings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mmingest.connectors.sources import scheme_of
from mmingest.connectors.sources.local import path_from_uri
from mmingest.flows.runtime import Runtime
from mmingest.pipelines.deadletters import DeadLetterSink, JsonlDeadLetters, object_uri
from mmingest.pipelines.local_roots import remember_local_root
from mmingest.pipelines.run import (
    DEFAULT_KINDS,
    Backends,
    Kind,
    ProgressCallback,
    RunOptions,
    RunSpec,
    SyncReport,
    execute,
)
from mmingest.schemas.settings import Settings
from mmingest.schemas.summary import Failure


def spec_from(
    settings: Settings,
    source: str,
    *,
    kinds: Sequence[Kind | str] | None = None,
    prefix: str = "",
    dry_run: bool = False,
    delete: bool = False,
    force: bool = False,
    only: Iterable[str] | None = None,
) -> RunSpec:
    """The run description of ``source`` under ``settings``.

    A run that writes from a local folder records the folder in the state directory: display
    (``mmingest serve``, ``Retriever.from_settings``) reads local pictures only inside such
    folders and ``source.allowed_local_roots`` (see :mod:`mmingest.pipelines.local_roots`).
    """
    spec = RunSpec(
        source=source,
        prefix=prefix,
        kinds=tuple(sorted(Kind(kind) for kind in (kinds or DEFAULT_KINDS))),
        collection=settings.collection,
        tenant=settings.tenant,
        options=RunOptions(
            dry_run=dry_run,
            delete=delete,
            force=force,
            max_delete_fraction=settings.sync.max_delete_fraction,
            only=None if only is None else frozenset(only),
        ),
        ingest=settings.ingest,
        pdf=settings.pdf,
        catalog=settings.catalog,
        http=settings.http,
    )
    root, _ = spec.root()
    if not dry_run and scheme_of(root) == "file":
        remember_local_root(settings.state_dir, settings.collection, path_from_uri(root))
    return spec


def backends_of(
    runtime: Runtime,
    *,
    dead_letters: DeadLetterSink | None = None,
    on_progress: ProgressCallback | None = None,
) -> Backends:
    """The run's backends in this process, with this process's source credentials."""
    return Backends(
        runtime.store,
        runtime.embedder,
        source_config=runtime.settings.source,
        dead_letters=dead_letters,
        on_progress=on_progress,
    )


def run_job(
    spec: RunSpec,
    runtime: Runtime,
    *,
    dead_letters: DeadLetterSink | None = None,
    on_progress: ProgressCallback | None = None,
) -> SyncReport:
    """Run ``spec`` in this process (a dry run writes nothing)."""
    return execute(spec, backends_of(runtime, dead_letters=dead_letters, on_progress=on_progress))


def failed_objects(letters: JsonlDeadLetters, spec: RunSpec, settings: Settings) -> set[str]:
    """URIs of the spec's source objects with a failure recorded for the settings' tenant."""
    source, _ = spec.open(settings.source)
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
