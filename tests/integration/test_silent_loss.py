"""Silent loss: a document is complete only when every page landed, and every check agrees.

The scenario of issue 12: a 5-page PDF, the provider fails one page's text, batches of 2.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from mmingest.connectors.embedders.cache import cached
from mmingest.connectors.embedders.clip import ClipEmbedder
from mmingest.connectors.embedders.clip import weights as weights_module
from mmingest.connectors.embedders.clip.weights import weights_digest
from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.flows.jobs import settle_dead_letters
from mmingest.pipelines.deadletters import JsonlDeadLetters, object_uri
from mmingest.pipelines.ingest import Ingestion, IngestionConfig, Kind
from mmingest.pipelines.ingest import ingest as ingest_all
from mmingest.pipelines.query import Retriever
from mmingest.pipelines.retry import RetryPolicy
from mmingest.pipelines.samples import write_images
from mmingest.pipelines.sync import sync
from mmingest.schemas import point_id
from mmingest.schemas.config import ClipEmbedderConfig, IngestConfig
from mmingest.schemas.errors import ProviderUnavailable, SchemaMismatch
from tests.support.corpus import simple_pdf
from tests.support.fakes import HashEmbedder
from tests.support.models import build_tiny_clip

CONFIG = IngestConfig(batch_size=2)
FAST = RetryPolicy(attempts=1, base_delay_s=0.0)


class Provider:
    """A hash embedder whose text calls fail while ``broken`` names a page in the batch."""

    def __init__(self) -> None:
        self.broken: str | None = "This is page 3 "
        self.embedder = HashEmbedder(fail=self._fail)

    def _fail(self, what: str, inputs: object) -> None:
        if what == "texts" and self.broken and any(self.broken in str(t) for t in inputs):  # type: ignore[attr-defined]
            raise ProviderUnavailable("the provider is down for this text")


def ingest(folder, store, provider, *, letters=None, only=None, tenant=None):
    return Ingestion(
        LocalFolderSource(folder),
        provider.embedder,
        store,
        IngestionConfig(
            collection="docs",
            ingest=CONFIG,
            kinds=frozenset({Kind.PDFS}),
            retry=FAST,
            tenant=tenant,
        ),
        dead_letters=letters,
    ).run(only=only)


def verify(folder, store, provider):
    return sync(
        LocalFolderSource(folder),
        provider.embedder,
        store,
        collection="docs",
        config=CONFIG,
        kinds=[Kind.PDFS],
        dry_run=True,
        retry=FAST,
    )


def stored_pages(store, uri, pages):
    found = store.fetch_hashes("docs", [point_id(uri, str(n)) for n in range(1, pages + 1)])
    return sorted(n for n in range(1, pages + 1) if point_id(uri, str(n)) in found)


def write(folder, pages):
    folder.mkdir(exist_ok=True)
    path = folder / "doc.pdf"
    path.write_bytes(simple_pdf(pages))
    return LocalFolderSource(folder).uri_of("doc.pdf")


def test_a_document_with_failed_pages_is_not_complete_until_every_page_lands(tmp_path, edge_store):
    folder = tmp_path / "pdfs"
    uri = write(folder, 5)
    provider = Provider()
    letters = JsonlDeadLetters(tmp_path / "letters", "docs")
    first = ingest(folder, edge_store, provider, letters=letters)
    assert first.failed >= 2 and first.written + first.failed == 5
    lost = 5 - len(stored_pages(edge_store, uri, 5))
    assert lost == first.failed

    provider.broken = None  # the fault clears
    check = verify(folder, edge_store, provider)
    assert (check.missing, check.stale, check.summary.unchanged) == (lost, 0, 5 - lost)
    rerun = ingest(folder, edge_store, provider)
    assert (rerun.written, rerun.unchanged, rerun.failed) == (lost, 5 - lost, 0)
    assert stored_pages(edge_store, uri, 5) == [1, 2, 3, 4, 5]
    assert verify(folder, edge_store, provider).missing == 0


def test_retry_failed_restores_every_page_and_only_then_clears_the_letters(tmp_path, edge_store):
    folder = tmp_path / "pdfs"
    uri = write(folder, 5)
    provider = Provider()
    letters = JsonlDeadLetters(tmp_path / "letters", "docs")
    ingest(folder, edge_store, provider, letters=letters)
    uris = {object_uri(f.uri) for f in letters.read()}
    assert uris == {uri}

    # Still failing: the retry must not report success, and the letters stay.
    again: list = []
    retried = ingest(folder, edge_store, provider, letters=_Into(again), only=uris)
    assert retried.failed > 0
    assert settle_dead_letters(letters, uris, again) > 0

    provider.broken = None
    fixed: list = []
    retried = ingest(folder, edge_store, provider, letters=_Into(fixed), only=uris)
    assert retried.failed == 0
    assert settle_dead_letters(letters, uris, fixed) == 0
    assert stored_pages(edge_store, uri, 5) == [1, 2, 3, 4, 5]


def test_verify_checks_every_page_and_fix_restores_only_the_missing_ones(tmp_path, edge_store):
    folder = tmp_path / "pdfs"
    uri = write(folder, 30)
    provider = Provider()
    provider.broken = None
    assert ingest(folder, edge_store, provider).written == 30
    edge_store.delete("docs", [point_id(uri, "17")])  # behind the pipeline's back

    check = verify(folder, edge_store, provider)
    assert (check.missing, check.stale) == (1, 0)
    before = len(provider.embedder.calls)
    fixed = ingest(folder, edge_store, provider)
    assert (fixed.written, fixed.failed) == (1, 0)
    assert sum(n for _, n in provider.embedder.calls[before:]) == 2  # one image, one caption
    assert stored_pages(edge_store, uri, 30) == list(range(1, 31))
    assert verify(folder, edge_store, provider).missing == 0


def test_a_deleted_first_page_is_one_missing_page_not_the_whole_document(tmp_path, edge_store):
    folder = tmp_path / "pdfs"
    uri = write(folder, 3)
    provider = Provider()
    provider.broken = None
    ingest(folder, edge_store, provider)
    edge_store.delete("docs", [point_id(uri, "1")])
    check = verify(folder, edge_store, provider)
    assert (check.missing, check.stale) == (1, 0)
    assert ingest(folder, edge_store, provider).written == 1
    assert verify(folder, edge_store, provider).missing == 0


class _Into:
    def __init__(self, into: list) -> None:
        self.into = into

    def record(self, failure) -> None:
        self.into.append(failure)


# --- wrong data: a query or a cache from another vector space --------------------------------


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory):
    """Two different tiny CLIPs saved in folders with the same name."""
    root = tmp_path_factory.mktemp("checkpoints")
    first = build_tiny_clip(root / "old" / "tiny-clip", seed=1)
    second = build_tiny_clip(root / "new" / "tiny-clip", seed=2)
    return first, second


def clip(path):
    return ClipEmbedder(ClipEmbedderConfig(model=str(path), batch_size=8))


def test_the_retriever_refuses_a_query_embedder_from_another_space(
    tmp_path, edge_store, two_checkpoints
):
    old, new = two_checkpoints
    folder = tmp_path / "pics"
    write_images(folder, 4)
    filled_by = clip(old)
    ingest_all(LocalFolderSource(folder), filled_by, edge_store, collection="pics")
    assert Retriever(edge_store, filled_by, collection="pics").search("a red circle", k=2)

    same_name_other_weights = clip(new)
    assert same_name_other_weights.info.model == filled_by.info.model
    assert same_name_other_weights.info.dimension == filled_by.info.dimension
    other_model = HashEmbedder(filled_by.info.dimension)
    for embedder in (same_name_other_weights, other_model):
        with pytest.raises(SchemaMismatch, match="pics") as refused:
            Retriever(edge_store, embedder, collection="pics").search("a red circle")
        assert "the query embedder" in refused.value.message
    with pytest.raises(SchemaMismatch, match="weights"):
        ingest_all(
            LocalFolderSource(folder), same_name_other_weights, edge_store, collection="pics"
        )


def test_the_embedding_cache_never_serves_another_checkpoints_vectors(tmp_path, two_checkpoints):
    old, new = two_checkpoints
    cache = tmp_path / "cache.sqlite3"
    first = cached(clip(old), cache)
    before = first.embed_texts(["a red circle"])
    first.close()
    second = cached(clip(new), cache)
    after = second.embed_texts(["a red circle"])
    assert second.usage().cache_hits == 0
    assert not np.allclose(before, after)
    again = cached(clip(old), cache)
    assert np.allclose(again.embed_texts(["a red circle"]), before)
    assert again.usage().cache_hits == 1


def test_weights_are_hashed_once_per_file_version(tmp_path, two_checkpoints, monkeypatch):
    old, _ = two_checkpoints
    copy = tmp_path / "tiny-clip"
    shutil.copytree(old, copy)
    first = weights_digest(copy)
    calls = []
    real = weights_module._file_digest
    monkeypatch.setattr(weights_module, "_file_digest", lambda p: calls.append(p) or real(p))
    assert weights_digest(copy) == first and calls == []  # path, size and mtime unchanged
    weights_file = next(copy.glob("*.safetensors"))
    data = bytearray(weights_file.read_bytes())
    data[-1] ^= 1
    weights_file.write_bytes(bytes(data))
    assert weights_digest(copy) != first and calls == [weights_file]


def test_weight_digests_are_remembered_across_processes(tmp_path, two_checkpoints, monkeypatch):
    old, _ = two_checkpoints
    memo = tmp_path / "weights-digests.json"
    first = weights_digest(old, memo=memo)
    assert memo.is_file()
    monkeypatch.setattr(weights_module, "_digests", {})  # a new process
    calls = []
    monkeypatch.setattr(weights_module, "_file_digest", lambda p: calls.append(p) or "x")
    assert weights_digest(old, memo=memo) == first and calls == []
