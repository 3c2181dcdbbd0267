"""Where a unit of work runs: the process-wide store and embedder shared by its task threads,
and the task body that runs units of a :class:`RunSpec` in whichever process (or Dask worker)
picks them up."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from mmingest.connectors.embedders import Embedder
from mmingest.connectors.stores import VectorStore, build_store
from mmingest.flows.app import quiet_libraries
from mmingest.flows.jobs import backends_of
from mmingest.flows.parameters import RunParameters, settings_for
from mmingest.flows.runtime import Runtime, open_embedder
from mmingest.pipelines.run import RunSpec
from mmingest.pipelines.units import Unit, UnitResult, run_unit
from mmingest.schemas.settings import Settings

_STORES: dict[str, VectorStore] = {}
_EMBEDDERS: dict[str, Embedder] = {}
_LOCK = threading.Lock()


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


def run_units(spec: RunSpec, parameters: RunParameters, units: Sequence[Unit]) -> UnitResult:
    """Run ``units`` of ``spec`` with this process's backends (dead letters recorded here)."""
    runtime = shared_runtime(settings_for(parameters))
    dead_letters = None if spec.options.dry_run else runtime.dead_letters
    return run_unit(spec, backends_of(runtime, dead_letters=dead_letters), units)
