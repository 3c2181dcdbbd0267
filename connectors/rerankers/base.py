"""The Reranker protocol: any callable from (query, candidates) to reordered hits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mmingest.schemas.query import Hit


class Reranker(Protocol):
    """Reorders ``hits`` for ``query``, best first; may drop hits, never invents them.

    A plain function with this signature is a reranker. The returned hits carry the
    reranker's relevance as ``score``.
    """

    def __call__(self, query: str, hits: Sequence[Hit]) -> list[Hit]: ...


def document_of(hit: Hit, max_chars: int) -> str:
    """The text a text reranker judges a hit by: its caption, else title, else source URI."""
    text = hit.caption or str(hit.payload.get("title") or "") or hit.source_uri or ""
    return text[:max_chars]
