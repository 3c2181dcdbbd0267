"""Shared fixtures: locally built models, embedded stores and sample data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from mmingest.connectors.embedders.clip import ClipEmbedder
from mmingest.connectors.stores.qdrant_edge import QdrantEdgeStore
from mmingest.pipelines.samples import write_images
from mmingest.schemas.config import ClipEmbedderConfig, QdrantEdgeStoreConfig
from tests.support.azurite import AzuriteServer, start_azurite
from tests.support.gcs import GcsServer, start_gcs_server
from tests.support.ledger import LEDGER, Ledger
from tests.support.models import build_tiny_clip
from tests.support.prefect_server import start_prefect_server
from tests.support.s3 import S3Server, start_s3_server
from tests.support.s3rver import start_s3rver


def pytest_configure(config: pytest.Config) -> None:
    config.stash[LEDGER] = Ledger()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """The suite's reliability figures, counted by the fault and bad-input tests."""
    terminalreporter.write_sep("-", "reliability")
    terminalreporter.write_line(config.stash[LEDGER].line())


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Ledger:
    """Where fault and bad-input tests record what they inject and the runs they observe."""
    return request.config.stash[LEDGER]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's MMINGEST_* variables, .env or mmingest.toml."""
    for name in list(os.environ):
        if name.startswith("MMINGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random CLIP saved with save_pretrained (loaded through from_pretrained)."""
    return build_tiny_clip(tmp_path_factory.mktemp("models") / "tiny-clip")


@pytest.fixture(scope="session")
def clip_embedder(tiny_clip_dir: Path) -> Iterator[ClipEmbedder]:
    """The product's CLIP embedder on the tiny model."""
    embedder = ClipEmbedder(ClipEmbedderConfig(model=str(tiny_clip_dir), batch_size=8))
    yield embedder
    embedder.close()


@pytest.fixture
def edge_store(tmp_path: Path) -> Iterator[QdrantEdgeStore]:
    """An empty Qdrant Edge store in a temporary directory."""
    store = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "edge"))
    yield store
    store.close()


@pytest.fixture(params=["qdrant-edge", "milvus-lite"])
def embedded_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An empty embedded store of each kind: Qdrant Edge, then Milvus Lite."""
    if request.param == "qdrant-edge":
        store: Any = QdrantEdgeStore(QdrantEdgeStoreConfig(path=tmp_path / "edge"))
    else:
        from mmingest.connectors.stores.milvus import MilvusStore
        from mmingest.schemas.config import MilvusStoreConfig

        store = MilvusStore(MilvusStoreConfig(uri=str(tmp_path / "milvus.db")))
    yield store
    store.close()


@pytest.fixture
def image_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder of 12 captioned sample images; returns it and file name -> caption."""
    folder = tmp_path / "images"
    return folder, write_images(folder, 12)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3-API server (moto) on a free local port, for the whole session."""
    yield from start_s3_server()


@pytest.fixture(scope="session")
def s3rver_server() -> Iterator[S3Server]:
    """A second real S3-API server (npm s3rver) on a free local port, for the whole session."""
    yield from start_s3rver()


@pytest.fixture(scope="session")
def azurite_server() -> Iterator[AzuriteServer]:
    """A real Azure Blob API server (npm azurite) on a free local port, for the whole session."""
    yield from start_azurite()


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GcsServer]:
    """A fake GCS server (fake-gcs-server) on a free local port, for the whole session."""
    yield from start_gcs_server()


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prefect server for the session; yields its API URL."""
    home = tmp_path_factory.mktemp("prefect-home")
    yield from start_prefect_server(home)
