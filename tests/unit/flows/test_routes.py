"""Where flows may run: state directories on workers, embedded stores across processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmingest.flows.deployments import ENTRYPOINTS, check_state_dir
from mmingest.flows.runners import check_store_fits
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.settings import Settings


def test_workers_need_an_absolute_state_dir_unless_the_store_is_a_server(tmp_path):
    with pytest.raises(ConfigError, match="MMINGEST_STATE_DIR"):
        check_state_dir(Settings(state_dir=Path(".mmingest")))
    with pytest.raises(ConfigError, match="absolute"):
        check_state_dir(Settings(state_dir=Path("x"), store={"kind": "milvus", "uri": "m.db"}))
    check_state_dir(Settings(state_dir=tmp_path))
    check_state_dir(Settings(state_dir=Path("x"), store={"kind": "qdrant", "url": "http://q:6333"}))


def test_an_embedded_store_is_refused_across_processes():
    threads = Settings(flow={"task_runner": "dask", "dask_workers": 1})
    check_store_fits(threads, embedded=True)  # units on threads of the flow's process
    for flow in (
        {"task_runner": "dask", "dask_workers": 2},
        {"task_runner": "dask", "dask_address": "tcp://scheduler:8786"},
    ):
        with pytest.raises(ConfigError, match="server store"):
            check_store_fits(Settings(flow=flow), embedded=True)
        check_store_fits(Settings(flow=flow), embedded=False)


def test_entrypoints_are_module_paths():
    assert ENTRYPOINTS["sync"] == "mmingest.flows.prefect_flows.sync"
    assert all(path.startswith("mmingest.flows.prefect_flows.") for path in ENTRYPOINTS.values())
