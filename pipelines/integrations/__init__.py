"""Retrievers for RAG frameworks, over :class:`mmingest.pipelines.query.Retriever`.

``mmingest.pipelines.integrations.langchain`` (extra ``langchain``) and
``mmingest.pipelines.integrations.llamaindex`` (extra ``llamaindex``) each import their framework
only
when used.
"""

from __future__ import annotations

from typing import Any

from mmingest.schemas.query import Hit


def hit_metadata(hit: Hit) -> dict[str, Any]:
    """The metadata a framework document carries for a hit: id, score, kind, source, page,
    display URI and the stored payload fields (flat, JSON-friendly)."""
    from mmingest.pipelines.query import display_uri

    metadata: dict[str, Any] = {
        "id": hit.id,
        "score": hit.score,
        "kind": hit.kind,
        "source_uri": hit.source_uri,
        "page": hit.page,
        "display_uri": display_uri(hit),
    }
    for key in ("title", "content_hash", "tenant", "fields"):
        if hit.payload.get(key) is not None:
            metadata[key] = hit.payload[key]
    return metadata


def hit_text(hit: Hit) -> str:
    """The text of a hit for an LLM's context: caption, else title, else source URI."""
    return hit.caption or str(hit.payload.get("title") or "") or hit.source_uri or ""
