"""Run one product ingestion of N generated records and report its peak memory.

Used by the load test and the memory benchmark; runs in its own process so peak RSS is the
ingestion's alone: ``python -m tests.support.load ROWS WORKDIR [edge|counting]``. With
``counting`` the points go to a store that keeps nothing, which isolates the pipeline's own
memory from the embedded store's (Qdrant Edge keeps its appendable segments in RAM, about
1.5 KB per point at 2 x 64-d).
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
from mmingest.pipelines.ingest import ingest_products
from mmingest.schemas.config import IngestConfig, QdrantEdgeStoreConfig
from tests.support.fakes import CountingStore, HashEmbedder

ROW_GROUP = 10_000


def write_catalog(path: Path, rows: int) -> None:
    """A Parquet catalog of ``rows`` products (no images), written a row group at a time."""
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("title", pa.string()),
            ("description", pa.string()),
            ("image", pa.string()),
            ("price", pa.float64()),
        ]
    )
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, ROW_GROUP):
            ids = range(start, min(rows, start + ROW_GROUP))
            writer.write_table(
                pa.table(
                    {
                        "id": [f"sku-{i:07d}" for i in ids],
                        "title": [f"Product {i}" for i in ids],
                        "description": [
                            f"A sturdy thing number {i}, in colour {i % 17}." for i in ids
                        ],
                        "image": [None for _ in ids],
                        "price": [float(i % 500) for i in ids],
                    },
                    schema=schema,
                )
            )


def run(rows: int, workdir: Path, store_kind: str = "edge") -> dict[str, float]:
    """Ingest ``rows`` products; returns counts, seconds and peak RSS in MiB."""
    catalog_dir = workdir / "catalog"
    catalog_dir.mkdir(parents=True, exist_ok=True)
    # Written by a child process, so the writer's buffers do not count in this peak.
    writer = multiprocessing.get_context("spawn").Process(
        target=write_catalog, args=(catalog_dir / "products.parquet", rows)
    )
    writer.start()
    writer.join()
    store: Any = (
        QdrantEdgeStore(QdrantEdgeStoreConfig(path=workdir / "edge"))
        if store_kind == "edge"
        else CountingStore()
    )
    started = time.perf_counter()
    try:
        summary = ingest_products(
            LocalFolderSource(catalog_dir),
            HashEmbedder(dimension=64),
            store,
            collection="load",
            config=IngestConfig(batch_size=512),
        )
        count = store.count("load") if store_kind == "edge" else store.points
    finally:
        store.close()
    return {
        "rows": rows,
        "written": summary.written,
        "failed": summary.failed,
        "stored": count,
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB.

    ``VmHWM`` where Linux has it: ``ru_maxrss`` survives ``exec``, so a child started by a big
    parent (a benchmark holding a model, a long pytest session) would report the parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    kind = sys.argv[3] if len(sys.argv) > 3 else "edge"
    print(json.dumps(run(int(sys.argv[1]), Path(sys.argv[2]), kind)))
