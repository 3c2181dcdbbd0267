"""The Weaviate emulator, driven only through the real ``weaviate-client``."""

from __future__ import annotations

import datetime
import math
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import weaviate
import weaviate.classes as wvc
from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances
from weaviate.classes.query import Filter, HybridFusion, MetadataQuery
from weaviate.classes.tenants import Tenant
from weaviate.collections import Collection
from weaviate.exceptions import (
    UnexpectedStatusCodeError,
    WeaviateInsertManyAllFailedError,
    WeaviateQueryError,
)

from tests.emulators.weaviate import WeaviateEmulator

# Fixtures weaviate_emulator / weaviate_client; a conftest can import them the same way.
pytest_plugins = ("tests.emulators.weaviate.fixtures",)
pytestmark = pytest.mark.timeout(60)

IMAGE = {"a": [1.0, 0.0, 0.0], "b": [0.0, 1.0, 0.0], "c": [0.0, 0.0, 1.0], "d": [1.0, 1.0, 0.0]}
CAPTION = {"a": [0.0, 1.0], "b": [1.0, 0.0], "c": [1.0, 1.0], "d": [-1.0, 0.2]}
TITLES = {
    "a": "Red running shoes",
    "b": "Blue denim jacket",
    "c": "Green garden hose with brass nozzle",
    "d": "Leather hiking boots",
}
IDS = {key: uuid.uuid5(uuid.NAMESPACE_URL, key) for key in TITLES}


