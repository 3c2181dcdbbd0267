"""Product catalogs: every format, image references of every kind, and broken records."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.connectors.sources.memory import MemorySource
from mmingest.pipelines.ingest import ingest_products
from mmingest.pipelines.samples import encode, write_products
from mmingest.schemas import DenseProbe, HybridQuery
from mmingest.schemas.config import CatalogConfig, HttpConfig, IngestConfig
from mmingest.schemas.points import CAPTION, IMAGE
from tests.support.corpus import picture
from tests.support.fakes import HashEmbedder

PNG = encode(picture("orange", "triangle"), "PNG")


@pytest.fixture(scope="module")
def image_server() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PNG if self.path.endswith(".png") else b"nope"
            self.send_response(200 if self.path.endswith(".png") else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def run(folder, store, collection="shop", **options):
    options.setdefault("config", IngestConfig(batch_size=16))
    return ingest_products(
        LocalFolderSource(folder), HashEmbedder(), store, collection=collection, **options
    )


def test_the_sample_parquet_catalog(tmp_path, edge_store):
    write_products(tmp_path / "shop")
    summary = run(tmp_path / "shop", edge_store, catalog=CatalogConfig(id_column="sku"))
    # the product images are listed too: ignored, as this run takes catalogs only
    assert (summary.seen, summary.written, summary.failed, summary.ignored) == (60, 30, 0, 30)
    hit = edge_store.query("shop", HybridQuery(keyword_text="umbrella", k=1))[0]
    assert hit.kind == "product"
    assert hit.payload["fields"]["sku"].startswith("SKU-")
    # the payload holds the resolved, accepted URI (issue 12), not the raw reference
    sku = hit.payload["fields"]["sku"]
    image = (tmp_path / "shop" / "images" / f"{sku}.png").resolve()
    assert hit.payload["fields"]["images"] == [image.as_uri()]
    assert {"price", "brand", "category"} <= set(hit.payload["fields"])
    again = run(tmp_path / "shop", edge_store, catalog=CatalogConfig(id_column="sku"))
    assert (again.unchanged, again.written) == (30, 0)


def test_the_sample_catalog_ingests_with_the_default_settings(tmp_path, edge_store):
    write_products(tmp_path / "shop", 5)
    summary = run(tmp_path / "shop", edge_store, catalog=CatalogConfig())
    assert (summary.written, summary.failed) == (5, 0), summary
    hit = edge_store.query("shop", HybridQuery(keyword_text="umbrella", k=1))[0]
    assert hit.payload["fields"]["sku"].startswith("SKU-")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "parquet"])
def test_every_catalog_format(tmp_path, edge_store, fmt):
    tmp_path = tmp_path / "catalogs"
    (tmp_path / "img").mkdir(parents=True)
    (tmp_path / "img" / "a.png").write_bytes(PNG)
    rows = [
        {
            "id": "a",
            "title": "Orange kite",
            "description": "Flies high.",
            "image": "img/a.png",
            "price": 9.5,
        },
        {"id": "b", "title": "Blue kite", "description": "No picture.", "image": "", "price": 7.0},
    ]
    path = tmp_path / f"catalog.{fmt}"
    if fmt == "csv":
        lines = ["id,title,description,image,price"] + [
            f"{r['id']},{r['title']},{r['description']},{r['image']},{r['price']}" for r in rows
        ]
        path.write_text("\n".join(lines) + "\n")
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    elif fmt == "json":
        path.write_text(json.dumps(rows))
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    # CSV values are text unless typed; JSON and Parquet keep their own types.
    summary = run(tmp_path, edge_store, catalog=CatalogConfig(column_types={"price": "number"}))
    assert (summary.written, summary.failed, summary.ignored) == (2, 0, 1)  # the image is ignored
    found = {
        h.payload["fields"]["id"]: h
        for h in edge_store.query("shop", HybridQuery(keyword_text="kite", k=5))
    }
    assert found["a"].caption == "Orange kite. Flies high."
    assert found["a"].payload["fields"]["price"] == 9.5
    a_vectors = edge_store.fetch_hashes("shop", [found["a"].id])
    assert a_vectors
    # b has no image: it is stored with its caption vector only
    probe = DenseProbe(vector_name=IMAGE, vector=found["a"].id and unit_image_probe())
    assert [
        h.payload["fields"]["id"] for h in edge_store.query("shop", HybridQuery(dense=[probe], k=5))
    ] == ["a"]
    caption_probe = DenseProbe(
        vector_name=CAPTION, vector=HashEmbedder().embed_texts(["Blue kite. No picture."])[0]
    )
    assert (
        edge_store.query("shop", HybridQuery(dense=[caption_probe], k=1))[0].payload["fields"]["id"]
        == "b"
    )


def unit_image_probe():
    from mmingest.pipelines.images import decode_image

    pixels = decode_image(PNG, max_pixels=10**8).pixels
    return HashEmbedder().embed_images([pixels])[0]


def test_references_in_other_buckets_and_on_the_web(tmp_path, edge_store, image_server):
    tmp_path = tmp_path / "catalogs"
    tmp_path.mkdir()
    other = MemorySource("memory://other-bucket")
    other.put("views/front.png", PNG)
    other.put("views/back.png", encode(picture("blue"), "PNG"))
    rows = [
        {
            "id": "multi",
            "title": "Two views",
            "image": [
                "memory://other-bucket/views/front.png",
                "memory://other-bucket/views/back.png",
            ],
        },
        {
            "id": "web",
            "title": "From the web",
            "image": [f"http://127.0.0.1:{image_server}/web.png"],
        },
        {"id": "blocked", "title": "Internal URL", "image": ["http://127.0.0.1/admin.png"]},
        {"id": "gone", "title": "Missing image", "image": ["memory://other-bucket/views/none.png"]},
        {"id": "escape", "title": "Escaping key", "image": ["../../etc/passwd"]},
        {"id": "local", "title": "Local path", "image": ["file:///etc/passwd"]},
    ]
    (tmp_path / "catalog.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    http = HttpConfig(allow_private_hosts=[f"127.0.0.1:{image_server}"])
    summary = run(tmp_path, edge_store, http=http)
    assert (summary.written, summary.failed) == (6, 0)  # caption_only keeps every record
    problems = {w.uri.split("#", 1)[1].split(" ")[0]: w for w in summary.warnings}
    assert set(problems) == {"blocked", "gone", "escape", "local"}
    assert "127.0.0.1 is a loopback address" in problems["blocked"].message
    assert problems["gone"].reason == "object_vanished"
    # the policy names the setting that would allow a local folder (issue 12)
    assert "outside the local folders" in problems["escape"].message
    assert "source.allowed_local_roots" in problems["escape"].message
    assert summary.images_lost == {"unsafe_reference": 2, "object_vanished": 1, "unsafe_url": 1}
    assert "refused image reference 'file:///etc/passwd'" in problems["local"].message

    strict = run(
        tmp_path, edge_store, "strict", http=http, catalog=CatalogConfig(missing_image="fail")
    )
    assert strict.written == 2  # multi and web
    assert {f.uri.split("#")[1] for f in strict.failures} == {"blocked", "gone", "escape", "local"}
    assert all("no usable image" in f.message for f in strict.failures)


def test_broken_catalogs_and_records(tmp_path, edge_store):
    tmp_path = tmp_path / "catalogs"
    tmp_path.mkdir()
    (tmp_path / "missing-columns.csv").write_text("sku,name\n1,x\n")
    (tmp_path / "broken.csv").write_bytes(
        b"id,title,description,image\n"
        b"1,Good,Fine,\n"
        b"2,Too,many,fields,here,now\n"
        b"3,caf\xe9,latin-1 bytes,\n"
        b"1,Duplicate,same id,\n"
        b",No id,empty id,\n"
        b"6,Huge," + b"x" * 1_000_000 + b",\n"
    )
    (tmp_path / "lines.jsonl").write_bytes(
        b'{"id": "j1", "title": "ok"}\n{broken\n[1, 2]\n'
        b'{"id": {"nested": 1}, "title": "bad id"}\n'
        b'{"id": "j5", "title": "bad image", "image": 42}\n'
    )
    (tmp_path / "array.json").write_text('{"not": "an array"}')
    (tmp_path / "garbage.parquet").write_bytes(b"PAR1 this is not parquet")
    summary = run(tmp_path, edge_store)
    assert summary.balanced
    reasons = {f.uri.rsplit("/", 1)[1]: f.message for f in summary.failures}
    assert "has no column 'id'" in reasons["missing-columns.csv"]
    assert "(it has sku, name)" in reasons["missing-columns.csv"]
    assert (
        "not a JSON array" in reasons["array.json"] or "array of objects" in reasons["array.json"]
    )
    assert "not a readable Parquet file" in reasons["garbage.parquet"]
    by_row = {f.uri.rsplit("/", 1)[1]: f.message for f in summary.failures if "#" in f.uri}
    assert "line 3 has 6 fields, expected 4" in by_row["broken.csv#row=3"]
    assert "column 'title' holds bytes that are not UTF-8" in by_row["broken.csv#row=4"]
    assert "duplicate id '1' (an earlier record" in by_row["broken.csv#row=5"]
    assert "the record has no 'id'" in by_row["broken.csv#row=6"]
    assert "line 2 is not valid JSON" in by_row["lines.jsonl#row=2"]
    assert "line 3 is not a JSON object" in by_row["lines.jsonl#row=3"]
    assert "must be a string or a number" in by_row["lines.jsonl#row=4"]
    assert "column 'image' holds int" in by_row["lines.jsonl#row=5"]
    assert summary.written == 3  # csv rows 1 and 6 (description cut), j1
    long = edge_store.query("shop", HybridQuery(keyword_text="huge", k=1))[0]
    assert len(long.caption) == IngestConfig().max_caption_chars
