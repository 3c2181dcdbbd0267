"""Issue corpus: every bad input gets its own specific reason and nothing else is lost."""

from __future__ import annotations

import json

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.ingest import Kind, ingest
from mmingest.pipelines.samples import encode
from mmingest.schemas.config import IngestConfig
from tests.support import corpus
from tests.support.fakes import HashEmbedder

GOOD = {
    f"good-{n}.png": encode(corpus.picture(color), "PNG")
    for n, color in enumerate(["red", "blue", "green", "yellow"])
}

BAD_MEDIA = {
    "truncated.jpg": (corpus.truncated_jpeg(), "corrupt_image", "truncated"),
    "zero.jpg": (b"", "empty_object", "0 bytes"),
    "text.png": (b"just some text, not a picture\n", "unsupported_format", "looks like text"),
    "bomb.png": (
        corpus.png_header_only(60_000, 60_000),
        "decompression_bomb",
        "3,600,000,000 pixels",
    ),
    "encrypted.pdf": (corpus.encrypted_pdf(), "pdf_error", "encrypted"),
    "truncated.pdf": (corpus.truncated_pdf(), "pdf_error", "not a readable PDF"),
    "zero-pages.pdf": (corpus.zero_page_pdf(), "pdf_error", "has no pages"),
}
ODD_BUT_FINE = {
    "cmyk.jpg": corpus.cmyk_jpeg(),
    "deep.png": corpus.png_16_bit(),
    "animated.gif": corpus.animated_gif(),
    "two-pages.pdf": corpus.simple_pdf(2),
}


def test_media_corpus(tmp_path, edge_store, ledger):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, data in {**GOOD, **ODD_BUT_FINE}.items():
        (folder / name).write_bytes(data)
    for name, (data, _, _) in BAD_MEDIA.items():
        (folder / name).write_bytes(data)
    (folder / "latin1.txt").write_bytes(b"caf\xe9")  # orphan sidecar: ignored
    (folder / "good-0.txt").write_bytes(b"a caption in caf\xe9 latin-1")  # bad sidecar: fails
    summary = ingest(
        LocalFolderSource(folder),
        HashEmbedder(),
        edge_store,
        collection="corpus",
        config=IngestConfig(batch_size=3),
    )
    ledger.bad_inputs(len(BAD_MEDIA) + len(ODD_BUT_FINE) + 2)  # + two bad sidecars
    ledger.outcome(summary)
    reasons = {f.uri.rsplit("/", 1)[1]: (f.reason, f.message) for f in summary.failures}
    for name, (_, reason, message) in BAD_MEDIA.items():
        assert reasons[name][0] == reason, name
        assert message in reasons[name][1], name
    assert reasons["good-0.png"] == ("sidecar_error", reasons["good-0.png"][1])
    assert "not UTF-8" in reasons["good-0.png"][1]
    assert len(reasons) == len(BAD_MEDIA) + 1
    # 3 good images + cmyk + 16-bit + gif + 2 pages
    assert summary.written == 3 + 3 + 2
    assert summary.ignored == 1
    assert edge_store.count("corpus") == summary.written


def test_catalog_corpus(tmp_path, edge_store, ledger):
    folder = tmp_path / "catalogs"
    (folder / "img").mkdir(parents=True)
    (folder / "img" / "ok.png").write_bytes(GOOD["good-1.png"])
    (folder / "missing-columns.csv").write_text("sku,name\n1,mug\n")
    (folder / "broken-row.csv").write_text(
        'id,title,description,image\n1,Mug,A mug,img/ok.png\n2,"unclosed,quote\n'
    )
    (folder / "latin1.csv").write_bytes(b"id,title,description,image\n1,Caf\xe9,,img/ok.png\n")
    (folder / "internal-url.jsonl").write_text(
        json.dumps({"id": "x", "title": "Internal", "image": "http://127.0.0.1/secret.png"}) + "\n"
    )
    summary = ingest(
        LocalFolderSource(folder),
        HashEmbedder(),
        edge_store,
        collection="shop",
        kinds=[Kind.PRODUCTS],
    )
    ledger.bad_inputs(4)  # missing columns, broken row, latin-1, internal URL
    ledger.outcome(summary)
    failures = {f.uri.rsplit("/", 1)[1]: f.message for f in summary.failures}
    assert "has no column 'id'" in failures["missing-columns.csv"]
    assert any(uri.startswith("broken-row.csv") for uri in failures)
    assert "not UTF-8" in failures["latin1.csv#row=2"]
    (warning,) = summary.warnings
    assert "127.0.0.1 is a loopback address" in warning.message
    assert summary.written == 2  # the mug, and the internal-url record by its caption
