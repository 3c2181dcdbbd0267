"""Retrieval: a text and/or image query in, fused dense + keyword hits out.

A RAG app imports :class:`Retriever`::

    from mmingest.pipelines.query import Retriever
    from mmingest.schemas.filters import eq, between

    retriever = Retriever(store, embedder, collection="products", tenant="acme")
    hits = retriever.search("red running shoes", k=5, filters=eq("kind", "product"))
    hits = await retriever.asearch(image="query.jpg", k=5)

or builds everything from settings (``MMINGEST_*``, ``.env``, ``mmingest.toml``) with
:meth:`Retriever.from_settings`. Every store answers the same query the same way: the store's
native fusion where it computes exactly the documented formula, the same formulas client-side
where it does not (see :mod:`mmingest.connectors.stores.fusion`).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from PIL import Image

from mmingest.connectors.embedders.base import Embedder, check_vector
from mmingest.connectors.rerankers.base import Reranker
from mmingest.connectors.sources.base import check_size
from mmingest.connectors.stores.base import VectorStore
from mmingest.pipelines.display import read_picture
from mmingest.pipelines.images import decode_image, normalize_image
from mmingest.pipelines.query_image import read_query_image
from mmingest.schemas.collection import EmbedderIdentity
from mmingest.schemas.config import QueryConfig, SourceConfig
from mmingest.schemas.embedding import InputKind
from mmingest.schemas.errors import CollectionNotFound, ConfigError, SchemaMismatch
from mmingest.schemas.filters import Filter
from mmingest.schemas.points import DENSE_VECTORS, KEYWORDS
from mmingest.schemas.query import (
    DenseProbe,
    FusionMethod,
    Hit,
    HybridQuery,
    SearchMode,
    VectorizeProbe,
)
from mmingest.schemas.settings import Settings

ImageInput = bytes | str | Path | Image.Image
"""An image query: encoded bytes, a path to an image file, or a PIL image."""

_QUERY_IMAGE_MAX_PIXELS = 80_000_000


class Retriever:
    """Searches one collection with the embedder that filled it.

    Text queries are embedded once (as queries) and searched against the ``caption`` and
    ``image`` vectors and the keyword channel; image queries against ``image`` and
    ``caption`` (one shared space); text and image together fuse every channel. With a store
    that vectorizes server-side (Weaviate multi2vec) the store embeds the query itself.

    A retriever bound to a ``tenant`` only ever sees that tenant's points: the tenant is
    applied by the store on top of any filter, and a search cannot name another tenant.
    An optional ``reranker`` reorders the fused candidates (see
    :mod:`mmingest.connectors.rerankers`).
    """

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder | None,
        *,
        collection: str,
        tenant: str | None = None,
        reranker: Reranker | None = None,
        rerank_candidates: int = 50,
        on_close: Callable[[], None] | None = None,
        source_config: SourceConfig | None = None,
        max_image_bytes: int = QueryConfig().max_image_bytes,
    ) -> None:
        if embedder is None and not store.capabilities.server_side_vectors:
            raise ConfigError("a retriever needs an embedder unless the store vectorizes")
        self.store = store
        self.embedder = embedder
        self.collection = collection
        self.tenant = tenant
        self.reranker = reranker
        self.rerank_candidates = rerank_candidates
        self._on_close = on_close
        self.source_config = source_config or SourceConfig()
        self.max_image_bytes = max_image_bytes
        self._space_checked = False

    @classmethod
    def from_settings(cls, settings: Settings, *, reranker: Reranker | None = None) -> Self:
        """A retriever over the configured store, collection, tenant and embedder.

        ``Settings()`` reads ``MMINGEST_*``, ``.env`` and ``mmingest.toml``. Close the
        retriever (or use ``with``) to release the store and the model.
        """
        from mmingest.connectors.embedders import build_embedder
        from mmingest.connectors.stores import build_store
        from mmingest.pipelines.local_roots import display_source_config

        store = build_store(settings.store)
        embedder = None
        try:
            if not store.capabilities.server_side_vectors:
                embedder = build_embedder(settings.embedder)
        except BaseException:
            store.close()
            raise

        def close() -> None:
            try:
                if embedder is not None:
                    embedder.close()
            finally:
                store.close()

        return cls(
            store,
            embedder,
            collection=settings.collection,
            tenant=settings.tenant,
            reranker=reranker,
            on_close=close,
            source_config=display_source_config(settings),
            max_image_bytes=settings.query.max_image_bytes,
        )

    # --- searching ---------------------------------------------------------------------------

    def search(
        self,
        text: str | None = None,
        image: ImageInput | None = None,
        *,
        k: int = 10,
        filters: Filter | None = None,
        tenant: str | None = None,
        mode: SearchMode | str = SearchMode.HYBRID,
        vectors: Sequence[str] = DENSE_VECTORS,
        weights: Mapping[str, float] | None = None,
        fusion: FusionMethod | str = FusionMethod.RRF,
    ) -> list[Hit]:
        """The ``k`` best hits for ``text`` and/or ``image``, best first.

        ``filters`` restricts every channel (see :mod:`mmingest.schemas.filters`); ``tenant`` picks
        a
        tenant when the retriever is not bound to one. ``mode`` picks the channels:
        ``hybrid`` (dense + keyword), ``dense`` or ``keyword`` (text only); ``vectors`` the
        named vectors the dense channels search; ``weights`` a weight per channel
        (``caption``, ``image``, ``keywords``; default 1 each); ``fusion`` how channels
        combine: ``rrf`` (ranks), ``dbsf`` (scores normalised by their spread) or
        ``weighted`` (min-max normalised scores, weighted sum).

        Raises :class:`~mmingest.schemas.errors.ConfigError` for an empty query, an unknown vector,
        channel or filter field, or another tenant than the bound one, and
        :class:`~mmingest.schemas.errors.InvalidInput` for an unreadable image.
        """
        query = self.build_query(
            text,
            image,
            k=self._fetch_k(k, text),
            filters=filters,
            tenant=tenant,
            mode=mode,
            vectors=vectors,
            weights=weights,
            fusion=fusion,
        )
        hits = self.store.query(self.collection, query)
        if self.reranker is not None and text and text.strip() and hits:
            hits = self.reranker(text.strip(), hits)
        return hits[:k]

    async def asearch(
        self,
        text: str | None = None,
        image: ImageInput | None = None,
        **options: Any,
    ) -> list[Hit]:
        """:meth:`search` without blocking the event loop (the embedding model and the store
        client are synchronous, so the work runs in a worker thread)."""
        return await asyncio.to_thread(self.search, text, image, **options)

    def build_query(
        self,
        text: str | None = None,
        image: ImageInput | None = None,
        *,
        k: int = 10,
        filters: Filter | None = None,
        tenant: str | None = None,
        mode: SearchMode | str = SearchMode.HYBRID,
        vectors: Sequence[str] = DENSE_VECTORS,
        weights: Mapping[str, float] | None = None,
        fusion: FusionMethod | str = FusionMethod.RRF,
    ) -> HybridQuery:
        """The store query :meth:`search` runs (query embedding included), for inspection or
        to run it against the store yourself."""
        mode = SearchMode(mode)
        unknown = set(vectors) - set(DENSE_VECTORS)
        if unknown or not vectors:
            raise ConfigError(
                f"vectors must be a non-empty subset of {list(DENSE_VECTORS)}, got {list(vectors)}"
            )
        weights = dict(weights or {})
        channels = {*DENSE_VECTORS, KEYWORDS}
        if set(weights) - channels:
            raise ConfigError(
                f"weights name channels {sorted(channels)}, got {sorted(set(weights) - channels)}"
            )
        if any(weight < 0 for weight in weights.values()):
            raise ConfigError("channel weights cannot be negative")
        text = text.strip() if text else None
        if not text and image is None:
            raise ConfigError("a search needs a text, an image or both")
        if mode is SearchMode.KEYWORD and not text:
            raise ConfigError("keyword search needs a text query")
        dense: list[DenseProbe] = []
        vectorize: list[VectorizeProbe] = []
        if mode is not SearchMode.KEYWORD:
            server_side = self.store.capabilities.server_side_vectors
            picture = _png(self._load_image(image)) if server_side and image is not None else None
            for name in vectors if server_side else ():
                weight = weights.get(name, 1.0)
                if text:
                    vectorize.append(VectorizeProbe(vector_name=name, text=text, weight=weight))
                if picture is not None:
                    vectorize.append(VectorizeProbe(vector_name=name, image=picture, weight=weight))
            if not server_side:
                assert self.embedder is not None
                self._check_space(self.embedder)
                if text:
                    vector = self.embedder.embed_texts([text], kind=InputKind.QUERY)[0]
                    check_vector(vector, "the query text")  # NaN or zeros rank nonsense
                    dense += [
                        DenseProbe(vector_name=name, vector=vector, weight=weights.get(name, 1.0))
                        for name in vectors
                    ]
                if image is not None:
                    vector = self.embedder.embed_images([self._load_image(image)])[0]
                    check_vector(vector, "the query image")
                    dense += [
                        DenseProbe(vector_name=name, vector=vector, weight=weights.get(name, 1.0))
                        for name in vectors
                    ]
        return HybridQuery(
            dense=dense,
            vectorize=vectorize,
            keyword_text=text if mode is not SearchMode.DENSE else None,
            keyword_weight=weights.get(KEYWORDS, 1.0),
            k=k,
            fusion=FusionMethod(fusion),
            tenant=self._tenant(tenant),
            filter=filters,
        )

    def _check_space(self, embedder: Embedder) -> None:
        """Refuse a query embedder whose vectors live in another space than the collection's
        (another provider or model, or the same model name with other weights): its query
        vectors would rank nonsense without any error."""
        if self._space_checked:
            return
        try:
            spec = self.store.collection_spec(self.collection)
        except CollectionNotFound:
            return  # the search itself reports the missing collection
        mine = EmbedderIdentity.of(embedder.info)
        if spec is not None and not spec.embedder.same_space(mine):
            raise SchemaMismatch(
                f"collection {self.collection!r} was filled by {spec.embedder}, but the query "
                f"embedder is {mine}: its vectors are in another space and would rank "
                "nonsense. Configure the embedder that filled the collection (MMINGEST_EMBEDDER__"
                "*), or re-embed the collection with this one (the reembed flow)"
            )
        self._space_checked = True

    # --- results -----------------------------------------------------------------------------

    def image_bytes(self, hit: Hit, *, source_config: SourceConfig | None = None) -> bytes:
        """The picture of a hit, for display: the original image, a PDF page rendered as PNG,
        or a product's first referenced image when it lives in object storage (an
        ``http(s)`` product image is shown from :func:`display_uri` instead).

        Only URIs the reference policy accepts are read, with the retriever's source settings
        (or ``source_config``): local pictures must lie in ``source.allowed_local_roots``.
        Raises :class:`~mmingest.pipelines.reference_policy.UnsafeReference` otherwise."""
        return read_picture(hit, source_config=source_config or self.source_config)

    # --- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Release what :meth:`from_settings` opened (a retriever built from explicit parts
        leaves them to their owner)."""
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- helpers -----------------------------------------------------------------------------

    def _fetch_k(self, k: int, text: str | None) -> int:
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        if self.reranker is not None and text and text.strip():
            return max(k, self.rerank_candidates)
        return k

    def _tenant(self, tenant: str | None) -> str | None:
        if tenant is None or tenant == self.tenant:
            return self.tenant
        if self.tenant is not None:
            raise ConfigError(
                f"this retriever is bound to tenant {self.tenant!r} and cannot search "
                f"tenant {tenant!r}"
            )
        return tenant

    def _load_image(self, image: ImageInput) -> Image.Image:
        limits = self.embedder.info.limits if self.embedder is not None else None
        if isinstance(image, Image.Image):
            return normalize_image(image, limits)
        if isinstance(image, bytes):
            check_size("the query image", len(image), self.max_image_bytes)
            data = image
        else:
            data = read_query_image(Path(image).expanduser(), self.max_image_bytes)
        return decode_image(data, max_pixels=_QUERY_IMAGE_MAX_PIXELS, limits=limits).pixels


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def display_uri(hit: Hit) -> str | None:
    """Where a hit's picture lives, for a UI to link or load: the image or PDF (with
    ``#page=N``) it came from, or a product's first image reference."""
    if hit.kind == "product":
        images = (hit.payload.get("fields") or {}).get("images") or []
        return str(images[0]) if images else None
    if hit.kind == "pdf_page" and hit.source_uri and hit.page is not None:
        return f"{hit.source_uri}#page={hit.page}"
    return hit.source_uri
