"""Two tenants ingesting the same objects into one collection keep a point each."""

from __future__ import annotations

import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.ingest import ingest
from mmingest.pipelines.query import Retriever
from mmingest.pipelines.samples import write_images, write_pdfs, write_products
from mmingest.pipelines.sync import sync
from mmingest.schemas.config import CatalogConfig, IngestConfig
from mmingest.schemas.points import point_id, scoped_id
from tests.support.fakes import HashEmbedder

pytestmark = pytest.mark.timeout(180)
CATALOG = CatalogConfig(id_column="sku")


@pytest.fixture
def store(embedded_store):
    return embedded_store


def test_the_same_objects_are_a_point_per_tenant(tmp_path, store):
    folder = tmp_path / "shared"
    write_images(folder / "images", 5)
    write_pdfs(folder / "docs")
    write_products(folder / "catalog", 6)
    embedder = HashEmbedder(16)
    kinds = ["images", "pdfs", "products"]
    first = {
        tenant: ingest(
            LocalFolderSource(folder),
            embedder,
            store,
            collection="shared",
            tenant=tenant,
            kinds=kinds,
            catalog=CATALOG,
        )
        for tenant in ("acme", "globex")
    }
    points = first["acme"].written
    assert points > 10 and first["globex"].written == points
    assert store.count("shared", tenant="acme") == store.count("shared", tenant="globex") == points
    assert store.count("shared") == 2 * points

    some_image = (folder / "images").resolve()
    image_uri = sorted(p for p in some_image.iterdir() if p.suffix != ".txt")[0].as_uri()
    ids = {tenant: scoped_id(point_id(image_uri), tenant) for tenant in ("acme", "globex")}
    assert ids["acme"] != ids["globex"] != point_id(image_uri)

    again = ingest(
        LocalFolderSource(folder),
        embedder,
        store,
        collection="shared",
        tenant="acme",
        kinds=kinds,
        catalog=CATALOG,
    )
    assert (again.written, again.new, again.changed, again.failed) == (0, 0, 0, 0)

    pictures = [p for p in (folder / "images").iterdir() if p.suffix not in (".txt", ".json")]
    for path in sorted(pictures)[:2]:
        path.unlink()
    synced = sync(
        LocalFolderSource(folder),
        embedder,
        store,
        collection="shared",
        config=IngestConfig(),
        tenant="acme",
        kinds=kinds,
        catalog=CATALOG,
    ).summary
    assert synced.deleted == 2
    assert store.count("shared", tenant="acme") == points - 2
    assert store.count("shared", tenant="globex") == points

    hits = Retriever(store, embedder, collection="shared", tenant="globex").search("a", k=100)
    assert hits and {hit.payload["tenant"] for hit in hits} == {"globex"}
