"""Object storage misbehaving: 503s, dropped connections, slow and truncated answers."""

from __future__ import annotations

import pytest

from mmingest.connectors.sources import open_source
from mmingest.pipelines.ingest import ingest
from mmingest.pipelines.samples import encode
from mmingest.schemas.config import IngestConfig, S3SourceConfig
from mmingest.schemas.errors import SourceUnavailable
from tests.emulators.faulty_proxy import FaultyProxy, listings
from tests.support.corpus import picture
from tests.support.fakes import HashEmbedder

IMAGES = 12


@pytest.fixture
def proxied(s3_server):
    bucket = s3_server.new_bucket()
    s3_server.put_many(
        bucket, {f"pics/{i:02d}.png": encode(picture(), "PNG") for i in range(IMAGES)}
    )
    with FaultyProxy(s3_server.endpoint) as proxy:
        config = s3_server.source_config()
        config = config.model_copy(
            update={
                "s3": S3SourceConfig(**{**config.s3.model_dump(), "endpoint": proxy.url}),
                "max_retries": 2,
            }
        )
        yield proxy, open_source(f"s3://{bucket}", config)


def run(source, store):
    return ingest(
        source,
        HashEmbedder(),
        store,
        collection="faults",
        config=IngestConfig(batch_size=5, read_concurrency=4),
    )


def test_transient_503s_and_dropped_connections_are_retried(proxied, edge_store, ledger):
    proxy, source = proxied
    proxy.inject(3, "status", status=503)
    proxy.inject(2, "drop")
    proxy.inject(1, "status", status=500)
    summary = run(source, edge_store)
    ledger.faults(len(proxy.injected))
    ledger.outcome(summary)
    assert len(proxy.injected) == 6
    assert (summary.written, summary.failed) == (IMAGES, 0)
    assert edge_store.count("faults") == IMAGES


def test_an_object_that_keeps_failing_is_dead_lettered_alone(proxied, edge_store, ledger):
    proxy, source = proxied
    proxy.always("status", lambda method, path: path.endswith("/pics/07.png"), status=503)
    summary = run(source, edge_store)
    ledger.faults(len(proxy.injected))
    ledger.outcome(summary)
    assert (summary.written, summary.failed) == (IMAGES - 1, 1)
    (failure,) = summary.failures
    assert failure.uri.endswith("pics/07.png")
    assert failure.reason == "source_unavailable"
    assert "503" in failure.message
    proxy.clear()
    again = run(source, edge_store)  # the next run completes it, nothing duplicated
    ledger.outcome(again)
    assert (again.written, again.unchanged) == (1, IMAGES - 1)
    assert edge_store.count("faults") == IMAGES


def test_a_listing_that_cannot_be_read_stops_the_run_clearly(proxied, edge_store, ledger):
    proxy, source = proxied
    proxy.always("status", listings, status=503)
    with pytest.raises(SourceUnavailable, match="listing s3://"):
        run(source, edge_store)
    ledger.faults(len(proxy.injected))
    proxy.clear()
    proxy.always("truncate", listings)
    with pytest.raises(SourceUnavailable, match="listing"):
        run(source, edge_store)
    ledger.faults(len(proxy.injected))
