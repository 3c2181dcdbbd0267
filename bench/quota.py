"""How much of a provider's request quota a whole ingestion run sustains.

A Cohere emulator enforces N requests per window (a sliding window, 429 + Retry-After past it);
``mmingest.pipelines.ingest.ingest_images`` reads a memory bucket of captioned images, embeds them
through the real ``cohere`` SDK and writes them into Qdrant Edge. With the client quota set to
the same N, the run should use nearly all of the quota and never be refused; without it, it
bounces off 429s and relies on Retry-After.

Sustained fraction: a client may send N requests at once and then N per window. So the rate it
sustains is the requests sent after that first allowance, over the time from the first request
to the first request of the last window's worth; divided by N per window. Keeping to the quota
perfectly scores 1; each request's own latency costs a little (a slot is reused one window
after its reply arrived, not after it was sent).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from mmingest.connectors.embedders.cohere import CohereEmbedder
from mmingest.connectors.embedders.remote import RateLimiter
from mmingest.connectors.sources.memory import MemorySource
from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
from mmingest.pipelines.ingest import ingest_images
from mmingest.pipelines.retry import RetryPolicy
from mmingest.schemas.config import CohereEmbedderConfig, IngestConfig, QdrantEdgeStoreConfig
from tests.emulators.providers import CohereEmulator
from tests.support.providers import picture, png

KEY = "bench-key"
BATCH = 4  # objects per pipeline batch: 2 requests (images, captions) per batch


def _bucket(name: str, images: int) -> MemorySource:
    source = MemorySource(f"memory://{name}")
    source.clear()
    for index in range(images):
        source.put(f"photo-{index:05d}.png", png(picture(index, (96, 72))))
        caption = {"caption": f"product photo number {index}"}
        source.put(f"photo-{index:05d}.json", json.dumps(caption).encode())
    return source


def run(*, quota: int, window_s: float, windows: int, client_quota: bool) -> dict[str, Any]:
    """One ingestion run against a quota of ``quota`` requests per ``window_s``."""
    requests = quota * windows
    images = requests // 2 * BATCH
    source = _bucket(f"bench-quota-{client_quota}", images)
    limiter = RateLimiter(requests=quota, window_s=window_s) if client_quota else RateLimiter()
    with CohereEmulator(api_key=KEY) as emulator, tempfile.TemporaryDirectory() as scratch:
        emulator.rate_limit(quota, window_seconds=window_s)
        config = CohereEmbedderConfig(api_key=KEY, base_url=emulator.base_url, dimension=256)
        embedder = CohereEmbedder(config, limiter=limiter)
        store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=Path(scratch) / "edge"))
        summary = ingest_images(
            source,
            embedder,
            store,
            collection="bench",
            config=IngestConfig(batch_size=BATCH),
            retry=RetryPolicy(attempts=8, base_delay_s=0.5, max_delay_s=window_s),
        )
        served = sorted(r.received_at for r in emulator.requests if r.status == 200)
        counters = emulator.counters
        store.close()
        embedder.close()
    paced = len(served) - quota  # requests sent after the first window's allowance
    rate = paced / (served[paced] - served[0])
    return {
        "client_quota": client_quota,
        "quota": f"{quota} requests / {window_s:g} s",
        "objects": images,
        "written": summary.written,
        "failed": summary.failed,
        "requests_served": counters.requests_served,
        "refused_429": counters.rate_limited,
        "seconds": round(served[-1] - served[0], 2),
        "sustained_per_window": round(rate * window_s, 2),
        "sustained_fraction": round(rate * window_s / quota, 4),
        "billed_units": summary.billed_units,
    }


def measure(*, quota: int, window_s: float, windows: int) -> list[dict[str, Any]]:
    """The run with the client quota, then without it for contrast."""
    started = time.monotonic()
    rows = [run(quota=quota, window_s=window_s, windows=windows, client_quota=True)]
    rows.append(run(quota=quota, window_s=window_s, windows=windows, client_quota=False))
    rows[0]["bench_seconds"] = round(time.monotonic() - started, 1)
    return rows
