"""The product's S3 source against npm's s3rver (the server the bench reads from when it is
installed): listing, concurrent reads and captioned JPEGs ingested end to end."""

from __future__ import annotations

import asyncio

import pytest

from mmingest.connectors.sources import open_source
from mmingest.pipelines.ingest import ingest_images
from mmingest.pipelines.samples import encode
from mmingest.schemas import HybridQuery
from mmingest.schemas.config import IngestConfig, S3SourceConfig
from mmingest.schemas.errors import AuthenticationFailed
from tests.support.corpus import picture

COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"]


@pytest.fixture
def captioned(s3rver_server):
    """A bucket of captioned JPEGs (``pics/NN.jpg`` with a ``pics/NN.txt`` sidecar)."""
    bucket = s3rver_server.new_bucket()
    objects: dict[str, bytes] = {}
    for index, colour in enumerate(COLOURS):
        objects[f"pics/{index:02d}.jpg"] = encode(picture(colour), "JPEG")
        objects[f"pics/{index:02d}.txt"] = f"a {colour} circle, photo {index}".encode()
    s3rver_server.put_many(bucket, objects)
    return bucket, objects


def test_lists_and_reads_objects_concurrently(s3rver_server, captioned):
    bucket, objects = captioned
    source = open_source(f"s3://{bucket}", s3rver_server.source_config())
    source.precheck()
    listed = {obj.key: obj for obj in source.list()}
    assert sorted(listed) == sorted(objects)
    assert {key: obj.size for key, obj in listed.items()} == {
        key: len(data) for key, data in objects.items()
    }
    assert listed["pics/00.jpg"].uri == f"s3://{bucket}/pics/00.jpg"

    async def read_all() -> dict[str, bytes]:
        limit = asyncio.Semaphore(16)

        async def one(key: str) -> tuple[str, bytes]:
            async with limit:
                return key, (await source.read(key)).data

        return dict(await asyncio.gather(*(one(key) for key in listed)))

    assert asyncio.run(read_all()) == objects


def test_captioned_jpegs_are_ingested_end_to_end(
    s3rver_server, captioned, clip_embedder, edge_store
):
    bucket, _ = captioned
    source = open_source(f"s3://{bucket}", s3rver_server.source_config())
    summary = ingest_images(
        source, clip_embedder, edge_store, collection="s3rver", config=IngestConfig(batch_size=4)
    )
    assert (summary.written, summary.failed) == (len(COLOURS), 0)
    assert edge_store.count("s3rver") == len(COLOURS)
    hits = edge_store.query("s3rver", HybridQuery(keyword_text="circle photo", k=20))
    captions = {hit.payload["source_uri"]: hit.payload.get("caption") for hit in hits}
    assert captions == {
        f"s3://{bucket}/pics/{index:02d}.jpg": f"a {colour} circle, photo {index}"
        for index, colour in enumerate(COLOURS)
    }


def test_an_unknown_access_key_is_refused_by_the_server_itself(s3rver_server, captioned):
    bucket, _ = captioned
    config = s3rver_server.source_config()
    s3 = {**config.s3.model_dump(), "access_key_id": "NOT-S3RVER"}
    source = open_source(f"s3://{bucket}", config.model_copy(update={"s3": S3SourceConfig(**s3)}))
    with pytest.raises(AuthenticationFailed, match="Check the credentials"):
        source.precheck()
