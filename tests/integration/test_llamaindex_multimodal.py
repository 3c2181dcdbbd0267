"""The LlamaIndex retriever through LlamaIndex's own calls: ImageNodes for pictures, image
queries (``QueryBundle.image_path``), the multimodal retriever interface, prompts that show the
caption and source only, and a query engine answering from it."""

from __future__ import annotations

import asyncio
import base64
import io

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core.base.llms.generic_utils import image_node_to_image_block
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import ImageNode, MetadataMode, QueryBundle
from PIL import Image

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.ingest import ingest
from mmingest.pipelines.integrations.llamaindex import MmingestRetriever
from mmingest.pipelines.query import Retriever
from mmingest.pipelines.samples import write_images, write_pdfs
from mmingest.schemas.config import SourceConfig
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.filters import eq
from tests.support.fakes import HashEmbedder

QUERY = "umbrella inventory"


@pytest.fixture
def media(tmp_path, edge_store):
    embedder = HashEmbedder(32)
    captions = write_images(tmp_path / "media" / "images", 8)
    write_pdfs(tmp_path / "media" / "docs")
    summary = ingest(LocalFolderSource(tmp_path / "media"), embedder, edge_store, collection="m")
    assert summary.failed == 0, summary
    # Display reads local pictures only from allowed folders (the reference policy).
    allowed = SourceConfig(allowed_local_roots=[tmp_path / "media"])
    retriever = Retriever(edge_store, embedder, collection="m", source_config=allowed)
    return retriever, tmp_path / "media", captions


def test_hits_with_pictures_are_image_nodes(media):
    retriever, folder, _ = media
    nodes = MmingestRetriever(retriever, similarity_top_k=30).retrieve(QUERY)
    assert len(nodes) == len(retriever.search(QUERY, k=30))
    assert all(isinstance(n.node, ImageNode) for n in nodes)
    image = next(n.node for n in nodes if n.node.metadata["kind"] == "image")
    assert image.image_path and image.image_path.startswith(str(folder / "images"))
    assert image.image_mimetype and image.image_mimetype.startswith("image/")
    assert image_node_to_image_block(image) is not None  # LlamaIndex can load the picture
    page = next(n.node for n in nodes if n.node.metadata["kind"] == "pdf_page")
    assert page.image_url == f"{page.metadata['source']}#page={page.metadata['page']}"
    # Outside the allowed folders LlamaIndex gets no path to read (a payload cannot name one).
    closed = Retriever(retriever.store, retriever.embedder, collection="m")
    node = MmingestRetriever(closed, similarity_top_k=30).retrieve(QUERY)
    image = next(n.node for n in node if n.node.metadata["kind"] == "image")
    assert isinstance(image, ImageNode) and image.image_path is None


def test_include_pictures_renders_pdf_pages(media):
    retriever, _, _ = media
    li = MmingestRetriever(retriever, similarity_top_k=3, filters=eq("kind", "pdf_page"))
    nodes = li.retrieve(QUERY)
    assert len(nodes) == 3 and all(n.node.image is None for n in nodes)
    rendered = MmingestRetriever(
        retriever, similarity_top_k=3, filters=eq("kind", "pdf_page"), include_pictures=True
    ).retrieve(QUERY)
    picture = Image.open(io.BytesIO(base64.b64decode(rendered[0].node.image)))
    assert picture.format == "PNG" and rendered[0].node.image_mimetype == "image/png"


def test_image_queries_through_query_bundle_and_the_multimodal_interface(media):
    retriever, folder, captions = media
    name = sorted(captions)[0]
    path = str(folder / "images" / name)
    li = MmingestRetriever(retriever, similarity_top_k=4, image_similarity_top_k=2)
    by_bundle = li.retrieve(QueryBundle(query_str="", image_path=path))
    expected = retriever.search(image=path, k=4)
    assert [n.node.node_id for n in by_bundle] == [h.id for h in expected]
    by_image = li.image_to_image_retrieve(path)
    expected = retriever.search(image=path, k=2, mode="dense", vectors=["image"])
    assert [n.node.node_id for n in by_image] == [h.id for h in expected]
    assert by_image[0].node.image_path == path
    by_text = li.text_to_image_retrieve(captions[name])
    assert len(by_text) == 2
    texts = li.text_retrieve(captions[name])
    assert len(texts) == 4 and texts[0].node.text == captions[name]
    again = asyncio.run(li.aimage_to_image_retrieve(path))
    assert [n.node.node_id for n in again] == [n.node.node_id for n in by_image]
    assert len(asyncio.run(li.atext_to_image_retrieve(captions[name]))) == 2
    assert len(asyncio.run(li.atext_retrieve(captions[name]))) == 4
    with pytest.raises(ConfigError, match="query_str, image_path"):
        li.retrieve(QueryBundle(query_str=" "))


def test_prompts_show_caption_and_source_not_ids_hashes_or_scores(media):
    retriever, _, _ = media
    node = MmingestRetriever(retriever, similarity_top_k=1).retrieve(QUERY)[0].node
    prompt = node.get_content(metadata_mode=MetadataMode.LLM)
    assert node.text in prompt and f"source: {node.metadata['source']}" in prompt
    for key in ("id", "score", "content_hash", "display_uri", "source_uri"):
        assert key in node.metadata and f"{key}: " not in prompt
    # The framework's query engine builds its prompt from the same nodes (MockLLM echoes it).
    engine = RetrieverQueryEngine.from_args(
        MmingestRetriever(retriever, similarity_top_k=2), llm=MockLLM()
    )
    response = engine.query(QUERY)
    assert len(response.source_nodes) == 2
    assert node.metadata["content_hash"] not in str(response)


def test_unknown_options_and_bad_top_k_are_refused(media):
    retriever, _, _ = media
    with pytest.raises(ConfigError, match="unknown search option"):
        MmingestRetriever(retriever, search_options={"filter": eq("kind", "image")})
    with pytest.raises(ConfigError, match="similarity_top_k"):
        MmingestRetriever(retriever, similarity_top_k=0)
