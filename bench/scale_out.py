"""Scale-out: the sync flow on one process (threads) vs a Dask cluster of two worker processes.

A folder of images with a few broken ones goes through the Prefect ``sync`` flow (a real
``prefect server`` started here) into a server-style store (the Weaviate emulator), once with
the thread runner and once on a ``LocalCluster`` of two processes. Goals: identical counts and
point ids, no duplicates. The speed-up is reported, not judged: on two shared cores the
processes compete with the flow, the server and the emulator for the same CPUs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Measurement
from mmingest.pipelines.samples import write_images
from tests.emulators.weaviate.server import WeaviateEmulator
from tests.support.models import build_tiny_clip
from tests.support.prefect_server import prefect_environment, start_prefect_server

ROOT = Path(__file__).resolve().parents[1]
_FLOW = """
import json, os, sys, time
if sys.argv[3] == "dask":
    from distributed import LocalCluster
    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                           dashboard_address=None)
    os.environ["MMINGEST_FLOW__TASK_RUNNER"] = "dask"
    os.environ["MMINGEST_FLOW__DASK_ADDRESS"] = cluster.scheduler_address
from mmingest.flows.prefect_flows import sync
started = time.perf_counter()
state = sync(sys.argv[1], collection=sys.argv[2], return_state=True)
result = state.result(raise_on_failure=False)
result["seconds"] = time.perf_counter() - started
print(json.dumps(result))
"""


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


def run(quick: bool) -> list[Measurement]:
    """Both runs, side by side, against one server and one emulator."""
    count = 120 if quick else 600
    with tempfile.TemporaryDirectory() as scratch, WeaviateEmulator() as emulator:
        home = Path(scratch) / "prefect-server"
        home.mkdir()
        folder = Path(scratch) / "corpus"
        images = 0
        for part in range(0, count, 72):  # the samples are 72 distinct pictures: one folder each
            images += len(write_images(folder / f"part-{part // 72}", min(72, count - part)))
        for index in range(4):
            (folder / f"broken-{index}.jpg").write_bytes(b"\xff\xd8 truncated")
        model = build_tiny_clip(Path(scratch) / "clip")
        server = start_prefect_server(home)
        api = next(server)
        try:
            env = {
                **os.environ,
                **prefect_environment(Path(scratch) / "client", api),
                "MMINGEST_EMBEDDER__MODEL": str(model),
                "MMINGEST_STATE_DIR": str(Path(scratch) / "state"),
                "MMINGEST_EMBEDDING_CACHE__ENABLED": "false",
                "MMINGEST_INGEST__BATCH_SIZE": "16",
                "MMINGEST_STORE__KIND": "weaviate",
                "MMINGEST_STORE__URL": emulator.url,
                "MMINGEST_STORE__GRPC_URL": f"http://{emulator.host}:{emulator.grpc_port}",
            }
            results = {}
            for mode in ("threads", "dask"):
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-c", _FLOW, str(folder), f"Bench{mode.title()}", mode],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=1800,
                    check=True,
                )
                results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
                results[mode]["wall"] = time.perf_counter() - started
            ids = {mode: _ids(emulator, f"Bench{mode.title()}") for mode in results}
        finally:
            next(server, None)
    keys = ("seen", "written", "failed", "ignored")
    same_counts = all(results["threads"][k] == results["dask"][k] for k in keys)
    same_ids = ids["threads"] == ids["dask"] and len(set(ids["dask"])) == len(ids["dask"])
    details = {mode: {k: results[mode][k] for k in (*keys, "seconds")} for mode in results}
    return [
        Measurement(
            "scale-out",
            "2 Dask processes: counts and point ids equal to one process",
            float(same_counts and same_ids),
            unit="bool",
            goal="== 1",
            met=same_counts and same_ids and results["dask"]["written"] == images,
            details={**details, "points": len(ids["dask"]), "images": images},
        ),
        Measurement(
            "scale-out",
            "flow time, 2 Dask processes / threads (tiny CLIP, 2 shared cores)",
            results["dask"]["seconds"] / max(results["threads"]["seconds"], 1e-9),
            details=details,
        ),
    ]
