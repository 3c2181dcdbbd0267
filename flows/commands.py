"""Pipeline commands: ingest, backfill, sync, verify, retry-failed (no Prefect server needed)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mmingest.connectors.extras import import_extra
from mmingest.flows import render
from mmingest.flows.app import EXIT_PARTIAL, app, err, load_settings, out
from mmingest.flows.jobs import failed_objects, run_job, settle_dead_letters, spec_from
from mmingest.flows.render_verify import print_verify
from mmingest.flows.runtime import open_runtime
from mmingest.pipelines.deadletters import DeadLetterSink
from mmingest.pipelines.run import Kind, RunSpec, SyncReport
from mmingest.schemas.settings import Settings
from mmingest.schemas.summary import Failure

SourceArg = Annotated[
    str,
    typer.Argument(help="Folder, file or bucket URI (./images, s3://bucket/prefix, gs://, az://)."),
]
KindOpt = Annotated[
    list[Kind] | None,
    typer.Option(help="What to take (repeat): images, pdfs, products. Default: images and pdfs."),
]
CollectionOpt = Annotated[
    str | None, typer.Option("--collection", "-c", help="Target collection (or alias).")
]
PrefixOpt = Annotated[str, typer.Option(help="Only keys starting with this prefix.")]
IncludeOpt = Annotated[
    list[str] | None, typer.Option(help="Only keys matching this glob (repeat).")
]
ExcludeOpt = Annotated[
    list[str] | None, typer.Option(help="Skip keys matching this glob (repeat).")
]
TenantOpt = Annotated[str | None, typer.Option(help="Tenant stamped on every point.")]
BatchOpt = Annotated[int | None, typer.Option(min=1, help="Objects per batch.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
ProgressOpt = Annotated[bool, typer.Option(help="Show a progress line (on terminals).")]
DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="Print the plan (adds, updates, deletes) and write nothing."),
]


def _settings(
    collection: str | None,
    tenant: str | None,
    batch_size: int | None,
    include: list[str] | None,
    exclude: list[str] | None,
) -> Settings:
    overrides = {"batch_size": batch_size, "include": include, "exclude": exclude}
    given = {key: value for key, value in overrides.items() if value}
    return load_settings(collection=collection, tenant=tenant, ingest=given or None)


def _execute(
    settings: Settings,
    spec: RunSpec,
    *,
    as_json: bool,
    progress: bool,
    dead_letters: DeadLetterSink | None = None,
    verifying: bool = False,
) -> SyncReport:
    source, _ = spec.open(settings.source)
    try:
        source.precheck()  # before loading a model: a typo in the path should fail in a second
    finally:
        source.close()
    # A dry run (and verify without --fix) only lists, reads and compares: no model to load.
    dry_run = spec.options.dry_run
    with open_runtime(settings, with_embedder=not dry_run) as runtime:
        if dead_letters is None and not dry_run:
            dead_letters = runtime.dead_letters
            runtime.dead_letters.precheck()
        show = progress and not as_json and err.is_terminal
        with render.ingest_progress(err, enabled=show) as on_progress:
            report = run_job(spec, runtime, dead_letters=dead_letters, on_progress=on_progress)
        letters = str(runtime.dead_letters.path)
    if as_json:
        out.print_json(json.dumps(render.report_json(report)), ensure_ascii=True)
    elif verifying:
        print_verify(out, report, spec.source)
        if report.summary.failures:
            render.print_summary(out, report.summary, dead_letters=letters)
    else:
        render.print_report(out, report, dead_letters=letters)
    return report


@app.command()
def ingest(
    source: SourceArg,
    kind: KindOpt = None,
    collection: CollectionOpt = None,
    prefix: PrefixOpt = "",
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    tenant: TenantOpt = None,
    batch_size: BatchOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Ingest images, PDF pages or product catalogs: embed new and changed items, upsert, and
    report every failure (exit code 3 when some failed)."""
    settings = _settings(collection, tenant, batch_size, include, exclude)
    spec = spec_from(settings, source, kinds=kind, prefix=prefix, dry_run=dry_run)
    report = _execute(settings, spec, as_json=as_json, progress=progress)
    if report.summary.failed:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def backfill(
    source: SourceArg,
    kind: KindOpt = None,
    collection: CollectionOpt = None,
    prefix: PrefixOpt = "",
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    tenant: TenantOpt = None,
    batch_size: BatchOpt = None,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Ingest a whole bucket or folder, resumably: stop it at any moment (even kill -9) and run
    it again; what was written is skipped, not embedded again."""
    settings = _settings(collection, tenant, batch_size, include, exclude)
    spec = spec_from(settings, source, kinds=kind, prefix=prefix)
    report = _execute(settings, spec, as_json=as_json, progress=progress)
    if report.summary.failed:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def sync(
    source: SourceArg,
    kind: KindOpt = None,
    collection: CollectionOpt = None,
    prefix: PrefixOpt = "",
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    tenant: TenantOpt = None,
    batch_size: BatchOpt = None,
    dry_run: DryRunOpt = False,
    delete: Annotated[bool, typer.Option(help="Delete points of vanished objects.")] = True,
    force: Annotated[
        bool, typer.Option(help="Delete even beyond sync.max_delete_fraction.")
    ] = False,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Bring a collection in line with its source: embed what is new or changed, delete the
    points of vanished objects (guarded against mass deletion)."""
    settings = _settings(collection, tenant, batch_size, include, exclude)
    spec = spec_from(
        settings,
        source,
        kinds=kind,
        prefix=prefix,
        dry_run=dry_run,
        delete=delete and not dry_run,
        force=force,
    )
    report = _execute(settings, spec, as_json=as_json, progress=progress)
    if report.summary.failed or report.deletions.guarded:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def verify(
    source: SourceArg,
    kind: KindOpt = None,
    collection: CollectionOpt = None,
    prefix: PrefixOpt = "",
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    tenant: TenantOpt = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair: embed missing and stale items, delete orphans.")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="With --fix, delete even beyond sync.max_delete_fraction.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Reconcile source and store: report missing, stale and orphaned points (exit code 3 when
    they differ); --fix repairs them."""
    settings = _settings(collection, tenant, None, include, exclude)
    spec = spec_from(
        settings, source, kinds=kind, prefix=prefix, dry_run=not fix, delete=fix, force=force
    )
    report = _execute(settings, spec, as_json=as_json, progress=False, verifying=True)
    differs = report.missing or report.stale or report.orphaned
    if report.summary.failed or report.deletions.guarded or (differs and not fix):
        raise typer.Exit(EXIT_PARTIAL)


@app.command("retry-failed")
def retry_failed(
    source: SourceArg,
    kind: KindOpt = None,
    collection: CollectionOpt = None,
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Process again the objects of SOURCE recorded in the dead letters; the record keeps only
    what still fails."""
    settings = _settings(collection, tenant, None, None, None)
    with open_runtime(settings, with_embedder=False) as runtime:
        letters = runtime.dead_letters
    letters.precheck()
    uris = failed_objects(letters, spec_from(settings, source, kinds=kind), settings)
    if not uris:
        out.print(f"no recorded failures for {source} in {letters.path}")
        return
    collector: list[Failure] = []
    spec = spec_from(settings, source, kinds=kind, only=uris)
    report = _execute(
        settings, spec, as_json=as_json, progress=progress, dead_letters=_Collector(collector)
    )
    remaining = settle_dead_letters(letters, uris, collector, tenant=settings.tenant)
    if not as_json:
        out.print(f"{len(uris):,} objects retried; {remaining:,} failures remain in {letters.path}")
    if report.summary.failed:
        raise typer.Exit(EXIT_PARTIAL)


class _Collector:
    """A dead-letter sink that keeps failures in a list (the record is rewritten after)."""

    def __init__(self, into: list[Failure]) -> None:
        self.into = into

    def record(self, failure: Failure) -> None:
        self.into.append(failure)


@app.command()
def deploy(
    source: SourceArg,
    collection: CollectionOpt = None,
    prefix: PrefixOpt = "",
    cron: Annotated[str, typer.Option(help="Schedule of the sync deployment.")] = "0 * * * *",
    work_pool: Annotated[
        str | None,
        typer.Option(help="Register with this work pool (run `prefect worker start --pool NAME`)."),
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(help="Image with mmingest installed, for Docker/Kubernetes work pools."),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the deployments from this process until stopped.")
    ] = False,
) -> None:
    """Register the flows (sync on a schedule; backfill, ingest-*, reembed on demand) with the
    Prefect server in PREFECT_API_URL."""
    import_extra("prefect", "mmingest deploy")
    from mmingest.flows.prefect_cli import register

    if serve == bool(work_pool):
        raise typer.BadParameter("choose one: --serve, or --work-pool NAME")
    settings = load_settings(collection=collection)
    register(settings, source, prefix=prefix, cron=cron or None, work_pool=work_pool, image=image)
