"""The /api contract of ``mmingest serve``, on a collection the pipeline wrote: searches,
pictures, the OpenAPI schema and every refusal (a 4xx JSON body saying what to do)."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import SecretStr

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.flows.web.app import create_app
from mmingest.flows.web.guard import json_depth
from mmingest.flows.web.service import SearchService
from mmingest.pipelines.ingest import ingest, ingest_products
from mmingest.pipelines.query import Retriever
from mmingest.pipelines.samples import write_images, write_pdfs, write_products
from mmingest.schemas.config import CatalogConfig, SourceConfig
from mmingest.schemas.points import CAPTION, IMAGE, Point
from mmingest.schemas.web_config import WebConfig
from tests.support.fakes import HashEmbedder

pytestmark = pytest.mark.timeout(120)
KEY = "web-test-key-0123456789"
HOSTILE = '<img src=x onerror="alert(1)">\x07 caption'


@pytest.fixture
def corpus(tmp_path, edge_store):
    """Images, PDF pages and products of tenant acme, images of tenant globex, and one acme
    point whose payload points at a cloud metadata URL (never read)."""
    embedder = HashEmbedder(32)
    for tenant in ("globex", "acme"):
        folder = tmp_path / tenant
        write_images(folder / "images", 6)
        if tenant == "acme":
            write_pdfs(folder / "docs")
        summary = ingest(
            LocalFolderSource(folder), embedder, edge_store, collection="media", tenant=tenant
        )
        assert (summary.written, summary.failed) == (summary.seen, 0), summary
    write_products(tmp_path / "shop", 6)
    summary = ingest_products(
        LocalFolderSource(tmp_path / "shop"),
        embedder,
        edge_store,
        collection="media",
        tenant="acme",
        catalog=CatalogConfig(id_column="sku"),
    )
    assert summary.written == 6, summary
    vector = np.ones(32, dtype=np.float32) / np.sqrt(32)
    edge_store.upsert(
        "media",
        [
            Point(
                id="00000000-0000-5000-8000-00000000beef",
                vectors={IMAGE: vector, CAPTION: vector},
                keyword_text="metadata trap",
                payload={
                    "source_uri": "http://169.254.169.254/latest/meta-data/iam",
                    "content_hash": "trap",
                    "kind": "image",
                    "caption": HOSTILE,
                    "tenant": "acme",
                },
            )
        ],
    )
    return tmp_path, embedder, edge_store


def client_for(corpus, *, tenant="acme", **web) -> tuple[TestClient, SearchService]:
    root, embedder, store = corpus
    # Local pictures are read only from the allowed roots: the folders that were ingested.
    source = SourceConfig(allowed_local_roots=[root])
    retriever = Retriever(store, embedder, collection="media", tenant=tenant, source_config=source)
    service = SearchService(retriever, WebConfig(**web))
    return TestClient(create_app(service)), service


def search(client, **body):
    return client.post("/api/search", json=body)


def refused(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    return str(error["message"])


def png(size=(40, 30), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_text_search_returns_hits_with_their_pictures(corpus):
    client, _ = client_for(corpus)
    caption = "a red circle on a white background"
    response = search(client, text=caption, k=5, mode="dense", vectors=["caption"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["collection"] == "media" and body["tenant"] == "acme"
    top = body["hits"][0]
    assert top["caption"] == caption and top["rank"] == 1 and top["kind"] == "image"
    assert top["score"] == pytest.approx(1.0, abs=1e-5)
    assert {hit["payload"]["tenant"] for hit in body["hits"]} == {"acme"}
    thumbnail = client.get(top["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] in ("image/jpeg", "image/png")
    small = Image.open(io.BytesIO(thumbnail.content))
    assert max(small.size) <= 256
    full = client.get(top["picture_url"])
    assert full.status_code == 200 and max(Image.open(io.BytesIO(full.content)).size) > 200


def test_pdf_pages_name_their_page_and_document_and_render(corpus):
    client, _ = client_for(corpus)
    body = search(client, text="colors", k=10, where=["kind=pdf_page", "page>=2"]).json()
    assert body["hits"] and {hit["kind"] for hit in body["hits"]} == {"pdf_page"}
    for hit in body["hits"]:
        assert hit["page"] >= 2 and hit["document"].endswith(".pdf")
        assert hit["display_uri"] == f"{hit['document']}#page={hit['page']}"
    picture = client.get(body["hits"][0]["thumbnail_url"])
    assert picture.status_code == 200 and Image.open(io.BytesIO(picture.content)).size[0] > 0


def test_product_filters_and_info(corpus):
    client, _ = client_for(corpus)
    info = client.get("/api/info").json()
    assert info["collection"] == "media" and info["points"] > 10
    assert {"brand", "price", "category"} <= set(info["product_fields"])
    assert info["limits"]["max_k"] == 100 and not info["api_key_required"]
    body = search(client, text="mug", k=20, where=["kind=product", "fields.brand=Acme"]).json()
    assert body["hits"] and all(hit["payload"]["fields"]["brand"] == "Acme" for hit in body["hits"])
    expression = {"op": "range", "field": "fields.price", "gte": 8}
    priced = search(client, text="mug", k=20, filters=expression).json()["hits"]
    assert priced and all(hit["payload"]["fields"]["price"] >= 8 for hit in priced)


def test_a_product_shows_its_catalog_image(corpus):
    client, _ = client_for(corpus)
    body = search(client, text="mug", k=5, where=["kind=product"]).json()
    thumbnail = client.get(body["hits"][0]["thumbnail_url"])
    assert thumbnail.status_code == 200, thumbnail.text


def test_an_uploaded_image_and_more_like_this(corpus):
    root, _, _ = corpus
    client, _ = client_for(corpus)
    picture = sorted((root / "acme" / "images").glob("*.png"))[0]
    encoded = base64.b64encode(picture.read_bytes()).decode()
    body = search(client, image=encoded, k=3, mode="dense", vectors=["image"]).json()
    assert body["hits"][0]["source_uri"] == picture.resolve().as_uri()
    data_url = search(client, image="data:image/png;base64," + encoded, k=3, vectors=["image"])
    assert data_url.json()["hits"][0]["id"] == body["hits"][0]["id"]
    liked = body["hits"][0]["id"]
    similar = search(client, like=liked, k=4, mode="dense", vectors=["image"]).json()["hits"]
    assert len(similar) == 4 and liked not in {hit["id"] for hit in similar}


def test_thumbnails_are_cached_and_not_read_again(corpus, monkeypatch):
    client, service = client_for(corpus)
    hit = search(client, text="a red circle", k=1, where=["kind=image"]).json()["hits"][0]
    reads = []
    original = service.retriever.image_bytes

    def counted(*args, **kwargs):
        reads.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(service.retriever, "image_bytes", counted)
    first = client.get(hit["thumbnail_url"]).content
    for _ in range(3):
        assert client.get(hit["thumbnail_url"]).content == first
    assert client.get(hit["picture_url"]).status_code == 200
    assert len(reads) == 1


def test_captions_with_markup_stay_data(corpus):
    client, _ = client_for(corpus)
    hits = search(client, text="metadata trap", k=20, mode="keyword").json()["hits"]
    trap = next(hit for hit in hits if hit["id"].endswith("beef"))
    assert trap["caption"] == HOSTILE  # JSON carries it as a string; the page shows it as text
    page = client.get("/").text
    assert "onerror" not in page
    script = client.get("/static/app.js").text
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_openapi_documents_request_and_response(corpus):
    client, _ = client_for(corpus)
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/search"]["post"]
    request_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert request_ref.endswith("/SearchRequest")
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SearchResponse"
    )
    assert {"401", "403", "413", "422"} <= set(operation["responses"])
    components = schema["components"]["schemas"]
    assert {"text", "image", "like", "k", "mode", "fusion", "where", "filters"} <= set(
        components["SearchRequest"]["properties"]
    )
    assert (
        "/api/health" in schema["paths"] and "/api/points/{point_id}/thumbnail" in schema["paths"]
    )


def test_health_needs_no_key_and_says_nothing_of_the_content(corpus):
    client, _ = client_for(corpus, api_key=SecretStr(KEY))
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "collection": "media"}


# --- refusals ---------------------------------------------------------------------------------


def test_api_key_is_required_and_checked(corpus):
    client, _ = client_for(corpus, api_key=SecretStr(KEY))
    message = refused(search(client, text="red"), 401, "api_key_required")
    assert "X-API-Key" in message
    assert client.post("/api/search", json={"text": "red"}).headers["www-authenticate"] == "Bearer"
    wrong = client.post("/api/search", json={"text": "red"}, headers={"X-API-Key": "nope"})
    message = refused(wrong, 401, "bad_api_key")
    assert KEY not in message and "nope" not in message
    refused(client.get("/api/info"), 401, "api_key_required")
    assert (
        client.post("/api/search", json={"text": "red"}, headers={"X-API-Key": KEY}).status_code
        == 200
    )
    bearer = client.post(
        "/api/search", json={"text": "red"}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert bearer.status_code == 200
    hit = next(hit for hit in bearer.json()["hits"] if hit["kind"] == "image")
    refused(client.get(hit["thumbnail_url"]), 401, "api_key_required")
    assert client.get(hit["thumbnail_url"], headers={"X-API-Key": KEY}).status_code == 200


def test_oversize_uploads_are_refused_before_decoding(corpus):
    client, _ = client_for(corpus, max_upload_bytes=4096)
    big = base64.b64encode(png((400, 400), (10, 20, 30)) + b"\0" * 8192).decode()
    message = refused(search(client, image=big), 413, "upload_too_large")
    assert "web.max_upload_bytes" in message
    huge = "A" * 200_000  # past the body cap: refused before JSON parsing
    refused(search(client, image=huge), 413, "request_too_large")
    refused(search(client, image="not base64!"), 422, "bad_image_encoding")
    garbage = base64.b64encode(b"this is not an image").decode()
    message = refused(search(client, image=garbage), 422, "unsupported_format")
    assert "JPEG" in message


def test_k_and_filters_are_capped(corpus):
    client, _ = client_for(corpus, max_k=20, max_filter_depth=2, max_filter_conditions=3)
    assert "web.max_k" in refused(search(client, text="red", k=21), 422, "k_too_large")
    refused(search(client, text="red", k=0), 422, "invalid_request")
    leaf = {"op": "eq", "field": "kind", "value": "image"}
    nested = {"op": "not", "filter": {"op": "not", "filter": leaf}}
    refused(search(client, text="red", filters=nested), 422, "filter_too_deep")
    wide = {"op": "or", "filters": [leaf, leaf, leaf, leaf]}
    refused(search(client, text="red", filters=wide), 422, "too_many_conditions")
    assert (
        search(client, text="red", filters={"op": "or", "filters": [leaf, leaf]}).status_code == 200
    )
    # Nested deeper than the JSON parser's recursion allows: refused before parsing.
    deep = '{"op": "not", "filter": ' * 5000 + json.dumps(leaf) + "}" * 5000
    body = '{"text": "red", "filters": ' + deep + "}"
    response = client.post(
        "/api/search", content=body, headers={"content-type": "application/json"}
    )
    refused(response, 422, "filter_too_deep")
    refused(search(client, text="red", where=["colour=red"]), 422, "bad_filter")
    refused(search(client, text="red", where=["tenant=globex"]), 422, "bad_filter")
    refused(search(client), 422, "empty_query")
    refused(search(client, text="red", mode="fuzzy"), 422, "invalid_request")
    refused(client.post("/api/search", json={"text": "red", "extra": 1}), 422, "invalid_request")


def test_a_tenant_bound_server_serves_only_its_tenant(corpus):
    client, service = client_for(corpus, tenant="acme")
    message = refused(search(client, text="red", tenant="globex"), 403, "tenant_forbidden")
    assert "acme" in message
    hits = search(client, text="a red circle", k=50).json()["hits"]
    assert hits and {hit["payload"]["tenant"] for hit in hits} == {"acme"}
    # A globex point id (found by an unbound server) is not served by the acme one, even if it
    # were remembered: the store is asked again with the bound tenant.
    other, _ = client_for(corpus, tenant=None)
    theirs = search(other, text="a red circle", k=50, tenant="globex").json()["hits"]
    assert theirs and {hit["payload"]["tenant"] for hit in theirs} == {"globex"}
    foreign = theirs[0]
    refused(client.get(foreign["thumbnail_url"]), 404, "unknown_point")
    from mmingest.schemas.query import Hit

    service._remember([Hit(id=foreign["id"], score=1.0, payload=foreign["payload"])])
    refused(client.get(foreign["thumbnail_url"]), 404, "point_changed")


def test_pictures_only_for_points_of_the_collection(corpus):
    client, _ = client_for(corpus)
    refused(client.get("/api/points/not-a-point/thumbnail"), 404, "unknown_point")
    refused(client.get("/api/points/..%2F..%2Fetc%2Fpasswd/picture"), 404, "not_found")
    assert client.get("/api/points/a.b/picture").status_code == 422
    refused(client.delete("/api/search"), 405, "method_not_allowed")


def test_a_payload_uri_the_policy_refuses_is_never_read(corpus):
    client, _ = client_for(corpus)
    hits = search(client, text="metadata trap", k=20, mode="keyword").json()["hits"]
    trap = next(hit for hit in hits if hit["id"].endswith("beef"))
    # A web URI is never fetched server-side: no picture URLs, and asking anyway is refused.
    assert trap["thumbnail_url"] is None and trap["picture_url"] is None
    url = f"/api/points/{trap['id']}/picture"
    assert "no picture" in refused(client.get(url), 404, "no_picture")


def test_a_tampered_payload_uri_is_refused_by_the_reference_policy(corpus):
    root, _, store = corpus
    client, _ = client_for(corpus)
    hit = search(client, text="a red circle", k=1, where=["kind=image"]).json()["hits"][0]
    outside = root.parent / "outside.png"
    outside.write_bytes(png())
    for uri in ("file:///etc/passwd", outside.as_uri(), "/etc/passwd"):
        payload = {**hit["payload"], "source_uri": uri, "content_hash": f"tampered {uri}"}
        vector = np.ones(32, dtype=np.float32) / np.sqrt(32)
        point = Point(id=hit["id"], vectors={IMAGE: vector, CAPTION: vector}, payload=payload)
        store.upsert("media", [point])
        found = search(client, text="a red circle", k=50, where=["kind=image"]).json()["hits"]
        tampered = next(item for item in found if item["id"] == hit["id"])
        assert tampered["source_uri"] == uri
        message = refused(client.get(tampered["picture_url"]), 403, "picture_refused")
        assert "refused" in message and uri in message
        refused(client.get(tampered["thumbnail_url"]), 403, "picture_refused")


def test_a_refused_reference_is_a_403(corpus, monkeypatch):
    client, service = client_for(corpus)
    hit = search(client, text="a red circle", k=1, where=["kind=image"]).json()["hits"][0]
    from mmingest.schemas.errors import ConfigError

    def refuse(*args, **kwargs):
        raise ConfigError("file:///elsewhere is outside the sources ingest accepted")

    monkeypatch.setattr(service.retriever, "image_bytes", refuse)
    message = refused(client.get(hit["picture_url"]), 403, "picture_refused")
    assert "outside the sources" in message


def test_json_depth_skips_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert json_depth(json.dumps({"x": '\\"[[['}).encode()) == 1


def test_an_unexpected_failure_is_a_json_500_without_details(corpus, monkeypatch):
    _, service = client_for(corpus)
    client = TestClient(create_app(service), raise_server_exceptions=False)

    def boom(*args, **kwargs):
        raise RuntimeError("internal detail /secret/path")

    monkeypatch.setattr(service.retriever, "search", boom)
    response = search(client, text="red")
    assert "internal detail" not in refused(response, 500, "internal_error")