def make_products(client: weaviate.WeaviateClient, name: str = "Product", **kw: Any) -> Collection:
    """A collection with named vectors ``image`` and ``caption`` and text properties."""
    return client.collections.create(
        name,
        properties=[
            Property(name="title", data_type=DataType.TEXT),
            Property(name="sku", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
            Property(name="tags", data_type=DataType.TEXT_ARRAY),
            Property(name="price", data_type=DataType.NUMBER),
            Property(name="stock", data_type=DataType.INT),
            Property(name="active", data_type=DataType.BOOL),
        ],
        vector_config=[
            Configure.Vectors.self_provided(
                name="image",
                vector_index_config=Configure.VectorIndex.hnsw(
                    distance_metric=VectorDistances.COSINE
                ),
            ),
            Configure.Vectors.self_provided(
                name="caption",
                vector_index_config=Configure.VectorIndex.hnsw(
                    distance_metric=VectorDistances.COSINE
                ),
            ),
        ],
        **kw,
    )


def product_objects() -> list[Any]:
    """Four products; ``d`` lacks ``price`` so is-null filters have something to find."""
    extra: dict[str, dict[str, Any]] = {
        "a": {"price": 59.5, "stock": 3, "active": True, "tags": ["shoes", "sport"]},
        "b": {"price": 89.0, "stock": 0, "active": False, "tags": ["jacket"]},
        "c": {"price": 19.99, "stock": 12, "active": True, "tags": ["garden", "tools"]},
        "d": {"stock": 1, "active": True, "tags": ["shoes", "outdoor"]},
    }
    return [
        wvc.data.DataObject(
            properties={"title": TITLES[k], "sku": f"SKU-{k.upper()}", **extra[k]},
            uuid=IDS[k],
            vector={"image": IMAGE[k], "caption": CAPTION[k]},
        )
        for k in TITLES
    ]


def cosine_distance(a: list[float], b: list[float]) -> float:
    """1 - cos(a, b), the distance Weaviate reports for cosine."""
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    return 1 - dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


@pytest.fixture
def products(weaviate_client: weaviate.WeaviateClient) -> Collection:
    """The four products inserted through ``insert_many``."""
    collection = make_products(weaviate_client)
    result = collection.data.insert_many(product_objects())
    assert not result.has_errors, result.errors
    return collection


def titles(result: Any) -> list[str]:
    return [o.properties["title"] for o in result.objects]


def titles_of(result: Any) -> list[str]:
    return [o.properties["caption"] for o in result.objects]


# -- connection and lifecycle ------------------------------------------------------------


def test_connect_with_init_checks_uses_meta_and_grpc_health(
    weaviate_emulator: WeaviateEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client's init checks also ask PyPI for its latest version; that is not the server's
    # protocol, so it is switched off here and only meta + the gRPC health check remain.
    from weaviate.connect.v4 import ConnectionSync

    monkeypatch.setattr(ConnectionSync, "_check_package_version", lambda self, colour: None)
    with weaviate.connect_to_custom(**weaviate_emulator.connect_kwargs()) as client:
        assert client.is_ready()
        assert client.get_meta()["version"] == "1.32.0"
    calls = [method for _channel, method, _body in weaviate_emulator.requests]
    assert "GET /v1/meta" in calls
    assert "grpc.health.v1.Health/Check" in calls


def test_reset_clears_data_and_log(
    weaviate_emulator: WeaviateEmulator, weaviate_client: weaviate.WeaviateClient
) -> None:
    make_products(weaviate_client)
    assert weaviate_client.collections.exists("Product")
    weaviate_emulator.reset()
    assert weaviate_emulator.requests == []
    assert not weaviate_client.collections.exists("Product")


def test_standalone_module_serves_a_client() -> None:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.weaviate", "--http-port", "0", "--grpc-port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"REST http://127\.0\.0\.1:(\d+), gRPC 127\.0\.0\.1:(\d+)", line)
        assert match, line
        http_port, grpc_port = int(match.group(1)), int(match.group(2))
        with weaviate.connect_to_custom(
            http_host="127.0.0.1",
            http_port=http_port,
            http_secure=False,
            grpc_host="127.0.0.1",
            grpc_port=grpc_port,
            grpc_secure=False,
            skip_init_checks=True,
        ) as client:
            collection = make_products(client)
            collection.data.insert_many(product_objects())
            assert len(collection.query.fetch_objects().objects) == 4
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- writes and reads --------------------------------------------------------------------


def test_insert_many_sends_named_vectors_over_grpc(
    weaviate_emulator: WeaviateEmulator, products: Collection
) -> None:
    batch = [b for ch, m, b in weaviate_emulator.requests if m.endswith("/BatchObjects")]
    assert len(batch) == 1 and len(batch[0]["objects"]) == 4
    assert {v["name"] for v in batch[0]["objects"][0]["vectors"]} == {"image", "caption"}
    obj = products.query.fetch_object_by_id(IDS["c"], include_vector=True)
    assert obj is not None
    assert obj.properties["title"] == TITLES["c"]
    assert obj.properties["tags"] == ["garden", "tools"]
    assert obj.properties["stock"] == 12 and isinstance(obj.properties["stock"], int)
    assert obj.vector["image"] == IMAGE["c"]
    assert obj.vector["caption"] == CAPTION["c"]


def test_all_property_types_round_trip(weaviate_client: weaviate.WeaviateClient) -> None:
    collection = weaviate_client.collections.create(
        "Typed",
        properties=[
            Property(name="t", data_type=DataType.TEXT),
            Property(name="ts", data_type=DataType.TEXT_ARRAY),
            Property(name="i", data_type=DataType.INT),
            Property(name="n", data_type=DataType.NUMBER),
            Property(name="b", data_type=DataType.BOOL),
            Property(name="d", data_type=DataType.DATE),
            Property(name="u", data_type=DataType.UUID),
            Property(name="blob", data_type=DataType.BLOB),
        ],
    )
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    ref = uuid.uuid4()
    values: dict[str, Any] = {
        "t": "x",
        "ts": ["y", "z"],
        "i": 4,
        "n": 2.5,
        "b": True,
        "d": when,
        "u": ref,
    }
    collection.data.insert_many([wvc.data.DataObject(properties={**values, "blob": "aGk="})])
    obj = collection.query.fetch_objects(return_properties=[*values, "blob"]).objects[0]
    assert obj.properties == {**values, "blob": "aGk="}
    # blobs are left out unless asked for, as in Weaviate
    assert "blob" not in collection.query.fetch_objects().objects[0].properties


def test_fetch_and_iterate_all(weaviate_client: weaviate.WeaviateClient) -> None:
    collection = weaviate_client.collections.create(
        "Many", properties=[Property(name="k", data_type=DataType.INT)]
    )
    collection.data.insert_many([{"k": k} for k in range(150)])
    # Weaviate's QUERY_DEFAULTS_LIMIT: 10 objects when no limit is given
    assert len(collection.query.fetch_objects().objects) == 10
    page = collection.query.fetch_objects(limit=20, offset=140)
    assert len(page.objects) == 10
    seen = [int(str(o.properties["k"])) for o in collection.iterator()]
    assert sorted(seen) == list(range(150))
    assert collection.aggregate.over_all(total_count=True).total_count == 150


def test_single_object_rest_calls(products: Collection) -> None:
    new_id = products.data.insert(
        {"title": "Yellow raincoat", "stock": 2}, vector={"image": [0.5, 0.5, 0.0]}
    )
    assert products.data.exists(new_id)
    products.data.update(new_id, {"stock": 5})
    fetched = products.query.fetch_object_by_id(new_id)
    assert fetched is not None and fetched.properties["stock"] == 5
    assert products.data.delete_by_id(new_id)
    assert not products.data.exists(new_id)
    with pytest.raises(UnexpectedStatusCodeError, match="already exists"):
        products.data.insert({"title": "dup"}, uuid=IDS["a"])


# -- vector, keyword and hybrid search ---------------------------------------------------


@pytest.mark.parametrize(
    ("target", "query", "expected"),
    [
        ("image", [0.9, 0.1, 0.0], ["a", "d", "b", "c"]),
        ("caption", [1.0, 0.1], ["b", "c", "a", "d"]),
    ],
)
def test_near_vector_exact_nearest_first(
    products: Collection, target: str, query: list[float], expected: list[str]
) -> None:
    result = products.query.near_vector(
        query, target_vector=target, return_metadata=MetadataQuery(distance=True, certainty=True)
    )
    assert titles(result) == [TITLES[k] for k in expected]
    vectors = IMAGE if target == "image" else CAPTION
    for obj, key in zip(result.objects, expected, strict=False):
        want = cosine_distance(query, vectors[key])
        assert obj.metadata.distance == pytest.approx(want, abs=1e-6)
        assert obj.metadata.certainty == pytest.approx(1 - want / 2, abs=1e-6)


def test_near_vector_limit_distance_and_filter(products: Collection) -> None:
    result = products.query.near_vector(
        [1.0, 0.0, 0.0],
        target_vector="image",
        distance=0.5,
        filters=Filter.by_property("active").equal(True),
    )
    assert titles(result) == [TITLES["a"], TITLES["d"]]
    assert len(products.query.near_vector([1.0, 0, 0], target_vector="image", limit=1).objects) == 1


def test_near_vector_multi_target_sum(products: Collection) -> None:
    result = products.query.near_vector(
        {"image": [1.0, 0.0, 0.0], "caption": [0.0, 1.0]},
        target_vector=wvc.query.TargetVectors.sum(["image", "caption"]),
        return_metadata=MetadataQuery(distance=True),
    )
    assert titles(result)[0] == TITLES["a"]
    assert result.objects[0].metadata.distance == pytest.approx(0.0, abs=1e-6)


def test_bm25_ranks_keyword_doc_first(products: Collection) -> None:
    result = products.query.bm25("hiking boots", return_metadata=MetadataQuery(score=True))
    assert titles(result) == [TITLES["d"]]
    result = products.query.bm25("garden", query_properties=["tags"])
    assert titles(result) == [TITLES["c"]]
    assert products.query.bm25("garden", query_properties=["title"]).objects[0].uuid == IDS["c"]


@pytest.fixture
def fruit(weaviate_client: weaviate.WeaviateClient) -> Collection:
    """Hand-computable data: B has "apple" twice, C once, A never; all bodies 2 tokens."""
    collection = weaviate_client.collections.create(
        "Fruit",
        properties=[Property(name="body", data_type=DataType.TEXT)],
        vector_config=[
            Configure.Vectors.self_provided(name="image"),
            Configure.Vectors.self_provided(name="caption"),
        ],
    )
    rows = {
        "A": ("the pear", [1.0, 0.0]),
        "B": ("apple apple", [0.0, 1.0]),
        "C": ("apple cake", [1.0, 1.0]),
    }
    collection.data.insert_many(
        [
            wvc.data.DataObject(properties={"body": body}, vector={"image": v, "caption": v})
            for body, v in rows.values()
        ]
    )
    return collection


def test_bm25_matches_weaviate_formula(fruit: Collection) -> None:
    result = fruit.query.bm25("the apple", return_metadata=MetadataQuery(score=True))
    # "the" is an English stopword, so only "apple" counts: N=3, n=2 -> idf = ln(1 + 1.5/2.5);
    # every body has 2 tokens, so the length normalisation is k1 * (1 - b + b * 2/2) = 1.2
    idf = math.log(1.6)
    norm = 1.2
    assert [o.properties["body"] for o in result.objects] == ["apple apple", "apple cake"]
    assert result.objects[0].metadata.score == pytest.approx(idf * 2 / (2 + norm), rel=1e-5)
    assert result.objects[1].metadata.score == pytest.approx(idf * 1 / (1 + norm), rel=1e-5)


def test_hybrid_fusions_follow_documented_formulas(fruit: Collection) -> None:
    query: dict[str, Any] = {"vector": [1.0, 0.0], "target_vector": "image", "alpha": 0.6}
    meta = MetadataQuery(score=True)
    # keyword ranks: B, C; vector (1 - cosine distance): A=1, C=1/sqrt2, B=0
    ranked = fruit.query.hybrid(
        "apple", **query, fusion_type=HybridFusion.RANKED, return_metadata=meta
    )
    scores = {o.properties["body"]: o.metadata.score for o in ranked.objects}
    assert [o.properties["body"] for o in ranked.objects] == [
        "apple cake",
        "apple apple",
        "the pear",
    ]
    assert scores["apple cake"] == pytest.approx(0.4 / 61 + 0.6 / 61, rel=1e-5)
    assert scores["apple apple"] == pytest.approx(0.4 / 60 + 0.6 / 62, rel=1e-5)
    assert scores["the pear"] == pytest.approx(0.6 / 60, rel=1e-5)

    relative = fruit.query.hybrid(
        "apple", **query, fusion_type=HybridFusion.RELATIVE_SCORE, return_metadata=meta
    )
    scores = {o.properties["body"]: o.metadata.score for o in relative.objects}
    assert [o.properties["body"] for o in relative.objects] == [
        "the pear",
        "apple cake",
        "apple apple",
    ]
    assert scores["the pear"] == pytest.approx(0.6, rel=1e-5)
    assert scores["apple cake"] == pytest.approx(0.6 / math.sqrt(2), rel=1e-5)
    assert scores["apple apple"] == pytest.approx(0.4, rel=1e-5)

    keyword_only = fruit.query.hybrid("apple", alpha=0.0)
    assert [o.properties["body"] for o in keyword_only.objects] == ["apple apple", "apple cake"]


# -- filters and deletion ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (Filter.by_property("title").equal("hiking boots"), {"d"}),
        (Filter.by_property("title").not_equal("boots"), {"a", "b", "c"}),
        (Filter.by_property("sku").equal("SKU-B"), {"b"}),
        (Filter.by_property("price").greater_than(59.5), {"b"}),
        (Filter.by_property("price").greater_or_equal(59.5), {"a", "b"}),
        (Filter.by_property("stock").less_than(3), {"b", "d"}),
        (Filter.by_property("stock").less_or_equal(3), {"a", "b", "d"}),
        (Filter.by_property("title").like("gard*"), {"c"}),
        (Filter.by_property("tags").contains_any(["sport", "jacket"]), {"a", "b"}),
        (Filter.by_property("tags").contains_all(["shoes", "outdoor"]), {"d"}),
        (Filter.by_property("price").is_none(True), {"d"}),
        (Filter.by_id().equal(IDS["c"]), {"c"}),
        (Filter.by_id().contains_any([IDS["a"], IDS["b"]]), {"a", "b"}),
        (
            Filter.by_property("active").equal(True)
            & (
                Filter.by_property("stock").greater_than(5)
                | Filter.by_property("tags").equal("sport")
            ),
            {"a", "c"},
        ),
        (Filter.not_(Filter.by_property("tags").contains_any(["shoes"])), {"b", "c"}),
        (Filter.by_property("sku").equal('x" or 1==1 or "'), set()),
        (Filter.by_property("title").equal('x" or 1==1 or "'), set()),
        (Filter.by_property("tags").contains_any(['x" or 1==1 or "']), set()),
    ],
)
def test_filters(weaviate_client: weaviate.WeaviateClient, where: Any, expected: set[str]) -> None:
    collection = make_products(
        weaviate_client, inverted_index_config=Configure.inverted_index(index_null_state=True)
    )
    collection.data.insert_many(product_objects())
    found = {o.uuid for o in collection.query.fetch_objects(filters=where, limit=100).objects}
    assert found == {IDS[k] for k in expected}


