"""Upsert throughput of each embedded store through mmingest vs the raw client's best bulk insert.

    python -m bench.stores [--quick] [--points N] [--batch N] [--pairs N] [--engines a,b]

For Qdrant Edge, qdrant-client's local mode (in memory) and Milvus Lite, the same points (two
512-d float32 vectors from an embedder, a caption as keyword text, the pipeline's payload) are
written

- through ``store.upsert`` in the pipeline's batch size (``IngestConfig.batch_size``);
- through the raw client, in several batch sizes and methods, each doing only what that client
  needs to write these points: its own point/row objects built from the same arrays, texts and
  payloads, the BM25 sparse vectors for the keyword channel (Qdrant; Milvus computes BM25 on
  the server side). The best of those runs is the baseline.

Both sides are timed from the same inputs to the engine's acknowledgement; the time the raw
client spends only in the engine call is reported too. Timings on a shared machine are noisy,
and the best of many raw variants would be biased upwards against a single "ours", so: every
raw way runs once to find the best, then ours and that best run in ``--pairs`` alternating
pairs, and the medians are compared. The ratio ``ours / raw best`` is the goal (>= 0.9). Every
run writes a fresh collection of the same layout (created by the store), checked and dropped.
Results print as a table and go to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from mmingest.schemas import CollectionSpec, EmbedderInfo, Point, point_id
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.points import CAPTION, IMAGE

DIMENSION = 512
# fmt: off
WORDS = [
    "red", "blue", "green", "yellow", "circle", "square", "triangle", "umbrella", "report",
    "shoe", "jacket", "garden", "hose", "brass", "nozzle", "leather", "boot", "denim", "cotton",
    "wool", "silk", "lamp", "chair", "table", "window", "door", "river", "mountain", "city",
    "night", "morning", "quarterly", "annual", "sales", "inventory", "page", "product", "photo",
    "portrait", "landscape",
]
# fmt: on


@dataclass
class Run:
    """One timed way of writing the points."""

    engine: str
    how: str
    points: int
    seconds: float
    engine_seconds: float | None = None  # raw runs: time inside the engine calls only

    @property
    def rate(self) -> float:
        return self.points / self.seconds if self.seconds else 0.0


@dataclass
class EngineResult:
    """One engine: the exploration of raw ways, then paired runs of ours and the raw best."""

    engine: str
    explored: list[Run] = field(default_factory=list)
    ours: list[Run] = field(default_factory=list)
    raw: list[Run] = field(default_factory=list)

    @property
    def ours_rate(self) -> float:
        return statistics.median(run.rate for run in self.ours)

    @property
    def raw_rate(self) -> float:
        return statistics.median(run.rate for run in self.raw)

    @property
    def ratio(self) -> float:
        return self.ours_rate / self.raw_rate


def make_points(count: int, seed: int = 7) -> list[Point]:
    """``count`` points shaped like the image pipeline's: unit vectors, caption, payload."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((2, count, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=2, keepdims=True)
    words = np.array(WORDS)
    points = []
    for index in range(count):
        caption = " ".join(rng.choice(words, size=int(rng.integers(6, 16))))
        uri = f"s3://bench/images/{index:07d}.jpg"
        points.append(
            Point(
                id=point_id(uri),
                vectors={IMAGE: vectors[0, index], CAPTION: vectors[1, index]},
                keyword_text=caption,
                payload={
                    "source_uri": uri,
                    "content_hash": f"{index:032x}",
                    "kind": "image",
                    "page": None,
                    "caption": caption,
                    "title": None,
                    "tenant": None,
                    "embedder": {"provider": "bench", "model": "random", "dimension": DIMENSION},
                    "ingested_at": "2026-11-22T00:00:00+00:00",
                    "fields": {"width": 640, "height": 480, "format": "jpeg"},
                },
            )
        )
    return points


def spec(name: str) -> CollectionSpec:
    return CollectionSpec.for_embedder(
        name, EmbedderInfo(provider="bench", model="random", dimension=DIMENSION)
    )


def batches(points: Sequence[Point], size: int) -> Iterator[Sequence[Point]]:
    for start in range(0, len(points), size):
        yield points[start : start + size]


def time_ours(store: Any, name: str, points: Sequence[Point], batch: int) -> float:
    store.ensure_collection(spec(name))
    started = time.perf_counter()
    for chunk in batches(points, batch):
        store.upsert(name, chunk)
    return time.perf_counter() - started


def time_raw(
    points: Sequence[Point],
    size: int,
    prepare: Callable[[Sequence[Point]], Any],
    write: Callable[[Any], None],
) -> tuple[float, float]:
    """(total, engine-only) seconds to write ``points`` in batches of ``size``."""
    total = engine = 0.0
    for chunk in batches(points, size):
        started = time.perf_counter()
        native = prepare(chunk)
        converted = time.perf_counter()
        write(native)
        finished = time.perf_counter()
        total += finished - started
        engine += finished - converted
    return total, engine


