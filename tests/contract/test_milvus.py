"""Milvus against the store contract: Milvus Lite here (pymilvus's embedded server), a real
server when MMINGEST_TEST_MILVUS_URL is set."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from mmingest.connectors.stores.milvus import MilvusStore
from mmingest.schemas.config import MilvusStoreConfig
from tests.contract import servers
from tests.contract.store_contract import StoreContract


@pytest.fixture(params=servers.variants(["lite"], "MILVUS"))
def store(request, tmp_path):
    if request.param == "server":
        token = servers.server_secret("MILVUS", "TOKEN")
        config = MilvusStoreConfig(
            uri=servers.server_url("MILVUS"), token=SecretStr(token) if token else None
        )
    else:
        config = MilvusStoreConfig(uri=str(tmp_path / "milvus.db"))
    opened = MilvusStore(config)
    servers.wipe(opened)
    yield opened
    servers.wipe(opened)
    opened.close()


class TestMilvusContract(StoreContract):
    pass


def lite(tmp_path, name="milvus.db"):
    return MilvusStore(MilvusStoreConfig(uri=str(tmp_path / name)))


def test_a_missing_vector_is_a_flagged_placeholder(tmp_path):
    from tests.contract.data import SPEC, make_points

    store = lite(tmp_path)
    try:
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        rows = store._client.get(
            "contract", ids=[points[0].id, points[5].id], output_fields=["caption", "has_caption"]
        )
        by_id = {row["id"]: row for row in rows}
        assert by_id[points[0].id]["has_caption"] is True
        assert by_id[points[5].id]["has_caption"] is False
        assert by_id[points[5].id]["caption"] == pytest.approx([1.0] + [0.0] * 7)
    finally:
        store.close()


def test_keyword_scores_are_positive_bm25_and_stopwords_are_dropped(tmp_path):
    from mmingest.schemas import HybridQuery
    from tests.contract.data import SPEC, make_points

    store = lite(tmp_path)
    try:
        store.ensure_collection(SPEC)
        points = make_points()
        store.upsert("contract", points)
        hits = store.query("contract", HybridQuery(keyword_text="the red square", k=5))
        # Milvus Lite reports BM25 negated; the store turns it back into a positive score.
        assert hits[0].id == points[2].id  # both terms
        assert {h.id for h in hits[1:]} == {points[0].id, points[1].id}  # one term, same length
        assert all(h.score > 0 for h in hits)
        assert hits[0].score > hits[1].score == pytest.approx(hits[2].score)
    finally:
        store.close()


def test_collection_names_milvus_cannot_hold_are_refused(tmp_path):
    from mmingest.schemas.errors import ConfigError
    from tests.contract.data import SPEC

    store = lite(tmp_path)
    try:
        with pytest.raises(ConfigError, match="'my_images'"):
            store.ensure_collection(SPEC.model_copy(update={"name": "my-images"}))
    finally:
        store.close()


def test_a_collection_mmingest_did_not_create_is_refused(tmp_path):
    from mmingest.schemas.errors import SchemaMismatch
    from tests.contract.data import SPEC

    store = lite(tmp_path)
    try:
        store._client.create_collection("contract", dimension=8)
        with pytest.raises(SchemaMismatch, match="not created by mmingest"):
            store.ensure_collection(SPEC)
        assert store.list_collections() == []
    finally:
        store.close()


def test_a_collection_whose_creation_stopped_before_its_indexes_is_completed(tmp_path):
    import json

    from mmingest.connectors.stores import records
    from mmingest.connectors.stores.milvus import schema
    from mmingest.schemas import DenseProbe, HybridQuery
    from mmingest.schemas.points import IMAGE
    from tests.contract.data import SPEC, make_points

    store = lite(tmp_path)
    try:
        store._client.create_collection(
            "contract",
            schema=schema.build_schema(SPEC),
            properties={schema.SPEC_PROPERTY: json.dumps(records.spec_record(SPEC))},
        )
        points = make_points()
        store.upsert("contract", points)
        probe = DenseProbe(vector_name=IMAGE, vector=points[1].vectors[IMAGE])
        assert store.query("contract", HybridQuery(dense=[probe], k=1))[0].id == points[1].id
    finally:
        store.close()


def test_points_and_aliases_survive_a_reopen_and_the_file_is_held_by_one_process(tmp_path):
    import subprocess
    import sys

    from mmingest.schemas import HybridQuery
    from tests.contract.data import SPEC, make_points

    first = lite(tmp_path)
    first.ensure_collection(SPEC)
    first.upsert("contract", make_points())
    first.set_alias("contract_live", "contract")
    code = (
        "from mmingest.connectors.stores.milvus import MilvusStore\n"
        "from mmingest.schemas.config import MilvusStoreConfig\n"
        f"MilvusStore(MilvusStoreConfig(uri={str(tmp_path / 'milvus.db')!r}))\n"
    )
    command = [sys.executable, "-c", code]
    other = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert other.returncode != 0
    assert "StoreLocked" in other.stderr
    first.close()
    second = lite(tmp_path)
    try:
        assert second.count("contract_live") == len(make_points())
        assert second.query("contract_live", HybridQuery(keyword_text="umbrellas", k=3))
    finally:
        second.close()
