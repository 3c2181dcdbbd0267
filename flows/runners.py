"""The task runner a flow's units run on, chosen by the worker's ``flow.*`` settings.

An embedded store (Qdrant Edge, Milvus Lite, qdrant-client local mode) is one process per
path, so units that write can only be spread over *threads* of the flow's process. Several
processes (``flow.dask_workers`` > 1, or ``flow.dask_address``) need a server store; with an
embedded one the flow refuses to start instead of failing on a lock halfway through.
"""

from __future__ import annotations

from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner

from mmingest.schemas.config import FlowConfig
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.settings import Settings


def spreads_over_processes(config: FlowConfig) -> bool:
    """Whether units may run in other processes than the flow's."""
    return config.task_runner == "dask" and (
        config.dask_address is not None or config.dask_workers > 1
    )


def check_store_fits(settings: Settings, embedded: bool) -> None:
    """Refuse a multi-process task runner with an embedded store, saying what to change."""
    if embedded and spreads_over_processes(settings.flow):
        raise ConfigError(
            f"the store ({settings.store.kind}) is embedded: only one process can open it, "
            "but flow.task_runner='dask' spreads units over several processes "
            f"(dask_workers={settings.flow.dask_workers}, "
            f"dask_address={settings.flow.dask_address!r}). Use a server store "
            "(Qdrant, Milvus or Weaviate server), or set MMINGEST_FLOW__DASK_WORKERS=1 without "
            "a dask_address to run the units on threads of this process"
        )


def task_runner(settings: Settings | None = None) -> Any:
    """The task runner the worker's settings ask for (read when the flows are imported)."""
    config = (settings or Settings()).flow
    if config.task_runner == "threads":
        return ThreadPoolTaskRunner(max_workers=config.max_workers)
    from prefect_dask.task_runners import DaskTaskRunner

    if config.dask_address:
        return DaskTaskRunner(address=config.dask_address)
    processes = config.dask_workers > 1
    return DaskTaskRunner(
        cluster_kwargs={
            "processes": processes,
            "n_workers": config.dask_workers,
            "threads_per_worker": max(1, config.max_workers // config.dask_workers),
            "dashboard_address": None,
        }
    )
