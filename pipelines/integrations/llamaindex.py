"""A LlamaIndex multimodal retriever over :class:`mmingest.pipelines.query.Retriever`::

from mmingest.pipelines.integrations.llamaindex import MmingestRetriever

li = MmingestRetriever(retriever, similarity_top_k=5)
nodes = li.retrieve("red running shoes")                  # list[NodeWithScore]
nodes = li.retrieve(QueryBundle("", image_path="q.jpg"))  # an image query
nodes = li.text_to_image_retrieve("a red circle")         # LlamaIndex's multimodal interface
nodes = li.image_to_image_retrieve("q.jpg")

Hits with a picture (an image, a PDF page, a product with an image) come back as ``ImageNode``
with the picture's location (``image_path`` for a local file in ``source.allowed_local_roots``,
``image_url`` for other URIs; with ``include_pictures=True`` the picture itself, read through the
reference policy, PDF pages rendered), other hits as ``TextNode``.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from mmingest.connectors.extras import needs_extra
from mmingest.connectors.sources import scheme_of
from mmingest.connectors.sources.local import path_from_uri
from mmingest.pipelines.display import picture_uri
from mmingest.pipelines.integrations import hit_metadata, hit_text, search_options
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.filters import Filter
from mmingest.schemas.points import CAPTION, IMAGE
from mmingest.schemas.query import Hit

with needs_extra("the LlamaIndex retriever"):
    from llama_index.core.base.base_multi_modal_retriever import MultiModalRetriever
    from llama_index.core.indices.query.schema import QueryType
    from llama_index.core.schema import ImageNode, NodeWithScore, QueryBundle, TextNode

LLM_METADATA = ("source", "kind", "page", "title")
"""The metadata an LLM prompt shows beside the caption; ids, hashes, scores, tenants, URIs and
the stored ``fields`` stay out of the prompt (they remain in ``node.metadata``)."""

_PICTURE_KINDS = ("image", "pdf_page", "product")


class MmingestRetriever(MultiModalRetriever):
    """LlamaIndex ``MultiModalRetriever``: each hit becomes a ``NodeWithScore`` around an
    ``ImageNode`` (hits with a picture) or a ``TextNode``; the node id is the point id, the
    text the caption, and ``metadata`` holds source, kind, page, display URI and the payload
    fields (the prompt shows only :data:`LLM_METADATA`).

    ``retrieve`` honours ``QueryBundle.image_path`` (text, image or both, every channel fused);
    ``text_retrieve`` searches the caption vector and keywords, ``text_to_image_retrieve`` the
    image vector with a text, ``image_to_image_retrieve`` the image vector with an image.
    ``similarity_top_k`` is the number of hits for text retrieval, ``image_similarity_top_k``
    for the image retrievals; ``filters`` and ``search_options`` (``mode``, ``fusion``...) go
    to :meth:`Retriever.search`.
    """

    def __init__(
        self,
        retriever: Any,
        *,
        similarity_top_k: int = 10,
        image_similarity_top_k: int | None = None,
        filters: Filter | None = None,
        search_options: dict[str, Any] | None = None,
        include_pictures: bool = False,
    ) -> None:
        for name, value in (
            ("similarity_top_k", similarity_top_k),
            ("image_similarity_top_k", image_similarity_top_k or similarity_top_k),
        ):
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        self._retriever = retriever
        self.similarity_top_k = similarity_top_k
        self.image_similarity_top_k = image_similarity_top_k or similarity_top_k
        self._options = search_options_of(filters, search_options)
        self._include_pictures = include_pictures
        super().__init__()

    # --- BaseRetriever: text, image or both ----------------------------------------------------

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        text, image = _query(query_bundle)
        return self._search(text, image, k=self.similarity_top_k)

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        text, image = _query(query_bundle)
        return await self._asearch(text, image, k=self.similarity_top_k)

    # --- MultiModalRetriever ------------------------------------------------------------------

    def text_retrieve(self, str_or_query_bundle: QueryType) -> list[NodeWithScore]:
        """Hits for a text, by caption vector and keywords."""
        text = _bundle(str_or_query_bundle).query_str
        return self._search(text, None, k=self.similarity_top_k, vectors=[CAPTION])

    async def atext_retrieve(self, str_or_query_bundle: QueryType) -> list[NodeWithScore]:
        text = _bundle(str_or_query_bundle).query_str
        return await self._asearch(text, None, k=self.similarity_top_k, vectors=[CAPTION])

    # MultiModalRetriever declares the public methods abstract again; a plain string is a text
    # for text_to_image_retrieve and an image path for image_to_image_retrieve, as in LlamaIndex.
    def text_to_image_retrieve(self, str_or_query_bundle: QueryType) -> list[NodeWithScore]:
        """Hits whose image vector is nearest to a text."""
        return self._text_to_image_retrieve(_bundle(str_or_query_bundle))

    async def atext_to_image_retrieve(self, str_or_query_bundle: QueryType) -> list[NodeWithScore]:
        return await self._atext_to_image_retrieve(_bundle(str_or_query_bundle))

    def image_to_image_retrieve(self, str_or_query_bundle: QueryType) -> list[NodeWithScore]:
        """Hits whose image vector is nearest to an image (a path or ``QueryBundle.image_path``)."""
        return self._image_to_image_retrieve(_image_bundle(str_or_query_bundle))

    async def aimage_to_image_retrieve(self, str_or_query_bundle: QueryType) -> list[NodeWithScore]:
        return await self._aimage_to_image_retrieve(_image_bundle(str_or_query_bundle))

    def _text_to_image_retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self._search(query_bundle.query_str, None, **self._image_options())

    async def _atext_to_image_retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await self._asearch(query_bundle.query_str, None, **self._image_options())

    def _image_to_image_retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self._search(None, _image_path(query_bundle), **self._image_options())

    async def _aimage_to_image_retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await self._asearch(None, _image_path(query_bundle), **self._image_options())

    # --- helpers ------------------------------------------------------------------------------

    def _image_options(self) -> dict[str, Any]:
        return {"k": self.image_similarity_top_k, "mode": "dense", "vectors": [IMAGE]}

    def _search(self, text: str | None, image: str | None, **call: Any) -> list[NodeWithScore]:
        hits = self._retriever.search(text, image, **{**self._options, **call})
        return [self._node(hit) for hit in hits]

    async def _asearch(
        self, text: str | None, image: str | None, **call: Any
    ) -> list[NodeWithScore]:
        hits = await self._retriever.asearch(text, image, **{**self._options, **call})
        return [self._node(hit) for hit in hits]

    def _node(self, hit: Hit) -> NodeWithScore:
        metadata = hit_metadata(hit)
        hidden = sorted(set(metadata) - set(LLM_METADATA))
        common: dict[str, Any] = {
            "id_": hit.id,
            "text": hit_text(hit),
            "metadata": metadata,
            "excluded_llm_metadata_keys": hidden,
            "excluded_embed_metadata_keys": hidden,
        }
        picture = _picture(hit)
        if picture is None:
            return NodeWithScore(node=TextNode(**common), score=hit.score)
        if self._include_pictures and scheme_of(picture) not in ("http", "https"):
            data = self._retriever.image_bytes(hit)
            common["image"] = base64.b64encode(data).decode("ascii")
            common["image_mimetype"] = "image/png" if hit.kind == "pdf_page" else None
        local = hit.kind != "pdf_page" and scheme_of(picture) == "file"
        if not local:
            common["image_url"] = metadata.get("display_uri", picture)
        elif self._readable(picture):
            # LlamaIndex reads image_path itself: only where the reference policy lets a
            # picture be read (source.allowed_local_roots), never a path a payload names.
            common["image_path"] = str(path_from_uri(picture))
        return NodeWithScore(node=ImageNode(**common), score=hit.score)

    def _readable(self, uri: str) -> bool:
        config = getattr(self._retriever, "source_config", None)
        roots = getattr(config, "allowed_local_roots", None) or []
        path = path_from_uri(uri).resolve()
        return any(path.is_relative_to(Path(root).resolve()) for root in roots)


def search_options_of(filters: Filter | None, options: dict[str, Any] | None) -> dict[str, Any]:
    """The retriever's default search options, checked (see :func:`search_options`)."""
    return search_options({"filters": filters, **(options or {})}, {})


def _bundle(query: QueryType) -> QueryBundle:
    return QueryBundle(query_str=query) if isinstance(query, str) else query


def _image_bundle(query: QueryType) -> QueryBundle:
    return QueryBundle(query_str="", image_path=query) if isinstance(query, str) else query


def _query(bundle: QueryBundle) -> tuple[str | None, str | None]:
    text = bundle.query_str.strip() or None
    if text is None and not bundle.image_path:
        raise ConfigError("a LlamaIndex query needs query_str, image_path or both")
    return text, bundle.image_path or None


def _image_path(bundle: QueryBundle) -> str:
    if not bundle.image_path:
        raise ConfigError("image_to_image_retrieve needs an image path (QueryBundle.image_path)")
    return bundle.image_path


def _picture(hit: Hit) -> str | None:
    """The URI of a hit's picture, or ``None`` for a hit without one."""
    if hit.kind not in _PICTURE_KINDS:
        return None
    try:
        return picture_uri(hit)
    except ConfigError:  # a product without an image reference
        return None
