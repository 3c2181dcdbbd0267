"""The per-batch unit Prefect schedules: a few planned tasks run through the pipeline engine
in whichever process (or Dask worker) picks them up."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from mmingest.connectors.embedders import Embedder
from mmingest.connectors.stores import VectorStore, build_store
from mmingest.flows.app import quiet_libraries
from mmingest.flows.jobs import Job, extraction_options
from mmingest.flows.runtime import Runtime, open_embedder
from mmingest.pipelines.ingest import Ingestion, Task
from mmingest.pipelines.reconcile import Evidence
from mmingest.schemas.settings import Settings
from mmingest.schemas.summary import RunSummary

_STORES: dict[str, VectorStore] = {}
_EMBEDDERS: dict[str, Embedder] = {}
_LOCK = threading.Lock()


def settings_from(overrides: dict[str, Any]) -> Settings:
    """This process's settings (its own environment, so secrets never travel with a task)
    with the flow run's overrides on top."""
    return Settings(**overrides)


def shared_runtime(settings: Settings) -> Runtime:
    """The store and embedder for ``settings``, opened once per process and shared by its
    task threads. Stores are keyed by their own settings: an embedded store can be open only
    once per process, even when two runs of a re-embed use different models."""
    quiet_libraries()
    store_key = settings.store.model_dump_json()
    embedder_key = settings.embedder.model_dump_json() + settings.embedding_cache.model_dump_json()
    with _LOCK:
        store = _STORES.get(store_key)
        if store is None:
            store = _STORES[store_key] = build_store(settings.store)
        embedder: Embedder | None = None
        if not store.capabilities.server_side_vectors:
            embedder = _EMBEDDERS.get(embedder_key)
            if embedder is None:
                embedder = _EMBEDDERS[embedder_key] = open_embedder(settings)
        return Runtime(settings=settings, store=store, embedder=embedder)


def close_runtimes() -> None:
    """Close every shared store and embedder (the end of a flow run in this process)."""
    with _LOCK:
        for embedder in _EMBEDDERS.values():
            embedder.close()
        for store in _STORES.values():
            store.close()
        _EMBEDDERS.clear()
        _STORES.clear()


@dataclass
class PartitionResult:
    """A partition's summary and what it saw, for the flow's reconciliation."""

    summary: RunSummary
    record_ids: list[str] = field(default_factory=list)
    shielded: list[str] = field(default_factory=list)


def run_partition(
    overrides: dict[str, Any], job: Job, tasks: list[Task], *, dry_run: bool = False
) -> PartitionResult:
    """Extract, embed and write ``tasks`` of ``job``."""
    settings = settings_from(overrides)
    runtime = shared_runtime(settings)
    source, _ = job.open(settings)
    evidence = Evidence(keep_records=True)
    try:
        summary = Ingestion(
            source,
            runtime.embedder,
            runtime.store,
            collection=settings.collection,
            config=settings.ingest,
            kinds=frozenset(job.kinds),
            tenant=settings.tenant,
            dry_run=dry_run,
            evidence=evidence,
            dead_letters=None if dry_run else runtime.dead_letters,
            **extraction_options(settings),
        ).run_tasks(tasks)
    finally:
        source.close()
    return PartitionResult(summary, evidence.record_list, sorted(evidence.shielded))


def merge(total: RunSummary, part: RunSummary) -> None:
    """Add a partition's counts to the flow's total."""
    for name in (
        "seen",
        "written",
        "new",
        "changed",
        "unchanged",
        "ignored",
        "failed",
        "deleted",
        "provider_requests",
        "cache_hits",
        "cache_misses",
    ):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.failures += part.failures
    total.warnings += part.warnings
    room = 20 - len(total.ignored_examples)
    total.ignored_examples += part.ignored_examples[:room]
    for bucket, extra in ((total.billed_units, part.billed_units), (total.estimate, part.estimate)):
        for unit, amount in extra.items():
            bucket[unit] = bucket.get(unit, 0) + amount
