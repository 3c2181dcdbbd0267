"""Retrievers for RAG frameworks, over :class:`mmingest.pipelines.query.Retriever`.

``mmingest.pipelines.integrations.langchain`` (extra ``langchain``) and
``mmingest.pipelines.integrations.llamaindex`` (extra ``llamaindex``) each import their framework
only when used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmingest.schemas.errors import ConfigError
from mmingest.schemas.query import Hit

SEARCH_OPTIONS = frozenset({"filters", "tenant", "mode", "vectors", "weights", "fusion"})
"""The :meth:`Retriever.search` options a framework retriever passes through (besides ``k``)."""


def hit_metadata(hit: Hit) -> dict[str, Any]:
    """The metadata a framework document carries for a hit: ``source`` (the key document
    loaders and citation prompts use), id, score, kind, page, display URI and the stored
    payload fields. JSON-friendly, and keys without a value are left out (no ``None``)."""
    from mmingest.pipelines.query import display_uri

    metadata: dict[str, Any] = {
        "source": hit.source_uri or display_uri(hit),
        "id": hit.id,
        "score": hit.score,
        "kind": hit.kind,
        "source_uri": hit.source_uri,
        "page": hit.page,
        "display_uri": display_uri(hit),
    }
    for key in ("title", "content_hash", "tenant", "fields"):
        metadata[key] = hit.payload.get(key)
    flat: dict[str, Any] = _without_none(metadata)
    return flat


def hit_text(hit: Hit) -> str:
    """The text of a hit for an LLM's context: caption, else title, else source URI."""
    return hit.caption or str(hit.payload.get("title") or "") or hit.source_uri or ""


def search_options(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The options of one search: the retriever's defaults updated by a call's own, checked
    so a misspelled option is an error instead of being silently dropped."""
    options = {**defaults, **overrides}
    unknown = sorted(set(options) - SEARCH_OPTIONS)
    if unknown:
        raise ConfigError(
            f"unknown search option(s) {unknown}: a framework retriever passes "
            f"{sorted(SEARCH_OPTIONS)} (and the number of results) to Retriever.search"
        )
    return {name: value for name, value in options.items() if value is not None}


def _without_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_without_none(item) for item in value if item is not None]
    return value
