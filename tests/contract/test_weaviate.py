"""Weaviate against the store contract: the protocol emulator (driven by the real
weaviate-client) here, a real server when MMINGEST_TEST_WEAVIATE_URL is set."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from mmingest.connectors.stores.weaviate import WeaviateStore
from mmingest.schemas.config import WeaviateStoreConfig
from tests.contract import servers
from tests.contract.store_contract import StoreContract

pytest_plugins = ("tests.emulators.weaviate.fixtures",)


def emulated(emulator, **options) -> WeaviateStoreConfig:
    return WeaviateStoreConfig(
        url=emulator.url, grpc_url=f"http://{emulator.host}:{emulator.grpc_port}", **options
    )


@pytest.fixture(params=servers.variants(["emulator"], "WEAVIATE"))
def store(request):
    if request.param == "server":
        key = servers.server_secret("WEAVIATE", "API_KEY")
        config = WeaviateStoreConfig(
            url=servers.server_url("WEAVIATE"),
            grpc_url=servers.server_secret("WEAVIATE", "GRPC_URL"),
            api_key=SecretStr(key) if key else None,
        )
    else:
        config = emulated(request.getfixturevalue("weaviate_emulator"))
    opened = WeaviateStore(config)
    servers.wipe(opened)
    yield opened
    servers.wipe(opened)
    opened.close()


class TestWeaviateContract(StoreContract):
    pass


# --- what only Weaviate has, asserted on what the client sends ----------------------------------

import base64  # noqa: E402

from mmingest.schemas import (  # noqa: E402
    CollectionSpec,
    DenseProbe,
    FusionMethod,
    HybridQuery,
    Point,
    VectorizeProbe,
    point_id,
)
from mmingest.schemas.errors import CapabilityMissing, ConfigError, InvalidInput, SchemaMismatch  # noqa: E402
from mmingest.schemas.points import CAPTION, IMAGE  # noqa: E402
from tests.contract.data import SPEC, hashes, make_points, unit  # noqa: E402


@pytest.fixture
def clip_store(weaviate_emulator):
    opened = WeaviateStore(
        emulated(weaviate_emulator, vectorizer="multi2vec-clip", vectorizer_dimension=512)
    )
    yield opened
    opened.close()


def requests_of(emulator, method):
    return [r.body for r in emulator.requests if r.method == method]


def image_point(uri, caption, data, tenant=None):
    return Point(
        id=point_id(uri),
        vectors={},
        keyword_text=caption,
        image_data=data,
        payload={
            "source_uri": uri,
            "content_hash": "h-" + uri,
            "kind": "image",
            "page": None,
            "caption": caption,
            "tenant": tenant,
        },
    )


def test_vectorizer_mode_creates_the_documented_schema(clip_store, weaviate_emulator):
    assert clip_store.capabilities.server_side_vectors
    info = clip_store.capabilities.vectorizer
    assert (info.provider, info.model, info.dimension) == (
        "weaviate/multi2vec-clip",
        "module-default",
        512,
    )
    spec = CollectionSpec.for_embedder("images", info)
    clip_store.ensure_collection(spec)
    clip_store.ensure_collection(spec)  # idempotent: one create
    assert len(requests_of(weaviate_emulator, "POST /v1/schema")) == 1
    raw = weaviate_emulator.raw_schema("Images")
    assert raw["class"] == "Images"
    assert raw["multiTenancyConfig"] == {"enabled": True}
    assert raw["invertedIndexConfig"]["stopwords"] == {"preset": "en"}
    assert raw["vectorConfig"] == {
        IMAGE: {
            "vectorizer": {"multi2vec-clip": {"imageFields": ["image_data"]}},
            "vectorIndexType": "hnsw",
            "vectorIndexConfig": {"distance": "cosine"},
        },
        CAPTION: {
            "vectorizer": {"multi2vec-clip": {"textFields": ["text"]}},
            "vectorIndexType": "hnsw",
            "vectorIndexConfig": {"distance": "cosine"},
        },
    }
    types = {p["name"]: (p["dataType"], p.get("tokenization")) for p in raw["properties"]}
    assert types == {
        "text": (["text"], "word"),
        "source_uri": (["text"], "field"),
        "content_hash": (["text"], "field"),
        "kind": (["text"], "field"),
        "tenant": (["text"], "field"),
        "page": (["int"], None),
        "payload": (["text"], None),
        "image_data": (["blob"], None),
    }
    assert clip_store.collection_spec("images") == spec
    other = CollectionSpec.for_embedder(
        "images", info.model_copy(update={"model": "ViT-L-14", "dimension": 768})
    )
    with pytest.raises(SchemaMismatch, match="module-default"):
        clip_store.ensure_collection(other)


def test_vectorizer_mode_sends_images_and_text_never_vectors(clip_store, weaviate_emulator):
    clip_store.ensure_collection(
        CollectionSpec.for_embedder("images", clip_store.capabilities.vectorizer)
    )
    weaviate_emulator.clear_requests()
    pixels = b"\x89PNG\r\n\x1a\n-not-really-a-png"
    clip_store.upsert(
        "images",
        [
            image_point("s3://b/red.png", "a red circle", pixels),
            image_point("s3://b/blue.png", "a blue square", pixels, tenant="acme"),
        ],
    )
    tenants = requests_of(weaviate_emulator, "POST /v1/schema/Images/tenants")
    assert sorted(t["name"] for t in tenants[0]) == ["acme", "shared"]
    sent = [
        obj
        for body in requests_of(weaviate_emulator, "weaviate.v1.Weaviate/BatchObjects")
        for obj in body["objects"]
    ]
    assert {obj["tenant"] for obj in sent} == {"shared", "acme"}
    red = next(obj for obj in sent if obj["tenant"] == "shared")
    assert red["uuid"] == point_id("s3://b/red.png")
    assert "vectors" not in red and "vector_bytes" not in red
    properties = red["properties"]["non_ref_properties"]
    assert base64.b64decode(properties["image_data"]) == pixels
    assert properties["text"] == "a red circle"
    assert properties["source_uri"] == "s3://b/red.png"
    assert '"caption": "a red circle"' in properties["payload"]
    # The emulator stores objects without vectors (it runs no module): keyword search works.
    hits = clip_store.query("images", HybridQuery(keyword_text="circle", k=5))
    assert [h.id for h in hits] == [point_id("s3://b/red.png")]
    assert hits[0].payload["caption"] == "a red circle"


def test_vectorizer_mode_queries_ask_weaviate_to_vectorize(clip_store, weaviate_emulator):
    clip_store.ensure_collection(
        CollectionSpec.for_embedder("images", clip_store.capabilities.vectorizer)
    )
    clip_store.upsert("images", [image_point("s3://b/red.png", "a red circle", b"png")])
    searches = []
    queries = [
        HybridQuery(vectorize=[VectorizeProbe(vector_name=CAPTION, text="red circle")], k=3),
        HybridQuery(vectorize=[VectorizeProbe(vector_name=IMAGE, image=b"query-png")], k=3),
        # Weaviate's own hybrid expresses this one exactly (see connectors/stores/weaviate/search).
        HybridQuery(
            vectorize=[VectorizeProbe(vector_name=IMAGE, text="red")],
            keyword_text="red circle",
            k=5,
            rrf_k=59,
            candidates=100,
        ),
    ]
    for query in queries:
        weaviate_emulator.clear_requests()
        with pytest.raises(InvalidInput, match="no vectorizer"):  # the emulator runs no module
            clip_store.query("images", query)
        searches += requests_of(weaviate_emulator, "weaviate.v1.Weaviate/Search")
    near_text, near_image, hybrid = searches
    assert near_text["near_text"] == {
        "query": ["red circle"],
        "targets": {"target_vectors": ["caption"]},
    }
    assert near_text["tenant"] == "shared" and near_text["limit"] == 3
    assert base64.b64decode(near_image["near_image"]["image"]) == b"query-png"
    assert near_image["near_image"]["targets"] == {"target_vectors": ["image"]}
    assert hybrid["hybrid_search"]["query"] == "red circle"
    assert hybrid["hybrid_search"]["near_text"]["query"] == ["red"]
    assert hybrid["hybrid_search"]["fusion_type"] == "FUSION_TYPE_RANKED"
    assert hybrid["hybrid_search"]["targets"] == {"target_vectors": ["image"]}
    assert hybrid["hybrid_search"]["properties"] == ["text"]


def test_cohere_vectorizer_records_its_model(weaviate_emulator):
    store = WeaviateStore(
        emulated(
            weaviate_emulator,
            vectorizer="multi2vec-cohere",
            vectorizer_model="embed-v4.0",
            vectorizer_dimension=1536,
        )
    )
    try:
        store.ensure_collection(
            CollectionSpec.for_embedder("products", store.capabilities.vectorizer)
        )
        vectors = weaviate_emulator.raw_schema("Products")["vectorConfig"]
        assert vectors[IMAGE]["vectorizer"] == {
            "multi2vec-cohere": {"imageFields": ["image_data"], "model": "embed-v4.0"}
        }
        assert vectors[CAPTION]["vectorizer"]["multi2vec-cohere"]["textFields"] == ["text"]
    finally:
        store.close()


def test_a_vectorizer_needs_a_dimension():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="vectorizer_dimension"):
        WeaviateStoreConfig(vectorizer="multi2vec-clip")


def test_hybrid_runs_natively_when_weaviate_fusion_is_the_canonical_one(store, weaviate_emulator):
    store.ensure_collection(SPEC)
    points = make_points()
    store.upsert("contract", points)
    probe = DenseProbe(vector_name=CAPTION, vector=points[2].vectors[CAPTION], weight=2.0)
    query = HybridQuery(dense=[probe], keyword_text="red square", k=4, rrf_k=59, candidates=100)
    weaviate_emulator.clear_requests()
    hits = store.query("contract", query)
    searches = requests_of(weaviate_emulator, "weaviate.v1.Weaviate/Search")
    assert len(searches) == 1 and "hybrid_search" in searches[0]
    assert searches[0]["hybrid_search"]["alpha"] == pytest.approx(2 / 3)
    per_channel = [
        store.query("contract", HybridQuery(dense=[probe], k=100)),
        store.query("contract", HybridQuery(keyword_text="red square", k=100)),
    ]
    from mmingest.connectors.stores import fusion

    expected = fusion.fuse(per_channel, [2.0, 1.0], method=FusionMethod.RRF, rrf_k=59, limit=4)
    assert [h.id for h in hits] == [h.id for h in expected]
    assert [h.score for h in hits] == pytest.approx([h.score for h in expected], rel=1e-4)


def test_default_hybrid_is_fused_client_side(store, weaviate_emulator):
    store.ensure_collection(SPEC)
    store.upsert("contract", make_points())
    probe = DenseProbe(vector_name=CAPTION, vector=make_points()[0].vectors[CAPTION])
    weaviate_emulator.clear_requests()
    store.query("contract", HybridQuery(dense=[probe], keyword_text="red", k=4))
    searches = requests_of(weaviate_emulator, "weaviate.v1.Weaviate/Search")
    assert {next(k for k in ("near_vector", "bm25_search") if k in s) for s in searches} == {
        "near_vector",
        "bm25_search",
    }


def test_collection_names_weaviate_cannot_hold_are_refused(store):
    with pytest.raises(ConfigError, match="'my_images'"):
        store.ensure_collection(SPEC.model_copy(update={"name": "my-images"}))


def test_a_collection_mmingest_did_not_create_is_refused(store):
    store._client.collections.create("Contract")
    with pytest.raises(SchemaMismatch, match="not created by mmingest"):
        store.ensure_collection(SPEC)


def test_tenant_names_weaviate_cannot_hold_are_invalid_input(store):
    store.ensure_collection(SPEC)
    with pytest.raises(InvalidInput, match="valid Weaviate tenant"):
        store.upsert("contract", make_points("acme corp"))
    assert store.count("contract", tenant="acme corp") == 0  # reads: no such tenant, no points
    assert store.query("contract", HybridQuery(keyword_text="red", tenant="acme corp")) == []


def test_a_partly_rejected_batch_names_what_failed(store):
    store.ensure_collection(SPEC)
    good = make_points()
    store.upsert("contract", good[:1])
    bad = good[2].model_copy(update={"vectors": {IMAGE: unit(5, 4)}})  # 4-d, the others 8-d
    with pytest.raises(InvalidInput, match=f"rejected 1 of 2 points.*{bad.id}"):
        store.upsert("contract", [good[1], bad])
    assert set(hashes(store.scan("contract"))) == {good[0].id, good[1].id}


def test_servers_older_than_1_32_have_no_aliases():
    from tests.emulators.weaviate import WeaviateEmulator

    with WeaviateEmulator(version="1.30.0") as emulator:
        old = WeaviateStore(emulated(emulator))
        try:
            assert not old.capabilities.aliases
            assert old.list_aliases() == {}
            old.ensure_collection(SPEC)
            with pytest.raises(CapabilityMissing, match=r"1\.32"):
                old.set_alias("contract_live", "contract")
        finally:
            old.close()
