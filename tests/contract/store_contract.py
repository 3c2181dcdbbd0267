"""The contract every VectorStore passes. A backend's test module subclasses
:class:`StoreContract` and provides a ``store`` fixture yielding an empty store."""

from __future__ import annotations

import numpy as np
import pytest

from connectors.stores import fusion
from schemas import (
    CollectionSpec,
    DenseProbe,
    EmbedderInfo,
    FusionMethod,
    HybridQuery,
    Point,
    point_id,
)
from schemas.errors import CollectionNotFound, SchemaMismatch
from schemas.points import CAPTION, IMAGE

DIM = 8
INFO = EmbedderInfo(provider="test", model="contract", dimension=DIM)
SPEC = CollectionSpec.for_embedder("contract", INFO)

CAPTIONS = [
    "a red circle on a white background",
    "a blue square on a black background",
    "a green triangle next to a red square",
    "quarterly sales report for yellow umbrellas",
    "an orange cross",
    "",
]


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def make_points(tenant: str | None = None, *, offset: int = 0) -> list[Point]:
    points = []
    for index, caption in enumerate(CAPTIONS):
        uri = f"memory://contract/{tenant or 'shared'}/{index}.jpg"
        vectors = {IMAGE: unit(offset + 2 * index)}
        if caption:
            vectors[CAPTION] = unit(offset + 2 * index + 1)
        points.append(
            Point(
                id=point_id(uri),
                vectors=vectors,
                keyword_text=caption or None,
                payload={
                    "source_uri": uri,
                    "content_hash": f"h{index}",
                    "kind": "image",
                    "caption": caption or None,
                    "tenant": tenant,
                    "page": None,
                },
            )
        )
    return points


