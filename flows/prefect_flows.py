"""Prefect flows: build a :class:`~mmingest.pipelines.run.RunSpec` from the worker's Settings
and the run's typed parameters, and schedule its units of work.

Each flow lists its source on the flow's own thread and submits one task per unit (a batch of
images, one PDF, one catalog): never one per item, since a task run costs milliseconds of
orchestration. Task runs are named after their unit and retry transient failures only
(``flow.task_retries``); the flow publishes its summary and progress as artifacts keyed by
collection, then ends Failed when items failed (``flow.partial_state = "completed"`` makes
that a Completed state named ``CompletedWithFailures``). Threads by default;
``flow.task_runner = "dask"`` spreads units over a Dask cluster (processes need a server
store: an embedded one is refused, see :func:`mmingest.flows.runners.task_runner`).
"""

from __future__ import annotations

import inspect
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, cast
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.concurrency.sync import concurrency
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture
from prefect.states import Completed, Failed

from mmingest.flows import artifacts
from mmingest.flows.deployments import check_state_dir, ensure_provider_limit
from mmingest.flows.jobs import backends_of, spec_from
from mmingest.flows.parameters import RunParameters, settings_for
from mmingest.flows.partitions import close_runtimes, run_units, shared_runtime
from mmingest.flows.prefect_logs import library_logs_to_run
from mmingest.flows.runners import check_store_fits, task_runner
from mmingest.pipelines.run import Kind, RunSpec, SyncReport
from mmingest.pipelines.units import Scheduled, Unit, UnitResult, unit_name
from mmingest.pipelines.versions import next_version, promote
from mmingest.schemas.errors import TransientError
from mmingest.schemas.settings import Settings

PARAMETERS = {
    "source": "Folder, file or bucket URI: ./images, s3://bucket/prefix, gs://, az://",
    "prefix": "Only keys starting with this prefix.",
    "kinds": "What to take: images, pdfs, products (default: images and pdfs).",
    "collection": "Target collection or alias (default: the worker's MMINGEST_COLLECTION).",
    "tenant": "Tenant stamped on every point.",
    "force": "Delete even beyond sync.max_delete_fraction.",
    "dry_run": "Report adds, updates and deletes; write nothing.",
    "embedder": "The new embedder's settings, e.g. {'model': 'google/siglip-base-patch16-224'} "
    "(no credentials).",
    "keep_previous": "Keep the previous collection version after the alias swap.",
    "settings": "Non-secret settings on top of the worker's, nested as in mmingest.toml, e.g. "
    "{'ingest': {'batch_size': 32}}. Credentials are refused here.",
    "secret_blocks": "Credentials from Prefect blocks: a secret setting and a Secret block name, "
    "e.g. {'embedder.api_key': 'cohere-key'}, or 'source.s3' and an AwsCredentials block.",
}
"""What each flow parameter means: the UI shows it under the parameter's field."""

F = TypeVar("F", bound=Callable[..., Any])


def _described(function: F) -> F:
    """Append an ``Args:`` section from :data:`PARAMETERS`: Prefect reads parameter
    descriptions from the flow's docstring."""
    names = inspect.signature(function).parameters
    lines = [f"    {name}: {PARAMETERS[name]}" for name in names]
    function.__doc__ = (function.__doc__ or "") + "\n\nArgs:\n" + "\n".join(lines) + "\n"
    return function


def _transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a unit only when what failed may succeed later."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:
        return False
    return False


@task(name="unit", cache_policy=NO_CACHE, retry_condition_fn=_transient_only)
def unit_task(
    spec: RunSpec, parameters: RunParameters, units: list[Unit], limit: str | None, strict: bool
) -> UnitResult:
    """One unit of work through the pipeline, holding a provider slot when there is a limit."""
    if limit is None:
        return run_units(spec, parameters, units)
    with concurrency(limit, occupy=1, strict=strict):
        return run_units(spec, parameters, units)


