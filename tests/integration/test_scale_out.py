"""Scale-out: the sync flow's units on a Dask cluster of two worker *processes*, against a
server-style store (the Weaviate emulator), give exactly the counts and point ids of a
one-process run; an embedded store refuses to be written from several processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmingest.pipelines.samples import write_images
from tests.emulators.weaviate.server import WeaviateEmulator
from tests.support.prefect_server import prefect_environment

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

# Runs the flow on a LocalCluster of two processes the script starts itself, then asks each
# worker how many stores it opened: both must have run units.
_DASK_SCRIPT = """
import json, sys
from distributed import Client, LocalCluster

cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=2, dashboard_address=None)
import os
os.environ["MMINGEST_FLOW__DASK_ADDRESS"] = cluster.scheduler_address
from mmingest.flows.prefect_flows import sync
state = sync(sys.argv[1], collection=sys.argv[2], return_state=True)
result = state.result(raise_on_failure=False)
with Client(cluster) as client:
    def opened():
        from mmingest.flows import partitions
        return len(partitions._STORES)
    result["workers"] = client.run(opened)
result["state"] = state.type.value
print(json.dumps(result))
cluster.close()
"""


def _corpus(folder: Path) -> Path:
    write_images(folder, 23)
    for index in range(3):
        (folder / f"broken-{index}.jpg").write_bytes(b"\xff\xd8 truncated")
    (folder / "notes.txt").write_text("not an input")
    return folder


def _ids(emulator: WeaviateEmulator, collection: str) -> list[str]:
    from mmingest.connectors.stores import build_store
    from mmingest.schemas.config import WeaviateStoreConfig

    store = build_store(
        WeaviateStoreConfig(
            url=emulator.url, grpc_url=f"http://{emulator.host}:{emulator.grpc_port}"
        )
    )
    try:
        return sorted(point.id for point in store.scan(collection))
    finally:
        store.close()


@pytest.fixture
def environment(prefect_api, tiny_clip_dir, tmp_path):
    emulator = WeaviateEmulator()
    with emulator:
        yield (
            emulator,
            {
                **os.environ,
                **prefect_environment(tmp_path / "prefect-client", prefect_api),
                "MMINGEST_EMBEDDER__MODEL": str(tiny_clip_dir),
                "MMINGEST_STATE_DIR": str(tmp_path / "state"),
                "MMINGEST_EMBEDDING_CACHE__ENABLED": "false",
                "MMINGEST_INGEST__BATCH_SIZE": "4",
                "MMINGEST_STORE__KIND": "weaviate",
                "MMINGEST_STORE__URL": emulator.url,
                "MMINGEST_STORE__GRPC_URL": f"http://{emulator.host}:{emulator.grpc_port}",
            },
        )


def _run(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_dask_processes_match_one_process(environment, tmp_path):
    emulator, env = environment
    folder = str(_corpus(tmp_path / "corpus"))
    one = _run(
        env,
        "import json, sys\nfrom mmingest.flows.prefect_flows import sync\n"
        "state = sync(sys.argv[1], collection=sys.argv[2], return_state=True)\n"
        "print(json.dumps({**state.result(raise_on_failure=False), 'state': state.type.value}))",
        folder,
        "OneProcess",
    )
    spread = _run({**env, "MMINGEST_FLOW__TASK_RUNNER": "dask"}, _DASK_SCRIPT, folder, "TwoProcs")

    counts = ("seen", "written", "failed", "ignored", "unchanged", "deleted")
    assert [one[name] for name in counts] == [27, 23, 3, 1, 0, 0]
    assert [spread[name] for name in counts] == [one[name] for name in counts]
    assert one["state"] == spread["state"] == "FAILED"  # items failed: the run says so
    assert len(spread["workers"]) == 2 and all(spread["workers"].values()), spread["workers"]

    ids_one, ids_spread = _ids(emulator, "OneProcess"), _ids(emulator, "TwoProcs")
    assert len(ids_spread) == len(set(ids_spread)) == 23  # no duplicates
    assert ids_spread == ids_one  # deterministic ids: the same points wherever units ran

    again = _run({**env, "MMINGEST_FLOW__TASK_RUNNER": "dask"}, _DASK_SCRIPT, folder, "TwoProcs")
    assert (again["written"], again["unchanged"], again["failed"]) == (0, 23, 3)
    assert _ids(emulator, "TwoProcs") == ids_one


def test_an_embedded_store_refuses_several_processes(prefect_api, tiny_clip_dir, tmp_path):
    write_images(tmp_path / "pics", 2)
    env = {
        **os.environ,
        **prefect_environment(tmp_path / "prefect-client", prefect_api),
        "MMINGEST_EMBEDDER__MODEL": str(tiny_clip_dir),
        "MMINGEST_STATE_DIR": str(tmp_path / "state"),
        "MMINGEST_FLOW__TASK_RUNNER": "dask",
        "MMINGEST_FLOW__DASK_WORKERS": "2",
    }
    result = _run(
        env,
        "import json, sys\nfrom mmingest.flows.prefect_flows import backfill\n"
        "state = backfill(sys.argv[1], collection='edge', return_state=True)\n"
        "print(json.dumps({'state': state.type.value, 'message': state.message}))",
        str(tmp_path / "pics"),
    )
    assert result["state"] == "FAILED"
    assert "embedded" in result["message"] and "server store" in result["message"]