def test_filter_errors(products: Collection) -> None:
    with pytest.raises(WeaviateQueryError, match="no such prop with name 'nope'"):
        products.query.fetch_objects(filters=Filter.by_property("nope").equal("x"))
    with pytest.raises(WeaviateQueryError, match="indexNullState"):
        products.query.fetch_objects(filters=Filter.by_property("price").is_none(True))
    with pytest.raises(WeaviateQueryError, match='cannot use "valueText" on type "int"'):
        products.query.fetch_objects(filters=Filter.by_property("stock").equal("3"))


def test_delete_many_by_filter(products: Collection) -> None:
    shoes = Filter.by_property("tags").contains_any(["shoes"])
    dry = products.data.delete_many(where=shoes, dry_run=True, verbose=True)
    assert dry.matches == 2 and {o.uuid for o in dry.objects} == {IDS["a"], IDS["d"]}
    assert products.aggregate.over_all(total_count=True).total_count == 4
    done = products.data.delete_many(where=shoes)
    assert (done.matches, done.successful, done.failed, done.objects) == (2, 2, 0, None)
    left = {o.uuid for o in products.query.fetch_objects().objects}
    assert left == {IDS["b"], IDS["c"]}


# -- multi-tenancy and aliases -----------------------------------------------------------


def test_multi_tenancy_isolation(weaviate_client: weaviate.WeaviateClient) -> None:
    collection = make_products(
        weaviate_client, "Tenanted", multi_tenancy_config=Configure.multi_tenancy(enabled=True)
    )
    collection.tenants.create([Tenant(name="acme"), Tenant(name="globex")])
    assert set(collection.tenants.get()) == {"acme", "globex"}
    acme, globex = collection.with_tenant("acme"), collection.with_tenant("globex")
    acme.data.insert_many(product_objects())
    globex.data.insert_many(product_objects()[:1])
    assert acme.aggregate.over_all(total_count=True).total_count == 4
    assert globex.aggregate.over_all(total_count=True).total_count == 1
    assert len(globex.query.bm25("boots").objects) == 0
    assert titles(acme.query.near_vector([1.0, 1.0, 0], target_vector="image", limit=1)) == [
        TITLES["d"]
    ]
    acme.data.delete_many(where=Filter.by_id().equal(IDS["a"]))
    assert globex.query.fetch_object_by_id(IDS["a"]) is not None
    assert acme.query.fetch_object_by_id(IDS["a"]) is None
    with pytest.raises(WeaviateQueryError, match="multi-tenancy enabled, but request was without"):
        collection.query.fetch_objects()
    with pytest.raises(WeaviateQueryError, match='tenant not found: "initech"'):
        collection.with_tenant("initech").query.fetch_objects()
    with pytest.raises(WeaviateInsertManyAllFailedError, match='tenant not found: "initech"'):
        collection.with_tenant("initech").data.insert_many(product_objects())
    collection.tenants.remove(["globex"])
    assert set(collection.tenants.get()) == {"acme"}


