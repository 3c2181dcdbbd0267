"""One reference policy for pictures: catalog references are resolved once at ingest (against
the catalog's location), only accepted URIs are stored, and display reads only what the same
policy accepts, with the same source settings."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from mmingest.connectors.sources import open_source
from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.display import read_picture
from mmingest.pipelines.ingest import ingest_products
from mmingest.pipelines.query import Retriever
from mmingest.pipelines.reference_policy import ReferencePolicy, UnsafeReference
from mmingest.pipelines.samples import encode
from mmingest.schemas.config import IngestConfig, S3SourceConfig, SourceConfig
from mmingest.schemas.errors import ConfigError, ObjectTooLarge, RefusedObject
from mmingest.schemas.query import Hit, HybridQuery
from tests.support.corpus import picture
from tests.support.fakes import HashEmbedder

PNG = encode(picture("orange", "triangle"), "PNG")
HOSTILE = ["/etc/passwd", "../../../../etc/passwd", "file:///etc/passwd", "~/.aws/credentials"]
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_PROFILE",
)


@pytest.fixture
def no_aws_environment(monkeypatch):
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def products(folder: Path, rows: list[dict[str, object]], name: str = "catalog.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(json.dumps(row) for row in rows))
    return path


def run(source, store, collection="shop", **options):
    options.setdefault("config", IngestConfig(batch_size=16))
    return ingest_products(source, HashEmbedder(), store, collection=collection, **options)


def stored(store, collection="shop") -> dict[str, dict[str, object]]:
    hits = store.query(collection, HybridQuery(keyword_text="product", k=50))
    return {hit.payload["fields"]["id"]: hit.payload for hit in hits}


def product_hit(*images: str) -> Hit:
    payload = {"kind": "product", "source_uri": "file:///c.jsonl", "fields": {"images": images}}
    return Hit(id="p", score=1.0, payload=payload)


def test_hostile_references_are_refused_at_ingest_and_never_stored(tmp_path, edge_store):
    root = tmp_path / "shop"
    rows = [{"id": f"r{i}", "title": f"product {i}", "image": ref} for i, ref in enumerate(HOSTILE)]
    products(root, rows)
    summary = run(LocalFolderSource(root), edge_store)
    assert (summary.written, summary.failed) == (len(HOSTILE), 0)  # caption only
    assert summary.images_lost == {"unsafe_reference": len(HOSTILE)}
    assert {w.reason for w in summary.warnings} == {"unsafe_reference"}
    for payload in stored(edge_store).values():
        assert payload["fields"]["images"] == []  # nothing refused is stored as a picture


@pytest.mark.parametrize("uri", [*HOSTILE, "file:///etc/../etc/passwd", "etc/passwd"])
def test_display_refuses_a_tampered_payload(tmp_path, edge_store, uri):
    (tmp_path / "ok.png").write_bytes(PNG)
    config = SourceConfig(allowed_local_roots=[tmp_path])
    with pytest.raises(UnsafeReference):
        read_picture(product_hit(uri), source_config=config)
    image_hit = Hit(id="i", score=1.0, payload={"kind": "image", "source_uri": uri})
    with pytest.raises(UnsafeReference):
        read_picture(image_hit, source_config=config)
    retriever = Retriever(edge_store, HashEmbedder(), collection="shop", source_config=config)
    with pytest.raises(UnsafeReference):
        retriever.image_bytes(product_hit(uri))
    assert read_picture(product_hit((tmp_path / "ok.png").as_uri()), source_config=config) == PNG


def test_display_refuses_local_pictures_outside_the_allowed_roots(tmp_path):
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "ok.png").write_bytes(PNG)
    (tmp_path / "pictures" / "leak.png").symlink_to("/etc/passwd")
    hit = product_hit((tmp_path / "pictures" / "ok.png").as_uri())
    with pytest.raises(UnsafeReference, match=r"source\.allowed_local_roots"):
        read_picture(hit)  # no allowed root: local files are not displayed
    allowed = SourceConfig(allowed_local_roots=[tmp_path / "pictures"])
    assert read_picture(hit, source_config=allowed) == PNG
    with pytest.raises(RefusedObject, match="outside the source folder"):
        read_picture(
            product_hit((tmp_path / "pictures" / "leak.png").as_uri()), source_config=allowed
        )


def test_relative_references_resolve_against_the_catalog_not_the_cwd(
    tmp_path, edge_store, monkeypatch
):
    root = tmp_path / "shop"
    (root / "images").mkdir(parents=True)
    (root / "images" / "x.png").write_bytes(PNG)
    products(root / "catalog", [{"id": "a", "title": "product a", "image": "../images/x.png"}])
    products(root / "catalog" / "sub", [{"id": "b", "title": "product b", "image": "y.png"}])
    (root / "catalog" / "sub" / "y.png").write_bytes(PNG)
    # A decoy where a CWD-relative resolution would look.
    decoy = tmp_path / "cwd"
    (decoy / "images").mkdir(parents=True)
    (decoy / "y.png").write_bytes(b"not this one")
    monkeypatch.chdir(decoy)
    summary = run(LocalFolderSource(root), edge_store)
    assert (summary.written, summary.failed, summary.warnings) == (2, 0, [])
    payloads = stored(edge_store)
    assert payloads["a"]["fields"]["images"] == [(root / "images" / "x.png").resolve().as_uri()]
    assert payloads["b"]["fields"]["images"] == [
        (root / "catalog" / "sub" / "y.png").resolve().as_uri()
    ]
    retriever = Retriever(
        edge_store,
        HashEmbedder(),
        collection="shop",
        source_config=SourceConfig(allowed_local_roots=[root]),
    )
    hit = Hit(id="a", score=1.0, payload=payloads["a"])
    assert retriever.image_bytes(hit) == PNG


def test_a_local_catalog_may_reference_an_allowed_root(tmp_path, edge_store):
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    (pictures / "x.png").write_bytes(PNG)
    root = tmp_path / "shop" / "catalog"
    products(root, [{"id": "a", "title": "product a", "image": "../../pictures/x.png"}])
    refused = run(LocalFolderSource(root), edge_store, collection="refused")
    assert refused.images_lost == {"unsafe_reference": 1}
    (warning,) = refused.warnings
    assert "source.allowed_local_roots" in warning.message and str(pictures) in warning.message
    allowed = SourceConfig(allowed_local_roots=[pictures])
    summary = run(LocalFolderSource(root), edge_store, collection="allowed", source_config=allowed)
    assert (summary.written, summary.warnings, summary.images_lost) == (1, [], {})
    assert stored(edge_store, "allowed")["a"]["fields"]["images"] == [
        (pictures / "x.png").resolve().as_uri()
    ]


def test_references_relative_to_a_catalog_stay_within_its_bucket(s3_server, edge_store):
    bucket = s3_server.new_bucket()
    catalog = "\n".join(
        json.dumps(row)
        for row in [
            {"id": "a", "title": "product a", "image": "../images/x.png"},
            {"id": "b", "title": "product b", "image": "../../../../../etc/passwd"},
        ]
    )
    s3_server.put_many(
        bucket, {"shop/catalog/catalog.jsonl": catalog.encode(), "shop/images/x.png": PNG}
    )
    config = s3_server.source_config()
    source = open_source(f"s3://{bucket}/shop/catalog/", config)
    summary = run(source, edge_store, source_config=config)
    assert (summary.written, summary.failed) == (2, 0)
    assert summary.images_lost == {"unsafe_reference": 1}
    payloads = stored(edge_store)
    assert payloads["a"]["fields"]["images"] == [f"s3://{bucket}/shop/images/x.png"]
    assert payloads["b"]["fields"]["images"] == []
    # display reads it with the retriever's source settings
    hit = Hit(id="a", score=1.0, payload=payloads["a"])
    assert read_picture(hit, source_config=config) == PNG


def test_s3_references_without_s3_settings_fail_fast(tmp_path, edge_store, no_aws_environment):
    root = tmp_path / "shop"
    products(root, [{"id": "a", "title": "product a", "image": "s3://some-bucket/x.png"}])
    started = time.monotonic()
    with pytest.raises(ConfigError, match="no S3 credentials are configured"):
        run(LocalFolderSource(root), edge_store)
    with pytest.raises(ConfigError, match=r"source\.s3\.instance_credentials"):
        read_picture(product_hit("s3://some-bucket/x.png"))
    assert time.monotonic() - started < 10
    anonymous = SourceConfig(s3=S3SourceConfig(anonymous=True))
    ReferencePolicy(anonymous).locate("s3://some-bucket/x.png")  # configured: no error


def test_a_query_image_has_a_size_cap(tmp_path, edge_store):
    retriever = Retriever(edge_store, HashEmbedder(), collection="shop", max_image_bytes=4096)
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # a sparse 2 GB file: refused from its size, never read
    started = time.monotonic()
    with pytest.raises(ObjectTooLarge, match="over the limit of 4,096"):
        retriever.build_query(image=huge)
    assert time.monotonic() - started < 2
    with pytest.raises(ObjectTooLarge):
        retriever.build_query(image=b"x" * 5000)
    os.mkfifo(tmp_path / "pipe.png")
    outcome: list[BaseException] = []

    def query_a_fifo() -> None:
        try:
            retriever.build_query(image=tmp_path / "pipe.png")
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=query_a_fifo, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "a FIFO query image blocked"
    assert isinstance(outcome[0], ConfigError) and "not a regular file" in str(outcome[0])


def test_the_cli_summary_says_how_many_records_lost_their_image_and_why(
    capsys, monkeypatch, tiny_clip_dir, tmp_path
):
    from mmingest.flows.cli import main

    monkeypatch.setenv("MMINGEST_EMBEDDER__MODEL", str(tiny_clip_dir))
    monkeypatch.setenv("MMINGEST_STATE_DIR", str(tmp_path / "state"))
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    (pictures / "x.png").write_bytes(PNG)
    root = tmp_path / "shop"
    rows = [
        {"id": "a", "title": "product a", "image": "../pictures/x.png"},
        {"id": "b", "title": "product b", "image": "/etc/passwd"},
    ]
    products(root, rows)

    def ingest_products_cli() -> str:
        with pytest.raises(SystemExit) as exited:
            main(["ingest", str(root), "--kind", "products", "--no-progress"])
        assert exited.value.code in (0, None)
        return capsys.readouterr().out

    out = ingest_products_cli()
    assert "without image" in out and "2 records (2 unsafe_reference)" in out
    # the warning (folded over table lines) names the setting that allows the folder
    assert "source.allowed_local_roots" in re.sub(r"[\s│]+", "", out)
    monkeypatch.setenv("MMINGEST_SOURCE__ALLOWED_LOCAL_ROOTS", json.dumps([str(pictures)]))
    monkeypatch.setenv("MMINGEST_COLLECTION", "allowed")
    out = ingest_products_cli()
    assert "1 records (1 unsafe_reference)" in out
