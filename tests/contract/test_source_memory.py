"""``memory://`` buckets against the source contract."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest

from mmingest.connectors.sources import open_source
from mmingest.connectors.sources.memory import MemorySource
from tests.contract.source_contract import Behaviour, SourceContract, SourceHarness

_BUCKETS = itertools.count(1)


class MemoryHarness(SourceHarness):
    name = "memory"
    behaviour = Behaviour(newline_keys="read", server_pages=False, network=False)

    def __init__(self) -> None:
        self.uri = f"memory://contract-{next(_BUCKETS)}"
        self.owner = MemorySource(self.uri)

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        self.owner.put(key, data, metadata)

    def delete(self, key: str) -> None:
        self.owner.delete(key)

    def source(self, *, page_size: int = 1000):
        return open_source(self.uri)


@pytest.fixture
def harness():
    opened = MemoryHarness()
    yield opened
    opened.owner.clear()


class TestMemorySourceContract(SourceContract):
    pass