def _parameters(
    collection: str | None,
    tenant: str | None,
    settings: dict[str, Any] | None,
    secret_blocks: dict[str, str] | None,
    **extra: Any,
) -> RunParameters:
    given = {**(settings or {}), **extra}
    if collection:
        given["collection"] = collection
    if tenant:
        given["tenant"] = tenant
    return RunParameters(settings=given, secret_blocks=secret_blocks or {})


def run_flow(spec: RunSpec, parameters: RunParameters, settings: Settings) -> State[Any]:
    """Schedule every unit of ``spec``, reconcile, publish artifacts, return the final state."""
    logger = get_run_logger()
    started = time.monotonic()
    key = artifacts.key_of(spec.collection)
    runtime = shared_runtime(settings)
    check_store_fits(settings, runtime.store.capabilities.embedded)
    source, prefix = spec.open(settings.source)
    run = Scheduled(spec, source, prefix)
    # Called from a synchronous flow, the artifact helpers return their values directly.
    progress = cast(
        UUID,
        create_progress_artifact(0.0, key=f"{key}-progress", description=f"{spec.source}: listing"),
    )
    limit = ensure_provider_limit(settings)
    strict = (
        limit is not None and getattr(settings.embedder, "requests_per_minute", None) is not None
    )
    configured = unit_task.with_options(
        retries=settings.flow.task_retries, retry_delay_seconds=[5, 30, 60]
    )
    in_flight: deque[PrefectFuture[UnitResult]] = deque()
    submitted = finished = 0

    def settle(future: PrefectFuture[UnitResult]) -> None:
        nonlocal finished
        run.add(future.result())
        finished += 1
        update_progress_artifact(
            progress,
            100.0 * finished / max(submitted, 1),
            description=f"{finished:,} of {submitted:,} units done ({run.summary.seen:,} items)",
        )

    try:
        for unit in run.units():
            named = configured.with_options(task_run_name=unit_name(unit))
            in_flight.append(named.submit(spec, parameters, [unit], limit, strict))
            submitted += 1
            while len(in_flight) >= 2 * settings.flow.max_workers:
                settle(in_flight.popleft())
        while in_flight:
            settle(in_flight.popleft())
        report = run.finish(backends_of(runtime))
    finally:
        source.close()
    report.summary.elapsed_s = time.monotonic() - started
    create_markdown_artifact(
        artifacts.report_markdown(report, spec),
        key=f"{key}-summary",
        description=f"mmingest run over {spec.source} into {spec.collection}",
    )
    update_progress_artifact(progress, 100.0, description=f"done: {report.summary.seen:,} items")
    logger.info("%s: %s", spec.source, artifacts.one_line(report))
    return _final_state(report, settings)


def _final_state(report: SyncReport, settings: Settings) -> State[Any]:
    data = artifacts.report_data(report)
    summary = report.summary
    if not summary.failed and not report.deletions.guarded:
        return Completed(data=data)
    problem = (
        f"{summary.failed:,} of {summary.seen:,} items failed (see the summary artifact and "
        "the dead letters)"
        if summary.failed
        else f"nothing was deleted: {report.deletions.guarded}"
    )
    if settings.flow.partial_state == "completed":
        return Completed(data=data, message=problem, name="CompletedWithFailures")
    return Failed(data=data, message=problem)


def _flow_body(
    source: str,
    kinds: list[Kind] | None,
    prefix: str,
    parameters: RunParameters,
    *,
    delete: bool = False,
    force: bool = False,
    dry_run: bool = False,
) -> State[Any]:
    context = FlowRunContext.get()
    assert context is not None and context.flow_run is not None
    with library_logs_to_run(context.flow_run.id):
        settings = settings_for(parameters)
        if context.flow_run.work_pool_name:  # a pool's worker: nothing relative to its cwd
            check_state_dir(settings)
        spec = spec_from(
            settings,
            source,
            kinds=kinds,
            prefix=prefix,
            dry_run=dry_run,
            delete=delete,
            force=force,
        )
        try:
            return run_flow(spec, parameters, settings)
        finally:
            close_runtimes()


