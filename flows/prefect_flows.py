"""Prefect flows: thin wrappers scheduling the pipeline a batch at a time.

Each flow lists its source on the flow's own thread and submits one task per planned unit of
work (a batch of images, one PDF, one catalog): never one per item, since a task run costs
milliseconds of orchestration. Tasks retry transient failures only; the flow publishes its
summary and progress as artifacts. Threads by default; ``flow.task_runner = "dask"`` spreads
batches over a Dask cluster (with a server store: an embedded store is one process).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, cast
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner

from mmingest.flows import artifacts
from mmingest.flows.jobs import Job
from mmingest.flows.partitions import (
    PartitionResult,
    close_runtimes,
    merge,
    run_partition,
    settings_from,
    shared_runtime,
)
from mmingest.pipelines.ingest import DEFAULT_KINDS, Kind, plan
from mmingest.pipelines.reconcile import Deletions, Evidence, plan_deletions
from mmingest.pipelines.sync import SyncReport, scope_of
from mmingest.pipelines.versions import next_version, promote
from mmingest.schemas.errors import TransientError
from mmingest.schemas.objects import ObjectInfo
from mmingest.schemas.summary import RunSummary

_DELETE_CHUNK = 1000


def _transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a batch task only when what failed may succeed later."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:
        return False
    return False


@task(
    name="extract-embed-write",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=_transient_only,
)
def batch_task(
    overrides: dict[str, Any], job: Job, tasks: list[Any], dry_run: bool, limit: str | None
) -> PartitionResult:
    """One planned unit of work through the pipeline engine."""
    if limit is None:
        return run_partition(overrides, job, tasks, dry_run=dry_run)
    with concurrency(limit, occupy=1, strict=False):
        return run_partition(overrides, job, tasks, dry_run=dry_run)


@task(name="reconcile", cache_policy=NO_CACHE)
def reconcile_task(
    overrides: dict[str, Any],
    job: Job,
    evidence: Evidence,
    *,
    delete: bool,
    force: bool,
    dry_run: bool,
) -> Deletions:
    """Find (and unless guarded, delete) the points whose source object vanished."""
    settings = settings_from(overrides)
    runtime = shared_runtime(settings)
    source, prefix = job.open(settings)
    try:
        scope = scope_of(source, prefix=prefix, config=settings.ingest, kinds=job.kinds)
    finally:
        source.close()
    target = runtime.store.resolve(settings.collection)
    deletions = plan_deletions(
        runtime.store,
        target,
        scope,
        evidence,
        tenant=settings.tenant,
        max_fraction=settings.sync.max_delete_fraction,
        force=force,
    )
    if delete and not dry_run and deletions.guarded is None:
        for start in range(0, len(deletions.vanished_ids), _DELETE_CHUNK):
            ids = deletions.vanished_ids[start : start + _DELETE_CHUNK]
            runtime.store.delete(target, ids, tenant=settings.tenant)
            deletions.deleted += len(ids)
    return deletions


def _limit_name(overrides: dict[str, Any]) -> str | None:
    kind = settings_from(overrides).embedder.kind
    return None if kind == "clip" else f"mmingest-embed-{kind}"


def run_flow(
    job: Job, overrides: dict[str, Any], *, delete: bool, force: bool, dry_run: bool
) -> dict[str, Any]:
    """List, submit a batch task per planned unit, reconcile, publish the summary."""
    logger = get_run_logger()
    settings = settings_from(overrides)
    source, prefix = job.open(settings)
    evidence = Evidence()
    total = RunSummary(collection=settings.collection, dry_run=dry_run)
    # Called from a synchronous flow, the artifact helpers return their values directly.
    progress = cast(
        UUID,
        create_progress_artifact(
            0.0, key="mmingest-progress", description=f"{job.source}: listing"
        ),
    )
    limit = _limit_name(overrides)
    in_flight: deque[PrefectFuture[PartitionResult]] = deque()
    submitted = finished = 0

    def collect(future: Any) -> None:
        nonlocal finished
        result: PartitionResult = future.result()
        merge(total, result.summary)
        evidence.saw_records(result.record_ids)
        evidence.shield(result.shielded)
        finished += 1
        update_progress_artifact(
            progress,
            100.0 * finished / max(submitted, 1),
            description=f"{finished:,} of {submitted:,} batches done ({total.seen:,} items)",
        )

    try:
        source.precheck()
        for unit in plan(
            _witnessed(source.list(prefix), evidence),
            kinds=frozenset(job.kinds),
            config=settings.ingest,
        ):
            in_flight.append(batch_task.submit(overrides, job, [unit], dry_run, limit))
            submitted += 1
            while len(in_flight) >= 2 * settings.flow.max_workers:
                collect(in_flight.popleft())
        while in_flight:
            collect(in_flight.popleft())
    finally:
        source.close()
    evidence.complete = True
    deletions = Deletions()
    if delete or dry_run:
        deletions = reconcile_task(
            overrides, job, evidence, delete=delete, force=force, dry_run=dry_run
        )
        total.deleted += deletions.deleted
    report = SyncReport(total, deletions)
    create_markdown_artifact(
        artifacts.report_markdown(report, job),
        key="mmingest-summary",
        description=f"mmingest run over {job.source}",
    )
    update_progress_artifact(progress, 100.0, description=f"done: {total.seen:,} items")
    logger.info("%s: %s", job.source, artifacts.one_line(report))
    close_runtimes()
    return artifacts.report_data(report)


def _witnessed(listing: Iterable[ObjectInfo], evidence: Evidence) -> Iterator[ObjectInfo]:
    for obj in listing:
        evidence.saw_object(obj.uri)
        yield obj


def _runner() -> Any:
    """The task runner the worker's settings ask for (read when the flows are imported)."""
    config = settings_from({}).flow
    if config.task_runner == "threads":
        return ThreadPoolTaskRunner(max_workers=config.max_workers)
    from prefect_dask.task_runners import DaskTaskRunner

    if config.dask_address:
        return DaskTaskRunner(address=config.dask_address)
    # A local cluster of threads: an embedded store stays in this one process. Spread over
    # processes or machines with a server store and flow.dask_address.
    return DaskTaskRunner(
        cluster_kwargs={
            "processes": False,
            "n_workers": 1,
            "threads_per_worker": config.max_workers,
        }
    )


