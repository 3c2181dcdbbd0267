"""Bucket sources against a real S3-API server (moto), started by a fixture."""

from __future__ import annotations

import asyncio
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmingest.connectors.sources import open_source
from mmingest.connectors.sources.object_store import ObjectStoreSource
from mmingest.pipelines.ingest import Kind, ingest
from mmingest.pipelines.samples import encode
from mmingest.schemas import HybridQuery
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.errors import ConfigError, ObjectTooLarge, ObjectVanished, SourceUnavailable
from tests.support.corpus import picture, simple_pdf
from tests.support.fakes import HashEmbedder

KEYS = [
    "a.jpg",
    "a/b.jpg",
    "a-b.jpg",
    "photos/2024-01/x.jpg",
    "photos/2024-02/y.png",
    "photos/2025/z.jpg",
    "b c.png",
    "z/ü nicode.txt",
]


@pytest.fixture
def bucket(s3_server):
    name = s3_server.new_bucket()
    client = s3_server.client()
    return name, client


def test_listing_is_ordered_with_string_prefixes(s3_server, bucket):
    name, client = bucket
    for key in KEYS:
        client.put_object(Bucket=name, Key=key, Body=key.encode())
    source = open_source(f"s3://{name}", s3_server.source_config())
    assert [obj.key for obj in source.list()] == sorted(KEYS)
    assert [obj.key for obj in source.list("photos/2024-")] == [
        "photos/2024-01/x.jpg",
        "photos/2024-02/y.png",
    ]
    assert [obj.key for obj in source.list("a")] == ["a-b.jpg", "a.jpg", "a/b.jpg"]
    first = next(iter(source.list("a.jpg")))
    assert first.uri == f"s3://{name}/a.jpg"
    assert first.size == 5 and len(first.etag) == 32 and '"' not in first.etag


def test_a_prefix_in_the_uri_roots_the_keys(s3_server, bucket):
    name, client = bucket
    for key in KEYS:
        client.put_object(Bucket=name, Key=key, Body=b"x")
    source = open_source(f"s3://{name}/photos/", s3_server.source_config())
    assert [obj.key for obj in source.list()] == ["2024-01/x.jpg", "2024-02/y.png", "2025/z.jpg"]
    assert source.uri_of("2025/z.jpg") == f"s3://{name}/photos/2025/z.jpg"


@pytest.mark.slow
def test_reading_two_thousand_objects_concurrently(s3_server, bucket):
    name, _ = bucket
    s3_server.put_many(name, {f"obj/{i:05d}": f"payload {i}".encode() for i in range(2000)})
    source = open_source(f"s3://{name}", s3_server.source_config())
    keys = [obj.key for obj in source.list()]
    assert len(keys) == 2000

    async def read_all():
        limit = asyncio.Semaphore(32)

        async def one(key):
            async with limit:
                return (await source.read(key)).data

        return await asyncio.gather(*(one(key) for key in keys))

    contents = asyncio.run(read_all())
    assert contents[1234] == b"payload 1234"
    assert len(set(contents)) == 2000


def test_reads_carry_metadata_and_respect_limits(s3_server, bucket):
    name, client = bucket
    client.put_object(
        Bucket=name, Key="cat.jpg", Body=b"0123456789", Metadata={"caption": "a cat on a mat"}
    )
    source = open_source(f"s3://{name}", s3_server.source_config())
    blob = asyncio.run(source.read("cat.jpg"))
    assert blob.metadata["caption"] == "a cat on a mat"
    with pytest.raises(ObjectTooLarge, match="10 bytes, over the limit of 4"):
        asyncio.run(source.read("cat.jpg", max_bytes=4))
    with pytest.raises(ObjectVanished):
        asyncio.run(source.read("dog.jpg"))
    with source.open("cat.jpg") as handle:
        handle.seek(4)
        assert handle.read(3) == b"456"


def test_missing_bucket_and_bad_uris_fail_clearly(s3_server):
    with pytest.raises(SourceUnavailable, match="s3://no-such-bucket/"):
        open_source("s3://no-such-bucket", s3_server.source_config()).precheck()
    with pytest.raises(ConfigError, match="not a bucket URI"):
        ObjectStoreSource("s3:///no-bucket")


def test_images_with_metadata_captions_catalogs_and_pdfs_from_a_bucket(
    s3_server, bucket, edge_store
):
    name, client = bucket
    client.put_object(
        Bucket=name,
        Key="pics/red.png",
        Body=encode(picture("red"), "PNG"),
        Metadata={"caption": "a red circle from metadata"},
    )
    client.put_object(Bucket=name, Key="pics/blue.png", Body=encode(picture("blue"), "PNG"))
    client.put_object(Bucket=name, Key="pics/blue.txt", Body=b"a blue circle from a sidecar")
    client.put_object(Bucket=name, Key="docs/report.pdf", Body=simple_pdf(3))
    for sku in ("p1", "p2"):
        client.put_object(
            Bucket=name, Key=f"shop/img/{sku}.png", Body=encode(picture("green", "square"), "PNG")
        )
    table = pa.table(
        {
            "id": ["p1", "p2"],
            "title": ["Green mug", "Green shirt"],
            "description": ["A mug.", "A shirt."],
            "image": ["img/p1.png", "img/p2.png"],
            "price": [3.5, 12.0],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    client.put_object(Bucket=name, Key="shop/catalog.parquet", Body=buffer.getvalue())

    source = open_source(f"s3://{name}", s3_server.source_config())
    embedder = HashEmbedder()
    config = IngestConfig(batch_size=4)
    media = ingest(
        source,
        embedder,
        edge_store,
        collection="bucket",
        config=IngestConfig(batch_size=4, include=["pics/**", "docs/**"]),
    )
    # 2 images and 3 pages; the shop's objects are excluded by the include globs
    assert (media.seen, media.written, media.ignored, media.failed) == (8, 5, 3, 0)
    products = ingest(
        source,
        embedder,
        edge_store,
        collection="bucket",
        config=config,
        kinds=[Kind.PRODUCTS],
        prefix="shop/",
        source_config=s3_server.source_config(),
    )
    assert (products.written, products.failed, products.warnings) == (2, 0, [])
    hits = {
        hit.payload["caption"]: hit
        for hit in edge_store.query(
            "bucket", HybridQuery(keyword_text="circle metadata sidecar mug", k=20)
        )
    }
    assert "a red circle from metadata" in hits
    assert "a blue circle from a sidecar" in hits
    assert "Green mug. A mug." in hits
    assert hits["Green mug. A mug."].payload["fields"]["price"] == 3.5
    pages = [
        h
        for h in edge_store.query("bucket", HybridQuery(keyword_text="page report", k=20))
        if h.kind == "pdf_page"
    ]
    assert sorted(h.page for h in pages) == [1, 2, 3]