@flow(name="ingest-images", task_runner=task_runner())
@_described
def ingest_images(
    source: str,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    settings: dict[str, Any] | None = None,
    secret_blocks: dict[str, str] | None = None,
) -> State[Any]:
    """Ingest the images of a folder or bucket (new and changed ones only)."""
    parameters = _parameters(collection, tenant, settings, secret_blocks)
    return _flow_body(source, [Kind.IMAGES], prefix, parameters)


@flow(name="ingest-pdfs", task_runner=task_runner())
@_described
def ingest_pdfs(
    source: str,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    settings: dict[str, Any] | None = None,
    secret_blocks: dict[str, str] | None = None,
) -> State[Any]:
    """Ingest the PDFs of a folder or bucket, one point per page."""
    parameters = _parameters(collection, tenant, settings, secret_blocks)
    return _flow_body(source, [Kind.PDFS], prefix, parameters)


@flow(name="ingest-products", task_runner=task_runner())
@_described
def ingest_products(
    source: str,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    settings: dict[str, Any] | None = None,
    secret_blocks: dict[str, str] | None = None,
) -> State[Any]:
    """Ingest the product catalogs of a folder or bucket, one point per record."""
    parameters = _parameters(collection, tenant, settings, secret_blocks)
    return _flow_body(source, [Kind.PRODUCTS], prefix, parameters)


@flow(name="sync", task_runner=task_runner())
@_described
def sync(
    source: str,
    kinds: list[Kind] | None = None,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    settings: dict[str, Any] | None = None,
    secret_blocks: dict[str, str] | None = None,
) -> State[Any]:
    """Keep a collection in sync with a source URI: embed new and changed objects, delete the
    points of vanished ones (guarded)."""
    parameters = _parameters(collection, tenant, settings, secret_blocks)
    return _flow_body(
        source, kinds, prefix, parameters, delete=not dry_run, force=force, dry_run=dry_run
    )


@flow(name="backfill", task_runner=task_runner())
@_described
def backfill(
    source: str,
    kinds: list[Kind] | None = None,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    settings: dict[str, Any] | None = None,
    secret_blocks: dict[str, str] | None = None,
) -> State[Any]:
    """Ingest a whole bucket, resumably: a rerun skips everything already written."""
    parameters = _parameters(collection, tenant, settings, secret_blocks)
    return _flow_body(source, kinds, prefix, parameters)


@flow(name="reembed", task_runner=task_runner())
@_described
def reembed(
    source: str,
    embedder: dict[str, Any],
    kinds: list[Kind] | None = None,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    keep_previous: bool = False,
    settings: dict[str, Any] | None = None,
    secret_blocks: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Re-embed a source with another model or dimension into a new collection version, then
    swap the alias to it atomically (readers never see a mix of vector spaces)."""
    parameters = _parameters(collection, tenant, settings, secret_blocks)
    alias = settings_for(parameters).collection
    version = next_version(shared_runtime(settings_for(parameters)).store, alias)
    filling = _parameters(version, tenant, settings, secret_blocks, embedder=embedder)
    state = _flow_body(source, kinds, prefix, filling)
    result = cast(dict[str, Any], state.result(raise_on_failure=False))
    if result["failed"]:
        raise RuntimeError(
            f"{result['failed']} items failed while filling {version}; the alias {alias!r} "
            "still points to the previous version. Fix them (see the dead letters) and rerun."
        )
    previous = promote(
        shared_runtime(settings_for(parameters)).store,
        alias,
        version,
        drop_previous=not keep_previous,
    )
    close_runtimes()
    get_run_logger().info("%s now points to %s (was %s)", alias, version, previous)
    return {**result, "alias": alias, "version": version, "previous": previous}
