"""The contract every VectorStore passes. A backend's test module subclasses
:class:`StoreContract` and provides a ``store`` fixture yielding an empty store.

Scores are asserted where their meaning is shared: dense similarity (cosine 1.0 for the exact
vector) and fused scores (the canonical formulas of :mod:`mmingest.connectors.stores.fusion`,
whether
the engine or the client fuses). BM25 scales differ between engines (IDF variants, Milvus
Lite's sign), so keyword results are asserted by what matches and in which order, and fusion is
checked against each store's own per-channel results.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from mmingest.connectors.stores import fusion
from mmingest.schemas import (
    CollectionSpec,
    DenseProbe,
    EmbedderInfo,
    FusionMethod,
    HybridQuery,
    point_id,
)
from mmingest.schemas.errors import CollectionNotFound, SchemaMismatch
from mmingest.schemas.points import CAPTION, IMAGE
from tests.contract.data import CAPTIONS, DIM, SPEC, hashes, make_outlier_points, make_points, unit
from tests.contract.filter_contract import FilterContract
from tests.contract.lifecycle_contract import LifecycleContract

__all__ = ["SPEC", "StoreContract", "make_points"]


class StoreContract(LifecycleContract, FilterContract):
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
        assert points[0].id not in hashes(store.scan("contract"))

    def test_scan_reports_source_and_kind_for_reconciliation(self, store):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        entries = {entry.id: entry for entry in store.scan("contract")}
        assert entries[points[1].id].source_uri == points[1].payload["source_uri"]
        assert entries[points[1].id].kind == "image"

    def test_scan_and_fetch_hashes_report_content_hashes(self, store):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        scanned = hashes(store.scan("contract"))
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
        scanned = hashes(store.scan("contract", tenant="acme"))
        assert set(scanned) == {p.id for p in make_points("acme")}

    @pytest.mark.parametrize(
        ("method", "caption_weight"),
        [
            (FusionMethod.RRF, 1.0),
            (FusionMethod.RRF, 3.0),
            (FusionMethod.DBSF, 1.0),
            (FusionMethod.DBSF, 2.0),
            (FusionMethod.WEIGHTED, 1.0),
            (FusionMethod.WEIGHTED, 2.0),
        ],
    )
    def test_fusion_follows_the_canonical_formulas(self, store, method, caption_weight):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        probe = DenseProbe(
            vector_name=CAPTION, vector=points[2].vectors[CAPTION], weight=caption_weight
        )
        # k covers the whole collection; equal scores come back ordered by id in every store
        # (engine-fused hits are settled like client-side fusion).
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
        hits = store.query("contract", query)
        assert [h.id for h in hits] == [h.id for h in expected]
        assert [h.score for h in hits] == pytest.approx([h.score for h in expected], rel=1e-4)

    def test_points_without_a_vector_never_match_on_it(self, store):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        probe = DenseProbe(vector_name=CAPTION, vector=unit(99))
        hits = store.query("contract", HybridQuery(dense=[probe], k=100))
        assert {hit.id for hit in hits} == {p.id for p in points if CAPTION in p.vectors}
        image_hits = store.query(
            "contract", HybridQuery(dense=[DenseProbe(vector_name=IMAGE, vector=unit(99))], k=100)
        )
        assert points[5].id in {hit.id for hit in image_hits}

    def test_hits_carry_the_payload_as_written(self, store):
        store.ensure_collection(SPEC)
        points = make_points("acme")
        store.upsert("contract", points)
        for target in (points[0], points[5]):
            probe = DenseProbe(vector_name=IMAGE, vector=target.vectors[IMAGE])
            hit = store.query("contract", HybridQuery(dense=[probe], k=1))[0]
            assert hit.id == target.id
            assert hit.payload == target.payload

    def test_upsert_leaves_the_points_it_writes_as_they_were(self, store):
        # The pipeline shares one "embedder" dict across a batch's payloads, and each
        # payload's "fields" with its asset: a store writing into either would change points
        # and assets it does not own.
        store.ensure_collection(SPEC)
        shared = {"provider": "p", "model": "m", "dimension": DIM}
        points = [
            p.model_copy(update={"payload": {**p.payload, "embedder": shared}})
            for p in make_points("acme")
        ]
        before = copy.deepcopy([(p.id, p.payload, p.keyword_text) for p in points])
        vectors = [{name: v.copy() for name, v in p.vectors.items()} for p in points]
        store.upsert("contract", points)
        assert [(p.id, p.payload, p.keyword_text) for p in points] == before
        assert shared == {"provider": "p", "model": "m", "dimension": DIM}
        for point, kept in zip(points, vectors, strict=True):
            assert point.vectors.keys() == kept.keys()
            for name, vector in kept.items():
                assert np.array_equal(point.vectors[name], vector)

    def test_dense_scores_are_cosine_similarities(self, store):
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        query = unit(77)
        hits = store.query(
            "contract", HybridQuery(dense=[DenseProbe(vector_name=IMAGE, vector=query)], k=6)
        )
        expected = {p.id: float(p.vectors[IMAGE] @ query) for p in points}
        assert [h.id for h in hits] == sorted(expected, key=lambda i: -expected[i])
        assert [h.score for h in hits] == pytest.approx([expected[h.id] for h in hits], abs=1e-4)

    def test_vectorize_probes_need_a_server_side_vectorizer(self, store):
        from mmingest.schemas import VectorizeProbe
        from mmingest.schemas.errors import CapabilityMissing

        assert not store.capabilities.server_side_vectors
        assert store.capabilities.vectorizer is None
        store.ensure_collection(SPEC)
        query = HybridQuery(vectorize=[VectorizeProbe(vector_name=CAPTION, text="red")], k=3)
        with pytest.raises(CapabilityMissing, match="vectoriz"):
            store.query("contract", query)

    def test_upsert_replaces_payload_and_vectors(self, store):
        store.ensure_collection(SPEC)
        store.upsert("contract", make_points())
        changed = make_points(offset=500, hash_prefix="v2-")
        store.upsert("contract", changed)
        assert hashes(store.scan("contract")) == {p.id: p.content_hash for p in changed}
        probe = DenseProbe(vector_name=IMAGE, vector=changed[3].vectors[IMAGE])
        hit = store.query("contract", HybridQuery(dense=[probe], k=1))[0]
        assert (hit.id, hit.payload["content_hash"]) == (changed[3].id, "v2-3")
        assert hit.score == pytest.approx(1.0, abs=1e-4)

    def test_one_large_upsert_is_split_into_accepted_requests(self, store):
        store.ensure_collection(SPEC)
        points = [p for offset in range(0, 2000, 10) for p in make_points(offset=offset)]
        unique = {p.id: p for p in points}  # same uris: later offsets replace earlier ones
        many = [
            p.model_copy(update={"id": point_id(p.payload["source_uri"], str(n))})
            for n, p in enumerate(points)
        ]
        store.upsert("contract", many)
        assert store.count("contract") == len(many) > len(unique)

    @pytest.mark.parametrize("method", [FusionMethod.RRF, FusionMethod.DBSF])
    def test_fusion_of_an_outlier_follows_the_canonical_formulas(self, store, method):
        store.ensure_collection(SPEC)
        vector, points = make_outlier_points()
        store.upsert("contract", points)
        probe = DenseProbe(vector_name=IMAGE, vector=vector)
        query = HybridQuery(dense=[probe], keyword_text="red", k=5, fusion=method)
        per_channel = [
            store.query("contract", HybridQuery(dense=[probe], k=query.candidate_limit)),
            store.query("contract", HybridQuery(keyword_text="red", k=query.candidate_limit)),
        ]
        expected = fusion.fuse(per_channel, [1.0, 1.0], method=method, rrf_k=60, limit=5)
        hits = store.query("contract", query)
        assert [h.id for h in hits] == [h.id for h in expected]
        assert [h.score for h in hits] == pytest.approx([h.score for h in expected], rel=1e-4)
        assert hits[0].id == points[0].id