# --- engines ---------------------------------------------------------------------------------

RawWay = tuple[str, int, Callable[[Sequence[Point]], Any], Callable[[str], Callable[[Any], None]]]
"""(method label, batch size, prepare a batch, writer for a collection name)."""


def measure(
    engine: str,
    store: Any,
    points: Sequence[Point],
    batch: int,
    raw_ways: list[RawWay],
    pairs: int,
    *,
    ours: Callable[[str], float] | None = None,
    ours_how: str | None = None,
    layout: Callable[[str], CollectionSpec] = spec,
) -> EngineResult:
    """Warm up, explore every raw way once, then time ours and the best raw way in pairs.

    ``ours`` times our side into a named collection (default: ``store.upsert`` in batches of
    ``batch``); ``layout`` gives the collection spec both sides write (default: 2 x 512-d).
    """
    store.ensure_collection(layout("warmup"))
    for chunk in batches(points[:1000], batch):
        store.upsert("warmup", chunk)
    store.drop_collection("warmup")
    result = EngineResult(engine)
    runs = 0

    def run(way: RawWay | None) -> Run:
        nonlocal runs
        runs += 1
        name = f"run{runs}"
        if way is None:
            seconds = ours(name) if ours else time_ours(store, name, points, batch)
            done = Run(engine, ours_how or f"store.upsert x{batch}", len(points), seconds)
        else:
            label, size, prepare, writer = way
            store.ensure_collection(layout(name))
            total, engine_only = time_raw(points, size, prepare, writer(name))
            done = Run(engine, f"{label} x{size}", len(points), total, engine_only)
        if store.count(name) != len(points):
            raise RuntimeError(f"{engine} {done.how}: {store.count(name)} of {len(points)}")
        store.drop_collection(name)
        return done

    result.explored = [run(way) for way in raw_ways]
    best = raw_ways[max(range(len(raw_ways)), key=lambda i: result.explored[i].rate)]
    for pair in range(pairs):
        first_ours = pair % 2 == 0
        for way in (None, best) if first_ours else (best, None):
            (result.ours if way is None else result.raw).append(run(way))
    return result


def bench_qdrant_edge(
    points: Sequence[Point], batch: int, workdir: Path, pairs: int
) -> EngineResult:
    from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
    from mmingest.schemas.config import QdrantEdgeStoreConfig

    store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=workdir / "edge"))
    try:
        return measure("qdrant-edge", store, points, batch, edge_raw_ways(store), pairs)
    finally:
        store.close()


def edge_raw_ways(store: Any, sizes: Sequence[int] = (64, 256, 1024, 4096)) -> list[RawWay]:
    """Qdrant Edge's raw bulk inserts: ``shard.update(upsert_points)``, lists or numpy."""
    import qdrant_edge as edge

    from mmingest.connectors.stores.qdrant_edge import convert as edge_convert

    bm25 = edge_convert.bm25_model()

    def native(chunk: Sequence[Point]) -> Any:
        converted = []
        for point in chunk:
            vectors: dict[str, Any] = dict(point.vectors)  # the binding takes numpy arrays
            sparse = bm25.embed_document(point.keyword_text or "")
            if sparse.indices:
                vectors["keywords"] = sparse
            converted.append(edge.Point(point.id, vectors, point.payload))
        return edge.UpdateOperation.upsert_points(converted)

    def lists(chunk: Sequence[Point]) -> Any:
        return edge.UpdateOperation.upsert_points(edge_convert.to_edge_points(chunk, bm25))

    return [
        (f"shard.update(upsert_points, {form})", size, prepare, lambda n: store._shard(n).update)
        for form, prepare in (("lists", lists), ("numpy", native))
        for size in sizes
    ]


def bench_qdrant_local(
    points: Sequence[Point], batch: int, workdir: Path, pairs: int
) -> EngineResult:
    from mmingest.connectors.stores.qdrant import QdrantStore, convert
    from mmingest.schemas.config import QdrantStoreConfig

    store = QdrantStore(QdrantStoreConfig(url=":memory:"))
    bm25 = convert.bm25_model()

    def writer(name: str) -> Callable[[Any], None]:
        return lambda structs: store._client.upsert(name, points=structs, wait=True)

    ways: list[RawWay] = [
        ("client.upsert", size, lambda chunk: convert.to_points(chunk, bm25), writer)
        for size in (64, 256, 1024, 4096)
    ]
    try:
        return measure("qdrant-client local", store, points, batch, ways, pairs)
    finally:
        store.close()


