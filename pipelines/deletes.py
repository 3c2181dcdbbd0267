"""Delete points by id: the one path every caller takes (chunked, each chunk retried)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from mmingest.connectors.stores.base import VectorStore
from mmingest.pipelines.retry import DEFAULT_RETRY, RetryPolicy, call_with_retry
from mmingest.pipelines.stages import chunked

DELETE_CHUNK = 1000
"""Ids per delete request: small enough for every store's request limits."""


def delete_points(
    store: VectorStore,
    collection: str,
    ids: Sequence[str],
    *,
    tenant: str | None = None,
    policy: RetryPolicy = DEFAULT_RETRY,
    what: str = "points",
) -> int:
    """Delete ``ids`` from ``collection`` in chunks, retrying transient failures of each chunk
    with ``policy``; returns how many were deleted (all of them, or an error propagates)."""
    deleted = 0
    for chunk in chunked(list(ids), DELETE_CHUNK):
        call_with_retry(
            partial(store.delete, collection, chunk, tenant=tenant),
            what=f"deleting {len(chunk)} {what} from {collection}",
            policy=policy,
        )
        deleted += len(chunk)
    return deleted
