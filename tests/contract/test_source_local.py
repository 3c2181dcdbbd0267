"""A local folder against the source contract."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from mmingest.connectors.sources.local import LocalFolderSource
from tests.contract.source_contract import Behaviour, SourceContract, SourceHarness


class FolderHarness(SourceHarness):
    name = "local"
    behaviour = Behaviour(metadata=False, newline_keys="read", server_pages=False, network=False)

    def __init__(self, root):
        self.root = root
        root.mkdir()

    def put(self, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def delete(self, key: str) -> None:
        (self.root / key).unlink()

    def source(self, *, page_size: int = 1000):
        return LocalFolderSource(self.root)

    def missing_source(self):
        return LocalFolderSource(self.root / "missing")


@pytest.fixture
def harness(tmp_path):
    return FolderHarness(tmp_path / "root")


class TestLocalSourceContract(SourceContract):
    pass
