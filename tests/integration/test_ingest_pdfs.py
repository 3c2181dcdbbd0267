"""PDF ingestion: one point per page, specific reasons for every broken document."""

from __future__ import annotations

import os

import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.ingest import ingest_pdfs
from mmingest.pipelines.samples import write_pdfs
from mmingest.schemas import HybridQuery, point_id
from mmingest.schemas.config import IngestConfig, PdfConfig
from mmingest.schemas.points import IMAGE
from tests.support import corpus
from tests.support.fakes import HashEmbedder

CONFIG = IngestConfig(batch_size=2)


def run(folder, store, **options):
    return ingest_pdfs(
        LocalFolderSource(folder),
        HashEmbedder(),
        store,
        collection="docs",
        config=CONFIG,
        **options,
    )


def test_every_page_becomes_a_point_with_text_title_and_image(tmp_path, edge_store):
    folder = tmp_path / "pdfs"
    write_pdfs(folder)
    summary = run(folder, edge_store)
    assert (summary.seen, summary.written, summary.failed) == (9, 9, 0)
    hits = edge_store.query("docs", HybridQuery(keyword_text="yellow umbrellas", k=3))
    top = hits[0]
    assert top.kind == "pdf_page"
    assert top.page == 1
    assert top.payload["title"] == "Quarterly report"
    assert top.source_uri.endswith("quarterly-report.pdf")
    assert "Sales of yellow umbrellas doubled" in top.caption
    assert top.payload["fields"]["page_count"] == 4
    stored = edge_store.fetch_hashes("docs", [point_id(top.source_uri, "4")])
    assert len(stored) == 1


def test_rerun_skips_unchanged_documents_without_opening_them(tmp_path, edge_store):
    folder = tmp_path / "pdfs"
    write_pdfs(folder)
    first = run(folder, edge_store)
    # Counted in pages, like the first run (the stored page ids say how many; nothing is read).
    reads: list[str] = []
    source = LocalFolderSource(folder)
    original = source.read

    async def counted(key, **options):
        reads.append(key)
        return await original(key, **options)

    source.read = counted  # type: ignore[method-assign]
    again = ingest_pdfs(source, HashEmbedder(), edge_store, collection="docs")
    assert (again.seen, again.unchanged, again.written) == (first.seen, first.seen, 0)
    assert first.seen == edge_store.count("docs") > 3 and reads == []

    # A document of more pages than one lookup covers is counted in full too.
    big = tmp_path / "big"
    big.mkdir()
    (big / "long.pdf").write_bytes(corpus.simple_pdf(70))
    assert run(big, edge_store).seen == 70
    assert run(big, edge_store).unchanged == 70


def test_a_shorter_new_version_drops_its_old_pages(tmp_path, edge_store):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    document = folder / "doc.pdf"
    document.write_bytes(corpus.simple_pdf(5))
    run(folder, edge_store)
    assert edge_store.count("docs") == 5
    document.write_bytes(corpus.simple_pdf(2, title="Second edition"))
    os.utime(document, ns=(10**18, 10**18))
    summary = run(folder, edge_store)
    assert (summary.written, summary.deleted) == (2, 3)
    assert edge_store.count("docs") == 2


@pytest.mark.parametrize(
    ("name", "data", "reason", "message"),
    [
        ("encrypted.pdf", corpus.encrypted_pdf(), "pdf_error", "encrypted (set pdf.password)"),
        ("truncated.pdf", corpus.truncated_pdf(), "pdf_error", "not a readable PDF"),
        ("zero-pages.pdf", corpus.zero_page_pdf(), "pdf_error", "has no pages"),
        ("empty.pdf", b"", "empty_object", "the object is empty (0 bytes)"),  # issue 12
        ("text.pdf", b"hello, not a pdf", "pdf_error", "not a readable PDF"),
    ],
)
def test_broken_documents_fail_alone_with_their_reason(
    tmp_path, edge_store, name, data, reason, message
):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "good.pdf").write_bytes(corpus.simple_pdf(2))
    (folder / name).write_bytes(data)
    summary = run(folder, edge_store)
    assert summary.balanced
    assert (summary.written, summary.failed) == (2, 1)
    (failure,) = summary.failures
    assert failure.uri.endswith(name)
    assert failure.reason == reason
    assert message in failure.message


def test_password_opens_encrypted_documents_and_never_leaks(tmp_path, edge_store, caplog):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "locked.pdf").write_bytes(corpus.encrypted_pdf("s3cr3t-canary"))
    summary = run(folder, edge_store, pdf=PdfConfig(password="s3cr3t-canary"))
    assert (summary.written, summary.failed) == (2, 0)
    wrong = run(folder, edge_store, pdf=PdfConfig(password="nope", dpi=50))
    assert "the configured pdf.password is wrong" in wrong.failures[0].message
    assert "s3cr3t-canary" not in caplog.text + wrong.model_dump_json()
    assert "s3cr3t-canary" not in repr(PdfConfig(password="s3cr3t-canary"))


def test_page_limit_and_huge_page_boxes(tmp_path, edge_store):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "long.pdf").write_bytes(corpus.simple_pdf(6))
    (folder / "poster.pdf").write_bytes(corpus.huge_page_pdf())
    summary = run(folder, edge_store, pdf=PdfConfig(max_pages=5, max_pixels=250_000))
    assert summary.failures[0].uri.endswith("long.pdf")
    assert "6 pages, over pdf.max_pages = 5" in summary.failures[0].message
    assert summary.written == 1
    poster = edge_store.query("docs", HybridQuery(keyword_text="page", k=1))[0]
    assert poster.source_uri.endswith("poster.pdf")
    vectors = edge_store.fetch_hashes("docs", [poster.id])
    assert vectors  # rendered within the budget instead of allocating 200x200 inches
    assert IMAGE == "image"