def test_alias_blue_green_swap(weaviate_client: weaviate.WeaviateClient) -> None:
    blue = make_products(weaviate_client, "ProductsBlue")
    blue.data.insert_many(product_objects())
    green = make_products(weaviate_client, "ProductsGreen")
    green.data.insert_many(product_objects()[:2])
    weaviate_client.alias.create(alias_name="Products", target_collection="ProductsBlue")
    live = weaviate_client.collections.use("Products")
    assert live.aggregate.over_all(total_count=True).total_count == 4
    assert titles(live.query.bm25("boots")) == [TITLES["d"]]
    assert live.config.get().name == "ProductsBlue"

    assert weaviate_client.alias.update(
        alias_name="Products", new_target_collection="ProductsGreen"
    )
    assert live.aggregate.over_all(total_count=True).total_count == 2
    live.data.insert_many(product_objects()[2:3])
    assert green.aggregate.over_all(total_count=True).total_count == 3
    assert blue.aggregate.over_all(total_count=True).total_count == 4
    alias = weaviate_client.alias.get(alias_name="Products")
    assert alias is not None and alias.collection == "ProductsGreen"
    assert set(weaviate_client.alias.list_all(collection="ProductsGreen")) == {"Products"}
    with pytest.raises(UnexpectedStatusCodeError, match="already exists"):
        weaviate_client.alias.create(alias_name="Products", target_collection="ProductsBlue")
    assert weaviate_client.alias.delete(alias_name="Products")
    assert weaviate_client.alias.get(alias_name="Products") is None