def _job(source: str, kinds: Iterable[str] | None, prefix: str) -> Job:
    return Job(source, tuple(Kind(k) for k in (kinds or sorted(DEFAULT_KINDS))), prefix)


def _overrides(
    collection: str | None, tenant: str | None, settings: dict[str, Any] | None
) -> dict[str, Any]:
    given = dict(settings or {})
    if collection:
        given["collection"] = collection
    if tenant:
        given["tenant"] = tenant
    return given


def _ingest(
    kind: str,
    source: str,
    prefix: str,
    collection: str | None,
    tenant: str | None,
    settings: dict[str, Any] | None,
) -> dict[str, Any]:
    """The body of the ingest-<kind> flows: one kind, nothing deleted."""
    return run_flow(
        _job(source, [kind], prefix),
        _overrides(collection, tenant, settings),
        delete=False,
        force=False,
        dry_run=False,
    )


@flow(name="ingest-images", task_runner=_runner())
def ingest_images(
    source: str,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ingest the images of a folder or bucket (new and changed ones only)."""
    return _ingest("images", source, prefix, collection, tenant, settings)


@flow(name="ingest-pdfs", task_runner=_runner())
def ingest_pdfs(
    source: str,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ingest the PDFs of a folder or bucket, one point per page."""
    return _ingest("pdfs", source, prefix, collection, tenant, settings)


@flow(name="ingest-products", task_runner=_runner())
def ingest_products(
    source: str,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ingest the product catalogs of a folder or bucket, one point per record."""
    return _ingest("products", source, prefix, collection, tenant, settings)


@flow(name="sync", task_runner=_runner())
def sync(
    source: str,
    kinds: list[str] | None = None,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Keep a collection in sync with a source URI: embed new and changed objects, delete the
    points of vanished ones (guarded)."""
    return run_flow(
        _job(source, kinds, prefix),
        _overrides(collection, tenant, settings),
        delete=not dry_run,
        force=force,
        dry_run=dry_run,
    )


@flow(name="backfill", task_runner=_runner())
def backfill(
    source: str,
    kinds: list[str] | None = None,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ingest a whole bucket, resumably: a rerun skips everything already written."""
    return run_flow(
        _job(source, kinds, prefix),
        _overrides(collection, tenant, settings),
        delete=False,
        force=False,
        dry_run=False,
    )


@flow(name="reembed", task_runner=_runner())
def reembed(
    source: str,
    embedder: dict[str, Any],
    kinds: list[str] | None = None,
    prefix: str = "",
    collection: str | None = None,
    tenant: str | None = None,
    keep_previous: bool = False,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Re-embed a source with another model or dimension into a new collection version, then
    swap the alias to it atomically (readers never see a mix of vector spaces)."""
    overrides = _overrides(collection, tenant, settings)
    alias = settings_from(overrides).collection
    store = shared_runtime(settings_from(overrides)).store
    version = next_version(store, alias)
    result = run_flow(
        _job(source, kinds, prefix),
        {**overrides, "collection": version, "embedder": embedder},
        delete=False,
        force=False,
        dry_run=False,
    )
    if result["failed"]:
        raise RuntimeError(
            f"{result['failed']} items failed while filling {version}; the alias {alias!r} "
            "still points to the previous version. Fix them (see the dead letters) and rerun."
        )
    previous = promote(
        shared_runtime(settings_from(overrides)).store,
        alias,
        version,
        drop_previous=not keep_previous,
    )
    close_runtimes()
    get_run_logger().info("%s now points to %s (was %s)", alias, version, previous)
    return {**result, "alias": alias, "version": version, "previous": previous}
