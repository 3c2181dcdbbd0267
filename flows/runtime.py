"""Build the configured store, embedder and dead-letter sink from Settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mmingest.connectors.embedders import Embedder, build_embedder
from mmingest.connectors.embedders.cache import cached
from mmingest.connectors.stores import VectorStore, build_store
from mmingest.pipelines.deadletters import JsonlDeadLetters
from mmingest.schemas.settings import Settings


@dataclass
class Runtime:
    """The backends one command works with."""

    settings: Settings
    store: VectorStore
    embedder: Embedder | None

    @property
    def dead_letters(self) -> JsonlDeadLetters:
        """Where failed objects of the configured collection are recorded."""
        return JsonlDeadLetters(self.settings.state_dir / "dead-letters", self.settings.collection)


def open_embedder(settings: Settings) -> Embedder:
    """The configured embedder, behind the embedding cache unless that is disabled."""
    embedder = build_embedder(settings.embedder)
    cache = settings.embedding_cache
    if not cache.enabled or cache.path is None:
        return embedder
    try:
        return cached(embedder, cache.path)
    except BaseException:
        embedder.close()
        raise


@contextmanager
def open_runtime(settings: Settings, *, with_embedder: bool = True) -> Iterator[Runtime]:
    """Open the store and load the embedder (unless the store embeds server-side), closing
    both afterwards."""
    store = build_store(settings.store)
    try:
        needs_embedder = with_embedder and not store.capabilities.server_side_vectors
        embedder = open_embedder(settings) if needs_embedder else None
        try:
            yield Runtime(settings=settings, store=store, embedder=embedder)
        finally:
            if embedder is not None:
                embedder.close()
    finally:
        store.close()