class StoreContract:
    """Semantics pinned for every store: idempotency, queries, tenancy, refusals."""

    def test_ensure_collection_is_idempotent(self, store):
        store.ensure_collection(SPEC)
        store.ensure_collection(SPEC)
        assert "contract" in store.list_collections()
        assert store.collection_spec("contract") == SPEC

    def test_a_different_vector_space_is_refused(self, store):
        store.ensure_collection(SPEC)
        other = CollectionSpec.for_embedder(
            "contract", EmbedderInfo(provider="test", model="contract", dimension=DIM * 2)
        )
        with pytest.raises(
            SchemaMismatch, match=r"test:contract \(8-d\) != test:contract \(16-d\)"
        ):
            store.ensure_collection(other)

    def test_unknown_collection_is_a_clear_error(self, store):
        with pytest.raises(CollectionNotFound, match="nowhere"):
            store.count("nowhere")

    def test_upsert_twice_keeps_one_copy(self, store):
        store.ensure_collection(SPEC)
        store.upsert("contract", make_points())
        store.upsert("contract", make_points())
        assert store.count("contract") == len(CAPTIONS)

    def test_delete_by_id_ignores_unknown_ids(self, store):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        store.delete("contract", [points[0].id, point_id("memory://never")])
        assert store.count("contract") == len(CAPTIONS) - 1
        assert points[0].id not in dict(store.scan("contract"))

    def test_scan_and_fetch_hashes_report_content_hashes(self, store):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        scanned = dict(store.scan("contract"))
        assert scanned == {p.id: p.content_hash for p in points}
        wanted = [points[1].id, point_id("memory://missing")]
        assert store.fetch_hashes("contract", wanted) == {points[1].id: "h1"}

    def test_scan_pages_through_large_collections(self, store):
        store.ensure_collection(SPEC)
        points = [
            p for offset in range(0, 3000, 10) for p in make_points(f"t{offset}", offset=offset)
        ]
        for start in range(0, len(points), 500):
            store.upsert("contract", points[start : start + 500])
        assert sum(1 for _ in store.scan("contract")) == len(points)

    @pytest.mark.parametrize("vector_name", [IMAGE, CAPTION])
    def test_dense_query_finds_the_exact_vector_first(self, store, vector_name):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        target = points[2]
        probe = DenseProbe(vector_name=vector_name, vector=target.vectors[vector_name])
        hits = store.query("contract", HybridQuery(dense=[probe], k=3))
        assert hits[0].id == target.id
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert hits[0].caption == target.payload["caption"]
        assert len(hits) == 3

    def test_keyword_query_ranks_term_matches(self, store):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        hits = store.query("contract", HybridQuery(keyword_text="umbrellas report", k=5))
        assert [hit.id for hit in hits] == [points[3].id]

    def test_keyword_query_of_stopwords_matches_nothing(self, store):
        store.ensure_collection(SPEC)
        store.upsert("contract", make_points())
        assert store.query("contract", HybridQuery(keyword_text="the of a", k=5)) == []

    def test_hybrid_query_fuses_dense_and_keyword_channels(self, store):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        probe = DenseProbe(vector_name=CAPTION, vector=points[0].vectors[CAPTION])
        hits = store.query("contract", HybridQuery(dense=[probe], keyword_text="red circle", k=10))
        assert hits[0].id == points[0].id  # first in both channels
        assert len({hit.id for hit in hits}) == len(hits)
        expected_top = 2 / (60 + 1)  # RRF with k=60, rank 1 in both channels
        assert hits[0].score == pytest.approx(expected_top, rel=1e-3)

    def test_k_larger_than_the_collection_returns_everything(self, store):
        store.ensure_collection(SPEC)
        store.upsert("contract", make_points())
        probe = DenseProbe(vector_name=IMAGE, vector=unit(0))
        assert len(store.query("contract", HybridQuery(dense=[probe], k=100))) == len(CAPTIONS)

    def test_empty_collection_returns_no_hits(self, store):
        store.ensure_collection(SPEC)
        probe = DenseProbe(vector_name=IMAGE, vector=unit(0))
        assert store.query("contract", HybridQuery(dense=[probe], keyword_text="red", k=5)) == []
        assert store.count("contract") == 0
        assert list(store.scan("contract")) == []

    def test_tenants_are_isolated(self, store):
        store.ensure_collection(SPEC)
        store.upsert("contract", make_points("acme"))
        store.upsert("contract", make_points("globex"))
        assert store.count("contract", tenant="acme") == len(CAPTIONS)
        assert store.count("contract") == 2 * len(CAPTIONS)
        probe = DenseProbe(vector_name=IMAGE, vector=unit(0))
        query = HybridQuery(dense=[probe], keyword_text="red circle", k=50, tenant="globex")
        hits = store.query("contract", query)
        assert hits
        assert {hit.payload["tenant"] for hit in hits} == {"globex"}
        assert all(h.id in {p.id for p in make_points("globex")} for h in hits)
        scanned = dict(store.scan("contract", tenant="acme"))
        assert set(scanned) == {p.id for p in make_points("acme")}

    @pytest.mark.parametrize(
        ("method", "caption_weight"),
        [
            (FusionMethod.RRF, 1.0),
            (FusionMethod.RRF, 3.0),
            (FusionMethod.DBSF, 1.0),
            (FusionMethod.DBSF, 2.0),
        ],
    )
    def test_fusion_follows_the_canonical_formulas(self, store, method, caption_weight):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        probe = DenseProbe(
            vector_name=CAPTION, vector=points[2].vectors[CAPTION], weight=caption_weight
        )
        # k covers the whole collection: engines break score ties their own way at a cut-off.
        query = HybridQuery(
            dense=[probe], keyword_text="red square background", k=len(CAPTIONS), fusion=method
        )
        dense_only = store.query("contract", HybridQuery(dense=[probe], k=query.candidate_limit))
        keyword_only = store.query(
            "contract", HybridQuery(keyword_text=query.keyword_text, k=query.candidate_limit)
        )
        expected = fusion.fuse(
            [dense_only, keyword_only],
            [caption_weight, 1.0],
            method=method,
            rrf_k=60,
            limit=len(CAPTIONS),
        )

        def ranking(hits):
            return sorted(((round(h.score, 5), h.id) for h in hits), key=lambda t: (-t[0], t[1]))

        assert ranking(store.query("contract", query)) == ranking(expected)
