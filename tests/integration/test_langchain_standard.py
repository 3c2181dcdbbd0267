"""LangChain's own standard retriever tests (``langchain-tests``), run against the LangChain
retriever on a real embedded store (Qdrant Edge) filled by the pipeline, plus what the standard
tests do not cover: per-call filters and options, the constructor's ``filters=`` and the metadata
documents carry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("langchain_tests")

from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests
from pydantic import ValidationError

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.ingest import ingest
from mmingest.pipelines.integrations.langchain import MmingestRetriever
from mmingest.pipelines.query import Retriever
from mmingest.pipelines.samples import write_images, write_pdfs
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.filters import eq
from tests.support.fakes import HashEmbedder

QUERY = "umbrella inventory"


@pytest.fixture
def media(tmp_path, edge_store) -> Retriever:
    """Eight images and the sample PDFs' pages, written by the pipeline."""
    embedder = HashEmbedder(32)
    write_images(tmp_path / "media" / "images", 8)
    write_pdfs(tmp_path / "media" / "docs")
    summary = ingest(LocalFolderSource(tmp_path / "media"), embedder, edge_store, collection="m")
    assert summary.failed == 0 and summary.written > 5, summary
    return Retriever(edge_store, embedder, collection="m")


# The class mark runs the standard suite's async tests (ainvoke) under pytest-asyncio without
# switching the whole suite to asyncio_mode=auto; pytest-asyncio warns that it also lands on the
# suite's sync tests, which it leaves alone (the suite forbids overriding a test to mark it).
@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:The test <Function .*asyncio.* not an async function")
class TestLangChainStandardRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _store(self, media: Retriever) -> None:
        self._retriever = media

    @property
    def retriever_constructor(self) -> type[MmingestRetriever]:
        return MmingestRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"retriever": self._retriever}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


def test_per_call_k_filters_and_options(media):
    lc = MmingestRetriever(retriever=media, k=4)
    assert len(lc.invoke(QUERY)) == 4
    pages = lc.invoke(QUERY, k=2, filters=eq("kind", "pdf_page"))
    assert len(pages) == 2 and {d.metadata["kind"] for d in pages} == {"pdf_page"}
    dense = lc.invoke(QUERY, k=3, mode="dense", vectors=["caption"])
    expected = media.search(QUERY, k=3, mode="dense", vectors=["caption"])
    assert [d.id for d in dense] == [h.id for h in expected]
    again = asyncio.run(lc.ainvoke(QUERY, k=3, mode="dense", vectors=["caption"]))
    assert [d.id for d in again] == [d.id for d in dense]
    with pytest.raises(ConfigError, match="unknown search option"):
        lc.invoke(QUERY, filter=eq("kind", "image"))
    with pytest.raises(ConfigError, match="k must be"):
        lc.invoke(QUERY, k=0)


def test_constructor_filters_apply_and_unknown_arguments_are_refused(media):
    images = MmingestRetriever(retriever=media, k=20, filters=eq("kind", "image"))
    documents = images.invoke(QUERY)
    assert len(documents) == 8 and {d.metadata["kind"] for d in documents} == {"image"}
    # A call's own filters replace the constructor's.
    pages = images.invoke(QUERY, filters=eq("kind", "pdf_page"))
    assert pages and {d.metadata["kind"] for d in pages} == {"pdf_page"}
    with pytest.raises(ValidationError):
        MmingestRetriever(retriever=media, filter=eq("kind", "image"))


def test_documents_carry_source_and_no_none(media):
    documents = MmingestRetriever(retriever=media, k=20).invoke(QUERY)
    assert {d.metadata["kind"] for d in documents} == {"image", "pdf_page"}
    for document in documents:
        assert isinstance(document, Document)
        assert document.metadata["source"] == document.metadata["source_uri"]
        assert document.metadata["source"].startswith("file://")
        assert None not in _values(document.metadata), document.metadata
    image = next(d for d in documents if d.metadata["kind"] == "image")
    assert "page" not in image.metadata
    page = next(d for d in documents if d.metadata["kind"] == "pdf_page")
    assert page.metadata["page"] >= 1


def _values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _values(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _values(item)]
    return [value]
