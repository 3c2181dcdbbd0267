"""The query module on a collection the pipeline wrote: semantics, tenancy, reranking, the
framework retrievers, the CLI and the pictures behind hits."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from PIL import Image

from mmingest.connectors.rerankers import CohereReranker
from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.flows.cli import main
from mmingest.pipelines.ingest import ingest
from mmingest.pipelines.query import Retriever, display_uri
from mmingest.pipelines.reference_policy import UnsafeReference
from mmingest.pipelines.samples import write_images, write_pdfs
from mmingest.schemas.config import SourceConfig
from mmingest.schemas.errors import ConfigError, InvalidInput, RateLimited
from mmingest.schemas.filters import between, eq, words
from mmingest.schemas.points import CAPTION, IMAGE, KEYWORDS
from mmingest.schemas.query import Hit
from mmingest.schemas.settings import Settings
from tests.emulators.providers import CohereEmulator
from tests.support.fakes import HashEmbedder

pytestmark = pytest.mark.timeout(120)
KEY = "rerank-test-key"


@pytest.fixture
def corpus(tmp_path, edge_store):
    """Images and PDF pages, written by the pipeline for tenants acme and globex (each from
    its own folder: point ids derive from source URIs, not tenants)."""
    embedder = HashEmbedder(32)
    for tenant in ("globex", "acme"):
        folder = tmp_path / tenant
        captions = write_images(folder / "images", 8)
        write_pdfs(folder / "docs")
        summary = ingest(
            LocalFolderSource(folder), embedder, edge_store, collection="media", tenant=tenant
        )
        assert (summary.written, summary.failed) == (summary.seen, 0), summary
    return folder, captions, embedder, edge_store


def test_a_text_query_is_embedded_once_and_fuses_every_channel(corpus):
    _, captions, embedder, store = corpus
    retriever = Retriever(store, embedder, collection="media", tenant="acme")
    caption = sorted(captions.values())[0]
    before = list(embedder.calls)
    query = retriever.build_query(caption, k=5)
    assert embedder.calls[len(before) :] == [("texts", 1)]
    assert [probe.vector_name for probe in query.dense] == [IMAGE, CAPTION]
    assert query.keyword_text == caption
    exact = retriever.search(caption, k=5, mode="dense", vectors=[CAPTION])
    assert exact[0].caption == caption and exact[0].score == pytest.approx(1.0, abs=1e-5)
    hits = retriever.search(caption, k=5)
    assert caption in {hit.caption for hit in hits}
    assert {hit.payload["tenant"] for hit in hits} == {"acme"}


def test_an_image_query_searches_both_vectors(corpus):
    folder, captions, embedder, store = corpus
    retriever = Retriever(store, embedder, collection="media", tenant="acme")
    name = sorted(captions)[0]
    query = retriever.build_query(image=folder / "images" / name, k=3)
    assert [probe.vector_name for probe in query.dense] == [IMAGE, CAPTION]
    assert query.keyword_text is None
    both = retriever.build_query("a caption", folder / "images" / name, k=3)
    assert len(both.dense) == 4 and both.keyword_text == "a caption"


def test_filters_weights_and_modes(corpus):
    _, _, embedder, store = corpus
    retriever = Retriever(store, embedder, collection="media", tenant="acme")
    pages = retriever.search("umbrella inventory report", k=50, filters=eq("kind", "pdf_page"))
    assert pages and {hit.kind for hit in pages} == {"pdf_page"}
    later = retriever.search("report", k=50, filters=between("page", gte=2))
    assert later and all(hit.page >= 2 for hit in later)
    worded = retriever.search("anything", k=50, mode="dense", filters=words("caption", "Yellow"))
    assert worded and all("yellow" in (hit.caption or "").lower().split() for hit in worded)
    weighted = retriever.build_query("x", weights={KEYWORDS: 3, CAPTION: 0.5})
    assert weighted.keyword_weight == 3
    assert {p.vector_name: p.weight for p in weighted.dense} == {IMAGE: 1.0, CAPTION: 0.5}
    keyword_only = retriever.search("umbrella", k=5, mode="keyword")
    assert keyword_only
    for fusion in ("rrf", "dbsf", "weighted"):
        assert retriever.search("umbrella", k=3, fusion=fusion)


def test_a_bound_tenant_cannot_be_left(corpus):
    _, _, embedder, store = corpus
    retriever = Retriever(store, embedder, collection="media", tenant="acme")
    with pytest.raises(ConfigError, match="bound to tenant 'acme'"):
        retriever.search("umbrella", tenant="globex")
    hits = retriever.search("umbrella", k=100, filters=~eq("kind", "nothing"))
    assert hits and {hit.payload["tenant"] for hit in hits} == {"acme"}
    unbound = Retriever(store, embedder, collection="media")
    assert {h.payload["tenant"] for h in unbound.search("umbrella", k=100, tenant="globex")} == {
        "globex"
    }


def test_clear_errors(corpus, tmp_path):
    _, _, embedder, store = corpus
    retriever = Retriever(store, embedder, collection="media")
    with pytest.raises(ConfigError, match="unknown filter field 'colour'"):
        retriever.search("x", filters=eq("colour", "red"))
    with pytest.raises(ConfigError, match="weights name channels"):
        retriever.search("x", weights={"pixels": 2})
    corrupt = tmp_path / "broken.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with pytest.raises(InvalidInput, match=r"broken|corrupt|truncated|cannot|not"):
        retriever.search(image=corrupt)
    with pytest.raises(ConfigError, match="does not exist"):
        retriever.search(image=tmp_path / "missing.png")
    with pytest.raises(ConfigError, match="needs a text, an image or both"):
        retriever.search("   ")


def test_a_query_vector_without_a_direction_is_refused(corpus):
    _, _, _, store = corpus

    class Broken(HashEmbedder):
        def embed_texts(self, texts, *, kind=None):
            vectors = super().embed_texts(texts)
            vectors[:, 0] = float("nan")
            return vectors

    retriever = Retriever(store, Broken(32), collection="media")
    with pytest.raises(InvalidInput, match="query text that has NaN or infinite components"):
        retriever.search("a red circle", mode="dense")


def test_empty_collection_and_k_beyond_it(tmp_path, edge_store):
    embedder = HashEmbedder(32)
    from mmingest.schemas.collection import CollectionSpec

    edge_store.ensure_collection(CollectionSpec.for_embedder("empty", embedder.info))
    assert Retriever(edge_store, embedder, collection="empty").search("anything") == []
    write_images(tmp_path / "few", 3)
    ingest(LocalFolderSource(tmp_path / "few"), embedder, edge_store, collection="few")
    assert len(Retriever(edge_store, embedder, collection="few").search("a", k=1000)) == 3


def test_async_twin_matches(corpus):
    _, _, embedder, store = corpus
    retriever = Retriever(store, embedder, collection="media", tenant="acme")
    sync_hits = retriever.search("umbrella", k=5)
    async_hits = asyncio.run(retriever.asearch("umbrella", k=5))
    assert [h.id for h in async_hits] == [h.id for h in sync_hits]


def test_a_reranker_reorders_candidates(corpus):
    _, _, embedder, store = corpus

    def by_length(query: str, hits):
        return sorted(hits, key=lambda hit: len(hit.caption or ""))

    retriever = Retriever(store, embedder, collection="media", tenant="acme", reranker=by_length)
    hits = retriever.search("umbrella page", k=4)
    assert len(hits) == 4
    lengths = [len(hit.caption or "") for hit in hits]
    assert lengths == sorted(lengths)


def test_cohere_rerank_through_the_sdk(corpus):
    _, _, embedder, store = corpus
    with CohereEmulator(api_key=KEY) as emulator:
        reranker = CohereReranker(api_key=KEY, base_url=emulator.base_url)
        retriever = Retriever(store, embedder, collection="media", tenant="acme", reranker=reranker)
        hits = retriever.search("annual umbrella inventory", k=3, filters=eq("kind", "pdf_page"))
        request = emulator.requests[-1]
        assert request.path.endswith("/v2/rerank")
        assert request.body["model"] == "rerank-v3.5"
        assert request.body["query"] == "annual umbrella inventory"
        assert len(request.body["documents"]) > 3  # the candidates, not just k
        assert len(hits) == 3
        assert hits[0].score >= hits[1].score >= hits[2].score
        words_of = {"annual", "umbrella", "inventory"}
        assert hits[0].score == pytest.approx(
            len(words_of & set((hits[0].caption or "").lower().split())) / 3
        )
        emulator.fail_next(1, 429)
        with pytest.raises(RateLimited) as raised:
            retriever.search("annual umbrella inventory", k=3)
        assert KEY not in str(raised.value)
        reranker.close()


def test_langchain_retriever_runs_the_frameworks_own_call(corpus):
    pytest.importorskip("langchain_core")
    from mmingest.pipelines.integrations.langchain import MmingestRetriever

    _, _, embedder, store = corpus
    retriever = Retriever(store, embedder, collection="media", tenant="acme")
    lc = MmingestRetriever(
        retriever=retriever, k=3, search_options={"filters": eq("kind", "pdf_page")}
    )
    documents = lc.invoke("umbrella inventory")
    assert len(documents) == 3
    expected = retriever.search("umbrella inventory", k=3, filters=eq("kind", "pdf_page"))
    assert [d.id for d in documents] == [h.id for h in expected]
    assert documents[0].page_content == expected[0].caption
    assert documents[0].metadata["kind"] == "pdf_page"
    assert documents[0].metadata["display_uri"].endswith(f"#page={expected[0].page}")
    again = asyncio.run(lc.ainvoke("umbrella inventory"))
    assert [d.id for d in again] == [d.id for d in documents]


def test_llamaindex_retriever_runs_the_frameworks_own_call(corpus):
    pytest.importorskip("llama_index.core")
    from mmingest.pipelines.integrations.llamaindex import MmingestRetriever

    _, _, embedder, store = corpus
    retriever = Retriever(store, embedder, collection="media", tenant="acme")
    li = MmingestRetriever(retriever, similarity_top_k=4)
    nodes = li.retrieve("umbrella inventory")
    expected = retriever.search("umbrella inventory", k=4)
    assert [n.node.node_id for n in nodes] == [h.id for h in expected]
    assert [n.score for n in nodes] == pytest.approx([h.score for h in expected])
    assert nodes[0].node.metadata["source_uri"] == expected[0].source_uri
    again = asyncio.run(li.aretrieve("umbrella inventory"))
    assert [n.node.node_id for n in again] == [n.node.node_id for n in nodes]


def test_pictures_behind_hits(corpus):
    folder, _, embedder, store = corpus
    # display reads local pictures only from allowed folders (issue 12: one reference policy)
    allowed = SourceConfig(allowed_local_roots=[folder])
    retriever = Retriever(store, embedder, collection="media", tenant="acme", source_config=allowed)
    image_hit = retriever.search("a", k=1, filters=eq("kind", "image"))[0]
    original = retriever.image_bytes(image_hit)
    assert original == (folder / "images" / image_hit.source_uri.rsplit("/", 1)[1]).read_bytes()
    page_hit = retriever.search("umbrella", k=1, filters=eq("kind", "pdf_page"))[0]
    picture = Image.open(io.BytesIO(retriever.image_bytes(page_hit)))
    assert picture.format == "PNG" and picture.width > 10
    assert display_uri(page_hit) == f"{page_hit.source_uri}#page={page_hit.page}"
    product = Hit(id="p", score=1, payload={"kind": "product", "fields": {"images": ["x.jpg"]}})
    assert display_uri(product) == "x.jpg"


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_cli_query_with_filters_and_json(tmp_path, monkeypatch, capsys, tiny_clip_dir):
    monkeypatch.setenv("MMINGEST_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("MMINGEST_EMBEDDER__MODEL", str(tiny_clip_dir))
    monkeypatch.setenv("MMINGEST_EMBEDDING_CACHE__ENABLED", "false")
    write_images(tmp_path / "pics", 4)
    write_pdfs(tmp_path / "pics" / "docs")
    assert _cli(capsys, "ingest", str(tmp_path / "pics"))[0] == 0
    code, out, _ = _cli(
        capsys, "query", "umbrella", "--where", "kind=pdf_page", "--where", "page>=2", "--json"
    )
    assert code == 0
    rows = json.loads(out)
    assert rows and all(row["kind"] == "pdf_page" and row["page"] >= 2 for row in rows)
    code, _, err = _cli(capsys, "query", "umbrella", "--where", "colour=red")
    assert code != 0 and "unknown filter field 'colour'" in err
    code, out, _ = _cli(capsys, "query", "x", "--where", 'kind=x" or 1==1 or "', "--json")
    assert code == 0 and json.loads(out) == []
    with Retriever.from_settings(Settings()) as retriever:
        hits = retriever.search("umbrella", k=3, filters=eq("kind", "pdf_page"))
        assert retriever.collection == "mmingest" and len(hits) == 3
        assert {hit.kind for hit in hits} == {"pdf_page"}


def test_pictures_of_ingested_folders_display_without_a_setting(
    tmp_path, monkeypatch, capsys, tiny_clip_dir
):
    """`mmingest ingest ./pics` then a retriever from the same settings shows the pictures of
    ./pics (the folder is recorded in the state dir), and still nothing outside it."""
    monkeypatch.setenv("MMINGEST_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("MMINGEST_EMBEDDER__MODEL", str(tiny_clip_dir))
    monkeypatch.setenv("MMINGEST_EMBEDDING_CACHE__ENABLED", "false")
    write_images(tmp_path / "pics", 2)
    (tmp_path / "outside.png").write_bytes((tmp_path / "pics").iterdir().__next__().read_bytes())
    assert _cli(capsys, "ingest", str(tmp_path / "pics"), "--dry-run")[0] == 0
    with Retriever.from_settings(Settings()) as retriever:
        assert retriever.source_config.allowed_local_roots == []  # a dry run records nothing
    assert _cli(capsys, "ingest", str(tmp_path / "pics"))[0] == 0
    with Retriever.from_settings(Settings()) as retriever:
        hit = retriever.search("a", k=1, filters=eq("kind", "image"))[0]
        name = hit.source_uri.rsplit("/", 1)[1]
        assert retriever.image_bytes(hit) == (tmp_path / "pics" / name).read_bytes()
        for uri in ((tmp_path / "outside.png").as_uri(), "file:///etc/passwd"):
            tampered = hit.model_copy(update={"payload": {**hit.payload, "source_uri": uri}})
            with pytest.raises(UnsafeReference):
                retriever.image_bytes(tampered)
    with Retriever.from_settings(Settings(collection="other")) as retriever:
        assert retriever.source_config.allowed_local_roots == []  # recorded per collection
