"""The embedding cache: keys, hits and misses, persistence, threads, processes, file layout."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmingest.connectors.embedders.cache import CachedEmbedder, EmbeddingCache, cached
from mmingest.schemas.embedding import EmbedderInfo, InputKind
from mmingest.schemas.errors import CapabilityMissing, ConfigError
from tests.support.fakes import HashEmbedder


def test_hits_misses_and_duplicates_within_a_call(tmp_path):
    inner = HashEmbedder(dimension=8)
    embedder = cached(inner, tmp_path / "cache.sqlite3")
    vectors = embedder.embed_texts(["a", "b", "a"])
    assert inner.calls == [("texts", 2)]
    np.testing.assert_array_equal(vectors[0], vectors[2])
    again = embedder.embed_texts(["b", "c"])
    assert inner.calls[-1] == ("texts", 1)
    np.testing.assert_array_equal(again[0], vectors[1])
    usage = embedder.usage()
    assert (usage.cache_hits, usage.cache_misses) == (2, 3)
    assert usage.requests == 2  # the wrapped embedder's own usage comes along
    assert embedder.info == inner.info
    assert embedder.embed_texts([]).shape == (0, 8)


def test_keys_separate_input_kinds_models_and_dimensions(tmp_path):
    path = tmp_path / "cache.sqlite3"
    inner = HashEmbedder(dimension=8)
    embedder = cached(inner, path)
    embedder.embed_texts(["same"])
    embedder.embed_texts(["same"], kind=InputKind.QUERY)
    assert len(inner.calls) == 2
    wider = HashEmbedder(dimension=16)
    cached(wider, path).embed_texts(["same"])
    assert wider.calls == [("texts", 1)]
    other_model = HashEmbedder(dimension=8)
    other_model._info = EmbedderInfo(provider="hash", model="other", dimension=8)
    cached(other_model, path).embed_texts(["same"])
    assert other_model.calls == [("texts", 1)]


def test_images_are_keyed_by_their_pixels(tmp_path):
    inner = HashEmbedder(dimension=8)
    embedder = cached(inner, tmp_path / "c.sqlite3")
    red = Image.new("RGB", (4, 4), (255, 0, 0))
    embedder.embed_images([red, red.copy(), Image.new("RGB", (4, 4), (0, 0, 255))])
    assert inner.calls == [("images", 2)]


def test_vectors_survive_reopening_and_files_stay_in_their_directory(tmp_path):
    folder = tmp_path / "state"
    path = folder / "embeddings.sqlite3"
    first = cached(HashEmbedder(dimension=8), path)
    stored = first.embed_texts(["../../etc/passwd", "/abs/path", "x\0y"])
    first.close()
    inner = HashEmbedder(dimension=8)
    reopened = cached(inner, path)
    np.testing.assert_array_equal(
        reopened.embed_texts(["../../etc/passwd", "/abs/path", "x\0y"]), stored
    )
    assert inner.calls == []
    reopened.close()
    assert {p.name for p in tmp_path.rglob("*")} <= {
        "state",
        "embeddings.sqlite3",
        "embeddings.sqlite3-wal",
        "embeddings.sqlite3-shm",
    }


def test_threads_share_one_cache(tmp_path):
    embedder = cached(HashEmbedder(dimension=8), tmp_path / "c.sqlite3")
    results: list[np.ndarray] = []

    def work(offset: int) -> None:
        for i in range(20):
            results.append(embedder.embed_texts([f"text {(i + offset) % 25}"]))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80
    assert len(embedder.cache) == len({(i + n) % 25 for n in range(4) for i in range(20)})
    usage = embedder.usage()
    assert usage.cache_hits + usage.cache_misses == 80


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from mmingest.connectors.embedders.cache import cached
    from tests.support.fakes import HashEmbedder
    embedder = cached(HashEmbedder(dimension=8), Path(sys.argv[1]))
    for i in range(200):
        embedder.embed_texts([f"text {i}", f"shared {i % 10}"])
    embedder.close()
    """
)


def test_processes_share_one_cache(tmp_path):
    path = tmp_path / "c.sqlite3"
    root = Path(__file__).resolve().parents[3]
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=root) for _ in range(3)
    ]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0]
    cache = EmbeddingCache(path)
    assert len(cache) == 210
    cache.close()


def test_an_unreadable_cache_file_is_a_clear_configuration_error(tmp_path):
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="cannot be opened"):
        EmbeddingCache(path)
    with pytest.raises(ConfigError, match="is a directory"):
        EmbeddingCache(tmp_path)


def test_mixed_inputs_need_an_embedder_that_fuses(tmp_path):
    embedder = CachedEmbedder(HashEmbedder(), EmbeddingCache(tmp_path / "c.sqlite3"))
    with pytest.raises(CapabilityMissing, match="cannot fuse"):
        embedder.embed_mixed([["text", Image.new("RGB", (2, 2))]])
