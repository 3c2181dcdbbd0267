"""Qdrant through qdrant-client against the store contract: the client's local mode here (the
same API as a server), a real server when MMINGEST_TEST_QDRANT_URL is set."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from mmingest.connectors.stores.qdrant import QdrantStore
from mmingest.schemas.config import QdrantStoreConfig
from tests.contract import servers
from tests.contract.store_contract import StoreContract


@pytest.fixture(params=servers.variants(["local"], "QDRANT"))
def store(request):
    if request.param == "server":
        key = servers.server_secret("QDRANT", "API_KEY")
        config = QdrantStoreConfig(
            url=servers.server_url("QDRANT"), api_key=SecretStr(key) if key else None
        )
    else:
        config = QdrantStoreConfig(url=":memory:")
    opened = QdrantStore(config)
    servers.wipe(opened)
    yield opened
    servers.wipe(opened)
    opened.close()


class TestQdrantContract(StoreContract):
    pass


def test_payload_indexes_exist_where_the_engine_has_them(store):
    from mmingest.connectors.stores.qdrant import convert
    from tests.contract.data import SPEC

    store.ensure_collection(SPEC)
    schema = store._client.get_collection("contract").payload_schema
    if store._local:  # local mode filters by brute force and keeps no indexes
        assert schema == {}
    else:
        assert set(schema) == {field for field, _ in convert.payload_indexes()}
        assert schema["tenant"].params.is_tenant


def test_keyword_and_hybrid_results_agree_with_qdrant_edge(store, tmp_path):
    from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
    from mmingest.schemas import DenseProbe, FusionMethod, HybridQuery
    from mmingest.schemas.config import QdrantEdgeStoreConfig
    from mmingest.schemas.points import CAPTION
    from tests.contract.data import SPEC, make_pages, make_points

    points = make_points("acme") + make_points("globex") + make_pages("memory://a.pdf", 5, "acme")
    edge = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "edge"))
    try:
        for each in (store, edge):
            each.ensure_collection(SPEC)
            each.upsert("contract", points)
        probe = DenseProbe(vector_name=CAPTION, vector=points[2].vectors[CAPTION])
        # Keyword-only queries may tie (the same caption in two tenants): k covers every match
        # and equal scores compare as sets. Fused queries stay in one tenant, on texts whose
        # BM25 scores differ, because tie order within a channel changes RRF ranks.
        queries = [
            HybridQuery(keyword_text="red square umbrella inventory", k=50),
            HybridQuery(keyword_text="red background", k=50, tenant="globex"),
            HybridQuery(dense=[probe], keyword_text="red triangle", k=10, tenant="acme"),
            HybridQuery(
                dense=[probe], keyword_text="red", k=10, tenant="acme", fusion=FusionMethod.DBSF
            ),
        ]

        def ranked(hits):
            return sorted((-round(h.score, 4), h.id) for h in hits)

        for query in queries:
            ours, theirs = store.query("contract", query), edge.query("contract", query)
            assert ours
            assert ranked(ours) == ranked(theirs)
            assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], rel=1e-4)
    finally:
        edge.close()


def test_a_collection_mmingest_did_not_create_is_refused(store):
    from qdrant_client import models

    from mmingest.schemas.errors import SchemaMismatch
    from tests.contract.data import SPEC

    store._client.create_collection(
        "contract", vectors_config=models.VectorParams(size=8, distance=models.Distance.COSINE)
    )
    with pytest.raises(SchemaMismatch, match="not created by mmingest"):
        store.ensure_collection(SPEC)
    assert store.list_collections() == []


def test_local_mode_on_a_path_persists_and_is_held_by_one_process(tmp_path):
    import subprocess
    import sys

    from tests.contract.data import SPEC, make_points

    config = QdrantStoreConfig(path=tmp_path / "local")
    first = QdrantStore(config)
    first.ensure_collection(SPEC)
    first.upsert("contract", make_points())
    first.set_alias("contract_live", "contract")
    code = (
        "from mmingest.connectors.stores.qdrant import QdrantStore\n"
        "from mmingest.schemas.config import QdrantStoreConfig\n"
        f"QdrantStore(QdrantStoreConfig(path={str(tmp_path / 'local')!r}))\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert other.returncode != 0
    assert "StoreLocked" in other.stderr
    first.close()
    second = QdrantStore(config)
    try:
        assert second.count("contract_live") == len(make_points())
    finally:
        second.close()


def test_url_and_path_are_exclusive(tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="either url"):
        QdrantStoreConfig(url="http://qdrant:6333", path=tmp_path)
    assert QdrantStoreConfig(path=tmp_path).url == "http://localhost:6333"
