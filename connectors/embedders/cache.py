"""An embedding cache: identical content is embedded, and paid for, once.

:class:`CachedEmbedder` wraps any :class:`~mmingest.connectors.embedders.base.Embedder`. Each
input's
key is a SHA-256 over (provider, model, dimension, embedding type, input kind, the weights'
digest of a local model, content hash),
where the content hash covers the text, the image's pixels as the embedder receives them, or
every part of a mixed input. Vectors live in one SQLite file (:class:`EmbeddingCache`) in WAL
mode, shared safely by threads and processes. Keys are only ever values inside that file,
never file names, so nothing an input contains can place a file outside its directory.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar, cast

import numpy as np
from PIL import Image

from mmingest.connectors.embedders.base import Embedder, MixedEmbedder, MixedInput, Vectors
from mmingest.schemas.embedding import EmbedderInfo, EmbedderUsage, InputKind
from mmingest.schemas.errors import CapabilityMissing, ConfigError

log = logging.getLogger(__name__)

X = TypeVar("X")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    key TEXT PRIMARY KEY,
    vector BLOB NOT NULL
) WITHOUT ROWID
"""
_SQL_VARIABLES = 500  # well under SQLite's limit on parameters per statement
_BUSY_TIMEOUT_S = 30.0


class EmbeddingCache:
    """Vectors by key in one SQLite file; thread- and process-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ConfigError(f"embedding cache path {self.path} is a directory, not a file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path,
                timeout=_BUSY_TIMEOUT_S,
                check_same_thread=False,
                isolation_level=None,
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise ConfigError(
                f"embedding cache {self.path} cannot be opened ({error}): delete it, or set "
                "embedding_cache.path elsewhere"
            ) from error

    def get_many(self, keys: Iterable[str], dimension: int) -> dict[str, np.ndarray]:
        """The stored vectors of ``keys`` that have ``dimension`` values."""
        unique = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        try:
            with self._lock:
                for start in range(0, len(unique), _SQL_VARIABLES):
                    chunk = unique[start : start + _SQL_VARIABLES]
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(
                        f"SELECT key, vector FROM embeddings WHERE key IN ({marks})",  # noqa: S608
                        chunk,
                    ).fetchall()
                    for key, blob in rows:
                        vector = np.frombuffer(blob, dtype="<f4")
                        if vector.shape == (dimension,):
                            found[key] = vector.astype(np.float32)
        except sqlite3.Error as error:
            # A cache that cannot be read costs money, not correctness.
            log.warning("embedding cache %s could not be read: %s", self.path, error)
            return {}
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        """Store vectors by key (keys already present keep their vector)."""
        if not items:
            return
        rows = [(key, np.asarray(v, dtype="<f4").tobytes()) for key, v in items.items()]
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany(
                        "INSERT OR IGNORE INTO embeddings (key, vector) VALUES (?, ?)", rows
                    )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as error:
            log.warning("embedding cache %s could not be written: %s", self.path, error)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def text_hash(text: str) -> str:
    """Content hash of a text."""
    return hashlib.sha256(b"text\0" + text.encode("utf-8")).hexdigest()


def image_hash(image: Image.Image) -> str:
    """Content hash of an image's pixels (mode and size included)."""
    digest = hashlib.sha256(f"image\0{image.mode}\0{image.width}x{image.height}\0".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def mixed_hash(item: MixedInput) -> str:
    """Content hash of a mixed input: its parts' hashes, in order."""
    parts = [text_hash(p) if isinstance(p, str) else image_hash(p) for p in item]
    return hashlib.sha256(("mixed\0" + "\0".join(parts)).encode()).hexdigest()


class CachedEmbedder:
    """Any embedder, answering repeated inputs from an :class:`EmbeddingCache`.

    Within one call, duplicates are sent once. Hits and misses are added to the wrapped
    embedder's :meth:`usage`. Closing the wrapper closes the embedder and the cache.
    """

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self.inner = inner
        self.cache = cache
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    @property
    def info(self) -> EmbedderInfo:
        """The wrapped embedder's identity and limits."""
        return self.inner.info

    def usage(self) -> EmbedderUsage:
        """The wrapped embedder's usage plus this cache's hits and misses."""
        with self._lock:
            mine = EmbedderUsage(cache_hits=self._hits, cache_misses=self._misses)
        return self.inner.usage() + mine

    def embed_texts(self, texts: Sequence[str], *, kind: InputKind = InputKind.DOCUMENT) -> Vectors:
        """Embed texts, from the cache where possible."""
        keys = [self._key(str(kind), text_hash(text)) for text in texts]
        return self._through(
            keys, list(texts), lambda batch: self.inner.embed_texts(batch, kind=kind)
        )

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        """Embed images, from the cache where possible."""
        keys = [self._key("image", image_hash(image)) for image in images]
        return self._through(keys, list(images), self.inner.embed_images)

    def embed_mixed(
        self, items: Sequence[MixedInput], *, kind: InputKind = InputKind.DOCUMENT
    ) -> Vectors:
        """Embed mixed inputs (when the wrapped embedder fuses), from the cache where possible."""
        if not self.inner.info.mixed_inputs:
            raise CapabilityMissing(
                f"{self.info.provider}:{self.info.model} cannot fuse texts and images"
            )
        inner = cast(MixedEmbedder, self.inner)
        keys = [self._key(f"mixed-{kind}", mixed_hash(item)) for item in items]
        return self._through(keys, list(items), lambda batch: inner.embed_mixed(batch, kind=kind))

    def close(self) -> None:
        """Close the wrapped embedder and the cache."""
        try:
            self.inner.close()
        finally:
            self.cache.close()

    def _key(self, kind: str, content: str) -> str:
        info = self.inner.info
        identity = [info.provider, info.model, str(info.dimension), info.embedding_type, kind]
        if info.weights is not None:  # a different checkpoint under the same name
            identity.append(info.weights)
        return hashlib.sha256("\0".join((*identity, content)).encode()).hexdigest()

    def _through(
        self, keys: list[str], inputs: list[X], compute: Callable[[list[X]], Vectors]
    ) -> Vectors:
        dimension = self.inner.info.dimension
        if not inputs:
            return np.zeros((0, dimension), dtype=np.float32)
        found = self.cache.get_many(keys, dimension)
        first: dict[str, int] = {}
        for index, key in enumerate(keys):
            if key not in found:
                first.setdefault(key, index)
        if first:
            computed = compute([inputs[index] for index in first.values()])
            fresh = dict(zip(first, computed, strict=True))
            self.cache.put_many(fresh)
            found.update(fresh)
        with self._lock:
            self._misses += len(first)
            self._hits += len(inputs) - len(first)
        return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)


def cached(embedder: Embedder, path: Path) -> CachedEmbedder:
    """``embedder`` behind an embedding cache stored at ``path``."""
    return CachedEmbedder(embedder, EmbeddingCache(path))
