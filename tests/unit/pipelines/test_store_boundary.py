"""The write stage's isolation boundary: whatever a store raises fails the points it was
writing, named, and the run goes on; only errors that would fail every write stop it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from mmingest.pipelines.ingest import ingest_products
from mmingest.pipelines.retry import RetryPolicy
from mmingest.schemas.config import IngestConfig
from mmingest.schemas.errors import ConfigError, StoreUnavailable
from tests.support.fakes import CountingStore, HashEmbedder
from tests.support.load import write_catalog

ROWS = 40
CHUNK = 8


class _RaisingStore(CountingStore):
    """Raises ``error`` for the chunks holding a point of record ``sku-0000013``."""

    def __init__(self, error: Exception) -> None:
        super().__init__(max_batch=CHUNK)
        self.error = error

    def upsert(self, collection: str, points: Sequence[object]) -> None:
        if any(p.payload["fields"]["id"] == "sku-0000013" for p in points):  # type: ignore[attr-defined]
            raise self.error
        super().upsert(collection, points)


def _ingest(tmp_path, store):
    catalog = tmp_path / "catalog"
    catalog.mkdir(exist_ok=True)
    write_catalog(catalog / "products.parquet", ROWS)
    return ingest_products(
        LocalFolderSource(catalog),
        HashEmbedder(),
        store,
        collection="c",
        config=IngestConfig(batch_size=16),
        retry=RetryPolicy(attempts=2, base_delay_s=0.001, max_delay_s=0.002),
    )


@pytest.mark.parametrize(
    "error",
    [
        TypeError("failed to extract field Helper::Object.0\n" + "- variant Float (Float)\n" * 500),
        ValueError(""),
        RecursionError("maximum recursion depth exceeded"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_error_no_store_translated_fails_its_chunk_not_the_run(tmp_path, error):
    store = _RaisingStore(error)
    summary = _ingest(tmp_path, store)
    assert (summary.written, summary.failed) == (ROWS - CHUNK, CHUNK)
    assert store.points == ROWS - CHUNK
    failures = summary.failures
    assert {f.stage for f in failures} == {"write"}
    assert {f.reason for f in failures} == {"write_failed"}
    assert {f.error_type for f in failures} == {type(error).__name__}
    assert any("sku-0000013" in f.uri for f in failures)
    for failure in failures:
        assert "\n" not in failure.message and len(failure.message) < 600
        assert "retry-failed" in failure.message


def test_an_error_that_would_fail_every_write_stops_the_run(tmp_path):
    with pytest.raises(ConfigError):
        _ingest(tmp_path, _RaisingStore(ConfigError("the collection's schema is wrong")))


def test_a_store_still_unavailable_after_its_retries_fails_its_chunk(tmp_path):
    summary = _ingest(tmp_path, _RaisingStore(StoreUnavailable("the store is down")))
    assert (summary.written, summary.failed) == (ROWS - CHUNK, CHUNK)
    assert {f.error_type for f in summary.failures} == {"StoreUnavailable"}
