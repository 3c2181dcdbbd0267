"""``/api/search`` latency (``mmingest serve``) vs ``Retriever.search`` for the same queries.

The points and queries of :mod:`bench.query` (two 512-d vectors and a caption each; 50,000, or
5,000 with ``--quick``) in Qdrant Edge; the embedder hands back pre-computed query vectors, so
both sides do the same store work. The web app (the app ``mmingest serve`` runs, with uvicorn)
serves a copy of the store folder from its own process (:mod:`bench.web_server`: Qdrant Edge
allows one process per folder), as a deployment runs it; a keep-alive HTTP client posts each
query as JSON and reads the whole answer. Each query runs both ways, in alternating order:

- api: ``POST /api/search {"text": ..., "k": 10}``, round trip as the client sees it;
- direct: ``Retriever.search(text, k=10)`` on the same retriever.

Goal: p50 api / p50 direct <= 1.2.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from bench import stores
from bench.harness import Measurement, goal_at_most
from bench.query import K, PrecomputedEmbedder

GOAL = 1.2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(store: Path, queries: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    root = Path(__file__).resolve().parents[1]
    environment = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "bench.web_server", str(store), str(queries), str(port)]
    server = subprocess.Popen(command, cwd=root, env=environment)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                return server, port
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("the web app did not start within 120 s")
        time.sleep(0.2)


def run(quick: bool) -> list[Measurement]:
    """Write the points, start the app, then time both ways query by query."""
    from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
    from mmingest.pipelines.query import Retriever
    from mmingest.schemas.config import QdrantEdgeStoreConfig

    count, queries = (5_000, 200) if quick else (50_000, 500)
    rng = np.random.default_rng(13)
    words = np.array(stores.WORDS)
    texts = [" ".join(rng.choice(words, size=3, replace=False)) + f" {i}" for i in range(queries)]
    matrix = rng.standard_normal((queries, stores.DIMENSION)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    embedder = PrecomputedEmbedder(dict(zip(texts, matrix, strict=True)))
    times: dict[str, list[float]] = {"api": [], "direct": []}
    agree = 0
    with tempfile.TemporaryDirectory(prefix="mmingest-bench-web-") as scratch:
        folder = Path(scratch)
        store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=folder / "edge"))
        try:
            store.ensure_collection(stores.spec("web"))
            for chunk in stores.batches(stores.make_points(count), 1024):
                store.upsert("web", chunk)
        finally:
            store.close()
        shutil.copytree(folder / "edge", folder / "edge-server")
        np.savez(folder / "queries.npz", texts=np.array(texts), vectors=matrix)
        server, port = _start(folder / "edge-server", folder / "queries.npz")
        store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=folder / "edge"))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            retriever = Retriever(store, embedder, collection="web")

            def api(index: int) -> list[str]:
                body = json.dumps({"text": texts[index], "k": K})
                headers = {"Content-Type": "application/json"}
                connection.request("POST", "/api/search", body=body, headers=headers)
                response = connection.getresponse()
                answer = json.loads(response.read())
                if response.status != 200:
                    raise RuntimeError(f"/api/search answered {response.status}: {answer}")
                return [hit["id"] for hit in answer["hits"]]

            def direct(index: int) -> list[str]:
                return [hit.id for hit in retriever.search(texts[index], k=K)]

            for index in range(min(10, queries)):  # warm-up
                api(index)
                direct(index)
            for index in range(queries):
                order = (("api", api), ("direct", direct))
                got: dict[str, list[str]] = {}
                for name, call in order if index % 2 == 0 else order[::-1]:
                    begun = time.perf_counter()
                    got[name] = call(index)
                    times[name].append(time.perf_counter() - begun)
                agree += got["api"] == got["direct"]
        finally:
            connection.close()
            server.terminate()
            server.wait(timeout=30)
            store.close()

    p50 = {name: statistics.median(values) for name, values in times.items()}
    p95 = {name: float(np.percentile(values, 95)) for name, values in times.items()}
    ratio = p50["api"] / p50["direct"]
    goal, met = goal_at_most(ratio, GOAL)
    details = {
        "model": "none (pre-computed query vectors)",
        "batch_size": 1,
        "points": count,
        "queries": queries,
        "k": K,
        "p50_ms": {name: round(1000 * value, 3) for name, value in p50.items()},
        "p95_ms": {name: round(1000 * value, 3) for name, value in p95.items()},
        "same_hits": round(agree / queries, 3),
        "server": "uvicorn in its own process (bench.web_server), HTTP/1.1 keep-alive client",
    }
    return [
        Measurement(
            "web",
            f"search p50 latency, POST /api/search / Retriever.search ({count:,} points)",
            ratio,
            goal=goal,
            met=met,
            details=details,
        ),
        Measurement("web", "search p95 latency, same ratio", p95["api"] / p95["direct"]),
        Measurement("web", "p50 latency, POST /api/search", 1000 * p50["api"], unit="ms"),
        Measurement("web", "p50 latency, Retriever.search", 1000 * p50["direct"], unit="ms"),
    ]


if __name__ == "__main__":
    import sys

    for figure in run("--quick" in sys.argv):
        print(f"{figure.name}: {figure.value:.3f} {figure.unit} {figure.goal or ''}")
        if figure.details:
            print(json.dumps(figure.details))