def bench_milvus_lite(
    points: Sequence[Point], batch: int, workdir: Path, pairs: int
) -> EngineResult:
    from mmingest.connectors.stores.milvus import MilvusStore
    from mmingest.schemas.config import MilvusStoreConfig

    store = MilvusStore(MilvusStoreConfig(uri=str(workdir / "milvus.db")))
    try:
        return measure("milvus-lite", store, points, batch, milvus_raw_ways(store), pairs)
    finally:
        store.close()


def milvus_raw_ways(
    store: Any,
    layout: CollectionSpec | None = None,
    sizes: Sequence[int] = (64, 1000, 5000),
    methods: Sequence[str] = ("insert", "upsert"),
) -> list[RawWay]:
    """Milvus Lite's raw bulk writes: ``client.insert`` / ``client.upsert`` of row dicts."""
    from mmingest.connectors.stores.milvus import convert

    layout = layout or spec("layout")

    def rows(chunk: Sequence[Point]) -> list[dict[str, Any]]:
        return convert.to_rows(chunk, layout)  # pymilvus takes numpy vectors

    def writer(method: str) -> Callable[[str], Callable[[Any], None]]:
        return lambda name: lambda data: getattr(store._client, method)(name, data)

    return [
        (f"client.{method}", size, rows, writer(method)) for method in methods for size in sizes
    ]


ENGINES: dict[str, Callable[[Sequence[Point], int, Path, int], EngineResult]] = {
    "qdrant-edge": bench_qdrant_edge,
    "qdrant-local": bench_qdrant_local,
    "milvus-lite": bench_milvus_lite,
}


# --- report ----------------------------------------------------------------------------------


def table(results: Sequence[EngineResult]) -> str:
    """The side-by-side summary (medians of the pairs), then every run."""
    header = (
        f"{'engine':<20} {'points':>7} {'ours pts/s':>11} {'raw best pts/s':>15} {'ratio':>6}"
        "  raw best way"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.engine:<20} {r.ours[0].points:>7} {r.ours_rate:>11.0f} {r.raw_rate:>15.0f} "
            f"{r.ratio:>6.2f}  {r.raw[0].how}"
        )
    lines += ["", f"{'run':<62} {'pts/s':>8} {'engine-only pts/s':>18}"]
    for r in results:
        for phase, runs in (("explore", r.explored), ("pairs", [*r.ours, *r.raw])):
            for run in runs:
                engine = f"{run.points / run.engine_seconds:>18.0f}" if run.engine_seconds else ""
                label = f"{run.engine} [{phase}]: {run.how}"
                lines.append(f"{label:<62} {run.rate:>8.0f} {engine}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.stores", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="5,000 points instead of 50,000")
    parser.add_argument(
        "--pairs", type=int, default=3, help="alternating ours/raw-best pairs (default 3)"
    )
    parser.add_argument("--points", type=int, help="number of points (overrides --quick)")
    parser.add_argument(
        "--batch",
        type=int,
        default=IngestConfig().batch_size,
        help="points per store.upsert (the pipeline's batch size)",
    )
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated subset of " + ", ".join(ENGINES),
    )
    parser.add_argument(
        "--out", type=Path, help="JSON file (default: bench/results/stores-<time>.json)"
    )
    args = parser.parse_args(argv)
    count = args.points or (5_000 if args.quick else 50_000)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines {sorted(unknown)}; known: {', '.join(ENGINES)}")

    print(
        f"building {count:,} points (2 x {DIMENSION}-d vectors, caption, payload) ...", flush=True
    )
    points = make_points(count)
    results = []
    with tempfile.TemporaryDirectory(prefix="mmingest-bench-") as tmp:
        for name in engines:
            print(f"{name}: ...", flush=True)
            results.append(ENGINES[name](points, args.batch, Path(tmp) / name, args.pairs))
            done = results[-1]
            print(f"{name}: ours {done.ours_rate:.0f}, raw best {done.raw_rate:.0f} pts/s")
    print()
    print(table(results))

    out = args.out or Path("bench/results") / f"stores-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "store upsert vs raw client bulk insert",
        "points": count,
        "dimension": DIMENSION,
        "store_batch": args.batch,
        "pairs": args.pairs,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "results": [
            {
                "engine": r.engine,
                "ours_rate": r.ours_rate,
                "raw_best_rate": r.raw_rate,
                "raw_best": r.raw[0].how,
                "ratio": r.ratio,
                "runs": {
                    "explore": [{**asdict(run), "rate": run.rate} for run in r.explored],
                    "ours": [{**asdict(run), "rate": run.rate} for run in r.ours],
                    "raw_best": [{**asdict(run), "rate": run.rate} for run in r.raw],
                },
            }
            for r in results
        ],
    }
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
