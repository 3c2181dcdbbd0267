"""Retrieval: a text and/or image query in, fused dense + keyword hits out.

A RAG app imports :class:`Retriever`::

    from pipelines.query import Retriever

    retriever = Retriever(store, embedder, collection="products")
    hits = retriever.search("red running shoes", k=5)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from connectors.embedders.base import Embedder
from connectors.stores.base import VectorStore
from pipelines.images import decode_image, normalize_image
from schemas.embedding import InputKind
from schemas.errors import ConfigError
from schemas.points import DENSE_VECTORS
from schemas.query import DenseProbe, FusionMethod, Hit, HybridQuery, SearchMode

ImageInput = bytes | str | Path | Image.Image
"""An image query: encoded bytes, a path to an image file, or a PIL image."""

_QUERY_IMAGE_MAX_PIXELS = 80_000_000


class Retriever:
    """Searches one collection with the embedder that filled it.

    Text queries are embedded once (as queries) and searched against the ``caption`` and
    ``image`` vectors and the keyword channel; image queries against ``image`` and
    ``caption`` (one shared space). The channels are fused by the store (RRF by default).
    A retriever bound to a tenant only ever sees that tenant's points.
    """

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        *,
        collection: str,
        tenant: str | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.collection = collection
        self.tenant = tenant

    def search(
        self,
        text: str | None = None,
        image: ImageInput | None = None,
        *,
        k: int = 10,
        mode: SearchMode | str = SearchMode.HYBRID,
        vectors: Sequence[str] = DENSE_VECTORS,
        fusion: FusionMethod | str = FusionMethod.RRF,
    ) -> list[Hit]:
        """The ``k`` best hits for ``text`` and/or ``image``, best first.

        ``mode`` picks the channels: ``hybrid`` (dense + keyword), ``dense`` or ``keyword``
        (text only); ``vectors`` the named vectors the dense channels search. Raises
        :class:`~schemas.errors.ConfigError` for an empty query or an unknown vector name and
        :class:`~schemas.errors.InvalidInput` for an unreadable image.
        """
        mode = SearchMode(mode)
        unknown = set(vectors) - set(DENSE_VECTORS)
        if unknown or not vectors:
            raise ConfigError(
                f"vectors must be a non-empty subset of {list(DENSE_VECTORS)}, got {list(vectors)}"
            )
        text = text.strip() if text else None
        if not text and image is None:
            raise ConfigError("a search needs a text, an image or both")
        if mode is SearchMode.KEYWORD and not text:
            raise ConfigError("keyword search needs a text query")
        probes: list[DenseProbe] = []
        if mode is not SearchMode.KEYWORD:
            if text:
                vector = self.embedder.embed_texts([text], kind=InputKind.QUERY)[0]
                probes += [DenseProbe(vector_name=name, vector=vector) for name in vectors]
            if image is not None:
                vector = self.embedder.embed_images([self._load_image(image)])[0]
                probes += [DenseProbe(vector_name=name, vector=vector) for name in vectors]
        keyword_text = text if mode is not SearchMode.DENSE else None
        query = HybridQuery(
            dense=probes,
            keyword_text=keyword_text,
            k=k,
            fusion=FusionMethod(fusion),
            tenant=self.tenant,
        )
        return self.store.query(self.collection, query)

    def _load_image(self, image: ImageInput) -> Image.Image:
        if isinstance(image, Image.Image):
            return normalize_image(image, self.embedder.info.limits)
        if isinstance(image, bytes):
            data = image
        else:
            path = Path(image).expanduser()
            if not path.is_file():
                raise ConfigError(f"query image {path} does not exist")
            data = path.read_bytes()
        return decode_image(
            data, max_pixels=_QUERY_IMAGE_MAX_PIXELS, limits=self.embedder.info.limits
        ).pixels
