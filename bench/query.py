"""Hybrid query latency through ``Retriever.search`` vs the raw Qdrant Edge call doing the same.

N points shaped like the image pipeline's (two 512-d vectors, a caption as keyword text; 50,000,
or 5,000 with ``--quick``) are written to Qdrant Edge (not optimised: appendable segments, as
right after an ingestion). Each query then runs both ways, in alternating order:

- ours: ``Retriever(store, embedder, collection=...).search(text, k=10, mode="hybrid")``;
- raw: ``shard.query`` with the same three prefetches (``image`` and ``caption`` nearest to the
  query vector, BM25 ``keywords`` for the text), the same RRF fusion, limit and (no) filter.

The embedder hands back a pre-computed query vector, so the ratio compares store work; the
time spent in it is reported separately. Goal: p50 ours / p50 raw <= 1.1.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench import stores
from bench.harness import Measurement, goal_at_most
from mmingest.connectors.embedders.base import Vectors
from mmingest.schemas.embedding import EmbedderInfo, EmbedderUsage, InputKind

GOAL = 1.1
K = 10


class PrecomputedEmbedder:
    """Returns the query vector prepared for each text (a lookup), timing its own calls."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self._vectors = vectors
        self._info = EmbedderInfo(provider="bench", model="random", dimension=stores.DIMENSION)
        self.seconds: list[float] = []

    @property
    def info(self) -> EmbedderInfo:
        return self._info

    def embed_texts(self, texts: Sequence[str], *, kind: InputKind = InputKind.DOCUMENT) -> Vectors:
        started = time.perf_counter()
        matrix = np.stack([self._vectors[text] for text in texts])
        self.seconds.append(time.perf_counter() - started)
        return matrix

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        raise NotImplementedError("this benchmark queries with text")

    def usage(self) -> EmbedderUsage:
        return EmbedderUsage(requests=len(self.seconds), inputs=len(self.seconds))

    def close(self) -> None:
        pass


def raw_query(shard: Any, bm25: Any, text: str, vector: np.ndarray, plan: Any) -> Any:
    """What a Qdrant Edge user writes for the same hybrid search."""
    import qdrant_edge as edge

    dense = vector.tolist()
    prefetches = [
        edge.Prefetch(limit=plan.candidate_limit, query=edge.Query.Nearest(dense, using=name))
        for name in ("caption", "image")
    ]
    prefetches.append(
        edge.Prefetch(
            limit=plan.candidate_limit,
            query=edge.Query.Nearest(bm25.embed_query(text), using="keywords"),
        )
    )
    return shard.query(
        edge.QueryRequest(
            limit=plan.limit,
            prefetches=prefetches,
            query=edge.Fusion.Rrf(k=plan.rrf_k),
            with_payload=True,
        )
    )


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def run(quick: bool) -> list[Measurement]:
    """Write the points, then time both ways query by query."""
    from mmingest.connectors.stores.fusion import TIE_MARGIN
    from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore, convert
    from mmingest.pipelines.query import Retriever
    from mmingest.schemas.config import QdrantEdgeStoreConfig
    from mmingest.schemas.query import HybridQuery

    count, queries = (5_000, 200) if quick else (50_000, 500)
    rng = np.random.default_rng(11)
    words = np.array(stores.WORDS)
    texts = [" ".join(rng.choice(words, size=3, replace=False)) for _ in range(queries)]
    texts = [f"{text} {index}" for index, text in enumerate(texts)]  # distinct texts
    matrix = rng.standard_normal((queries, stores.DIMENSION)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    embedder = PrecomputedEmbedder(dict(zip(texts, matrix, strict=True)))
    # The store's plan for k=10: candidates per channel, RRF constant (1-based ranks), limit.
    defaults = HybridQuery(dense=[], keyword_text="x", k=K)

    class Plan:
        candidate_limit = defaults.candidate_limit
        rrf_k = defaults.rrf_k + 1
        limit = K + TIE_MARGIN

    with tempfile.TemporaryDirectory(prefix="mmingest-bench-") as scratch:
        store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=Path(scratch) / "edge"))
        try:
            store.ensure_collection(stores.spec("query"))
            started = time.perf_counter()
            for chunk in stores.batches(stores.make_points(count), 1024):
                store.upsert("query", chunk)
            load_s = time.perf_counter() - started
            retriever = Retriever(store, embedder, collection="query")
            shard, bm25 = store._shard("query"), convert.bm25_model()

            def ours(index: int) -> Any:
                return retriever.search(texts[index], k=K, mode="hybrid")

            def raw(index: int) -> Any:
                return raw_query(shard, bm25, texts[index], matrix[index], Plan)

            for index in range(min(10, queries)):  # warm-up
                ours(index)
                raw(index)
            embedder.seconds.clear()
            times: dict[str, list[float]] = {"ours": [], "raw": []}
            overlap = 0.0
            for index in range(queries):
                order = (("ours", ours), ("raw", raw))
                got: dict[str, Any] = {}
                for name, call in order if index % 2 == 0 else order[::-1]:
                    begun = time.perf_counter()
                    got[name] = call(index)
                    times[name].append(time.perf_counter() - begun)
                raw_ids = {str(point.id) for point in got["raw"][:K]}
                overlap += len(raw_ids & {hit.id for hit in got["ours"]}) / K
        finally:
            store.close()

    p50 = {name: statistics.median(values) for name, values in times.items()}
    p95 = {name: _percentile(values, 95) for name, values in times.items()}
    ratio = p50["ours"] / p50["raw"]
    goal, met = goal_at_most(ratio, GOAL)
    details = {
        "model": "none (pre-computed query vectors)",
        "batch_size": 1,
        "points": count,
        "queries": queries,
        "k": K,
        "load_s": round(load_s, 1),
        "p50_ms": {name: round(1000 * value, 3) for name, value in p50.items()},
        "p95_ms": {name: round(1000 * value, 3) for name, value in p95.items()},
        "top_k_overlap": round(overlap / queries, 3),  # below 1 only through RRF ties at k
        "prefetch_limit": Plan.candidate_limit,
        "optimized": False,
    }
    embed_ms = 1000 * statistics.median(embedder.seconds)
    return [
        Measurement(
            "query",
            f"hybrid p50 latency, Retriever.search / raw shard.query ({count:,} points)",
            ratio,
            goal=goal,
            met=met,
            details=details,
        ),
        Measurement("query", "hybrid p95 latency, same ratio", p95["ours"] / p95["raw"]),
        Measurement("query", "p50 latency, Retriever.search", 1000 * p50["ours"], unit="ms"),
        Measurement("query", "p50 latency, raw shard.query", 1000 * p50["raw"], unit="ms"),
        Measurement(
            "query", "p50 query embedding inside search (pre-computed)", embed_ms, unit="ms"
        ),
    ]
