"""The image pipeline end to end: folder -> tiny CLIP -> Qdrant Edge -> queries."""

from __future__ import annotations

import os
import shutil

import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.deadletters import JsonlDeadLetters
from mmingest.pipelines.ingest import ingest_images
from mmingest.pipelines.query import Retriever
from mmingest.pipelines.samples import SampleImage, draw, encode
from mmingest.schemas import point_id
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.errors import SchemaMismatch
from mmingest.schemas.points import CAPTION, IMAGE

CONFIG = IngestConfig(batch_size=5, read_concurrency=4, decode_workers=2, prefetch_batches=2)


def run(folder, embedder, store, **options):
    return ingest_images(
        LocalFolderSource(folder), embedder, store, collection="photos", config=CONFIG, **options
    )


def test_a_folder_lands_with_image_and_caption_vectors(image_folder, clip_embedder, edge_store):
    folder, captions = image_folder
    summary = run(folder, clip_embedder, edge_store)
    assert (summary.seen, summary.written, summary.failed, summary.skipped) == (12, 12, 0, 0)
    assert summary.balanced
    assert edge_store.count("photos") == 12
    uri = (folder / "red-circle-on-white.jpg").resolve().as_uri()
    stored = edge_store.fetch_hashes("photos", [point_id(uri)])
    assert list(stored) == [point_id(uri)]
    hits = Retriever(edge_store, clip_embedder, collection="photos").search(
        "a red circle on a white background", k=12
    )
    by_source = {hit.source_uri: hit for hit in hits}
    for name, caption in captions.items():
        hit = by_source[(folder / name).resolve().as_uri()]
        assert hit.caption == caption
        assert hit.kind == "image"
        assert hit.payload["embedder"]["dimension"] == 32
        assert "base64" not in str(hit.payload) and len(str(hit.payload)) < 1000


def test_reingesting_the_same_folder_adds_nothing_and_embeds_nothing(
    image_folder, clip_embedder, edge_store
):
    folder, _ = image_folder
    run(folder, clip_embedder, edge_store)
    again = run(folder, clip_embedder, edge_store)
    assert (again.seen, again.written, again.unchanged) == (12, 0, 12)
    assert edge_store.count("photos") == 12


def test_a_changed_image_or_sidecar_is_re_embedded(image_folder, clip_embedder, edge_store):
    folder, _ = image_folder
    run(folder, clip_embedder, edge_store)
    (folder / "red-circle-on-white.jpg").write_bytes(
        encode(draw(SampleImage("square", "red", "white")), "JPEG")
    )
    sidecar = next(folder.glob("*.txt"))
    sidecar.write_text("an entirely new caption\n")
    os.utime(sidecar, ns=(10**18, 10**18))
    again = run(folder, clip_embedder, edge_store)
    assert (again.written, again.unchanged) == (2, 10)
    assert edge_store.count("photos") == 12
    hits = Retriever(edge_store, clip_embedder, collection="photos").search(
        "an entirely new caption", k=1, mode="keyword"
    )
    assert hits[0].caption == "an entirely new caption"


def test_bad_files_are_reported_and_the_rest_lands(
    image_folder, clip_embedder, edge_store, tmp_path
):
    folder, _ = image_folder
    (folder / "empty.jpg").write_bytes(b"")
    good = (folder / "red-circle-on-white.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (folder / "notes.png").write_text("this is not a picture")
    (folder / "broken.png").write_bytes(encode(draw(SampleImage("circle", "red", "gray")), "PNG"))
    (folder / "broken.json").write_text("{not json")
    (folder / "README.md").write_text("about these pictures")
    letters = JsonlDeadLetters(tmp_path / "dead", "photos")
    summary = run(folder, clip_embedder, edge_store, dead_letters=letters)
    assert summary.balanced
    assert (summary.seen, summary.written, summary.ignored, summary.failed) == (17, 12, 1, 4)
    reasons = {failure.uri.rsplit("/", 1)[-1]: failure.reason for failure in summary.failures}
    assert reasons == {
        "empty.jpg": "empty_object",
        "truncated.jpg": "corrupt_image",
        "notes.png": "unsupported_format",
        "broken.png": "sidecar_error",
    }
    messages = {f.uri.rsplit("/", 1)[-1]: f.message for f in summary.failures}
    assert "0 bytes" in messages["empty.jpg"]
    assert "truncated" in messages["truncated.jpg"]
    assert "looks like text" in messages["notes.png"]
    assert "broken.json is not valid JSON" in messages["broken.png"]
    assert {f.uri for f in letters.read()} == {f.uri for f in summary.failures}
    assert edge_store.count("photos") == 12


def test_self_retrieval_by_image_and_by_exact_caption(image_folder, clip_embedder, edge_store):
    folder, captions = image_folder
    run(folder, clip_embedder, edge_store)
    retriever = Retriever(edge_store, clip_embedder, collection="photos")
    for name, caption in captions.items():
        uri = (folder / name).resolve().as_uri()
        by_image = retriever.search(image=folder / name, k=3, mode="dense", vectors=[IMAGE])
        assert by_image[0].source_uri == uri
        assert by_image[0].score == pytest.approx(1.0, abs=1e-3)
        by_caption = retriever.search(caption, k=3, vectors=[CAPTION])
        assert by_caption[0].source_uri == uri  # first in the caption and keyword channels


def test_tenant_is_stamped_and_scopes_queries(image_folder, clip_embedder, edge_store, tmp_path):
    folder, _ = image_folder
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    run(folder, clip_embedder, edge_store, tenant="acme")
    run(other, clip_embedder, edge_store, tenant="globex")
    assert edge_store.count("photos", tenant="acme") == 12
    hits = Retriever(edge_store, clip_embedder, collection="photos", tenant="globex").search(
        "a red circle", k=24
    )
    assert len(hits) == 12
    assert {hit.payload["tenant"] for hit in hits} == {"globex"}


def test_a_different_model_cannot_write_into_the_collection(
    image_folder, clip_embedder, edge_store
):
    from tests.support.fakes import HashEmbedder

    folder, _ = image_folder
    run(folder, clip_embedder, edge_store)
    with pytest.raises(SchemaMismatch, match=r"hash:sha256 \(16-d\)"):
        run(folder, HashEmbedder(dimension=16), edge_store)