# -- validation errors -------------------------------------------------------------------


def test_wrong_vector_dimension(products: Collection) -> None:
    bad = wvc.data.DataObject(properties={"title": "x"}, vector={"image": [1.0, 0.0]})
    good = wvc.data.DataObject(properties={"title": "y"}, vector={"image": [0.0, 0.0, 1.0]})
    result = products.data.insert_many([bad, good])
    assert set(result.errors) == {0} and len(result.uuids) == 1
    assert "new node has a vector with length 2. Existing nodes have vectors with length 3" in (
        result.errors[0].message
    )
    with pytest.raises(WeaviateQueryError, match="vector lengths don't match: 3 vs 2"):
        products.query.near_vector([1.0, 0.0], target_vector="image")


def test_unnamed_vector_goes_to_the_only_named_vector(
    weaviate_client: weaviate.WeaviateClient, products: Collection
) -> None:
    single = weaviate_client.collections.create(
        "Single", vector_config=Configure.Vectors.self_provided()
    )
    single.data.insert_many([wvc.data.DataObject(properties={}, vector=[0.0, 1.0])])
    obj = single.query.near_vector([0.0, 1.0], include_vector=True).objects[0]
    assert obj.vector == {"default": [0.0, 1.0]}
    with pytest.raises(WeaviateInsertManyAllFailedError, match="does not have single vector index"):
        products.data.insert_many([wvc.data.DataObject(properties={}, vector=[1.0, 0.0, 0.0])])


