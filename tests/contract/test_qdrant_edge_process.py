"""Qdrant Edge held by a child process (``own_process``) against the store contract, plus what
only a store in another process can do: die, be interrupted, be abandoned."""

from __future__ import annotations

import os
import signal

import pytest

from mmingest.connectors.stores import build_store
from mmingest.connectors.stores.process import REQUEST_POINTS, SCAN_PAGE, ProcessStore
from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
from mmingest.schemas.config import IngestConfig, QdrantEdgeStoreConfig
from mmingest.schemas.errors import CollectionNotFound, StorageFault, StoreLocked
from tests.contract.data import SPEC, make_points
from tests.contract.store_contract import StoreContract


def _open(path) -> ProcessStore:
    store = build_store(QdrantEdgeStoreConfig(path=path, own_process=True))
    assert isinstance(store, ProcessStore)
    return store


@pytest.fixture
def store(tmp_path):
    opened = _open(tmp_path / "edge")
    yield opened
    opened.close()


class TestQdrantEdgeInItsOwnProcessContract(StoreContract):
    pass


def test_the_store_runs_in_another_process(store):
    assert store.pid is not None and store.pid != os.getpid()
    assert store.capabilities.embedded and store.capabilities.max_batch == REQUEST_POINTS


def test_errors_arrive_with_their_type_and_message(store, tmp_path):
    with pytest.raises(CollectionNotFound, match=r"'nowhere' does not exist in .*edge"):
        store.upsert("nowhere", make_points())
    with pytest.raises(StoreLocked, match="in use by pid"):
        _open(tmp_path / "edge")  # a second store on the same path: refused, its process gone
    store.ensure_collection(SPEC)
    store.upsert("contract", make_points())
    assert store.count("contract") == len(make_points())


def test_a_store_process_that_dies_fails_every_later_call_naming_the_signal(store):
    store.ensure_collection(SPEC)
    store.upsert("contract", make_points())
    os.kill(store.pid, signal.SIGKILL)
    with pytest.raises(StorageFault, match=r"killed by SIGKILL during 'upsert'.*not durable"):
        store.upsert("contract", make_points())
    with pytest.raises(StorageFault, match="killed by SIGKILL"):
        store.count("contract")
    store.close()  # nothing left to flush: returns


def test_points_confirmed_before_a_crash_are_on_disk(tmp_path):
    store = _open(tmp_path / "edge")
    store.ensure_collection(SPEC)
    store.upsert("contract", make_points())
    os.kill(store.pid, signal.SIGKILL)
    with pytest.raises(StorageFault):
        store.count("contract")
    reopened = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "edge"))
    try:
        assert reopened.count("contract") == len(make_points())
    finally:
        reopened.close()


def test_ctrl_c_is_the_run_process_decision(store):
    store.ensure_collection(SPEC)
    os.kill(store.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
    store.upsert("contract", make_points())
    assert store.count("contract") == len(make_points())


def test_an_abandoned_scan_leaves_the_store_usable(store):
    store.ensure_collection(SPEC)
    points = make_points()
    store.upsert("contract", points)
    scan = store.scan("contract")
    next(scan)
    scan.close()
    assert sorted(point.id for point in store.scan("contract")) == sorted(p.id for p in points)


def test_a_scan_longer_than_a_page_arrives_whole(store):
    from mmingest.schemas import Point, point_id
    from mmingest.schemas.points import IMAGE
    from tests.contract.data import payload, unit

    store.ensure_collection(SPEC)
    points = []
    for index in range(SCAN_PAGE + 5):
        uri = f"memory://contract/many/{index}.jpg"
        data = {**payload(uri, index, "", None, None), "content_hash": f"h{index}"}
        points.append(Point(id=point_id(uri), vectors={IMAGE: unit(index % 64)}, payload=data))
    for start in range(0, len(points), 256):
        store.upsert("contract", points[start : start + 256])
    assert len({point.id for point in store.scan("contract")}) == len(points)


def test_a_run_process_that_goes_away_leaves_its_writes_flushed(tmp_path):
    store = _open(tmp_path / "edge")
    store.ensure_collection(SPEC)
    store.upsert("contract", make_points())
    store._connection.close()  # what the child sees when the run's process dies
    store._process.join(timeout=30)
    assert store._process.exitcode == 0
    reopened = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "edge"))
    try:
        assert reopened.count("contract") == len(make_points())
    finally:
        reopened.close()


def test_a_product_load_through_the_store_process(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mmingest.connectors.sources.local import LocalFolderSource
    from mmingest.pipelines.ingest import ingest_products
    from mmingest.schemas.query import HybridQuery
    from tests.support.fakes import HashEmbedder

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    rows = 700
    pq.write_table(
        pa.table(
            {
                "id": [f"sku-{i}" for i in range(rows)],
                "title": [f"Brass garden nozzle {i}" for i in range(rows)],
                "description": ["Solid brass"] * rows,
                "image": [None] * rows,
            }
        ),
        catalog / "products.parquet",
    )
    store = _open(tmp_path / "edge")
    try:
        for expected in (rows, 0):  # a re-run finds everything stored
            summary = ingest_products(
                LocalFolderSource(catalog),
                HashEmbedder(),
                store,
                collection="products",
                config=IngestConfig(batch_size=256),
            )
            assert (summary.written, summary.failed) == (expected, 0)
        assert store.count("products") == rows
        hits = store.query("products", HybridQuery(keyword_text="nozzle", k=3))
        assert len(hits) == 3 and all("nozzle" in hit.payload["title"] for hit in hits)
    finally:
        store.close()
