"""A LangChain retriever over :class:`mmingest.pipelines.query.Retriever`::

from mmingest.pipelines.integrations.langchain import MmingestRetriever

lc = MmingestRetriever(retriever=retriever, k=5, filters=eq("kind", "product"))
docs = lc.invoke("red running shoes")   # list[langchain_core.documents.Document]
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from mmingest.pipelines.integrations import hit_metadata, hit_text
from mmingest.schemas.query import Hit


class MmingestRetriever(BaseRetriever):
    """LangChain ``BaseRetriever``: each hit becomes a ``Document`` whose ``page_content`` is
    the hit's caption text and whose ``metadata`` holds id, score, kind, source, page and
    display URI. Extra ``search`` options (``filters``, ``mode``, ``fusion``, ``weights``...)
    go in ``search_options``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    """A :class:`mmingest.pipelines.query.Retriever`."""
    k: int = 10
    search_options: dict[str, Any] = Field(default_factory=dict)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.retriever.search(query, k=self.k, **self.search_options)
        return [_document(hit) for hit in hits]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = await self.retriever.asearch(query, k=self.k, **self.search_options)
        return [_document(hit) for hit in hits]


def _document(hit: Hit) -> Document:
    return Document(id=hit.id, page_content=hit_text(hit), metadata=hit_metadata(hit))
