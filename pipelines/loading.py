"""Loading: upsert the points of a prepared batch into the store, and delete what a shortened
document no longer has; a document whose earlier batch failed to write is held back."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial

from mmingest.connectors.stores.base import VectorStore
from mmingest.pipelines.deletes import delete_points
from mmingest.pipelines.extract.base import Prepared, PreparedBatch
from mmingest.pipelines.extract.isolation import stops_run, write_failure
from mmingest.pipelines.retry import RetryPolicy, call_with_retry
from mmingest.schemas.errors import InvalidInput, TransientError
from mmingest.schemas.points import Point
from mmingest.schemas.summary import Failure, Stage

log = logging.getLogger(__name__)


@dataclass
class WriteResult:
    """The outcome of upserting one batch of points."""

    written: int = 0
    deleted: int = 0
    failures: list[Failure] = field(default_factory=list)


class IncompleteDocument(TransientError):
    """A document's last batch was held back because an earlier batch of it failed to write."""


class BatchWriter:
    """Writes prepared batches to one store (on the run's single writer thread)."""

    def __init__(self, store: VectorStore, *, tenant: str | None, retry: RetryPolicy) -> None:
        self.store = store
        self.tenant = tenant
        self.retry = retry
        self.failed_tasks: set[int] = set()
        """Tasks (documents) with a batch that failed to write: their last batch is held back."""

    def write(
        self, target: str, points: list[Point], sources: list[Prepared], prepared: PreparedBatch
    ) -> WriteResult:
        """Upsert ``points`` (``sources[i]`` is what ``points[i]`` came from, named in failures)
        in store-sized chunks, then delete ``prepared``'s stale points."""
        result = WriteResult()
        if prepared.commit and prepared.task in self.failed_tasks:
            error = IncompleteDocument(
                "held back: another batch of this document failed to write, so the document "
                "is not marked complete and the next run redoes it"
            )
            result.failures = [Failure.of(where(item), Stage.WRITE, error) for item in sources]
            return result
        size = self.store.capabilities.max_batch
        for start in range(0, len(points), size):
            chunk = points[start : start + size]
            try:
                call_with_retry(
                    partial(self.store.upsert, target, chunk),
                    what=f"upserting {len(chunk)} points",
                    policy=self.retry,
                )
            except Exception as error:
                # The store boundary, as the extract and embed stages have theirs: what a
                # store or its client raises fails this chunk's points, not the run. Our own
                # transient and input errors always did; any other error does too, unless it
                # would fail every write the same way (configuration, credentials, schema).
                known = isinstance(error, TransientError | InvalidInput)
                if not known and stops_run(error):
                    raise
                if not known:
                    log.warning(
                        "unexpected %s writing %d points",
                        type(error).__name__,
                        len(chunk),
                        exc_info=error,
                    )
                self.failed_tasks.add(prepared.task)
                result.failures += [
                    write_failure(where(item), error) for item in sources[start : start + size]
                ]
            else:
                result.written += len(chunk)
        if prepared.stale_ids:
            result.deleted += delete_points(
                self.store,
                target,
                prepared.stale_ids,
                tenant=self.tenant,
                policy=self.retry,
                what="stale points",
            )
        return result


def where(item: Prepared) -> str:
    asset = item.asset
    if asset.page is not None:
        return f"{asset.source_uri}#page={asset.page}"
    return f"{asset.source_uri}#{asset.part}" if asset.part else asset.source_uri
