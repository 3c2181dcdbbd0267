"""Prefect: flows against a real server, and deployments served, triggered with
``prefect deployment run`` and read back through their artifacts."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmingest.pipelines.samples import write_images
from tests.support.models import build_tiny_clip
from tests.support.prefect_server import prefect_environment

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def environment(prefect_api, tiny_clip_dir, tmp_path, monkeypatch):
    env = {
        **prefect_environment(tmp_path / "prefect-client", prefect_api),
        "MMINGEST_EMBEDDER__MODEL": str(tiny_clip_dir),
        "MMINGEST_STATE_DIR": str(tmp_path / "state"),
        "MMINGEST_EMBEDDING_CACHE__ENABLED": "false",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # Prefect reads its settings once per process: if an earlier test imported it, the
    # environment alone would not move this process's flows to the test server.
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_api}):
        yield env


async def _flow_run(api_id: str) -> object:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_flow_run(api_id)


async def _artifact(key: str, flow_run_id: str | None = None) -> str:
    """The newest artifact ``key`` (of one flow run): the session's server holds every test's."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    run_filter = ArtifactFilterFlowRunId(any_=[flow_run_id]) if flow_run_id else None
    async with get_client() as client:
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]), flow_run_id=run_filter
            ),
            sort=ArtifactSort.CREATED_DESC,
        )
        return str(artifacts[0].data) if artifacts else ""


def test_flows_run_against_a_server_and_reembed_swaps_the_alias(environment, tmp_path):
    from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
    from mmingest.flows.prefect_flows import reembed, sync
    from mmingest.schemas.config import QdrantEdgeStoreConfig

    folder = tmp_path / "pics"
    write_images(folder, 6)
    result = sync(str(folder), collection="photos")
    assert (result["written"], result["failed"]) == (6, 0)
    assert "| written | 6 |" in asyncio.run(_artifact("mmingest-photos-summary"))

    other_model = build_tiny_clip(tmp_path / "other-clip", seed=7)
    swapped = reembed(
        str(folder),
        embedder={"model": str(other_model), "model_name": "other"},
        collection="photos",
    )
    assert (swapped["version"], swapped["previous"], swapped["written"]) == (
        "photos_v1",
        "photos",
        6,
    )
    again = reembed(
        str(folder),
        embedder={"model": str(other_model), "model_name": "other2"},
        collection="photos",
    )
    assert (again["version"], again["previous"]) == ("photos_v2", "photos_v1")
    store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "state" / "qdrant-edge"))
    try:
        assert store.resolve("photos") == "photos_v2"
        assert store.count("photos") == 6
        assert store.collection_spec("photos_v2").embedder.model == "other2"
        assert "photos_v1" not in store.list_collections()
    finally:
        store.close()


def test_a_served_deployment_runs_on_demand_and_publishes_its_artifact(environment, tmp_path):
    folder = tmp_path / "served"
    write_images(folder, 5)
    env = {**os.environ, **environment}
    served = subprocess.Popen(
        [sys.executable, "-m", "mmingest", "deploy", str(folder), "--serve", "-c", "served"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            listed = subprocess.run(
                [sys.executable, "-m", "prefect", "deployment", "ls"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if "served-sync" in listed.stdout:
                break
            assert served.poll() is None, served.stdout.read().decode()[-2000:]
            assert time.monotonic() < deadline, listed.stdout + listed.stderr
            time.sleep(1)
        triggered = subprocess.run(
            [sys.executable, "-m", "prefect", "deployment", "run", "sync/served-sync"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert triggered.returncode == 0, triggered.stdout + triggered.stderr
        run_id = re.search(r"UUID: ([0-9a-f-]{36})", triggered.stdout).group(1)
        deadline = time.monotonic() + 240
        while True:
            flow_run = asyncio.run(_flow_run(run_id))
            if flow_run.state and flow_run.state.is_final():
                break
            assert time.monotonic() < deadline, "the served deployment never finished"
            time.sleep(1)
        assert flow_run.state.is_completed(), flow_run.state
        markdown = asyncio.run(_artifact("mmingest-served-summary", run_id))
        assert "| written | 5 |" in markdown
        assert str(folder) in markdown
    finally:
        served.terminate()
        try:
            served.wait(timeout=30)
        except subprocess.TimeoutExpired:
            served.kill()
    assert json.dumps({"ok": True})


def test_the_dask_task_runner(environment, tmp_path):
    script = (
        "import json, sys\n"
        "from mmingest.flows.prefect_flows import ingest_images\n"
        f"result = ingest_images({str(tmp_path / 'dask-pics')!r}, collection='dask')\n"
        "result['dask_cluster_ran'] = 'distributed.deploy.local' in sys.modules\n"
        "print(json.dumps(result))\n"
    )
    write_images(tmp_path / "dask-pics", 4)
    env = {**os.environ, **environment, "MMINGEST_FLOW__TASK_RUNNER": "dask"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["written"] == 4
    assert result["dask_cluster_ran"]
