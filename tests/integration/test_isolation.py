"""One bad object never stops a run: each becomes its own dead letter and the rest lands.

Grouped by class: hostile structure (deep JSON, lying PDF page trees), damaged pixels,
anything a decoder raises that nobody listed, and empty inputs. Every run is balanced
(``ledger.outcome``) and its deletions still happen.
"""

from __future__ import annotations

import json

import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines import images as images_module
from mmingest.pipelines.ingest import Kind, ingest
from mmingest.pipelines.samples import encode
from mmingest.pipelines.sync import sync
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.errors import AuthenticationFailed
from tests.support import corpus
from tests.support.fakes import HashEmbedder


def _png(color: str) -> bytes:
    return encode(corpus.picture(color), "PNG")


def _failures(summary):
    return {f.uri.rsplit("/", 1)[1]: f for f in summary.failures}


def test_hostile_structure_fails_only_its_object(tmp_path, edge_store, ledger):
    folder = tmp_path / "media"
    folder.mkdir()
    for name in ("a", "b", "c"):
        (folder / f"{name}.png").write_bytes(_png("red" if name == "a" else "green"))
    (folder / "b.json").write_text(corpus.deep_json())  # a caption sidecar 20 KB deep
    (folder / "lying.pdf").write_bytes(corpus.lying_count_pdf(5))
    (folder / "cyclic.pdf").write_bytes(corpus.cyclic_page_tree_pdf())
    (folder / "fine.pdf").write_bytes(corpus.simple_pdf(2))
    summary = ingest(
        LocalFolderSource(folder),
        HashEmbedder(),
        edge_store,
        collection="c",
        config=IngestConfig(batch_size=2),
    )
    ledger.bad_inputs(3)
    ledger.outcome(summary)
    failures = _failures(summary)
    assert failures["b.png"].reason == "sidecar_error"
    assert "more than 64 levels deep" in failures["b.png"].message
    lying = [f for f in summary.failures if "/lying.pdf#page=" in f.uri]
    assert {f.uri.rsplit("/", 1)[1] for f in lying} == {f"lying.pdf#page={n}" for n in (2, 3, 4, 5)}
    assert all("wrong /Count or a damaged or cyclic page tree" in f.message for f in lying)
    assert "cyclic.pdf#page=2" in failures
    # a.png, c.png, fine.pdf's 2 pages, the one real page of each damaged PDF
    assert summary.written == 2 + 2 + 2


def test_deep_json_in_catalogs_fails_its_record(tmp_path, edge_store, ledger):
    folder = tmp_path / "shop"
    folder.mkdir()
    good = {"id": "1", "title": "Mug", "description": "A mug"}
    deep = corpus.deep_json().replace('"caption"', '"title"')
    (folder / "lines.jsonl").write_text(json.dumps(good) + "\n" + deep + "\n")
    (folder / "array.json").write_text(
        "[" + json.dumps({**good, "id": "2"}) + "," + deep.replace("deep", "x") + "]"
    )
    summary = ingest(
        LocalFolderSource(folder),
        HashEmbedder(),
        edge_store,
        collection="shop",
        kinds=[Kind.PRODUCTS],
    )
    ledger.bad_inputs(2)
    ledger.outcome(summary)
    failures = _failures(summary)
    # The JSON-array catalog is too deep for the parser as a whole: one catalog failure.
    assert "levels deep" in failures["lines.jsonl#row=2"].message
    assert "levels deep" in failures["array.json"].message
    assert summary.written == 1


def test_a_moderately_deep_record_in_a_json_array_fails_alone(tmp_path, edge_store, ledger):
    folder = tmp_path / "shop"
    folder.mkdir()
    nested: object = "x"
    for _ in range(100):  # parses fine, but deeper than any real record
        nested = [nested]
    records = [{"id": "1", "title": "Mug"}, {"id": "2", "title": "Cup", "extra": nested}]
    (folder / "array.json").write_text(json.dumps(records))
    summary = ingest(
        LocalFolderSource(folder),
        HashEmbedder(),
        edge_store,
        collection="shop",
        kinds=[Kind.PRODUCTS],
    )
    ledger.bad_inputs(1)
    ledger.outcome(summary)
    assert "item 2 nests JSON values more than 64 levels deep" in (
        _failures(summary)["array.json#row=2"].message
    )
    assert summary.written == 1


