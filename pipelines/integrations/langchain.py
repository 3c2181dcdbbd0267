"""A LangChain retriever over :class:`mmingest.pipelines.query.Retriever`::

from mmingest.pipelines.integrations.langchain import MmingestRetriever

lc = MmingestRetriever(retriever=retriever, k=5, filters=eq("kind", "product"))
docs = lc.invoke("red running shoes")   # list[langchain_core.documents.Document]
docs = lc.invoke("red running shoes", k=2, filters=eq("kind", "image"), mode="dense")

It passes LangChain's standard retriever tests (``langchain-tests``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from mmingest.connectors.extras import needs_extra
from mmingest.pipelines.integrations import hit_metadata, hit_text, search_options
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.filters import Filter
from mmingest.schemas.query import Hit

with needs_extra("the LangChain retriever"):
    from langchain_core.callbacks import (
        AsyncCallbackManagerForRetrieverRun,
        CallbackManagerForRetrieverRun,
    )
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever


class MmingestRetriever(BaseRetriever):
    """LangChain ``BaseRetriever``: each hit becomes a ``Document`` whose ``page_content`` is
    the hit's caption text and whose ``metadata`` holds ``source`` (the source URI), id,
    score, kind, page and display URI (keys without a value are left out).

    ``k`` and ``filters`` set the defaults; other ``Retriever.search`` options (``mode``,
    ``fusion``, ``weights``, ``vectors``, ``tenant``) go in ``search_options``. Each of them can
    be given per call as well: ``invoke(query, k=2, filters=..., mode="dense")``. Unknown
    constructor arguments and options are errors, never silently ignored.
    """

    # extra="forbid": a misspelled constructor argument must not be dropped without a word.
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    retriever: Any
    """A :class:`mmingest.pipelines.query.Retriever`."""
    k: int = 10
    filters: Filter | None = None
    search_options: dict[str, Any] = Field(default_factory=dict)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k, options = self._search(kwargs)
        hits = self.retriever.search(query, k=k, **options)
        return [_document(hit) for hit in hits]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k, options = self._search(kwargs)
        hits = await self.retriever.asearch(query, k=k, **options)
        return [_document(hit) for hit in hits]

    def _search(self, kwargs: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        kwargs = dict(kwargs)
        k = kwargs.pop("k", self.k)
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ConfigError(f"k must be a positive whole number, got {k!r}")
        defaults = {"filters": self.filters, **self.search_options}
        return k, search_options(defaults, kwargs)


def _document(hit: Hit) -> Document:
    return Document(id=hit.id, page_content=hit_text(hit), metadata=hit_metadata(hit))
