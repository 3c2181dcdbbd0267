"""Sources and extraction: read + decode throughput against bare reads, and listing memory.

1. Objects per second for read + decode + normalise (the image extractor, two workers, like a
   run) from a local S3-API server, as a ratio to bare reads with the same library (obstore)
   and the same concurrency.
2. Peak memory of listing and planning 1,000,000 keys from ``memory://`` as a ratio to
   100,000 keys: a streaming listing stays flat.

The S3-API server (moto) runs on the same cores as the decoding, so ratio 1 understates what a
remote bucket allows; the client CPU per object printed beside it is the figure that carries
over to real S3.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import time
import tracemalloc
from collections.abc import Sequence

import numpy as np
from PIL import Image

from bench.harness import Measurement, goal_at_most, markdown, write
from mmingest.connectors.sources import open_source
from mmingest.connectors.sources.memory import MemorySource
from mmingest.pipelines.extract.base import ExtractContext
from mmingest.pipelines.extract.images import prepare_images
from mmingest.pipelines.ingest import DEFAULT_KINDS, ImageChunk, plan
from mmingest.pipelines.listing import ImageCandidate
from mmingest.pipelines.retry import DEFAULT_RETRY
from mmingest.pipelines.stages import AsyncRunner, parallel_batches
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.embedding import EmbedderLimits
from tests.support.s3 import start_s3_server

CONCURRENCY = 16
CLIP_LIMITS = EmbedderLimits(model_image_side=224)


class _EmptyStore:
    """Nothing stored yet: every image is new (what a first run sees)."""

    def fetch_hashes(self, collection: str, ids: Sequence[str]) -> dict[str, str]:
        return {}


def photo(seed: int) -> bytes:
    """A 640x480 JPEG with photo-like detail (about 140 KB)."""
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, 640 * 480 * 3).reshape(480, 640, 3)
    noise = rng.normal(0, 28, size=(480, 640, 3))
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def read_decode_ratio(count: int, repeats: int) -> list[Measurement]:
    """Scenario 1."""
    server_iter = start_s3_server()
    server = next(server_iter)
    try:
        bucket = server.new_bucket()
        server.put_many(bucket, {f"photos/{i:05d}.jpg": photo(i) for i in range(count)})
        source = open_source(f"s3://{bucket}", server.source_config())
        objects = list(source.list())
        config = IngestConfig(read_concurrency=CONCURRENCY, batch_size=64, decode_workers=2)

        def cpu_s() -> float:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime

        cpu: dict[str, list[float]] = {"bare": [], "pipeline": []}

        def bare() -> float:
            async def read_all() -> None:
                limit = asyncio.Semaphore(CONCURRENCY)

                async def one(key: str) -> None:
                    async with limit:
                        await source.read(key)

                await asyncio.gather(*(one(obj.key) for obj in objects))

            started, cpu_started = time.perf_counter(), cpu_s()
            asyncio.run(read_all())
            cpu["bare"].append((cpu_s() - cpu_started) / count)
            return count / (time.perf_counter() - started)

        def pipeline() -> float:
            chunks = [
                ImageChunk([ImageCandidate(obj) for obj in objects[i : i + 64]])
                for i in range(0, count, 64)
            ]
            started, cpu_started = time.perf_counter(), cpu_s()
            with AsyncRunner() as runner:
                context = ExtractContext(
                    source,
                    _EmptyStore(),
                    "bench",
                    config,
                    CLIP_LIMITS,
                    runner,
                    DEFAULT_RETRY,
                )
                decoded = sum(
                    len(batch.items)
                    for batch in parallel_batches(
                        chunks,
                        lambda chunk: [prepare_images(chunk.candidates, context)],
                        workers=2,
                        depth=2,
                    )
                )
            assert decoded == count
            cpu["pipeline"].append((cpu_s() - cpu_started) / count)
            return count / (time.perf_counter() - started)

        bare_rates, pipe_rates = [], []
        for _ in range(repeats):  # interleaved, so drift hits both alike
            bare_rates.append(bare())
            pipe_rates.append(pipeline())
        best_bare, best_pipe = max(bare_rates), max(pipe_rates)
        ratio = best_pipe / best_bare
        details = {
            "objects": count,
            "concurrency": CONCURRENCY,
            "library": "obstore",
            "server": "moto_server on the same machine",
            "image": "640x480 JPEG",
            "decode": "JPEG draft + fit to 224",
            "client_cpu_ms_per_obj_bare": round(1000 * min(cpu["bare"]), 2),
            "client_cpu_ms_per_obj_pipeline": round(1000 * min(cpu["pipeline"]), 2),
        }
        return [
            Measurement("sources", "read+decode / bare read (obj/s)", ratio, details=details),
            Measurement("sources", "bare reads", best_bare, unit="obj/s"),
            Measurement("sources", "read + decode + normalise", best_pipe, unit="obj/s"),
            Measurement(
                "sources", "client CPU per object, bare read", 1000 * min(cpu["bare"]), unit="ms"
            ),
            Measurement(
                "sources",
                "client CPU per object, read + decode",
                1000 * min(cpu["pipeline"]),
                unit="ms",
            ),
        ]
    finally:
        for _ in server_iter:
            pass


def listing_peak_mb(keys: int) -> float:
    """Peak traced memory of listing and planning ``keys`` objects, in MiB."""
    source = MemorySource(f"memory://bench-listing-{keys}")
    source.clear()
    empty = b""
    for index in range(keys):
        source.put(f"images/{index:09d}.jpg", empty)
    next(iter(source.list()))  # the bucket's sorted index is storage, built before measuring
    tracemalloc.start()
    try:
        for _ in plan(source.list(), kinds=DEFAULT_KINDS, config=IngestConfig()):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        source.clear()
    return peak / 2**20


def listing_memory(small: int, large: int) -> list[Measurement]:
    """Scenario 2."""
    low, high = listing_peak_mb(small), listing_peak_mb(large)
    ratio = high / low
    goal, met = goal_at_most(ratio, 1.2)
    return [
        Measurement(
            "sources",
            f"listing peak memory {large:,} / {small:,} keys",
            ratio,
            goal=goal,
            met=met,
            details={f"peak_mb_{small}": round(low, 3), f"peak_mb_{large}": round(high, 3)},
        )
    ]


def run(quick: bool) -> list[Measurement]:
    """Every scenario of this module."""
    results = read_decode_ratio(300 if quick else 2000, 2 if quick else 3)
    results += listing_memory(10_000, 100_000) if quick else listing_memory(100_000, 1_000_000)
    return results


def main() -> None:
    """``python -m bench.sources [--quick]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    results = run(quick)
    print(markdown(results))
    write(results, quick=quick, name="sources")


if __name__ == "__main__":
    main()