def test_damaged_pixels_are_refused_not_half_stored(tmp_path, edge_store, ledger):
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "ok.png").write_bytes(_png("red"))
    (folder / "idat.png").write_bytes(corpus.corrupt_idat_png())
    (folder / "zero-width.png").write_bytes(corpus.zero_width_png())
    (folder / "empty.pdf").write_bytes(b"")
    summary = ingest(LocalFolderSource(folder), HashEmbedder(), edge_store, collection="c")
    ledger.bad_inputs(3)
    ledger.outcome(summary)
    failures = _failures(summary)
    assert failures["idat.png"].reason == "corrupt_image"
    assert failures["zero-width.png"].reason == "corrupt_image"
    assert failures["empty.pdf"].reason == "empty_object"
    assert "0 bytes" in failures["empty.pdf"].message
    assert summary.written == 1


@pytest.mark.parametrize(
    "error",
    [RecursionError("maximum recursion depth"), TypeError("'int' has no len()"), KeyError("k")],
)
def test_anything_a_decoder_raises_fails_that_object_only(
    tmp_path, edge_store, ledger, monkeypatch, error
):
    folder = tmp_path / "media"
    folder.mkdir()
    colours = ["red", "green", "blue", "yellow", "purple"]
    for n, colour in enumerate(colours):
        (folder / f"{n}.png").write_bytes(_png(colour))
    poisoned = _png("blue")
    real_decode = images_module.decode_image

    def decode(data, **options):
        if data == poisoned:
            raise error
        return real_decode(data, **options)

    monkeypatch.setattr("mmingest.pipelines.extract.images.decode_image", decode)
    summary = ingest(
        LocalFolderSource(folder),
        HashEmbedder(),
        edge_store,
        collection="c",
        config=IngestConfig(batch_size=4),
    )
    ledger.bad_inputs(1)
    ledger.outcome(summary)
    (failure,) = summary.failures
    assert failure.uri.endswith("/2.png")
    assert failure.error_type == type(error).__name__
    assert failure.reason == "extraction_failed"
    assert summary.written == 4


def test_run_stopping_errors_still_stop_the_run(tmp_path, edge_store, monkeypatch):
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "a.png").write_bytes(_png("red"))

    def decode(data, **options):
        raise AuthenticationFailed("credentials rejected")

    monkeypatch.setattr("mmingest.pipelines.extract.images.decode_image", decode)
    with pytest.raises(AuthenticationFailed):
        ingest(LocalFolderSource(folder), HashEmbedder(), edge_store, collection="c")


def test_deletions_still_happen_after_an_object_fails(tmp_path, edge_store, ledger, monkeypatch):
    folder = tmp_path / "media"
    folder.mkdir()
    for name, colour in (("keep", "red"), ("gone", "green"), ("bad", "blue")):
        (folder / f"{name}.png").write_bytes(_png(colour))
    source = LocalFolderSource(folder)
    config = IngestConfig(batch_size=8)
    first = sync(source, HashEmbedder(), edge_store, collection="c", config=config)
    assert first.summary.written == 3
    (folder / "gone.png").unlink()
    (folder / "bad.png").write_bytes(corpus.lying_count_pdf())  # now undecodable
    (folder / "new.pdf").write_bytes(corpus.cyclic_page_tree_pdf())
    real_decode = images_module.decode_image

    def decode(data, **options):
        if data.startswith(b"%PDF"):
            raise RecursionError("maximum recursion depth exceeded")
        return real_decode(data, **options)

    monkeypatch.setattr("mmingest.pipelines.extract.images.decode_image", decode)
    report = sync(source, HashEmbedder(), edge_store, collection="c", config=config, force=True)
    ledger.bad_inputs(2)
    ledger.outcome(report.summary)
    assert report.deletions.guarded is None
    assert report.deletions.deleted == 1  # gone.png; bad.png's old point is shielded
    assert edge_store.count("c") == 2 + 1  # keep, bad (old version), new.pdf's page 1
