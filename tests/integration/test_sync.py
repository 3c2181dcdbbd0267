"""Incremental sync: only what changed is embedded, only what vanished is deleted (guarded)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmingest.connectors.sources import open_source
from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.ingest import Kind
from mmingest.pipelines.query import Retriever
from mmingest.pipelines.samples import encode, write_pdfs
from mmingest.pipelines.sync import sync
from mmingest.schemas.config import IngestConfig
from tests.emulators.providers import CohereEmulator
from tests.support.corpus import picture, simple_pdf
from tests.support.fakes import HashEmbedder
from tests.support.providers import CASES

CONFIG = IngestConfig(batch_size=4)
COLORS = ["red", "green", "blue", "yellow", "purple", "orange"]


@pytest.fixture
def cohere():
    with CohereEmulator(api_key="sync-key") as emulator:
        embedder = CASES["cohere"].build(emulator, "sync-key")
        yield emulator, embedder
        embedder.close()


def test_incremental_sync_against_a_bucket(s3_server, edge_store, cohere):
    emulator, embedder = cohere
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    for index, color in enumerate(COLORS):
        client.put_object(
            Bucket=bucket, Key=f"pics/{index}.png", Body=encode(picture(color), "PNG")
        )
    client.put_object(Bucket=bucket, Key="docs/guide.pdf", Body=simple_pdf(2))
    source = open_source(f"s3://{bucket}", s3_server.source_config())

    def run():
        before = emulator.counters.inputs_embedded
        report = sync(source, embedder, edge_store, collection="sync", config=CONFIG)
        return report, emulator.counters.inputs_embedded - before

    first, embedded = run()
    assert (first.summary.written, first.deletions.deleted) == (8, 0)
    assert embedded == 6 + 2 * 2  # six images; two pages with their text

    client.put_object(
        Bucket=bucket, Key="pics/0.png", Body=encode(picture("red", "square"), "PNG")
    )  # modified
    client.put_object(
        Bucket=bucket, Key="pics/6.png", Body=encode(picture("purple", "cross"), "PNG")
    )  # added
    client.delete_object(Bucket=bucket, Key="pics/5.png")  # deleted
    client.delete_object(Bucket=bucket, Key="docs/guide.pdf")  # deleted: both its pages go
    second, embedded = run()
    summary = second.summary
    assert (summary.new, summary.changed, summary.unchanged) == (1, 1, 4)
    assert embedded == 2  # only the added and the modified image reached the provider
    assert second.deletions.deleted == 3
    assert edge_store.count("sync") == 6
    assert {e.source_uri.rsplit("/", 1)[1] for e in edge_store.scan("sync")} == {
        f"{i}.png" for i in (0, 1, 2, 3, 4, 6)
    }

    third, embedded = run()
    assert (embedded, third.summary.written, third.deletions.deleted) == (0, 0, 0)
    assert third.summary.unchanged == 6


def test_the_deletion_guard_and_force(tmp_path, edge_store):
    folder = tmp_path / "pics"
    folder.mkdir()
    for index, color in enumerate(COLORS):
        (folder / f"{index}.png").write_bytes(encode(picture(color), "PNG"))
    source = LocalFolderSource(folder)
    sync(source, HashEmbedder(), edge_store, collection="g", config=CONFIG)
    for index in range(4):
        (folder / f"{index}.png").unlink()
    guarded = sync(source, HashEmbedder(), edge_store, collection="g", config=CONFIG)
    assert guarded.deletions.guarded and "4 of 6 points (67%)" in guarded.deletions.guarded
    assert guarded.deletions.deleted == 0
    assert edge_store.count("g") == 6
    relaxed = sync(
        source, HashEmbedder(), edge_store, collection="g", config=CONFIG, max_delete_fraction=0.7
    )
    assert relaxed.deletions.deleted == 4
    (folder / "4.png").unlink()
    (folder / "5.png").unlink()
    emptied = sync(source, HashEmbedder(), edge_store, collection="g", config=CONFIG)
    assert emptied.deletions.guarded
    forced = sync(source, HashEmbedder(), edge_store, collection="g", config=CONFIG, force=True)
    assert forced.deletions.deleted == 2
    assert edge_store.count("g") == 0


def test_a_sync_answers_only_for_its_scope(tmp_path, edge_store):
    folder = tmp_path / "mixed"
    for sub in ("a", "b"):
        (folder / sub).mkdir(parents=True)
        (folder / sub / "x.png").write_bytes(encode(picture("red"), "PNG"))
    (folder / "a" / "doc.pdf").write_bytes(simple_pdf(1))
    source = LocalFolderSource(folder)
    sync(source, HashEmbedder(), edge_store, collection="s", config=CONFIG)
    assert edge_store.count("s") == 3
    (folder / "b" / "x.png").unlink()
    (folder / "a" / "doc.pdf").unlink()
    only_a_images = sync(
        source,
        HashEmbedder(),
        edge_store,
        collection="s",
        config=CONFIG,
        prefix="a/",
        kinds=[Kind.IMAGES],
        force=True,
    )
    assert only_a_images.deletions.deleted == 0  # b/ is out of its prefix, PDFs out of its kinds
    only_pdfs = sync(
        source,
        HashEmbedder(),
        edge_store,
        collection="s",
        config=CONFIG,
        kinds=[Kind.PDFS],
        force=True,
    )
    assert only_pdfs.deletions.deleted == 1
    excluded = sync(
        source,
        HashEmbedder(),
        edge_store,
        collection="s",
        force=True,
        config=IngestConfig(batch_size=4, exclude=["b/**"]),
    )
    assert excluded.deletions.deleted == 0
    everything = sync(source, HashEmbedder(), edge_store, collection="s", config=CONFIG, force=True)
    assert everything.deletions.deleted == 1
    assert edge_store.count("s") == 1


def test_products_removed_from_a_catalog_are_deleted_unless_the_read_was_partial(
    tmp_path, edge_store
):
    folder = tmp_path / "shop"
    folder.mkdir()
    rows = [
        {"id": f"p{i}", "title": f"Product {i}", "description": "d", "image": None}
        for i in range(5)
    ]
    pq.write_table(pa.Table.from_pylist(rows), folder / "catalog.parquet")
    source = LocalFolderSource(folder)
    run = {"collection": "p", "config": CONFIG, "kinds": [Kind.PRODUCTS]}
    assert sync(source, HashEmbedder(), edge_store, **run).summary.written == 5
    pq.write_table(pa.Table.from_pylist(rows[:4]), folder / "catalog.parquet")
    assert sync(source, HashEmbedder(), edge_store, **run).deletions.deleted == 1
    broken = 'id,title,description,image\np0,Product 0,d,\n"p1,unclosed\n'
    (folder / "catalog.parquet").unlink()
    (folder / "catalog.csv").write_text(broken)
    partial = sync(source, HashEmbedder(), edge_store, **run, force=True)
    # catalog.parquet vanished: its 4 records go; catalog.csv had a broken row, so it is
    # shielded (its one readable record was just written, nothing of it is deleted)
    assert partial.deletions.deleted == 4
    assert edge_store.count("p") == 1


def test_a_dry_run_counts_the_characters_of_page_texts(tmp_path, edge_store):
    write_pdfs(tmp_path / "docs")
    embedder = HashEmbedder()
    plan = sync(
        LocalFolderSource(tmp_path / "docs"),
        embedder,
        edge_store,
        collection="pages",
        config=CONFIG,
        dry_run=True,
    )
    assert embedder.calls == []
    # What the real run then embeds: every page's caption, character for character.
    sync(LocalFolderSource(tmp_path / "docs"), embedder, edge_store, collection="pages",
         config=CONFIG)  # fmt: skip
    retriever = Retriever(edge_store, embedder, collection="pages")
    hits = retriever.search("page", k=100, mode="dense")
    assert len(hits) == plan.summary.estimate["images"]
    captions = [hit.caption or "" for hit in hits]
    assert plan.summary.estimate["texts"] == sum(1 for c in captions if c) > 0
    assert plan.summary.estimate["text_chars"] == sum(len(c) for c in captions) > 0


def test_a_dry_run_writes_nothing(tmp_path, edge_store):
    folder = tmp_path / "pics"
    folder.mkdir()
    for index, color in enumerate(COLORS[:3]):
        (folder / f"{index}.png").write_bytes(encode(picture(color), "PNG"))
    (folder / "0.txt").write_text("a caption")
    embedder = HashEmbedder()
    plan = sync(
        LocalFolderSource(folder),
        embedder,
        edge_store,
        collection="dry",
        config=CONFIG,
        dry_run=True,
    )
    assert (plan.summary.new, plan.summary.written) == (3, 0)
    # Sidecar captions are read (they are small) so their characters are counted.
    assert plan.summary.estimate == {"images": 3, "texts": 1, "text_chars": len("a caption")}
    assert plan.summary.balanced
    assert embedder.calls == []
    assert "dry" not in edge_store.list_collections()
    sync(LocalFolderSource(folder), embedder, edge_store, collection="dry", config=CONFIG)
    (folder / "2.png").unlink()
    (folder / "1.png").write_bytes(encode(picture("purple"), "PNG"))
    calls = len(embedder.calls)
    plan = sync(
        LocalFolderSource(folder),
        embedder,
        edge_store,
        collection="dry",
        config=CONFIG,
        dry_run=True,
        force=True,
    )
    assert (plan.summary.changed, plan.orphaned, plan.summary.deleted) == (1, 1, 0)
    assert len(embedder.calls) == calls
    assert edge_store.count("dry") == 3
    assert json.dumps(plan.summary.model_dump(mode="json"))


def test_the_summary_knows_the_listing_total_for_progress(tmp_path, edge_store):
    from mmingest.pipelines.ingest import Ingestion, IngestionConfig

    write_pdfs(tmp_path / "docs")
    (tmp_path / "docs" / "notes.txt").write_text("not an input")
    seen: list[tuple[int | None, int]] = []
    ingestion = Ingestion(
        LocalFolderSource(tmp_path / "docs"), HashEmbedder(), edge_store,
        IngestionConfig(collection="p", ingest=CONFIG),
        on_progress=lambda s: seen.append((s.listed, s.objects_done)),
    )  # fmt: skip
    summary = ingestion.run()
    objects = len(list((tmp_path / "docs").iterdir()))
    assert (summary.listed, summary.objects_done) == (objects, objects)
    assert seen[-1] == (objects, objects)
    assert [done for _, done in seen] == sorted(done for _, done in seen)
