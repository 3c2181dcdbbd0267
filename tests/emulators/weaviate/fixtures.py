"""Pytest fixtures; import them into a ``conftest.py``.

from tests.emulators.weaviate.fixtures import weaviate_emulator, weaviate_client  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .server import WeaviateEmulator


@pytest.fixture(scope="session")
def _weaviate_emulator_server() -> Iterator[WeaviateEmulator]:
    with WeaviateEmulator() as emulator:
        yield emulator


@pytest.fixture
def weaviate_emulator(_weaviate_emulator_server: WeaviateEmulator) -> Iterator[WeaviateEmulator]:
    """A running emulator shared by the session and emptied before each test."""
    _weaviate_emulator_server.reset()
    return _weaviate_emulator_server


@pytest.fixture
def weaviate_client(weaviate_emulator: WeaviateEmulator) -> Iterator[Any]:
    """A connected ``weaviate.WeaviateClient`` talking to ``weaviate_emulator``."""
    import weaviate

    client = weaviate.connect_to_custom(**weaviate_emulator.connect_kwargs(), skip_init_checks=True)
    try:
        yield client
    finally:
        client.close()
