"""Qdrant Edge against the store contract, plus what only an embedded store has."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
from mmingest.schemas.config import QdrantEdgeStoreConfig
from mmingest.schemas.errors import StoreLocked
from tests.contract.store_contract import SPEC, StoreContract, make_points


@pytest.fixture
def store(tmp_path):
    opened = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "edge"))
    yield opened
    opened.close()


class TestQdrantEdgeContract(StoreContract):
    pass


def test_points_survive_a_reopen(tmp_path):
    config = QdrantEdgeStoreConfig(path=tmp_path / "edge")
    first = QdrantEdgeStore(config)
    first.ensure_collection(SPEC)
    first.upsert("contract", make_points())
    first.close()
    second = QdrantEdgeStore(config)
    try:
        second.ensure_collection(SPEC)
        assert second.count("contract") == len(make_points())
    finally:
        second.close()


def test_a_second_process_gets_a_clear_lock_error(tmp_path):
    store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "edge"))
    try:
        code = (
            "from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore\n"
            "from mmingest.schemas.config import QdrantEdgeStoreConfig\n"
            f"QdrantEdgeStore(QdrantEdgeStoreConfig(path={str(tmp_path / 'edge')!r}))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode != 0
        assert "StoreLocked" in result.stderr
        assert "in use by pid" in result.stderr
    finally:
        store.close()
    reopened = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "edge"))
    reopened.close()


def test_lock_error_type():
    assert issubclass(StoreLocked, Exception)
