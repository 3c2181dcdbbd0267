"""Incremental re-run: a second sync over unchanged objects, as a fraction of the first.

10,000 images (2,000 with ``--quick``) in a folder, embedded through the Cohere embedder
against its emulator (so provider calls are counted, not guessed) into Qdrant Edge. The
second run lists, compares content hashes and stops: goal <= 0.05 of the first run's time
and zero provider calls.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench.harness import Measurement, goal_at_most, markdown, write
from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
from mmingest.pipelines.sync import sync
from mmingest.schemas.config import IngestConfig, QdrantEdgeStoreConfig
from tests.emulators.providers import CohereEmulator
from tests.support.providers import CASES


def write_images(folder: Path, count: int) -> None:
    """``count`` small distinct PNGs with caption sidecars."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        image = Image.new("RGB", (64, 48), (index % 256, (index // 256) % 256, 90))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        (folder / f"{index:06d}.png").write_bytes(buffer.getvalue())
        (folder / f"{index:06d}.txt").write_text(f"picture number {index}")


def run(count: int) -> list[Measurement]:
    """Both runs, side by side in one process."""
    with tempfile.TemporaryDirectory() as scratch, CohereEmulator(api_key="bench") as emulator:
        folder = Path(scratch) / "pics"
        write_images(folder, count)
        embedder = CASES["cohere"].build(emulator, "bench")
        store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=Path(scratch) / "edge"))
        source = LocalFolderSource(folder)
        config = IngestConfig(batch_size=256)
        try:
            timings, calls = [], []
            for _ in range(2):
                before = emulator.counters.requests_served
                started = time.perf_counter()
                report = sync(source, embedder, store, collection="bench", config=config)
                timings.append(time.perf_counter() - started)
                calls.append(emulator.counters.requests_served - before)
                assert report.summary.failed == 0
            assert store.count("bench") == count
        finally:
            store.close()
            embedder.close()
    ratio = timings[1] / timings[0]
    goal, met = goal_at_most(ratio, 0.05)
    calls_goal, calls_met = goal_at_most(calls[1], 0)
    details = {
        "objects": count,
        "first_s": round(timings[0], 2),
        "rerun_s": round(timings[1], 2),
        "first_run_provider_calls": calls[0],
        "model": "cohere embed (emulator)",
        "batch_size": config.batch_size,
        "store": "qdrant-edge",
    }
    return [
        Measurement(
            "incremental", "re-run time / first run", ratio, goal=goal, met=met, details=details
        ),
        Measurement(
            "incremental",
            "provider calls on the re-run",
            calls[1],
            unit="calls",
            goal=calls_goal,
            met=calls_met,
        ),
    ]


def main() -> None:
    """``python -m bench.incremental [--quick]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    results = run(2_000 if quick else 10_000)
    print(markdown(results))
    write(results, quick=quick, name="incremental")


if __name__ == "__main__":
    main()
