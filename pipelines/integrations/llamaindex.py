"""A LlamaIndex retriever over :class:`mmingest.pipelines.query.Retriever`::

from mmingest.pipelines.integrations.llamaindex import MmingestRetriever

li = MmingestRetriever(retriever, k=5)
nodes = li.retrieve("red running shoes")   # list[NodeWithScore]
"""

from __future__ import annotations

from typing import Any

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from mmingest.pipelines.integrations import hit_metadata, hit_text
from mmingest.schemas.query import Hit


class MmingestRetriever(BaseRetriever):
    """LlamaIndex ``BaseRetriever``: each hit becomes a ``NodeWithScore`` around a
    ``TextNode`` (id = point id, text = caption, metadata = id, kind, source, page, display
    URI). ``search_options`` are passed to ``Retriever.search`` (``filters``, ``mode``...)."""

    def __init__(
        self, retriever: Any, *, k: int = 10, search_options: dict[str, Any] | None = None
    ) -> None:
        self._retriever = retriever
        self._k = k
        self._options = dict(search_options or {})
        super().__init__()

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._retriever.search(query_bundle.query_str, k=self._k, **self._options)
        return [_node(hit) for hit in hits]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = await self._retriever.asearch(query_bundle.query_str, k=self._k, **self._options)
        return [_node(hit) for hit in hits]


def _node(hit: Hit) -> NodeWithScore:
    node = TextNode(id_=hit.id, text=hit_text(hit), metadata=hit_metadata(hit))
    return NodeWithScore(node=node, score=hit.score)
