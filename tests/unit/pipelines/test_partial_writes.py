"""A store that writes one upsert call in several all-or-nothing updates (a store in its own
process does) says how far it got when it fails: the run counts exactly what landed, dead-letters
exactly the rest, and a retry resumes after what landed."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.connectors.stores.process import _Handler, pack_points
from mmingest.pipelines.ingest import ingest_products
from mmingest.pipelines.retry import RetryPolicy
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.errors import InputRejected, MmingestError, StoreUnavailable
from tests.contract.data import make_points
from tests.support.fakes import CountingStore, HashEmbedder

UPDATE = 4  # the inner store's all-or-nothing update, in points


class ChunkedStore(CountingStore):
    """Writes ``UPDATE`` points per engine update and fails the updates ``faults`` names (by
    the absolute index of their first point: a list of errors, one per failure in turn)."""

    def __init__(self, max_batch: int, faults: dict[int, list[MmingestError]]) -> None:
        super().__init__(max_batch=max_batch)
        self.faults = faults
        self.received: list[str] = []  # ids written, in order (repeats show re-sent points)

    def upsert(self, collection: str, points: Sequence[object]) -> None:
        for start in range(0, len(points), UPDATE):
            update = points[start : start + UPDATE]
            first = self._index(update[0])
            if self.faults.get(first):
                error = self.faults[first].pop(0)
                error.points_written = start
                raise error
            self.received += [point.payload["fields"]["id"] for point in update]  # type: ignore[attr-defined]
            self.points += len(update)

    def _index(self, point: object) -> int:
        return int(point.payload["fields"]["id"].split("-")[1])  # type: ignore[attr-defined]


def _catalog(tmp_path, rows: int):
    folder = tmp_path / "catalog"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "id": [f"sku-{i}" for i in range(rows)],
                "title": ["Shoe"] * rows,
                "description": ["Red"] * rows,
                "image": [None] * rows,
            }
        ),
        folder / "products.parquet",
    )
    return LocalFolderSource(folder)


def _ingest(source, store):
    return ingest_products(
        source,
        HashEmbedder(),
        store,
        collection="c",
        config=IngestConfig(batch_size=64),
        retry=RetryPolicy(attempts=3, base_delay_s=0.001, max_delay_s=0.002),
    )


def test_a_failed_update_dead_letters_exactly_the_points_that_did_not_land(tmp_path):
    store = ChunkedStore(max_batch=16, faults={8: [InputRejected("refused") for _ in range(9)]})
    summary = _ingest(_catalog(tmp_path, 20), store)
    # The call of records 0-15 wrote 0-7, then its update 8-11 failed (terminal): 8-15 did not
    # land; the next call (16-19) is written.
    assert (summary.written, summary.failed) == (12, 8)
    assert sorted(failure.uri.split("#")[-1] for failure in summary.failures) == sorted(
        f"sku-{i}" for i in range(8, 16)
    )
    assert all("refused" in failure.message for failure in summary.failures)


def test_a_retry_resumes_after_what_landed(tmp_path):
    store = ChunkedStore(max_batch=16, faults={4: [StoreUnavailable("dropped")]})
    summary = _ingest(_catalog(tmp_path, 16), store)
    assert (summary.written, summary.failed) == (16, 0)
    assert store.received == [f"sku-{i}" for i in range(16)]  # in order, nothing written twice


def test_a_retry_that_fails_again_later_keeps_the_count_exact(tmp_path):
    store = ChunkedStore(
        max_batch=16,
        faults={4: [StoreUnavailable("dropped")], 12: [StoreUnavailable("down")] * 3},
    )
    summary = _ingest(_catalog(tmp_path, 16), store)
    assert (summary.written, summary.failed) == (12, 4)
    assert len(store.received) == len(set(store.received)) == 12


def test_the_store_process_writes_in_the_store_s_updates_and_says_how_far_it_got():
    points = make_points() * 2  # 12 points (ids repeat: the handler does not care)
    inner = _FailingAt(max_batch=4, failing_call=2)
    handler = _Handler(inner)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable) as raised:
        handler.handle("upsert", ("c", pack_points(points)), {})
    assert raised.value.points_written == 8
    assert inner.calls == [4, 4, 4]  # two updates landed, the third failed, none after it


class _FailingAt(CountingStore):
    def __init__(self, max_batch: int, failing_call: int) -> None:
        super().__init__(max_batch=max_batch)
        self.failing_call = failing_call
        self.calls: list[int] = []

    def upsert(self, collection: str, points: Sequence[object]) -> None:
        self.calls.append(len(points))
        if len(self.calls) - 1 == self.failing_call:
            raise StoreUnavailable("the engine stopped")
