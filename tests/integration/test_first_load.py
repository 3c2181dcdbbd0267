"""A first load into an empty collection skips the stored-hash lookups, and nothing else."""

from __future__ import annotations

import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.ingest import ingest
from mmingest.pipelines.samples import write_images, write_pdfs, write_products
from mmingest.schemas.config import CatalogConfig, IngestConfig
from tests.support.fakes import HashEmbedder

pytestmark = pytest.mark.timeout(180)
KINDS = ["images", "pdfs", "products"]
CATALOG = CatalogConfig(id_column="sku")


@pytest.fixture
def store(embedded_store):
    return embedded_store


@pytest.fixture
def lookups(store, monkeypatch):
    """How many ids each stored-hash lookup asked for."""
    asked: list[int] = []
    fetch = store.fetch_hashes

    def counted(collection, ids, *, tenant=None):
        asked.append(len(ids))
        return fetch(collection, ids, tenant=tenant)

    monkeypatch.setattr(store, "fetch_hashes", counted)
    return asked


def _ingest(folder, store, kinds=KINDS, **options):
    return ingest(
        LocalFolderSource(folder),
        HashEmbedder(16),
        store,
        collection="docs",
        kinds=kinds,
        catalog=CATALOG,
        config=IngestConfig(batch_size=4),
        **options,
    )


def test_a_first_load_looks_nothing_up_and_a_rerun_finds_everything(tmp_path, store, lookups):
    source = tmp_path / "source"
    write_images(source / "images", 5)
    write_pdfs(source / "docs")
    write_products(source / "catalog", 6)
    first = _ingest(source, store)
    assert first.written > 10 and first.new == first.written and first.failed == 0
    assert lookups == []  # an empty collection: every item is new without asking
    assert store.count("docs") == first.written

    again = _ingest(source, store)
    assert sum(lookups) >= first.written  # a collection with points: every item is checked
    assert again.written == 0 and again.unchanged == first.seen and again.failed == 0


def test_a_tenant_new_to_a_shared_collection_loads_without_lookups(tmp_path, store, lookups):
    catalog = tmp_path / "catalog"
    write_products(catalog, 6)
    acme = _ingest(catalog, store, ["products"], tenant="acme")
    globex = _ingest(catalog, store, ["products"], tenant="globex")
    assert lookups == []  # neither tenant had a point in the collection
    assert acme.written == globex.written == 6
    assert store.count("docs", tenant="acme") == store.count("docs", tenant="globex") == 6
    changed = _ingest(catalog, store, ["products"], tenant="acme")
    assert sum(lookups) == 6 and changed.unchanged == 6


def test_a_load_interrupted_after_some_batches_resumes_with_lookups(tmp_path, store, lookups):
    catalog = tmp_path / "catalog"
    write_products(catalog, 6)
    assert _ingest(catalog, store, ["products"]).written == 6
    store.delete("docs", [point.id for point in store.scan("docs")][:3])  # as if cut short
    resumed = _ingest(catalog, store, ["products"])
    assert sum(lookups) == 6  # not empty any more: the three left are found and skipped
    assert (resumed.new, resumed.unchanged, resumed.written) == (3, 3, 3)