def test_unknown_named_vector(products: Collection) -> None:
    with pytest.raises(WeaviateQueryError, match="does not have named vector thumbnail"):
        products.query.near_vector([1.0, 0, 0], target_vector="thumbnail")
    with pytest.raises(WeaviateQueryError, match="has multiple vectors, but no target vectors"):
        products.query.near_vector([1.0, 0, 0])
    with pytest.raises(
        WeaviateInsertManyAllFailedError, match="configuration for vector thumbnail"
    ):
        products.data.insert_many(
            [wvc.data.DataObject(properties={"title": "x"}, vector={"thumbnail": [1.0]})]
        )


def test_unknown_collection_property_and_bad_values(
    weaviate_client: weaviate.WeaviateClient, products: Collection
) -> None:
    with pytest.raises(WeaviateQueryError, match="could not find class Missing"):
        weaviate_client.collections.use("Missing").query.fetch_objects()
    with pytest.raises(WeaviateInsertManyAllFailedError, match="no such prop with name 'colour'"):
        products.data.insert_many([{"colour": "red"}])
    with pytest.raises(WeaviateInsertManyAllFailedError, match="requires an integer"):
        products.data.insert_many([{"stock": 1.5}])
    with pytest.raises(WeaviateInsertManyAllFailedError, match="invalid UUID length"):
        products.data.insert_many([wvc.data.DataObject(properties={}, uuid="not-a-uuid")])
    with pytest.raises(UnexpectedStatusCodeError, match="not a string, but float64"):
        products.data.insert({"title": 7})


def test_server_side_vectorizer_schema_is_recorded_verbatim(
    weaviate_emulator: WeaviateEmulator, weaviate_client: weaviate.WeaviateClient
) -> None:
    collection = weaviate_client.collections.create(
        "Media",
        properties=[
            Property(name="image", data_type=DataType.BLOB),
            Property(name="caption", data_type=DataType.TEXT),
        ],
        vector_config=[
            Configure.Vectors.multi2vec_clip(
                name="image", image_fields=["image"], text_fields=["caption"]
            ),
            Configure.Vectors.self_provided(name="caption"),
        ],
    )
    sent = [b for _c, m, b in weaviate_emulator.requests if m == "POST /v1/schema"][-1]
    assert weaviate_emulator.raw_schema("Media") == sent
    assert sent["vectorConfig"]["image"]["vectorizer"] == {
        "multi2vec-clip": {"imageFields": ["image"], "textFields": ["caption"]}
    }
    vector_config = collection.config.get().vector_config
    assert vector_config is not None
    assert vector_config["image"].vectorizer.vectorizer == "multi2vec-clip"
    assert vector_config["image"].vectorizer.model == {
        "imageFields": ["image"],
        "textFields": ["caption"],
    }
    collection.data.insert_many([{"image": "aGVsbG8=", "caption": "a sleeping cat"}])
    assert collection.aggregate.over_all(total_count=True).total_count == 1
    with pytest.raises(WeaviateQueryError, match="emulator has no vectorizer"):
        collection.query.near_text("cat", target_vector="image")
    with pytest.raises(WeaviateQueryError, match="emulator has no vectorizer"):
        collection.query.hybrid("cat", target_vector="image")
    assert titles_of(collection.query.bm25("cat")) == ["a sleeping cat"]
