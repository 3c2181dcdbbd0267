"""Contract semantics of the collection lifecycle: aliases for blue/green re-embedding,
dropping, deleting by id and by source, and tenant isolation of every write."""

from __future__ import annotations

import pytest

from mmingest.schemas import CollectionSpec, DenseProbe, EmbedderInfo, HybridQuery, point_id
from mmingest.schemas.errors import CollectionNotFound, ConfigError, SchemaMismatch
from mmingest.schemas.points import IMAGE, scoped_id
from tests.contract.data import CAPTIONS, DIM, SPEC, hashes, in_tenant, make_pages, make_points

V1 = CollectionSpec.for_embedder(
    "contract_v1", EmbedderInfo(provider="test", model="m1", dimension=DIM)
)
V2 = CollectionSpec.for_embedder(
    "contract_v2", EmbedderInfo(provider="test", model="m2", dimension=2 * DIM)
)


def as_alias(spec: CollectionSpec, alias: str) -> CollectionSpec:
    return spec.model_copy(update={"name": alias})


class LifecycleContract:
    """Aliases, drops, deletes and tenancy, identical on every store."""

    def test_blue_green_swap_through_an_alias(self, store):
        store.ensure_collection(V1)
        store.upsert("contract_v1", make_points())
        store.set_alias("contract_live", "contract_v1")
        assert store.list_aliases() == {"contract_live": "contract_v1"}
        assert store.resolve("contract_live") == "contract_v1"
        assert store.resolve("contract_v1") == "contract_v1"
        assert store.count("contract_live") == len(CAPTIONS)
        assert store.collection_spec("contract_live") == V1

        # The new version: another model and dimension, filled while readers use v1.
        store.ensure_collection(V2)
        green = make_points("acme", dim=2 * DIM)[:3]
        store.upsert("contract_v2", green)
        store.set_alias("contract_live", "contract_v2")  # atomic swap

        assert store.list_aliases() == {"contract_live": "contract_v2"}
        assert store.count("contract_live") == 3
        assert store.collection_spec("contract_live") == V2
        probe = DenseProbe(vector_name=IMAGE, vector=green[1].vectors[IMAGE])
        assert store.query("contract_live", HybridQuery(dense=[probe], k=1))[0].id == green[1].id
        store.ensure_collection(as_alias(V2, "contract_live"))  # writers check the new target
        with pytest.raises(SchemaMismatch, match=r"'contract_v2' \(alias 'contract_live'\)"):
            store.ensure_collection(as_alias(V1, "contract_live"))

        store.drop_collection("contract_v1")
        assert "contract_v1" not in store.list_collections()
        assert "contract_live" not in store.list_collections()
        assert store.count("contract_live") == 3

    def test_every_point_operation_accepts_an_alias(self, store):
        store.ensure_collection(SPEC)
        store.set_alias("contract_live", "contract")
        points = make_points("acme") + make_pages("memory://doc.pdf", 3, "acme")
        store.upsert("contract_live", points)
        assert store.count("contract_live", tenant="acme") == len(points)
        assert store.fetch_hashes("contract_live", [points[0].id]) == {points[0].id: "h0"}
        store.delete("contract_live", [points[0].id], tenant="acme")
        store.delete_by_source("contract_live", ["memory://doc.pdf"], tenant="acme")
        assert set(hashes(store.scan("contract_live"))) == {p.id for p in points[1:6]}
        store.ensure_collection(as_alias(SPEC, "contract_live"))
        assert store.list_collections() == ["contract"]

    def test_alias_mistakes_are_refused(self, store):
        store.ensure_collection(SPEC)
        store.ensure_collection(V1)
        with pytest.raises(CollectionNotFound, match="contract_v9"):
            store.set_alias("contract_live", "contract_v9")
        with pytest.raises(ConfigError, match="is a collection"):
            store.set_alias("contract_v1", "contract")
        store.set_alias("contract_live", "contract")
        with pytest.raises(ConfigError, match="another alias"):
            store.set_alias("contract_other", "contract_live")
        with pytest.raises(ConfigError, match="still the target of alias 'contract_live'"):
            store.drop_collection("contract")
        with pytest.raises(ConfigError, match="is an alias"):
            store.drop_collection("contract_live")
        store.delete_alias("contract_live")
        store.delete_alias("contract_live")  # a missing alias is a no-op
        assert store.list_aliases() == {}
        store.drop_collection("contract")
        store.drop_collection("contract")  # a missing collection is a no-op
        assert store.list_collections() == ["contract_v1"]
        with pytest.raises(CollectionNotFound):
            store.count("contract")

    def test_a_dropped_collection_can_be_created_again(self, store):
        store.ensure_collection(SPEC)
        store.upsert("contract", make_points())
        store.drop_collection("contract")
        store.ensure_collection(V1.model_copy(update={"name": "contract"}))
        assert store.count("contract") == 0
        assert store.collection_spec("contract").embedder.model == "m1"

    def test_delete_by_source_removes_every_part_of_an_object(self, store):
        store.ensure_collection(SPEC)
        images = make_points()
        pdf = make_pages("memory://reports/annual.pdf", 4)
        other = make_pages("memory://reports/other.pdf", 2)
        store.upsert("contract", images + pdf + other)
        store.delete_by_source(
            "contract", ["memory://reports/annual.pdf", images[1].payload["source_uri"]]
        )
        store.delete_by_source("contract", ["memory://never-stored"])
        store.delete_by_source("contract", [])
        remaining = set(hashes(store.scan("contract")))
        assert remaining == {p.id for p in images if p is not images[1]} | {p.id for p in other}
        keyword = store.query("contract", HybridQuery(keyword_text="inventory", k=10))
        assert {hit.id for hit in keyword} == {p.id for p in other}

    def test_deletes_and_reads_stay_inside_their_tenant(self, store):
        store.ensure_collection(SPEC)
        acme = make_points("acme")
        globex = make_points("globex")
        store.upsert("contract", acme + globex + make_pages("memory://shared.pdf", 2, "acme"))
        acme_ids = [p.id for p in acme]

        store.delete("contract", acme_ids, tenant="globex")
        store.delete_by_source("contract", ["memory://shared.pdf"], tenant="globex")
        assert store.count("contract", tenant="acme") == len(acme) + 2
        assert store.fetch_hashes("contract", acme_ids[:2], tenant="globex") == {}
        assert store.fetch_hashes("contract", acme_ids[:2], tenant="acme") == {
            acme_ids[0]: "h0",
            acme_ids[1]: "h1",
        }

        store.delete("contract", acme_ids[:2], tenant="acme")
        store.delete_by_source("contract", ["memory://shared.pdf"], tenant="acme")
        assert store.count("contract", tenant="acme") == len(acme) - 2
        assert store.count("contract", tenant="globex") == len(globex)
        assert store.count("contract") == 2 * len(acme) - 2

        store.delete("contract", [globex[0].id])  # no tenant: wherever the id is
        assert store.count("contract", tenant="globex") == len(globex) - 1
        assert set(hashes(store.scan("contract", tenant="globex"))) == {p.id for p in globex[1:]}

    def test_deletes_spare_other_tenants_with_the_same_ids_and_sources(self, store):
        store.ensure_collection(SPEC)
        objects = make_points() + make_pages("memory://shared.pdf", 2)
        globex = in_tenant(objects, "globex")
        store.upsert("contract", in_tenant(objects, "acme"))
        store.upsert("contract", globex)  # the last writer: globex holds every id
        ids = [p.id for p in objects]
        sources = sorted({p.payload["source_uri"] for p in objects})

        store.delete("contract", ids, tenant="acme")
        store.delete_by_source("contract", sources, tenant="acme")
        assert store.count("contract", tenant="acme") == 0
        assert store.count("contract", tenant="globex") == len(objects)
        assert hashes(store.scan("contract", tenant="globex")) == {
            p.id: p.payload["content_hash"] for p in globex
        }
        assert store.fetch_hashes("contract", ids[:1], tenant="globex") == {ids[0]: "globex-h0"}

    def test_tenants_writing_the_same_object_keep_a_point_each(self, store):
        # Stores key points by id; the pipeline gives tenant points ids of their own
        # (schemas.points.scoped_id), so the same object written by two tenants is two points.
        store.ensure_collection(SPEC)
        objects = make_points() + make_pages("memory://shared.pdf", 2)

        def scoped(tenant: str) -> list:
            return [
                p.model_copy(update={"id": scoped_id(p.id, tenant)})
                for p in in_tenant(objects, tenant)
            ]

        acme, globex = scoped("acme"), scoped("globex")
        store.upsert("contract", acme)
        store.upsert("contract", globex)
        assert store.count("contract") == 2 * len(objects)
        store.delete("contract", [acme[0].id], tenant="acme")
        store.delete_by_source("contract", ["memory://shared.pdf"], tenant="acme")
        assert store.count("contract", tenant="acme") == len(objects) - 3
        assert store.count("contract", tenant="globex") == len(objects)
        assert hashes(store.scan("contract", tenant="globex")) == {
            p.id: p.payload["content_hash"] for p in globex
        }

    def test_empty_writes_are_no_ops(self, store):
        store.ensure_collection(SPEC)
        store.upsert("contract", [])
        store.delete("contract", [])
        store.delete_by_source("contract", [])
        assert store.fetch_hashes("contract", []) == {}
        assert store.count("contract") == 0
        assert store.fetch_hashes("contract", [point_id("memory://none")]) == {}
